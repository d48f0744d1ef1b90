"""Duplicates (issues 17 and 18): accounts with a similar name, contacts with the same
e-mail or phone when one is saved, and the scan of existing records for likely pairs.

Similar names: the name keys (models/duplicates.py: accents, case, punctuation and
company-type suffixes gone) compared by pg_trgm's trigram similarity, at or above
``CRM_SIMILAR_NAME_THRESHOLD`` (0.6 by default). The candidates come from the search's
trigram index (the FTS5 table on SQLite, pg_trgm's GIN index on PostgreSQL): the accounts
whose search text holds the name's longest words (with three words or more, any two of
the three longest: one misspelt word still finds them), newest first, at most
``NAME_CANDIDATES``.

The scan reads ``crm_duplicate_key``'s keys held by two or more records, kind by kind in
order of confidence, and each page's records by their indexed key columns: its cost is
the duplicates it walks, not the table's size; a page costs a bounded number of queries.

Similar names that are not equal (issue 18): ``crm_duplicate_candidate`` holds the pairs,
scored, found by the same trigram look-up as the warning, one look-up per account created
or renamed (by the worker once the change commits: :func:`_refresh_at_commit`), and for the
existing accounts by :func:`rebuild_candidates` (``flask --app erp crm
duplicates-rebuild``, in batches, resumable). Contacts: the contacts of the same account
with similar names, kept the same way. The scan reads the pairs best score first.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from flask import current_app
from sqlalchemy import (
    and_,
    delete,
    event,
    insert,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, lazyload

from erp.auth import in_scope
from erp.db import db
from erp.errors import Duplicate, InvalidInput
from erp.tasks import enqueue_after_commit, task
from erp.validation import LIKE_ESCAPE, like

from ..models import Account, AccountContact, Contact, DuplicateDismissal, DuplicateKey
from ..models.duplicates import DuplicateCandidate, name_key, similarity
from .scope import account_scope, contact_scope
from .search import _MatchesFirst

DEFAULT_THRESHOLD = 0.6
NAME_CANDIDATES = 200
SHOWN = 5  # similar records named in a warning


def threshold() -> float:
    return float(current_app.config.get("CRM_SIMILAR_NAME_THRESHOLD", DEFAULT_THRESHOLD))


# --- Similar names when saving an account -------------------------------------------------

def _word_groups(keys: list[str]) -> list[list[str]]:
    """The words the candidates must all hold, per alternative (see the docstring)."""
    groups: list[list[str]] = []
    for key in keys:
        words = sorted({w for w in key.split() if len(w) >= 3}, key=lambda w: (-len(w), w))[:3]
        if len(words) == 3:
            alternatives = [list(pair) for pair in combinations(words, 2)]
        else:
            alternatives = [words] if words else []
        groups.extend(g for g in alternatives if g not in groups)
    return groups


def _halves(word: str) -> list[str]:
    """What of a word a candidate must hold: a long word's first or last half (each of
    three characters or more), so that one misspelt letter still finds it."""
    if len(word) < 6:
        return [word]
    middle = len(word) // 2
    return [word[:middle + 1], word[middle:]]


def name_candidates(keys: list[str], exclude_id: int | None = None):
    """A SELECT of the ids of the accounts the trigram index finds for the name keys."""
    groups = _word_groups(keys)
    if not groups:
        return None
    if db.engine.dialect.name == "sqlite":
        def word(w: str) -> str:
            return "(" + " OR ".join(f'"{half}"' for half in _halves(w)) + ")"

        match = " OR ".join("(" + " AND ".join(word(w) for w in group) + ")"
                            for group in groups)
        statement = (select(literal_column("rowid").label("id"))
                     .select_from(text("crm_account_fts"))
                     .where(text("crm_account_fts MATCH :match").bindparams(match=match))
                     .order_by(literal_column("rowid").desc()))
    else:
        column = Account.search_text
        statement = select(Account.id).where(or_(*(
            and_(*(or_(*(column.like(like(half), escape=LIKE_ESCAPE) for half in _halves(w)))
                   for w in group))
            for group in groups))).order_by(Account.id.desc())
    return statement.limit(NAME_CANDIDATES)


def _numbers(key: str) -> list[str]:
    """The numbers in a name key: names that differ by them are told apart ("Loja 2",
    "Loja 3"; "Cliente 3-12", "Cliente 3-13"), however similar the words."""
    return [word for word in key.split() if word.isdigit()]


def similar_names(values: Mapping[str, Any], exclude_id: int | None = None
                  ) -> list[tuple[Account, float]]:
    """Accounts whose legal or trade name is similar to ``values``' (best first)."""
    keys = [k for k in {name_key(values.get("legal_name")), name_key(values.get("trade_name"))}
            if k]
    candidates = name_candidates(keys, exclude_id)
    if candidates is None:
        return []
    ids = candidates.subquery()
    statement = select(Account).join(ids, Account.id == ids.c.id)
    if exclude_id is not None:
        statement = statement.where(Account.id != exclude_id)
    limit, found = threshold(), []
    for account in db.session.scalars(statement):
        theirs = [k for k in (account.name_key, name_key(account.trade_name)) if k]
        score = max((similarity(mine, other) for mine in keys for other in theirs
                     if _numbers(mine) == _numbers(other)), default=0)
        if score >= limit:
            found.append((account, score))
    found.sort(key=lambda pair: (-pair[1], -pair[0].id))
    return found[:SHOWN]


