"""What finding duplicates reads (issues 17 and 18): the name key of an account, the
count of records sharing each key, and the pairs people dismissed as not duplicates.

* ``Account.name_key``: the legal name folded (no accents, lower case, letters and digits)
  without the company-type suffixes (LTDA, ME, EPP, EIRELI, S.A., ...): "Teste
  Alfanumérico Ltda" and "TESTE ALFANUMERICO LTDA ME" are both "teste alfanumerico".
* ``crm_duplicate_key``: for each key kind ("account.email", "account.phone",
  "account.name", "account.root", "contact.email", "contact.phone") and value, how many
  records hold it, kept by database triggers in the same transaction as the records (like
  the search index's), whatever writes them (forms, API, bulk import). The scan for
  duplicates walks its keys held by two or more (a partial index holds only those), so it
  costs the duplicates found, never the table's size.
* ``crm_duplicate_dismissal``: a pair someone marked "not a duplicate", for good.
* ``crm_duplicate_candidate``: pairs with similar (not equal) names, scored (crm 0021).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import DDL, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from erp.auth.models import User
from erp.db import db, utcnow

from .account import Account
from .contact import Contact
from .search_text import fold

# Company-type words at the end of a Brazilian legal name, which say nothing of who it is.
COMPANY_SUFFIXES = frozenset({
    "ltda", "limitada", "me", "epp", "eireli", "sa", "s/a", "cia", "mei", "ss", "slu",
    "ltdame", "ltdaepp", "eirelime", "e", "&",
})
_WORD_SEPARATORS = re.compile(r"[^0-9a-z/&]+")


def name_key(name: str | None) -> str:
    """A legal name as duplicates compare it: folded, punctuation gone, the company-type
    suffixes dropped ("Teste Alfanumérico Ltda." -> "teste alfanumerico")."""
    text = fold(name).replace("s.a.", " sa ").replace("s.a", " sa ").replace("s/a", " sa ")
    words = [w.strip("/") for w in _WORD_SEPARATORS.split(text)]
    words = [w for w in words if w]
    while len(words) > 1 and words[-1] in COMPANY_SUFFIXES:
        words.pop()
    if len(words) > 2 and words[-2:] == ["s", "a"]:
        words = words[:-2]
    return " ".join(words)[:200]


def trigrams(text: str) -> set[str]:
    """The trigrams of pg_trgm: each word padded with two spaces before and one after."""
    grams: set[str] = set()
    for word in text.split():
        padded = f"  {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a: str, b: str) -> float:
    """pg_trgm's similarity of two name keys: shared trigrams over all of them (0 to 1)."""
    first, second = trigrams(a), trigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


@event.listens_for(Account, "before_insert")
@event.listens_for(Account, "before_update")
def _refresh_name_key(mapper, connection, account: Account) -> None:
    account.name_key = name_key(account.legal_name) or None


