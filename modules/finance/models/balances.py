"""What is owed on each receivable, with its account's owner (issue 15): a copy kept by
database triggers in the same transaction as the rows, whatever writes them (forms, API,
signals, merges, imports), like CRM's crm_duplicate_key.

``finance_receivable_balance`` holds, for every receivable: its account and that
account's owner, whether it is cancelled, its due date, its amount and ``paid``, the sum
of its payments. The figures over a user's record scope (the home page's overdue
receivables, the receivables list's totals, the aging) then read it alone, by the index
that leads with the owner: the scope is a set of owners, each a range of that index,
which covers every column they sum. Before, each receivable's account was probed by
primary key for its owner and its payments summed by a join, per row.

Nothing here is a snapshot: the triggers keep each row exact as its receivable, payments
and account change (a receivable created, changed, cancelled, moved to another account or
deleted; a payment recorded, changed or deleted; an account given to another owner).
Figures that depend on the day (overdue, the aging buckets) are computed from the due
date when read.

``paid``: SQLite sums the receivable's payments again (one writer at a time, and the same
floating-point sum as a SUM over the payments); PostgreSQL adds and subtracts the
payment (exact numerics, and right when two transactions record payments at once).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import DDL, BigInteger, Boolean, Date, ForeignKey, Index, Integer, event
from sqlalchemy.orm import Mapped, mapped_column

from erp.aggregates import Aggregate, cents, flag
from erp.db import db
from erp.money import Money

from .receivables import Payment, Receivable

TABLE = "finance_receivable_balance"


class ReceivableBalance(db.Model):
    """What is owed on one receivable, with its account's owner; written by triggers."""

    __tablename__ = TABLE
    __table_args__ = (
        # The scope's owners' ranges (owner_in), live receivables first, by account (the
        # aging's groups, in order) then due date (the overdue ones, the buckets),
        # covering the sums.
        Index("ix_finance_receivable_balance_owner", "owner_id", "cancelled", "account_id",
              "due_date", "amount", "paid"),
        # An account given to another owner: its rows.
        Index("ix_finance_receivable_balance_account", "account_id"),
    )

    receivable_id: Mapped[int] = mapped_column(
        ForeignKey(Receivable.id, ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    account_id: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money)


DAY_TABLE = "finance_receivable_day"


class ReceivableDay(db.Model):
    """The live receivables of one owner's accounts due on one day, summed: how many are
    not paid in full, their amounts and their payments, in cents (integers: exact on
    both databases, added and subtracted as the balances change). Written by triggers
    on finance_receivable_balance; at most one row per owner and day, however many
    receivables there are, so the figures that need no account (the overdue totals, the
    list's totals, the aging's bucket totals) read a few hundred rows per owner at any
    scale."""

    __tablename__ = DAY_TABLE
    __table_args__ = {"sqlite_with_rowid": False}  # the key is the table: ranges by owner

    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    unpaid: Mapped[int] = mapped_column(Integer)  # live, amount > paid
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_cents: Mapped[int] = mapped_column(BigInteger)


# --- The triggers that keep them ----------------------------------------------------------

_COLUMNS = "receivable_id, account_id, owner_id, cancelled, due_date, amount, paid"
_OWNER = "(SELECT owner_id FROM crm_account WHERE id = {row}.account_id)"
_PAID = ("(SELECT COALESCE(SUM(amount), 0) FROM finance_payment "
         "WHERE receivable_id = {row})")
_RECEIVABLE_COLUMNS = "account_id, cancelled, due_date, amount"


def _insert(row: str, owner: str) -> str:
    return (f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({row}.id, {row}.account_id, "  # noqa: S608  # nosec B608 (names from this module)
            f"{owner}, {row}.cancelled, {row}.due_date, {row}.amount, "
            f"{_PAID.format(row=row + '.id')});")


def _update(row: str, owner: str) -> str:
    return (f"UPDATE {TABLE} SET account_id = {row}.account_id, owner_id = {owner}, "  # noqa: S608  # nosec B608 (names from this module)
            f"cancelled = {row}.cancelled, due_date = {row}.due_date, "
            f"amount = {row}.amount WHERE receivable_id = {row}.id;")


def _sqlite_repay(row: str) -> str:
    receivable = f"{row}.receivable_id"
    return (f"UPDATE {TABLE} SET paid = {_PAID.format(row=receivable)} "  # noqa: S608  # nosec B608 (names from this module)
            f"WHERE receivable_id = {receivable};")


def sqlite_statements() -> list[str]:
    owner = _OWNER.format(row="new")
    return [
        f"CREATE TRIGGER finance_receivable_balance_ai AFTER INSERT ON finance_receivable "
        f"BEGIN {_insert('new', owner)} END",
        f"CREATE TRIGGER finance_receivable_balance_au AFTER UPDATE OF "
        f"{_RECEIVABLE_COLUMNS} ON finance_receivable BEGIN {_update('new', owner)} END",
        f"CREATE TRIGGER finance_receivable_balance_ad AFTER DELETE ON finance_receivable "  # noqa: S608  # nosec B608 (names from this module)
        f"BEGIN DELETE FROM {TABLE} WHERE receivable_id = old.id; END",
        f"CREATE TRIGGER finance_payment_balance_ai AFTER INSERT ON finance_payment "
        f"BEGIN {_sqlite_repay('new')} END",
        f"CREATE TRIGGER finance_payment_balance_ad AFTER DELETE ON finance_payment "
        f"BEGIN {_sqlite_repay('old')} END",
        f"CREATE TRIGGER finance_payment_balance_au AFTER UPDATE OF receivable_id, amount "
        f"ON finance_payment BEGIN {_sqlite_repay('old')} {_sqlite_repay('new')} END",
        f"CREATE TRIGGER crm_account_finance_balance_au AFTER UPDATE OF owner_id "  # noqa: S608  # nosec B608 (names from this module)
        f"ON crm_account WHEN old.owner_id IS NOT new.owner_id "
        f"BEGIN UPDATE {TABLE} SET owner_id = new.owner_id WHERE account_id = new.id; END",
    ]


def postgresql_statements() -> list[str]:
    # The account's owner read FOR SHARE: a transaction giving the account to another
    # owner at the same time is waited for, and its new owner read.
    owner = "(SELECT owner_id FROM crm_account WHERE id = NEW.account_id FOR SHARE)"
    return [
        "CREATE OR REPLACE FUNCTION finance_receivable_balance() RETURNS trigger AS $$ "  # noqa: S608  # nosec B608 (names from this module)
        "BEGIN "
        f"IF TG_OP = 'DELETE' THEN DELETE FROM {TABLE} WHERE receivable_id = OLD.id; "
        f"ELSIF TG_OP = 'INSERT' THEN {_insert('NEW', owner)} "
        f"ELSE {_update('NEW', owner)} END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER finance_receivable_balance_aid AFTER INSERT OR DELETE "
        "ON finance_receivable FOR EACH ROW EXECUTE FUNCTION finance_receivable_balance()",
        f"CREATE TRIGGER finance_receivable_balance_au AFTER UPDATE OF {_RECEIVABLE_COLUMNS} "
        "ON finance_receivable FOR EACH ROW EXECUTE FUNCTION finance_receivable_balance()",
        "CREATE OR REPLACE FUNCTION finance_payment_balance() RETURNS trigger AS $$ "  # noqa: S608  # nosec B608 (names from this module)
        "BEGIN "
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
        f"UPDATE {TABLE} SET paid = paid - OLD.amount WHERE receivable_id = OLD.receivable_id; "
        "END IF; "
        "IF TG_OP IN ('INSERT', 'UPDATE') THEN "
        f"UPDATE {TABLE} SET paid = paid + NEW.amount WHERE receivable_id = NEW.receivable_id; "
        "END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER finance_payment_balance_aid AFTER INSERT OR DELETE "
        "ON finance_payment FOR EACH ROW EXECUTE FUNCTION finance_payment_balance()",
        "CREATE TRIGGER finance_payment_balance_au AFTER UPDATE OF receivable_id, amount "
        "ON finance_payment FOR EACH ROW EXECUTE FUNCTION finance_payment_balance()",
        "CREATE OR REPLACE FUNCTION crm_account_finance_balance() RETURNS trigger AS $$ "  # noqa: S608  # nosec B608 (names from this module)
        "BEGIN "
        f"UPDATE {TABLE} SET owner_id = NEW.owner_id WHERE account_id = NEW.id; "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER crm_account_finance_balance_au AFTER UPDATE OF owner_id "
        "ON crm_account FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) "
        "EXECUTE FUNCTION crm_account_finance_balance()",
    ]


def _day_values(row: str, dialect: str) -> dict[str, str]:
    return {"owner_id": f"{row}.owner_id", "due_date": f"{row}.due_date",
            "unpaid": flag(f"{row}.amount > {row}.paid", dialect),
            "amount_cents": cents(f"{row}.amount", dialect),
            "paid_cents": cents(f"{row}.paid", dialect)}


# A balance counts in its owner's day while live (not cancelled) and owned.
DAYS = Aggregate(
    table=DAY_TABLE, source=TABLE, name="day", key=("owner_id", "due_date"),
    figures=("unpaid", "amount_cents", "paid_cents"),
    depends_on=("owner_id", "cancelled", "due_date", "amount", "paid"),
    row_values=_day_values,
    counts=lambda row: f"NOT {row}.cancelled AND {row}.owner_id IS NOT NULL")


def statements(dialect: str) -> list[str]:
    return sqlite_statements() if dialect == "sqlite" else postgresql_statements()


def drop_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in (
            "finance_receivable_balance_ai", "finance_receivable_balance_au",
            "finance_receivable_balance_ad", "finance_payment_balance_ai",
            "finance_payment_balance_ad", "finance_payment_balance_au",
            "crm_account_finance_balance_au")]
    return [
        "DROP TRIGGER IF EXISTS finance_receivable_balance_aid ON finance_receivable",
        "DROP TRIGGER IF EXISTS finance_receivable_balance_au ON finance_receivable",
        "DROP TRIGGER IF EXISTS finance_payment_balance_aid ON finance_payment",
        "DROP TRIGGER IF EXISTS finance_payment_balance_au ON finance_payment",
        "DROP TRIGGER IF EXISTS crm_account_finance_balance_au ON crm_account",
        "DROP FUNCTION IF EXISTS finance_receivable_balance()",
        "DROP FUNCTION IF EXISTS finance_payment_balance()",
        "DROP FUNCTION IF EXISTS crm_account_finance_balance()",
    ]


def backfill_statement() -> str:
    """Every receivable already there (the migration's upgrade)."""
    return (f"INSERT INTO {TABLE} ({_COLUMNS}) "  # noqa: S608  # nosec B608 (names from this module)
            "SELECT r.id, r.account_id, a.owner_id, r.cancelled, r.due_date, r.amount, "
            "COALESCE((SELECT SUM(p.amount) FROM finance_payment p "
            "WHERE p.receivable_id = r.id), 0) "
            "FROM finance_receivable r JOIN crm_account a ON a.id = r.account_id")


def _install() -> None:
    """With create_all: the payments' triggers after their table, the others after this
    one (created after the receivables': its key refers to them). A trigger's body names
    tables that are only read when it fires."""
    for dialect, made in (("sqlite", sqlite_statements()),
                          ("postgresql", postgresql_statements())):
        for statement in made:
            table = (Payment.__table__ if "finance_payment_balance" in statement
                     else ReceivableBalance.__table__)
            event.listen(table, "after_create",
                         DDL(statement.replace("%", "%%")).execute_if(dialect=dialect))


_install()
DAYS.install(ReceivableDay, ReceivableBalance)
