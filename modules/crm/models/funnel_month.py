"""The funnel report's monthly aggregates (crm 0022, issue 15): the opportunities counted
by the UTC calendar month of their creation, owner, current stage, status and furthest
stage, and their stays by stage, month and owner, kept by database triggers in the same
transaction as the opportunities and stays.

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

``crm_funnel_stay_month`` (stage_id, month, owner_id) -> stays, days (the ended stays'
days), ongoing (how many stays go on) and since_days (the sum of those ones' starts, in
days from :data:`ORIGIN`): the report's days in stage up to its "as of" are then
``days + ongoing * (as_of - ORIGIN) - since_days``, summed over the whole months. Kept by
triggers on ``crm_opportunity_stay`` likewise (the summary's refresh deletes and inserts
stays; an opportunity's or a stage's deletion cascades to them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import DDL, BigInteger, Date, Float, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import db

from .pipeline import Opportunity, OpportunityStay


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


class FunnelStayMonth(db.Model):
    """The stays (crm_opportunity_stay) of one (stage, month of the opportunity's
    creation, owner): how many, their ended days, how many go on and the sum of those
    ones' starts in days from :data:`ORIGIN`; written by the triggers only."""

    __tablename__ = "crm_funnel_stay_month"

    stage_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    stays: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[float] = mapped_column(Float, default=0.0)
    ongoing: Mapped[int] = mapped_column(Integer, default=0)
    since_days: Mapped[float] = mapped_column(Float, default=0.0)


