"""The accounts list searched for a term and sorted by name, read from the accounts' words
in name order (models/search_words.py) rather than by gathering every match and sorting
them (issue 15): each word containing the term walked in name order, the walks merged,
each account tested as it comes, until the page is full."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from sqlalchemy import Select, and_, exists, false, func, select, true, union_all

from erp.auth import scope_owner_ids
from erp.db import db
from erp.paging import IdsReader, beyond, sort_keys

from ..models import Account, account_vocabulary, account_word
from ..models.search_index import matching_ids
from ..models.search_text import MIN_FRAGMENT, longest_letters, query_terms
from .search import MatchesFirst, frequent_term, is_whole_cnpj, rows_matching


def _dialect() -> str:
    return db.engine.dialect.name


# Words containing a search term that a list sorted by name merges (one index range each),
# and walks (words x owners) at most.
NAME_WALK_WORDS = 50
NAME_WALKS = 64


def name_walk_words(query: str) -> list[str] | None:
    """The words (models/search_words.py) that hold every account matching ``query``, for a
    list sorted by name to walk in that order (:func:`name_walk_ids`); None when no walk
    serves it: a whole CNPJ, a term without three letters in a row ("(11) 9876"), more
    than ``NAME_WALK_WORDS`` words containing them, or a walk that could read many rows
    to find a page.

    A term's matches all have a word containing the term's longest run of letters: their
    text holds that run, and a run of letters lies inside one of the text's runs. When
    the terms are runs of letters ("silva") every account having such a word matches, so
    a walk reads a page over the share of them the list's filters keep. Otherwise ("silva
    1999", "ltda 5") the words' accounts may seldom match: SQLite walks them for a
    :func:`frequent_term` only (a walk then reads at most about as many rows as the
    matches it would gather: see there), PostgreSQL not at all."""
    terms = [] if is_whole_cnpj(query) else query_terms(query)
    letters = {longest_letters(term) for term in terms}
    if not terms or any(len(run) < MIN_FRAGMENT for run in letters):
        return None
    if not letters.issuperset(terms) and (_dialect() != "sqlite" or not frequent_term(query)):
        return None
    vocabulary = account_vocabulary.c
    ids = matching_ids(account_vocabulary, sorted(letters), _dialect(), column="word")
    found = list(db.session.scalars(select(vocabulary.word).where(vocabulary.id.in_(ids))
                                    .limit(NAME_WALK_WORDS + 1)))
    return sorted(found) if len(found) <= NAME_WALK_WORDS else None


def _name_walks(statement, query: str, words: list[str], owners: list[int] | None,
                values: tuple | None = None, reverse: bool = False):
    """One walk per word of ``words`` (and per owner of ``owners``, None: any owner): its
    accounts in name order (past ``values``, the cursor's name and id; ``reverse``:
    backwards, before them), each joined to its account to test ``statement``'s filters
    and the search itself; an account that an earlier word's walk finds too is left to
    that one. As a UNION ALL: both databases merge the walks in order and stop once the
    LIMIT is reached (SQLite's MERGE, the Merge Append of PostgreSQL).

    By owner, the walks read a user's own accounts only: in name order a rep's matches
    may all come after a whole range of names owned by others (every person's name
    before the "Silva …" companies), which a walk of everyone's would read through."""
    word_keys = sort_keys(account_word.c.legal_name, account_word.c.account_id)
    earlier = account_word.alias("earlier")
    tested = [rows_matching(query, indexed=False)]
    if statement.whereclause is not None:
        tested.append(statement.whereclause)
    walked = [] if values is None else [beyond(word_keys, values, reverse)]
    if owners is not None and len(owners) * len(words) > NAME_WALKS:
        owners = None  # a large team's: everyone's words, each account tested
    walks = []
    for n, word in enumerate(words):
        found_earlier = exists().where(
            earlier.c.word.in_(words[:n]), earlier.c.legal_name == account_word.c.legal_name,
            earlier.c.account_id == account_word.c.account_id).correlate(account_word)
        walk = (select(account_word.c.legal_name.label("walk_name"),
                       account_word.c.account_id.label("walk_id"))
                .select_from(_tested_accounts(tested + ([~found_earlier] if n else []))))
        walk = walk.where(account_word.c.word == word, *walked)
        walks += ([walk] if owners is None else
                  [walk.where(account_word.c.owner_id == owner) for owner in owners])
    if not walks:  # no owner: nothing to read
        return select(account_word.c.legal_name.label("walk_name"),
                      account_word.c.account_id.label("walk_id")).where(false())
    if len(walks) > 1 and _dialect() != "sqlite":
        # Each walk's own ORDER BY, which the merged one repeats: without it PostgreSQL
        # appends the walks and sorts them all (SQLite allows none, and merges anyway).
        walks = [walk.order_by(*_walk_order(walk.selected_columns, reverse)) for walk in walks]
    return union_all(*walks)


def _tested_accounts(tested: list):
    """The words, each joined to its account, tested by ``tested`` as it comes: SQLite
    reads the words first (CROSS JOIN) and probes the account; PostgreSQL a LATERAL
    subquery with a LIMIT, which it cannot make a join of, so its only plan is that loop
    (the planner, guessing few matches, would hash-join a scan of the accounts and sort
    them, or hash an earlier word's every account to leave them out)."""
    joined = Account.id == account_word.c.account_id
    if _dialect() == "sqlite":
        return MatchesFirst(account_word, Account.__table__, and_(joined, *tested))
    account = select(Account.id).where(joined, *tested).limit(1).lateral()
    return account_word.join(account, true())


def _walk_order(columns, reverse: bool) -> list:
    return [column.desc() if reverse else column.asc()
            for column in (columns.walk_name, columns.walk_id)]


def name_walk_ids(statement, query: str, words: list[str], owners: list[int] | None,
                  values: tuple | None, reverse: bool, limit: int, offset: int = 0
                  ) -> list[int]:
    """The ids of a page of ``statement`` (a SELECT of accounts, filtered, sorted by legal
    name and id) narrowed to ``query``, from ``words``' walks in name order
    (:func:`_name_walks`): a page over the matches' share of the words' accounts, whatever
    the table's size."""
    walks = _name_walks(statement, query, words, owners, values, reverse)
    page = walks.order_by(*_walk_order(walks.selected_columns, reverse)).limit(limit).offset(offset)
    return [row.walk_id for row in db.session.execute(page)]


def name_walk_count(statement, query: str, words: list[str], owners: list[int] | None,
                    cap: int) -> int:
    """How many accounts the walks of :func:`name_walk_ids` find, counting up to ``cap + 1``
    (each account once: see :func:`_name_walks`)."""
    walks = _name_walks(statement, query, words, owners).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(walks))


class NameWalk(NamedTuple):
    """A searched list's page and count read by walking the words (:func:`name_walk`)."""

    statement: Select  # the list's filters without the search: its rows, read by id
    ids: IdsReader  # erp.paging.keyset_page's ids_reader
    count: Callable[[int], int]  # and its count_reader


def name_walk(statement: Select, query: str, user, owner: int | None = None
              ) -> NameWalk | None:
    """How the accounts list of ``statement`` (its filters and scope, without the search)
    reads a page sorted by name for ``query``: walking the words that hold its matches,
    each owner the user may see apart (the list's ``owner`` filter, when set: the scope
    is still tested); None when no walk serves the term (:func:`name_walk_words`)."""
    words = name_walk_words(query)
    if words is None:
        return None
    owners = scope_owner_ids(user) if owner is None else [owner]
    return NameWalk(statement, partial(name_walk_ids, statement, query, words, owners),
                    partial(name_walk_count, statement, query, words, owners))