def name_duplicates(values: Mapping[str, Any], exclude_id: int | None, user,
                    known: set[int]) -> list[Duplicate]:
    return [Duplicate(account, "name", False, user is None or in_scope(account.owner_id, user))
            for account, _score in similar_names(values, exclude_id) if account.id not in known]


# --- Contacts: the same e-mail or phone ---------------------------------------------------

def contact_duplicate_checks(values: Mapping[str, Any], exclude_id: int | None = None) -> list:
    """``(reason, statement)``: the contacts with the same e-mail, or either phone."""
    checks = []
    if values.get("email"):
        checks.append(("email", select(Contact).where(Contact.email == values["email"])))
    phones = [p for p in (values.get("phone"), values.get("mobile")) if p]
    if phones:
        either = union(select(Contact.id).where(Contact.phone.in_(phones)),
                       select(Contact.id).where(Contact.mobile.in_(phones))).subquery()
        checks.append(("phone", select(Contact).join(either, Contact.id == either.c.id)))
    out = []
    for reason, statement in checks:
        statement = statement.where(Contact.archived.is_(False)).order_by(Contact.id).limit(
            SHOWN)
        if exclude_id is not None:
            statement = statement.where(Contact.id != exclude_id)
        out.append((reason, statement))
    return out


def _contact_visible(contact: Contact, user) -> bool:
    if user is None or in_scope(contact.owner_id, user):
        return True
    return db.session.scalar(select(Contact.id).where(Contact.id == contact.id,
                                                      contact_scope(user))) is not None


def find_contact_duplicates(values: Mapping[str, Any], exclude_id: int | None = None,
                            user=None) -> list[Duplicate]:
    """Contacts with the same e-mail or phone (never blocking: two people may share an
    office's phone). One outside the user's scope is reported without name or link."""
    found: dict[int, Duplicate] = {}
    for reason, statement in contact_duplicate_checks(values, exclude_id):
        for contact in db.session.scalars(statement):
            if contact.id not in found:
                found[contact.id] = Duplicate(contact, reason, False,
                                              _contact_visible(contact, user))
    return list(found.values())


def check_contact_duplicates(values: Mapping[str, Any], exclude_id: int | None,
                             confirmed: bool, user) -> None:
    if confirmed:
        return
    duplicates = find_contact_duplicates(values, exclude_id, user)
    if duplicates:
        raise InvalidInput({}, duplicates)


# --- The scan of existing records ---------------------------------------------------------

@dataclass(frozen=True)
class ScanKind:
    key: str  # crm_duplicate_key.kind
    reason: str  # "email", "phone", "name", "tax_id_root"
    confidence: float
    mergeable: bool = True  # a branch (same CNPJ root) is shown, never proposed for merge
    candidates: bool = False  # read from crm_duplicate_candidate, by score


