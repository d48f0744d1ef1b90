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
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from flask import current_app
from sqlalchemy import and_, literal, literal_column, or_, select, text, union, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from erp.auth import in_scope
from erp.db import db
from erp.errors import Duplicate, InvalidInput
from erp.validation import LIKE_ESCAPE, like

from ..models import Account, Contact, DuplicateDismissal, DuplicateKey
from ..models.duplicates import name_key, similarity
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


ACCOUNT_KINDS = (
    ScanKind("account.email", "email", 0.9),
    ScanKind("account.phone", "phone", 0.8),
    ScanKind("account.name", "name", 0.7),
    ScanKind("account.root", "tax_id_root", 0.5, mergeable=False),
)
CONTACT_KINDS = (
    ScanKind("contact.email", "email", 0.9),
    ScanKind("contact.phone", "phone", 0.8),
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


def scan(record_kind: str, user, cursor: str | None = None, per_page: int = SCAN_PAGE
         ) -> ScanPage:
    """A page of likely duplicate pairs of ``record_kind`` ("account" or "contact") within
    ``user``'s scope: up to ``per_page`` groups (records sharing a key), kind by kind
    (e-mail, phone, name, CNPJ root: the most confident first), each kind's keys in order;
    each record of a group paired with its oldest, dismissed pairs left out.
    ``next_cursor`` continues after the page's last group.

    Four queries whatever the page's or the table's size: the groups (one UNION ALL of
    each kind's next keys), their records' ids, the records, the dismissed pairs."""
    model, kinds = _model(record_kind), _kinds(record_kind)
    index, after = decode_cursor(cursor)
    if index >= len(kinds):
        return ScanPage()
    visible = _visible(model, user)
    parts = []
    for i in range(index, len(kinds)):
        keys = _groups_select(model, kinds[i], after if i == index else None, user,
                              per_page + 1, visible).subquery()
        parts.append(select(literal(i).label("rank"), keys.c.key))
    groups = union_all(*parts).subquery()
    rows = db.session.execute(select(groups.c.rank, groups.c.key)
                              .order_by(groups.c.rank, groups.c.key).limit(per_page + 1)).all()
    page = ScanPage()
    if len(rows) > per_page:
        rows = rows[:per_page]
        page.next_cursor = encode_cursor(rows[-1].rank, rows[-1].key)
    if not rows:
        return page
    by_kind: dict[int, list[str]] = {}
    for row in rows:
        by_kind.setdefault(row.rank, []).append(row.key)
    members = union_all(*(
        select(literal(rank).label("rank"), found.c.id, found.c.key).select_from(found)
        for rank, keys in by_kind.items()
        for found in [_members_select(model, kinds[rank], keys, user,
                                      len(keys) * (GROUP_SHOWN + 1) * 2, visible).subquery()]))
    member_rows = db.session.execute(members).all()
    records = {r.id: r for r in db.session.scalars(
        select(model).where(model.id.in_({m.id for m in member_rows}))
        .options(*([lazyload(Account.tags)] if model is Account else [])))}
    grouped: dict[tuple[int, str], list] = {(row.rank, row.key): [] for row in rows}
    for member in sorted(member_rows, key=lambda m: m.id):
        group = grouped.get((member.rank, member.key))
        if group is not None and len(group) <= GROUP_SHOWN and member.id in records and (
                records[member.id] not in group):
            group.append(records[member.id])
    candidates = [(rank, key, members[0], other) for (rank, key), members in grouped.items()
                  for other in members[1:]]
    dismissed = _dismissed(record_kind, [(a.id, b.id) for _r, _k, a, b in candidates])
    for rank, key, first, second in candidates:
        if (min(first.id, second.id), max(first.id, second.id)) in dismissed:
            continue
        kind = kinds[rank]
        confidence = kind.confidence
        if kind.reason == "name":  # the same key: similarity 1; the trade names may tell more
            confidence += 0.05 * similarity(name_key(first.trade_name),
                                            name_key(second.trade_name))
        page.pairs.append(Pair(kind, key, first, second, round(confidence, 3)))
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
