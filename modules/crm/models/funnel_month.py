"""The funnel report's monthly aggregate (crm 0022, issue 15): the opportunities counted
by the UTC calendar month of their creation, owner, current stage, status and furthest
stage, kept by database triggers in the same transaction as the opportunities.

``crm_funnel_month`` (month, owner_id, stage_id, status, furthest_stage_id) ->
opportunities (how many), value_cents (the sum of their estimated values, in cents: exact
on both databases), cycle_days (the sum of the won ones' cycles) and cycles (how many of
them have one). ``month`` is the first day of the month of ``created_at`` in UTC; a NULL
furthest stage is stored as 0 (the key is unique, and NULLs never equal each other in
one). The report (:mod:`..reports.funnel`) reads the whole UTC months of a period here, a
few rows per month whatever the number of opportunities, and only the period's partial
edges from ``crm_opportunity``.

Every write to ``crm_opportunity`` goes through the triggers, whoever makes it: the forms,
the API, the bulk import's ``executemany``, a merge, the summary's own refresh (furthest
stage after a stage is reordered or deleted, the cycle), deletes (the account's cascade
included). After an insert the new row's contribution is added (an upsert); after a
delete the old row's is subtracted; after an update of a column the aggregate depends on
(and only when one of them really changed: the trigger's WHEN) the old contribution is
subtracted and the new one added. A key whose opportunities all left keeps a row of
zeros (it adds nothing to a report).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import DDL, BigInteger, Date, Float, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import db

from .pipeline import Opportunity


class FunnelMonth(db.Model):
    """One (month, owner, stage, status, furthest stage)'s opportunities; written by the
    triggers only (see the module's docstring)."""

    __tablename__ = "crm_funnel_month"

    # The key in the report's order: one month range per (stage, status, furthest
    # stage), read in its GROUP BY's order (no sort), the owner read from the key too.
    stage_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(8), primary_key=True)
    furthest_stage_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    opportunities: Mapped[int] = mapped_column(Integer, default=0)
    value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    cycle_days: Mapped[float] = mapped_column(Float, default=0.0)
    cycles: Mapped[int] = mapped_column(Integer, default=0)


TABLE = "crm_funnel_month"
SOURCE = "crm_opportunity"
KEY = ("stage_id", "status", "furthest_stage_id", "month", "owner_id")
# The opportunity's columns the aggregate reads: an UPDATE of any other is no change.
DEPENDS_ON = ("created_at", "owner_id", "stage_id", "status", "furthest_stage_id",
              "estimated_value", "cycle_days")


def _sqlite_values(row: str) -> dict[str, str]:
    """Each aggregate column's value for one opportunity row (``new``/``old``), SQLite."""
    return {
        "month": f"date({row}.created_at, 'start of month')",
        "owner_id": f"coalesce({row}.owner_id, 0)",
        "stage_id": f"{row}.stage_id",
        "status": f"{row}.status",
        "furthest_stage_id": f"coalesce({row}.furthest_stage_id, 0)",
        "opportunities": "1",
        "value_cents": f"CAST(round(coalesce({row}.estimated_value, 0) * 100) AS INTEGER)",
        "cycle_days": f"coalesce({row}.cycle_days, 0.0)",
        "cycles": f"({row}.cycle_days IS NOT NULL)",
    }


def _postgresql_values(row: str) -> dict[str, str]:
    return {
        "month": f"date_trunc('month', {row}.created_at AT TIME ZONE 'UTC')::date",
        "owner_id": f"coalesce({row}.owner_id, 0)",
        "stage_id": f"{row}.stage_id",
        "status": f"{row}.status",
        "furthest_stage_id": f"coalesce({row}.furthest_stage_id, 0)",
        "opportunities": "1",
        "value_cents": f"round(coalesce({row}.estimated_value, 0) * 100)::bigint",
        "cycle_days": f"coalesce({row}.cycle_days, 0.0)",
        "cycles": f"CASE WHEN {row}.cycle_days IS NULL THEN 0 ELSE 1 END",
    }


FIGURES = ("opportunities", "value_cents", "cycle_days", "cycles")