# Similar names rank between the same name (0.7) and a branch (0.5): 0.5 + 0.2 x score.
SIMILAR_BASE, SIMILAR_WEIGHT = 0.5, 0.2
ACCOUNT_KINDS = (
    ScanKind("account.email", "email", 0.9),
    ScanKind("account.phone", "phone", 0.8),
    ScanKind("account.name", "name", 0.7),
    ScanKind("account", "similar_name", SIMILAR_BASE, candidates=True),
    ScanKind("account.root", "tax_id_root", 0.5, mergeable=False),
)
CONTACT_KINDS = (
    ScanKind("contact.email", "email", 0.9),
    ScanKind("contact.phone", "phone", 0.8),
    ScanKind("contact", "similar_name", SIMILAR_BASE, candidates=True),
)
SCAN_PAGE = 20  # groups per page
GROUP_SHOWN = 20  # pairs of one group on a page


@dataclass
class Pair:
    kind: ScanKind
    key: str
    first: Any  # the oldest record of the group
    second: Any
    confidence: float
    score: int | None = None  # similar names: the similarity in thousandths

    @property
    def ids(self) -> tuple[int, int]:
        return self.first.id, self.second.id


@dataclass
class ScanPage:
    pairs: list[Pair] = field(default_factory=list)
    next_cursor: str | None = None


def _model(record_kind: str):
    return Account if record_kind == "account" else Contact


def _kinds(record_kind: str) -> tuple[ScanKind, ...]:
    return ACCOUNT_KINDS if record_kind == "account" else CONTACT_KINDS


def _column(model, reason: str):
    return getattr(model, {"email": "email", "name": "name_key",
                           "tax_id_root": "tax_id_root"}[reason])


def _key_condition(model, reason: str, key):
    """The records holding ``key`` (a column, or a value) of this kind: indexed columns."""
    if reason == "phone":
        return or_(model.phone == key, model.mobile == key)
    return _column(model, reason) == key


def _visible(model, user):
    """Active records within the user's scope (computed once per scan: a contact's scope
    may count the user's accounts first)."""
    scope = account_scope(user) if model is Account else contact_scope(user)
    return and_(model.archived.is_(False), scope)


def encode_cursor(kind_index: int, key: str) -> str:
    raw = f"{kind_index}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, str | None]:
    """(kind index, last key); a cursor that does not decode starts from the beginning."""
    if not cursor:
        return 0, None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        index, _sep, key = raw.partition(":")
        return max(int(index), 0), key
    except (ValueError, UnicodeDecodeError):
        return 0, None


@functools.cache
def _alias(table, column_name: str):
    """One alias per table and key column, made once: an alias's column collection (every
    column of the table) costs more to build than the query it serves."""
    return table.alias(f"dup_{column_name}")


def _by_index(model, column_name: str, condition_of):
    """A SELECT of the visible records' ids read through ``column_name``'s own index:
    an alias of the table holding only the key's condition (``condition_of(column)``),
    read first (CROSS JOIN on SQLite, the order its planner keeps), each record then by
    its primary key for the visibility test. Left to choose, SQLite without statistics
    (or a small table's) may walk the archived or owner index instead, reading every
    active account once per group."""
    table = model.__table__
    keyed = _alias(table, column_name)
    joined = _MatchesFirst(keyed, table, model.id == keyed.c.id)
    return select(model.id).select_from(joined).where(condition_of(keyed.c[column_name])), \
        keyed


def _probe(model, column_name: str, key, visible, offset: int, other_phone: bool = False):
    """The id of the (offset+1)-th visible record holding ``key`` in that column, or NULL:
    a correlated probe that reads at most a few index entries. ``other_phone``: a mobile
    on a record whose phone is not that number (else counted with the phones)."""
    statement, _keyed = _by_index(model, column_name, lambda column: column == key)
    statement = statement.where(visible)
    if other_phone:
        statement = statement.where(or_(model.phone.is_(None), model.phone != key))
    return statement.correlate(DuplicateKey).limit(1).offset(offset).scalar_subquery()


def _groups_select(model, kind: ScanKind, after: str | None, user, limit: int,
                   visible=None):
    """The next keys of this kind held by two or more visible records, in key order: the
    partial index of shared keys walked from ``after``, each key's records probed by their
    own index (at most two entries each)."""
    visible = _visible(model, user) if visible is None else visible
    shared = select(DuplicateKey.key.label("key")).where(
        DuplicateKey.kind == kind.key, DuplicateKey.n > 1)
    if after is not None:
        shared = shared.where(DuplicateKey.key > after)
    key = DuplicateKey.key
    if kind.reason == "phone":  # two phones, two mobiles, or one of each (not the same row)
        two = or_(_probe(model, "phone", key, visible, 1).is_not(None),
                  _probe(model, "mobile", key, visible, 1, True).is_not(None),
                  and_(_probe(model, "phone", key, visible, 0).is_not(None),
                       _probe(model, "mobile", key, visible, 0, True).is_not(None)))
    else:
        two = _probe(model, _column(model, kind.reason).key, key, visible, 1).is_not(None)
    return shared.where(two).order_by(DuplicateKey.key).limit(limit)


