"""Similar-name pairs (``crm_duplicate_candidate``), found by the same trigram look-up as
the warning: one look-up per account or contact created or renamed, by the worker once
the change commits (:func:`_refresh_at_commit`), and for existing records by
:func:`rebuild_candidates` (``flask --app erp crm duplicates-rebuild``, resumable)."""

from __future__ import annotations

from sqlalchemy import (
    delete,
    event,
    insert,
    inspect,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from erp.db import db
from erp.tasks import enqueue_after_commit, task

from ...models import Account, AccountContact, Contact
from ...models.duplicates import DuplicateCandidate, name_key, similarity
from .names import _numbers, name_candidates, threshold
from .scan import _model

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
