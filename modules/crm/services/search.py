"""The atomic search: any fragment of a name, CNPJ/CPF, phone or e-mail finds accounts
and contacts, with or without punctuation, within the user's scope."""

from __future__ import annotations

import itertools
import math
import re
from typing import NamedTuple

from sqlalchemy import any_, false, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import Join

from erp.db import db
from erp.paging import unindexed_anywhere
from erp.validation import LIKE_ESCAPE, Invalid, like

from ..models import Account, Contact
from ..models.search_index import matching_ids
from ..models.search_text import compact, query_terms
from .scope import account_scope, contact_scope
from .validation import guess_person_type, normalize_phone, normalize_tax_id, validate_tax_id


def _dialect() -> str:
    return db.engine.dialect.name


def search_accounts(query: str, user, limit: int = 20, include_archived: bool = False
                    ) -> list[Account]:
    """Accounts matching ``query``: the one with exactly that tax id first, then the newest.

    Two indexed queries: an equality on the tax id, and the trigram index. A whole, valid
    CNPJ is looked up by its tax id only, as :func:`matching_account_ids` does: its digit
    trigrams ("000", "001") are in nearly every row, so the trigram index would read most
    of the table for it (issue 15).
    """
    terms = query_terms(query)
    if not terms:
        return []
    visible = [account_scope(user)]
    if not include_archived:
        visible.append(Account.archived.is_(False))
    exact = db.session.scalars(
        select(Account).where(Account.tax_id == compact(query).upper(), *visible)).first()
    if is_whole_cnpj(query):
        return [exact] if exact is not None else []
    # Joined (not "IN"), newest first by the index's own row order: SQLite then reads
    # the trigram index first and stops at `limit`, instead of scanning the table.
    matches = matching_ids(Account.__table__, terms, _dialect()).subquery()
    statement = select(Account).join(matches, Account.id == matches.c.id).where(*visible)
    if exact is not None:
        statement = statement.where(Account.id != exact.id)
    rest = db.session.scalars(statement.order_by(matches.c.id.desc()).limit(limit))
    return ([exact] if exact is not None else []) + list(rest)[: limit - (exact is not None)]


_PHONE_CHARACTERS = re.compile(r"[0-9\s()+.-]+")


def _valid_tax_id(query: str) -> tuple[str, str] | None:
    """(tax id, person type) when ``query`` is a whole CPF or CNPJ whose check digits
    match (python-stdnum), else None."""
    number = normalize_tax_id(query)
    person_type = guess_person_type(number)
    if person_type is None or (person_type == "PF" and not _PHONE_CHARACTERS.fullmatch(query)):
        return None
    try:
        return validate_tax_id(number, person_type), person_type
    except Invalid:
        return None


def _valid_phone(query: str) -> str | None:
    """The number in E.164 when ``query`` is a whole Brazilian (or +country) phone number
    by phonenumbers' length and numbering plan, else None."""
    if not _PHONE_CHARACTERS.fullmatch(query) or sum(c.isdigit() for c in query) < 8:
        return None
    try:
        return normalize_phone(query)
    except Invalid:
        return None


def new_account_args(query: str) -> dict:
    """What a new account's form is prefilled with from a search that found nothing
    (issue 17): a whole, valid CPF/CNPJ as the tax id; else a phone number as the phone
    (an 11-digit mobile whose CPF check digits fail is no CPF); else the name. Written with
    a "+" or parentheses, a number is read as a phone first."""
    query = (query or "").strip()
    if not query:
        return {}
    phone_first = any(c in query for c in "+()")
    readers = (("phone", _valid_phone), ("tax_id", _valid_tax_id))
    for kind, reader in (readers if phone_first else readers[::-1]):
        found = reader(query)
        if found is None:
            continue
        if kind == "phone":
            return {"phone": query}
        return {"tax_id": found[0], "person_type": found[1]}
    return {"legal_name": query}


def is_whole_cnpj(query: str) -> bool:
    """A whole, valid CNPJ: only an account's tax id holds one."""
    try:
        return bool(validate_tax_id(query, "PJ"))
    except Invalid:
        return False


def matching_account_ids(query: str):
    """The atomic search as a SELECT of account ids, for lists that join the accounts to
    it and sort and page the result themselves (the accounts list, the JSON API): the
    account with exactly that tax id, and any whose search text has one of the terms.

    A whole CNPJ is looked up by its tax id only: its digit trigrams ("000", "001") are in
    nearly every row. Joined (not "tax_id = ? OR id IN (…)", which both planners may
    answer by walking the whole table and probing the trigram index for each row), the
    matches drive the query, whatever the table's size.
    """
    exact = select(Account.id).where(Account.tax_id == compact(query).upper())
    terms = query_terms(query)
    if not terms or is_whole_cnpj(query):
        return exact
    # A tax id equal to the query's letters and digits is in its account's search text,
    # among the terms: the trigram index finds it too. Without a UNION with the equality
    # the matches stream, and a capped count stops at its cap.
    return matching_ids(Account.__table__, terms, _dialect())


class MatchesFirst(Join):
    """An inner join whose left side (the matches) SQLite must read first: compiled as
    CROSS JOIN there, the one join order SQLite's planner may not change. Elsewhere a JOIN."""

    inherit_cache = True