def _members_select(model, kind: ScanKind, keys: list[str], user, limit: int,
                    visible=None):
    """(id, key) of the visible records holding these keys, by the key columns' indexes."""
    visible = _visible(model, user) if visible is None else visible
    names = ("phone", "mobile") if kind.reason == "phone" else (
        _column(model, kind.reason).key,)
    parts = []
    for name in names:
        statement, keyed = _by_index(model, name, lambda column: column.in_(keys))
        parts.append(statement.add_columns(keyed.c[name].label("key")).where(visible))
    return (union(*parts) if len(parts) > 1 else parts[0]).limit(limit)


def _dismissed(record_kind: str, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    if not pairs:
        return set()
    lows = {min(p) for p in pairs}
    rows = db.session.execute(
        select(DuplicateDismissal.low_id, DuplicateDismissal.high_id)
        .where(DuplicateDismissal.kind == record_kind, DuplicateDismissal.low_id.in_(lows)))
    return {(row.low_id, row.high_id) for row in rows}


def _candidate_cursor(key: str | None) -> tuple[int, int, int] | None:
    """A similar-name cursor's (score, low id, high id); None when absent or garbled."""
    try:
        score, low, high = (int(part) for part in (key or "").split(":"))
    except ValueError:
        return None
    return score, low, high


def _candidates_select(model, record_kind: str, after: tuple[int, int, int] | None,
                       visible, limit: int):
    """The next similar-name pairs of visible records, best score first (then the newest
    ids): ``ix_crm_duplicate_candidate_rank`` walked backwards from ``after``, both
    records probed by their primary key."""
    c = DuplicateCandidate
    statement = select(c.score, c.low_id, c.high_id).where(c.kind == record_kind)
    if after is not None:
        statement = statement.where(tuple_(c.score, c.low_id, c.high_id) < tuple_(*after))
    for column in (c.low_id, c.high_id):
        statement = statement.where(
            select(model.id).where(model.id == column, visible).correlate(c).exists())
    return statement.order_by(c.score.desc(), c.low_id.desc(), c.high_id.desc()).limit(limit)


@dataclass
class _Row:
    rank: int
    key: str
    low: int = 0
    high: int = 0
    score: int = 0


def _page_rows(model, record_kind: str, kinds, index: int, after: str | None, user,
               per_page: int, visible) -> list[_Row]:
    """The page's groups (a shared key) and similar-name pairs, in rank order, at most
    ``per_page + 1``: one query, a UNION ALL of each kind's next ``per_page + 1`` keys
    (or pairs, best score first) read by their indexes, the few rows then sorted."""
    parts = []
    for i in range(index, len(kinds)):
        start = after if i == index else None
        if kinds[i].candidates:
            pairs = _candidates_select(model, record_kind, _candidate_cursor(start),
                                       visible, per_page + 1).subquery()
            parts.append(select(literal(i).label("rank"), literal("").label("key"),
                                pairs.c.score, pairs.c.low_id, pairs.c.high_id))
            continue
        keys = _groups_select(model, kinds[i], start, user, per_page + 1, visible).subquery()
        parts.append(select(literal(i).label("rank"), keys.c.key,
                            literal(0).label("score"), literal(0).label("low_id"),
                            literal(0).label("high_id")))
    found = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    c = found.c
    return [_Row(row.rank, f"{row.score}:{row.low_id}:{row.high_id}" if row.low_id
                 else row.key, row.low_id, row.high_id, row.score)
            for row in db.session.execute(
                select(c.rank, c.key, c.score, c.low_id, c.high_id)
                .order_by(c.rank, c.key, c.score.desc(), c.low_id.desc(), c.high_id.desc())
                .limit(per_page + 1))]


def scan(record_kind: str, user, cursor: str | None = None, per_page: int = SCAN_PAGE
         ) -> ScanPage:
    """A page of likely duplicate pairs of ``record_kind`` ("account" or "contact") within
    ``user``'s scope: up to ``per_page`` groups (records sharing a key) or similar-name
    pairs, kind by kind (e-mail, phone, name, similar name, CNPJ root: the most confident
    first), each kind's keys in order (similar names: best score first); each record of a
    group paired with its oldest, dismissed pairs left out. ``next_cursor`` continues
    after the page's last group.

    At most four queries whatever the page's or the table's size: the groups and pairs
    (one UNION ALL of each kind's next keys and the next similar-name pairs), the groups'
    records' ids (when the page has groups), the records, the dismissed pairs."""
    model, kinds = _model(record_kind), _kinds(record_kind)
    index, after = decode_cursor(cursor)
    if index >= len(kinds):
        return ScanPage()
    visible = _visible(model, user)
    rows = _page_rows(model, record_kind, kinds, index, after, user, per_page, visible)
    page = ScanPage()
    if len(rows) > per_page:
        rows = rows[:per_page]
        page.next_cursor = encode_cursor(rows[-1].rank, rows[-1].key)
    if not rows:
        return page
    by_kind: dict[int, list[str]] = {}
    for row in rows:
        if not kinds[row.rank].candidates:
            by_kind.setdefault(row.rank, []).append(row.key)
    member_rows = db.session.execute(union_all(*(
        select(literal(rank).label("rank"), found.c.id, found.c.key).select_from(found)
        for rank, keys in by_kind.items()
        for found in [_members_select(model, kinds[rank], keys, user,
                                      len(keys) * (GROUP_SHOWN + 1) * 2, visible).subquery()]
    ))).all() if by_kind else []
    ids = {m.id for m in member_rows} | {row.low for row in rows if row.low} | {
        row.high for row in rows if row.high}
    records = {r.id: r for r in db.session.scalars(
        select(model).where(model.id.in_(ids))
        .options(*([lazyload(Account.tags)] if model is Account else [])))}
    grouped: dict[tuple[int, str], list] = {
        (row.rank, row.key): [] for row in rows if not kinds[row.rank].candidates}
    for member in sorted(member_rows, key=lambda m: m.id):
        group = grouped.get((member.rank, member.key))
        if group is not None and len(group) <= GROUP_SHOWN and member.id in records and (
                records[member.id] not in group):
            group.append(records[member.id])
    candidates = []
    for row in rows:
        if kinds[row.rank].candidates:
            if row.low in records and row.high in records:
                candidates.append((row.rank, row.key, records[row.low], records[row.high],
                                   row.score))
        else:
            members = grouped[(row.rank, row.key)]
            candidates.extend((row.rank, row.key, members[0], other, None)
                              for other in members[1:])
    dismissed = _dismissed(record_kind, [(a.id, b.id) for _r, _k, a, b, _s in candidates])
    for rank, key, first, second, score in candidates:
        if (min(first.id, second.id), max(first.id, second.id)) in dismissed:
            continue
        kind = kinds[rank]
        confidence = kind.confidence
        if kind.candidates:  # ranked by the names' similarity
            confidence = SIMILAR_BASE + SIMILAR_WEIGHT * score / 1000
        elif kind.reason == "name":  # the same key: similarity 1; trade names may tell more
            confidence += 0.05 * similarity(name_key(first.trade_name),
                                            name_key(second.trade_name))
        page.pairs.append(Pair(kind, key, first, second, round(confidence, 3), score))
    return page


def get_record_or_none(record_kind: str, record_id: int, user):
    model = _model(record_kind)
    return db.session.scalar(select(model).where(model.id == record_id, _visible_any(model,
                                                                                     user)))


def _visible_any(model, user):
    return account_scope(user) if model is Account else contact_scope(user)


def dismiss(record_kind: str, first_id: int, second_id: int, user) -> bool:
    """Mark the pair "not a duplicate" for good; False if it already was. Both records
    must be within the user's scope (else :class:`LookupError`: a 404), and be two
    (else :class:`ValueError`)."""
    if record_kind not in ("account", "contact"):
        raise LookupError(record_kind)
    for record_id in (first_id, second_id):
        if get_record_or_none(record_kind, record_id, user) is None:
            raise LookupError(record_id)
    if first_id == second_id:
        raise ValueError("a pair needs two records")
    low, high = sorted((first_id, second_id))
    exists = db.session.scalar(select(DuplicateDismissal.id).where(
        DuplicateDismissal.kind == record_kind, DuplicateDismissal.low_id == low,
        DuplicateDismissal.high_id == high))
    if exists is not None:
        return False
    db.session.add(DuplicateDismissal(kind=record_kind, low_id=low, high_id=high,
                                      user_id=user.id))
    try:
        db.session.commit()
    except IntegrityError:  # dismissed by someone else at the same moment
        db.session.rollback()
        return False
    return True


# --- Similar-name pairs: crm_duplicate_candidate ------------------------------------------

CANDIDATE_PAIRS = 20  # pairs kept per record, best first
CONTACT_PEERS = 500  # contacts of the same accounts compared with a renamed contact
_PENDING = "crm_duplicate_candidates"  # Session.info: (kind, ids) to refresh at commit


def _trade_key(trade_name: str | None) -> str:
    """A trade name compared by the scan: of two words or more (one word, often a family
    name, "Barbosa", says little: many companies share it)."""
    key = name_key(trade_name)
    return key if len(key.split()) > 1 else ""


def _pair_score(legal: str | None, trade: str | None, other_legal: str | None,
                other_trade: str | None) -> float:
    """The scan's similarity of two accounts: legal name with legal name, and trade name
    with trade name (of two words or more), the numbers in them equal."""
    pairs = [(legal, other_legal), (_trade_key(trade), _trade_key(other_trade))]
    return max((similarity(a, b) for a, b in pairs
                if a and b and _numbers(a) == _numbers(b)), default=0)


def _account_pairs(session, account_id: int, legal_key: str | None, trade_name: str | None
                   ) -> dict[tuple[int, int], int]:
    """The accounts with a similar, not equal, name: one look-up in the trigram index."""
    keys = [k for k in {legal_key, _trade_key(trade_name)} if k]
    candidates = name_candidates(keys)
    if candidates is None:
        return {}
    found = candidates.subquery()
    limit, pairs = threshold(), []
    for other in session.execute(
            select(Account.id, Account.name_key, Account.trade_name)
            .join(found, Account.id == found.c.id).where(Account.id != account_id)):
        if legal_key and other.name_key == legal_key:
            continue  # the same name: the scan's "name" kind shows it
        score = _pair_score(legal_key, trade_name, other.name_key, other.trade_name)
        if score >= limit:
            pairs.append((score, other.id))
    pairs.sort(reverse=True)
    return {(min(account_id, other), max(account_id, other)): round(score * 1000)
            for score, other in pairs[:CANDIDATE_PAIRS]}


def _contact_pairs(session, contact_id: int, name: str | None
                   ) -> dict[tuple[int, int], int]:
    """The contacts of the same accounts with a similar name (or the same)."""
    key = name_key(name)
    if not key:
        return {}
    mine, theirs = aliased(AccountContact), aliased(AccountContact)
    limit, pairs = threshold(), []
    for other in session.execute(
            select(Contact.id, Contact.name).distinct()
            .select_from(mine)
            .join(theirs, theirs.account_id == mine.account_id)
            .join(Contact, Contact.id == theirs.contact_id)
            .where(mine.contact_id == contact_id, theirs.contact_id != contact_id)
            .limit(CONTACT_PEERS)):
        other_key = name_key(other.name)
        score = similarity(key, other_key) if _numbers(key) == _numbers(other_key) else 0
        if score >= limit:
            pairs.append((score, other.id))
    pairs.sort(reverse=True)
    return {(min(contact_id, other), max(contact_id, other)): round(score * 1000)
            for score, other in pairs[:CANDIDATE_PAIRS]}


def refresh_candidates(record_kind: str, ids, session=None) -> int:
    """Find again the similar-name pairs of these accounts (or contacts): their old pairs
    deleted, one look-up each. Returns the pairs written."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    c = DuplicateCandidate
    session = db.session if session is None else session
    session.execute(delete(c).where(c.kind == record_kind, or_(c.low_id.in_(ids),
                                                                 c.high_id.in_(ids))))
    pairs: dict[tuple[int, int], int] = {}
    if record_kind == "account":
        rows = session.execute(select(Account.id, Account.name_key, Account.trade_name)
                               .where(Account.id.in_(ids)))
        for row in rows.all():
            found = _account_pairs(session, row.id, row.name_key, row.trade_name)
            for pair, score in found.items():
                pairs[pair] = max(score, pairs.get(pair, 0))
    else:
        for row in session.execute(select(Contact.id, Contact.name)
                                   .where(Contact.id.in_(ids))).all():
            for pair, score in _contact_pairs(session, row.id, row.name).items():
                pairs[pair] = max(score, pairs.get(pair, 0))
    if pairs:
        session.execute(insert(c), [
            {"kind": record_kind, "low_id": low, "high_id": high, "reason": "similar_name",
             "score": score} for (low, high), score in pairs.items()])
    return len(pairs)


def rebuild_candidates(record_kind: str, after: int = 0, batch: int = 500,
                       progress=None) -> int:
    """(Re)build the similar-name pairs of every account (or contact) with an id above
    ``after``, ``batch`` at a time, each batch committed: interrupted, it resumes from the
    last id ``progress(last_id, pairs)`` was told. Returns the pairs written."""
    model = _model(record_kind)
    written = 0
    while True:
        ids = db.session.scalars(select(model.id).where(model.id > after)
                                 .order_by(model.id).limit(batch)).all()
        if not ids:
            return written
        written += refresh_candidates(record_kind, ids)
        db.session.info.pop(_PENDING, None)
        db.session.commit()
        after = ids[-1]
        if progress is not None:
            progress(after, written)


def _changed(record, *names: str) -> bool:
    state = inspect(record)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _note_renamed(session: Session, _context) -> None:
    """Accounts and contacts created or renamed, and contacts linked to an account or
    unlinked: their similar-name pairs are found again when the transaction commits."""
    pending = session.info.get(_PENDING)
    for record in session.new:
        if isinstance(record, Account):
            pending = pending or {"account": set(), "contact": set()}
            pending["account"].add(record.id)
        elif isinstance(record, Contact):
            pending = pending or {"account": set(), "contact": set()}
            pending["contact"].add(record.id)
        elif isinstance(record, AccountContact):
            pending = pending or {"account": set(), "contact": set()}
            pending["contact"].add(record.contact_id)
    for record in session.deleted:  # a contact no longer at an account: its pairs again
        if isinstance(record, AccountContact):
            pending = pending or {"account": set(), "contact": set()}
            pending["contact"].add(record.contact_id)
    for record in session.dirty:
        if isinstance(record, Account) and _changed(record, "legal_name", "trade_name"):
            pending = pending or {"account": set(), "contact": set()}
            pending["account"].add(record.id)
        elif isinstance(record, Contact) and _changed(record, "name"):
            pending = pending or {"account": set(), "contact": set()}
            pending["contact"].add(record.id)
    if pending:
        session.info[_PENDING] = pending


@task()
def refresh_candidates_task(record_kind: str, ids: tuple[int, ...]) -> None:
    """The worker's half of :func:`_refresh_at_commit`."""
    refresh_candidates(record_kind, ids)
    db.session.commit()


@event.listens_for(Session, "before_commit")
def _refresh_at_commit(session: Session) -> None:
    """The records noted by :func:`_note_renamed` have their pairs found again by the
    worker once the transaction commits (one trigram look-up per account, 10 to 50 ms:
    too much for every save, and for an import's every row; an import's batch is one
    task). Never for a transaction that rolls back."""
    if not (session.info.get(_PENDING) or session.new or session.dirty or session.deleted):
        return
    session.flush()  # the commit's own flush comes after this event: notes come first
    pending = session.info.pop(_PENDING, None) or {}
    if session is not db.session():  # a session of its own (a test's, a script's)
        for record_kind in ("account", "contact"):
            refresh_candidates(record_kind, [i for i in pending.get(record_kind, ()) if i],
                               session)
        session.flush()
        session.info.pop(_PENDING, None)
        return
    for record_kind in ("account", "contact"):
        ids = tuple(sorted(i for i in pending.get(record_kind, ()) if i is not None))
        if ids:
            enqueue_after_commit(refresh_candidates_task, record_kind, ids)


@event.listens_for(Session, "after_rollback")
def _forget_renamed(session: Session) -> None:
    session.info.pop(_PENDING, None)