def _add(values: dict[str, str]) -> str:
    columns = (*KEY, *FIGURES)
    added = ", ".join(f"{name} = {TABLE}.{name} + excluded.{name}" for name in FIGURES)
    return (f"INSERT INTO {TABLE} ({', '.join(columns)}) "  # noqa: S608  # nosec B608 (names from this module)
            f"VALUES ({', '.join(values[name] for name in columns)}) "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {added};")


def _subtract(values: dict[str, str]) -> str:
    taken = ", ".join(f"{name} = {name} - {values[name]}" for name in FIGURES)
    where = " AND ".join(f"{name} = {values[name]}" for name in KEY)
    return f"UPDATE {TABLE} SET {taken} WHERE {where};"  # noqa: S608  # nosec B608 (names from this module)


def _changed(distinct: str) -> str:
    return " OR ".join(f"old.{name} {distinct} new.{name}" for name in DEPENDS_ON)


def sqlite_statements() -> list[str]:
    new, old = _sqlite_values("new"), _sqlite_values("old")
    columns = ", ".join(DEPENDS_ON)
    return [
        f"CREATE TRIGGER {SOURCE}_funnel_ai AFTER INSERT ON {SOURCE} BEGIN {_add(new)} END",
        f"CREATE TRIGGER {SOURCE}_funnel_ad AFTER DELETE ON {SOURCE} "
        f"BEGIN {_subtract(old)} END",
        f"CREATE TRIGGER {SOURCE}_funnel_au AFTER UPDATE OF {columns} ON {SOURCE} "
        f"FOR EACH ROW WHEN {_changed('IS NOT')} BEGIN {_subtract(old)} {_add(new)} END",
    ]


FUNCTION = f"{SOURCE}_funnel"


def postgresql_statements() -> list[str]:
    new, old = _postgresql_values("NEW"), _postgresql_values("OLD")
    columns = ", ".join(DEPENDS_ON)
    return [
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_subtract(old)} END IF; "
        f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {_add(new)} END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {FUNCTION}_aid AFTER INSERT OR DELETE ON {SOURCE} "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
        f"CREATE TRIGGER {FUNCTION}_au AFTER UPDATE OF {columns} ON {SOURCE} "
        f"FOR EACH ROW WHEN ({_changed('IS DISTINCT FROM')}) EXECUTE FUNCTION {FUNCTION}()",
    ]


def trigger_statements(dialect: str) -> list[str]:
    return sqlite_statements() if dialect == "sqlite" else postgresql_statements()


def drop_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {SOURCE}_funnel_{s}" for s in ("ai", "ad", "au")]
    return [f"DROP TRIGGER IF EXISTS {FUNCTION}_aid ON {SOURCE}",
            f"DROP TRIGGER IF EXISTS {FUNCTION}_au ON {SOURCE}",
            f"DROP FUNCTION IF EXISTS {FUNCTION}()"]


def backfill_statement(dialect: str) -> str:
    """Count the opportunities already there (the migration's upgrade; also a rebuild
    after ``DELETE FROM crm_funnel_month``)."""
    values = (_sqlite_values if dialect == "sqlite" else _postgresql_values)(SOURCE)
    columns = (*KEY, *FIGURES)
    keys = ", ".join(values[name] for name in KEY)
    figures = {"opportunities": "count(*)", "value_cents": f"sum({values['value_cents']})",
               "cycle_days": f"sum({values['cycle_days']})", "cycles": f"sum({values['cycles']})"}
    selected = ", ".join([*(values[name] for name in KEY), *(figures[n] for n in FIGURES)])
    return (f"INSERT INTO {TABLE} ({', '.join(columns)}) "  # noqa: S608  # nosec B608 (names from this module)
            f"SELECT {selected} FROM {SOURCE} GROUP BY {keys}")


def _install(table) -> None:
    # Created after crm_opportunity (create_all orders by dependency), and its triggers
    # with it.
    table.add_is_dependent_on(Opportunity.__table__)
    for statement in sqlite_statements():
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in postgresql_statements():
        event.listen(table, "after_create",
                     DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))


_install(FunnelMonth.__table__)