class DuplicateKey(db.Model):
    """How many records hold one key (see the module's docstring); written by triggers."""

    __tablename__ = "crm_duplicate_key"
    __table_args__ = (
        Index("ix_crm_duplicate_key_shared", "kind", "key",
              sqlite_where=db.text("n > 1"), postgresql_where=db.text("n > 1")),
    )

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class DuplicateDismissal(db.Model):
    """A pair of accounts (or contacts) marked "not a duplicate": never proposed again."""

    __tablename__ = "crm_duplicate_dismissal"
    __table_args__ = (UniqueConstraint("kind", "low_id", "high_id",
                                       name="uq_crm_duplicate_dismissal_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "account" or "contact"
    low_id: Mapped[int] = mapped_column(Integer)  # the smaller id of the pair
    high_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id, ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DuplicateCandidate(db.Model):
    """A pair of records with similar names (issue 18): accounts whose name keys' trigram
    similarity reaches ``CRM_SIMILAR_NAME_THRESHOLD``, or contacts of one account with
    similar names. Kept by services/duplicates.py when a record is created or renamed
    (in the same transaction) and rebuilt in batches by ``flask crm duplicates-rebuild``;
    the scan reads it by score, best first (``ix_crm_duplicate_candidate_rank``, walked
    backwards: score, then the ids, all descending), so a page costs its own rows.
    ``score``: the similarity in thousandths (600..1000)."""

    __tablename__ = "crm_duplicate_candidate"
    __table_args__ = (
        Index("ix_crm_duplicate_candidate_rank", "kind", "score", "low_id", "high_id"),
        Index("ix_crm_duplicate_candidate_high", "kind", "high_id"),
    )

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # account, contact
    low_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    high_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(String(20), default="similar_name")
    score: Mapped[int] = mapped_column(Integer)


# --- The triggers that keep crm_duplicate_key ---------------------------------------------

# kind -> (table, column, a condition on the row that the value counts)
ACCOUNT_KEYS = {
    "account.email": "email", "account.phone": "phone", "account.mobile": "mobile",
    "account.name": "name_key", "account.root": "tax_id_root",
}
CONTACT_KEYS = {"contact.email": "email", "contact.phone": "phone", "contact.mobile": "mobile"}
TRIGGER_TABLES = {"crm_account": ACCOUNT_KEYS, "crm_contact": CONTACT_KEYS}


def _kind(kind: str) -> str:
    """Mobile numbers count with the phones: one "phone" kind per table."""
    return kind.replace(".mobile", ".phone")


def _counted(row: str, column: str) -> str:
    """A mobile equal to the row's phone is the same number: counted once."""
    if column == "mobile":
        return f"{row}.mobile IS NOT NULL AND {row}.mobile IS NOT {row}.phone"
    return f"{row}.{column} IS NOT NULL"


def _sqlite_add(kind: str, column: str, row: str) -> str:
    return (f"INSERT INTO crm_duplicate_key (kind, key, n) SELECT '{_kind(kind)}', "  # noqa: S608  # nosec B608 (names from the models)
            f"{row}.{column}, 1 WHERE {_counted(row, column)} "
            "ON CONFLICT (kind, key) DO UPDATE SET n = n + 1;")


def _sqlite_remove(kind: str, column: str, row: str) -> str:
    return (f"UPDATE crm_duplicate_key SET n = n - 1 WHERE kind = '{_kind(kind)}' "  # noqa: S608  # nosec B608 (names from the models)
            f"AND key = {row}.{column} AND {_counted(row, column)};")


def sqlite_statements(table: str) -> list[str]:
    keys = TRIGGER_TABLES[table]
    columns = ", ".join(sorted(set(keys.values())))
    add = " ".join(_sqlite_add(kind, column, "new") for kind, column in keys.items())
    remove = " ".join(_sqlite_remove(kind, column, "old") for kind, column in keys.items())
    return [
        f"CREATE TRIGGER {table}_dupkey_ai AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {table}_dupkey_ad AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER {table}_dupkey_au AFTER UPDATE OF {columns} ON {table} "
        f"BEGIN {remove} {add} END",
    ]


POSTGRESQL_BUMP = """
CREATE OR REPLACE FUNCTION crm_duplicate_key_bump(k text, v text, d integer) RETURNS void AS $$
BEGIN
    IF v IS NULL THEN RETURN; END IF;
    INSERT INTO crm_duplicate_key (kind, key, n) VALUES (k, v, GREATEST(d, 0))
    ON CONFLICT (kind, key) DO UPDATE SET n = crm_duplicate_key.n + d;
END $$ LANGUAGE plpgsql
"""


def _pg_calls(keys: dict, row: str, delta: int) -> str:
    calls = []
    for kind, column in keys.items():
        value = f"{row}.{column}"
        if column == "mobile":
            value = f"CASE WHEN {row}.mobile IS DISTINCT FROM {row}.phone THEN {row}.mobile END"
        calls.append(f"PERFORM crm_duplicate_key_bump('{_kind(kind)}', {value}, {delta});")
    return " ".join(calls)


def postgresql_statements(table: str) -> list[str]:
    keys = TRIGGER_TABLES[table]
    columns = ", ".join(sorted(set(keys.values())))
    function = f"{table}_dupkey"
    return [
        POSTGRESQL_BUMP,
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_pg_calls(keys, 'OLD', -1)} END IF; "
        f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {_pg_calls(keys, 'NEW', 1)} END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {function}_aid AFTER INSERT OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_au AFTER UPDATE OF {columns} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def drop_statements(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_dupkey_{s}" for s in ("ai", "ad", "au")]
    return [f"DROP TRIGGER IF EXISTS {table}_dupkey_aid ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_dupkey_au ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_dupkey()"]


def backfill_statements(table: str) -> list[str]:
    """Count the keys of the rows already there (the migration's upgrade)."""
    keys = TRIGGER_TABLES[table]
    statements = []
    for kind, column in keys.items():
        condition = _counted(table, column)
        if column == "mobile":
            condition = (f"{table}.mobile IS NOT NULL AND ({table}.phone IS NULL "
                         f"OR {table}.mobile <> {table}.phone)")
        statements.append(
            f"INSERT INTO crm_duplicate_key (kind, key, n) SELECT '{_kind(kind)}', "  # noqa: S608  # nosec B608 (names from the models)
            f"{column}, COUNT(*) FROM {table} WHERE {condition} GROUP BY {column} "
            f"ON CONFLICT (kind, key) DO UPDATE SET n = crm_duplicate_key.n + excluded.n")
    return statements


def _install(table) -> None:
    for statement in sqlite_statements(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in postgresql_statements(table.name):
        event.listen(table, "after_create",
                     DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))


_install(Account.__table__)
_install(Contact.__table__)