@compiles(MatchesFirst, "sqlite")
def _cross_join(join, compiler, asfrom=False, from_linter=None, **kw):
    left = compiler.process(join.left, asfrom=True, from_linter=from_linter, **kw)
    right = compiler.process(join.right, asfrom=True, from_linter=from_linter, **kw)
    if from_linter:
        from_linter.edges.update(itertools.product(join.left._from_objects,
                                                   join.right._from_objects))
    on = compiler.process(join.onclause, from_linter=from_linter, **kw)
    return f"{left} CROSS JOIN {right} ON {on}"


# A list page's worth of rows: what walking a sorted index must find (see frequent_term).
WALK_PAGE = 25


def frequent_term(query: str) -> bool:
    """Whether a sorted list should walk its sort's index testing each row for ``query``
    (:func:`rows_matching`) rather than gather every match and sort them.

    Gathering costs the number of matches; walking costs a page over the matches' share
    of the table. Walking wins past sqrt(page x rows) matches (2,236 of 200,000; 707 of
    20,000): a common word ("silva", in 3 % of the names) then costs the same at any size.
    Counting the matches stops at that threshold; the table's size is its largest id.
    """
    terms = query_terms(query)
    if not terms or is_whole_cnpj(query):
        return False
    rows = db.session.scalar(select(func.max(Account.id))) or 0
    threshold = int(math.sqrt(WALK_PAGE * rows))
    found = select(func.count()).select_from(
        matching_ids(Account.__table__, terms, _dialect()).limit(threshold + 1).subquery())
    return db.session.scalar(found) > threshold


class SearchReading(NamedTuple):
    """How a list searched for a term reads its page and its count (see
    :func:`search_reading`)."""

    page_tests_rows: bool  # the page's statement tests each row (rows_matching)
    count_tests_rows: bool  # so does its capped count
    sorted_apart: bool  # its sort keys served by no index (erp.paging.gathered(anywhere))


MATCHES_FIRST = SearchReading(False, False, False)  # the matches gathered, then the rows
ROWS_TESTED = SearchReading(True, True, True)  # PostgreSQL's, whatever the term


def search_reading(query: str, *, sorted_by_time: bool) -> SearchReading:
    """For a list searched for ``query``: whether its page, and its count, test each row
    (:func:`rows_matching`) rather than gather the matches first.

    SQLite, for a :func:`frequent_term` only: it walks an index sorted by time for the
    page (by name the matches cluster: gathered, where the words' walk of name_walk.py
    does not serve the term) and counts matches-first.

    PostgreSQL, whatever the term: the row test, which it answers with one bitmap scan
    of the tax id and trigram indexes, and sort keys that no index serves, so that this
    is its only plan but a scan of the table; the page's ids are sorted, then its rows
    read (erp.paging's ``ids_first``). 200K accounts, "silva" by name: 99 -> 44 ms of
    SQL. The matches gathered into an array were each read again by primary key, with
    their joins, before a sort of whole rows (80 ms); with the sort's index available, it
    walked the name index for a scoped user (134-182 ms); and deciding whether a term was
    frequent cost a count of its first matches (8 ms)."""
    if _dialect() != "sqlite":
        return ROWS_TESTED
    if not frequent_term(query):
        return MATCHES_FIRST
    return SearchReading(sorted_by_time, False, False)


def rows_matching(query: str, *, indexed: bool = True):
    """The atomic search as a test of each account row: the same accounts as
    :func:`matching_account_ids` (the tax id, or a term in the search text, which the
    trigram index answers as "contains"), for a walk of a sorted index. ``indexed=False``:
    as expressions no index serves, for a walk that must drive the statement (PostgreSQL
    would otherwise find the matches in its trigram index and hash-join the walk)."""
    terms = [] if is_whole_cnpj(query) else query_terms(query)
    tax_id, text = ((Account.tax_id, Account.search_text) if indexed else
                    (unindexed_anywhere(Account.tax_id), unindexed_anywhere(Account.search_text)))
    return or_(tax_id == compact(query).upper(),
               *(text.like(like(term), escape=LIKE_ESCAPE) for term in terms))


def only_matching_accounts(statement, query: str, *, walk: bool = False):
    """``statement`` (a SELECT of accounts) narrowed to the atomic search's matches,
    read first: the matches drive the query, whatever the table's size or the planner's
    statistics, and the caller's sort applies to that set. With ``walk`` (a
    :func:`frequent_term`) each row is tested instead, in the caller's index order."""
    if walk:
        return statement.where(rows_matching(query))
    if _dialect() != "sqlite":
        # "id = ANY(ARRAY(matches))": the matches are an InitPlan, run first, and the
        # accounts are read through the primary key; a join lets PostgreSQL hash-join
        # a scan of the whole table for a frequent term.
        ids = func.array(matching_account_ids(query).scalar_subquery())
        return statement.where(Account.id == any_(ids))
    matches = matching_account_ids(query).subquery()
    return statement.select_from(
        MatchesFirst(matches, Account.__table__, Account.id == matches.c.id))


def contacts_matching(query: str):
    """Like :func:`accounts_matching`, for contacts (no tax id: the terms only)."""
    terms = query_terms(query)
    if not terms:
        return false()
    return Contact.id.in_(matching_ids(Contact.__table__, terms, _dialect()))


def search_contacts(query: str, user, limit: int = 20) -> list[Contact]:
    terms = query_terms(query)
    if not terms:
        return []
    matches = matching_ids(Contact.__table__, terms, _dialect()).subquery()
    statement = (
        select(Contact)
        .join(matches, Contact.id == matches.c.id)
        .where(Contact.archived.is_(False), contact_scope(user))
        .order_by(matches.c.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(statement))

