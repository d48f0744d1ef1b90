"""The scan of existing records for likely duplicates: ``crm_duplicate_key``'s keys held
by two or more records, kind by kind in order of confidence, then the similar-name pairs
best score first; each page's records read by their indexed key columns, so a page costs
a bounded number of queries whatever the table's size."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    and_,
    literal,
    or_,
    select,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from erp.db import db

from ...models import Account, Contact, DuplicateDismissal, DuplicateKey
from ...models.duplicates import DuplicateCandidate, name_key, similarity
from ..scope import account_scope, contact_scope
from ..search import MatchesFirst


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
    joined = MatchesFirst(keyed, table, model.id == keyed.c.id)
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
    member_rows, records = _records_of(model, kinds, rows, user, visible)
    candidates = _candidate_pairs(kinds, rows, member_rows, records)
    dismissed = _dismissed(record_kind, [(a.id, b.id) for _r, _k, a, b, _s in candidates])
    for rank, key, first, second, score in candidates:
        if (min(first.id, second.id), max(first.id, second.id)) not in dismissed:
            page.pairs.append(Pair(kinds[rank], key, first, second,
                                   _confidence(kinds[rank], first, second, score), score))
    return page


def _records_of(model, kinds, rows, user, visible) -> tuple[list, dict]:
    """The page's groups' members (rank, id, key) and every record the page names, by id:
    one query for the members of all the groups, one for the records."""
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
    return member_rows, records


def _candidate_pairs(kinds, rows, member_rows, records) -> list[tuple]:
    """(rank, key, first, second, score) of the page, in its order: a similar-name pair as
    it is, a group's records each paired with its oldest."""
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
    return candidates


def _confidence(kind, first, second, score) -> float:
    if kind.candidates:  # ranked by the names' similarity
        return round(SIMILAR_BASE + SIMILAR_WEIGHT * score / 1000, 3)
    confidence = kind.confidence
    if kind.reason == "name":  # the same key: similarity 1; trade names may tell more
        confidence += 0.05 * similarity(name_key(first.trade_name), name_key(second.trade_name))
    return round(confidence, 3)


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