@dataclass(frozen=True)
class Aggregate:
    """One aggregate kept by triggers: its table, the table it counts, its key and figures
    as SQL of one source row (``row``: ``new``/``old``, ``NEW``/``OLD``) per dialect, and
    the source's columns they read (an UPDATE of any other is no change)."""

    table: str
    source: str
    key: tuple[str, ...]
    figures: tuple[str, ...]
    depends_on: tuple[str, ...]
    sqlite: Callable[[str], dict[str, str]]
    postgresql: Callable[[str], dict[str, str]]
    # Optional (crm 0023): the triggers' and function's name beside the source's (two
    # aggregates of one table need two), and which source rows count, as SQL of one row
    # on both dialects (None: every row): a row counts while it matches.
    name: str = "funnel"
    counts: Callable[[str], str] | None = None

    @property
    def function(self) -> str:
        return f"{self.source}_{self.name}"

    def values(self, dialect: str, row: str) -> dict[str, str]:
        return (self.sqlite if dialect == "sqlite" else self.postgresql)(row)

    def _add(self, values: dict[str, str], row: str) -> str:
        columns = (*self.key, *self.figures)
        added = ", ".join(f"{name} = {self.table}.{name} + excluded.{name}"
                          for name in self.figures)
        selected = ", ".join(values[name] for name in columns)
        # Only a row that counts: a SELECT with its WHERE (which also tells SQLite's
        # parser that ON CONFLICT is the upsert's, not a join's).
        source = (f"VALUES ({selected})" if self.counts is None
                  else f"SELECT {selected} WHERE {self.counts(row)}")
        return (f"INSERT INTO {self.table} ({', '.join(columns)}) "  # noqa: S608  # nosec B608 (names from this module)
                f"{source} "
                f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {added};")

    def _subtract(self, values: dict[str, str], row: str) -> str:
        taken = ", ".join(f"{name} = {name} - {values[name]}" for name in self.figures)
        where = " AND ".join(f"{name} = {values[name]}" for name in self.key)
        if self.counts is not None:
            where += f" AND {self.counts(row)}"
        return f"UPDATE {self.table} SET {taken} WHERE {where};"  # noqa: S608  # nosec B608 (names from this module)

    def _changed(self, distinct: str) -> str:
        return " OR ".join(f"old.{name} {distinct} new.{name}" for name in self.depends_on)

    def sqlite_statements(self) -> list[str]:
        new, old = self.values("sqlite", "new"), self.values("sqlite", "old")
        source, columns = self.source, ", ".join(self.depends_on)
        return [
            f"CREATE TRIGGER {self.function}_ai AFTER INSERT ON {source} "
            f"BEGIN {self._add(new, 'new')} END",
            f"CREATE TRIGGER {self.function}_ad AFTER DELETE ON {source} "
            f"BEGIN {self._subtract(old, 'old')} END",
            f"CREATE TRIGGER {self.function}_au AFTER UPDATE OF {columns} ON {source} "
            f"FOR EACH ROW WHEN {self._changed('IS NOT')} "
            f"BEGIN {self._subtract(old, 'old')} {self._add(new, 'new')} END",
        ]

    def postgresql_statements(self) -> list[str]:
        new, old = self.values("postgresql", "NEW"), self.values("postgresql", "OLD")
        source, function, columns = self.source, self.function, ", ".join(self.depends_on)
        # An update that moves a row to another key touches the two keys' rows in the
        # key's order (the lower first), so that two transactions moving rows between the
        # same two keys in opposite directions wait for each other instead of deadlocking.
        lower = (f"ROW({', '.join(new[name] for name in self.key)}) < "
                 f"ROW({', '.join(old[name] for name in self.key)})")
        return [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND {lower} THEN {self._add(new, 'NEW')} "
            f"{self._subtract(old, 'OLD')} "
            "ELSE "
            f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {self._subtract(old, 'OLD')} END IF; "
            f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {self._add(new, 'NEW')} END IF; "
            "END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {function}_aid AFTER INSERT OR DELETE ON {source} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {function}_au AFTER UPDATE OF {columns} ON {source} "
            f"FOR EACH ROW WHEN ({self._changed('IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION {function}()",
        ]

    def trigger_statements(self, dialect: str) -> list[str]:
        if dialect == "sqlite":
            return self.sqlite_statements()
        return self.postgresql_statements()

    def drop_statements(self, dialect: str) -> list[str]:
        if dialect == "sqlite":
            return [f"DROP TRIGGER IF EXISTS {self.function}_{s}"
                    for s in ("ai", "ad", "au")]
        return [f"DROP TRIGGER IF EXISTS {self.function}_aid ON {self.source}",
                f"DROP TRIGGER IF EXISTS {self.function}_au ON {self.source}",
                f"DROP FUNCTION IF EXISTS {self.function}()"]

    def backfill_statement(self, dialect: str) -> str:
        """Count the source's rows already there (the migration's upgrade; also a
        rebuild after emptying the table)."""
        values = self.values(dialect, self.source)
        columns = (*self.key, *self.figures)
        keys = ", ".join(values[name] for name in self.key)
        selected = ", ".join([*(values[name] for name in self.key),
                              *(f"sum({values[name]})" for name in self.figures)])
        where = "" if self.counts is None else f" WHERE {self.counts(self.source)}"
        return (f"INSERT INTO {self.table} ({', '.join(columns)}) "  # noqa: S608  # nosec B608 (names from this module)
                f"SELECT {selected} FROM {self.source}{where} GROUP BY {keys}")


def _opportunity_sqlite(row: str) -> dict[str, str]:
    """Each crm_funnel_month column's value for one opportunity row, SQLite."""
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


def _opportunity_postgresql(row: str) -> dict[str, str]:
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


OPPORTUNITIES = Aggregate(
    table="crm_funnel_month", source="crm_opportunity",
    key=("stage_id", "status", "furthest_stage_id", "month", "owner_id"),
    figures=("opportunities", "value_cents", "cycle_days", "cycles"),
    depends_on=("created_at", "owner_id", "stage_id", "status", "furthest_stage_id",
                "estimated_value", "cycle_days"),
    sqlite=_opportunity_sqlite, postgresql=_opportunity_postgresql)

# The days of the stays going on are counted up to the report's "as of": kept here as the
# sum of their starts, in days from this origin, so the report's total is
# days + ongoing x (as_of - ORIGIN) - since_days, all sums.
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


def _stay_sqlite(row: str) -> dict[str, str]:
    """Each crm_funnel_stay_month column's value for one stay row, SQLite (the days as
    ``erp.reports.days_between`` counts them)."""
    return {
        "stage_id": f"{row}.stage_id",
        "month": f"date({row}.created_at, 'start of month')",
        "owner_id": f"coalesce({row}.owner_id, 0)",
        "stays": "1",
        "days": f"coalesce({row}.days, 0.0)",
        "ongoing": f"({row}.since IS NOT NULL)",
        "since_days": f"coalesce(julianday({row}.since) - julianday('2000-01-01'), 0.0)",
    }


def _stay_postgresql(row: str) -> dict[str, str]:
    return {
        "stage_id": f"{row}.stage_id",
        "month": f"date_trunc('month', {row}.created_at AT TIME ZONE 'UTC')::date",
        "owner_id": f"coalesce({row}.owner_id, 0)",
        "stays": "1",
        "days": f"coalesce({row}.days, 0.0)",
        "ongoing": f"CASE WHEN {row}.since IS NULL THEN 0 ELSE 1 END",
        "since_days": (f"coalesce(EXTRACT(EPOCH FROM ({row}.since - "
                       "TIMESTAMPTZ '2000-01-01 00:00:00+00')) / 86400.0, 0.0)"),
    }


STAYS = Aggregate(
    table="crm_funnel_stay_month", source="crm_opportunity_stay",
    key=("stage_id", "month", "owner_id"),
    figures=("stays", "days", "ongoing", "since_days"),
    depends_on=("stage_id", "created_at", "owner_id", "days", "since"),
    sqlite=_stay_sqlite, postgresql=_stay_postgresql)

AGGREGATES = (OPPORTUNITIES, STAYS)


def trigger_statements(dialect: str) -> list[str]:
    return [s for aggregate in AGGREGATES for s in aggregate.trigger_statements(dialect)]


def drop_statements(dialect: str) -> list[str]:
    return [s for aggregate in AGGREGATES for s in aggregate.drop_statements(dialect)]


def backfill_statements(dialect: str) -> list[str]:
    """Empty both aggregates and count the rows already there."""
    statements = []
    for aggregate in AGGREGATES:
        statements.append(f"DELETE FROM {aggregate.table}")  # noqa: S608  # nosec B608 (names from this module)
        statements.append(aggregate.backfill_statement(dialect))
    return statements


def _install(model, source, aggregate: Aggregate) -> None:
    # Created after its source table (create_all orders by dependency), and its
    # triggers with it.
    table = model.__table__
    table.add_is_dependent_on(source.__table__)
    for statement in aggregate.sqlite_statements():
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in aggregate.postgresql_statements():
        event.listen(table, "after_create",
                     DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))


_install(FunnelMonth, Opportunity, OPPORTUNITIES)
_install(FunnelStayMonth, OpportunityStay, STAYS)
