"""Aggregates kept by database triggers (issue 15: "every header figure from an indexed
aggregate"): a table of counts and sums of another table's rows by a key, kept exact in
the same transaction as the rows by AFTER INSERT / UPDATE / DELETE triggers on both
databases (SQLite triggers; a plpgsql function on PostgreSQL), whoever writes the rows:
forms, API, a bulk import's executemany, raw SQL, a cascade. Not a cache: never stale,
never rebuilt by a job. A report then reads a few rows per key (a month, an owner, a
stage) whatever the number of rows counted.

A module declares one with :class:`Aggregate` (its key and figures as SQL of one source
row, for a dialect), gives its model's table the triggers with :meth:`Aggregate.install`
(``create_all``), and its migration creates them with :func:`trigger_statements`, counts
the rows already there with :func:`backfill_statements` and drops them on the way back
with :func:`drop_statements`. Figures are integers or floats (money in cents: exact on
both databases); :func:`utc_month`, :func:`cents` and :func:`flag` write the usual
values. A key column never holds NULL (store 0): NULLs never equal each other in a key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import DDL, event


@dataclass(frozen=True)
class Aggregate:
    """One aggregate kept by triggers: its table, the table it counts, its key and figures
    as SQL of one source row (``row_values(row, dialect)``, ``row`` being ``new``/``old``
    or ``NEW``/``OLD``), and the source's columns they read (an UPDATE of any other is no
    change)."""

    table: str
    source: str
    key: tuple[str, ...]
    figures: tuple[str, ...]
    depends_on: tuple[str, ...]
    row_values: Callable[[str, str], dict[str, str]]
    # Optional (crm 0023): the triggers' and function's name beside the source's (two
    # aggregates of one table need two), and which source rows count, as SQL of one row
    # on both dialects (None: every row): a row counts while it matches.
    name: str = "funnel"
    counts: Callable[[str], str] | None = None

    @property
    def function(self) -> str:
        return f"{self.source}_{self.name}"

    def values(self, dialect: str, row: str) -> dict[str, str]:
        return self.row_values(row, dialect)

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

    def backfill_statements(self, dialect: str) -> list[str]:
        """Empty the aggregate, then count the source's rows already there."""
        return [f"DELETE FROM {self.table}",  # noqa: S608  # nosec B608 (a model's name)
                self.backfill_statement(dialect)]

    def install(self, model, source_model) -> None:
        """With ``create_all``: ``model``'s table after its source's (create_all orders by
        dependency), and the triggers with it."""
        table = model.__table__
        table.add_is_dependent_on(source_model.__table__)
        for statement in self.sqlite_statements():
            event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
        for statement in self.postgresql_statements():
            event.listen(table, "after_create",
                         DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))


def trigger_statements(aggregates: Iterable[Aggregate], dialect: str) -> list[str]:
    return [s for aggregate in aggregates for s in aggregate.trigger_statements(dialect)]


def drop_statements(aggregates: Iterable[Aggregate], dialect: str) -> list[str]:
    return [s for aggregate in aggregates for s in aggregate.drop_statements(dialect)]


def backfill_statements(aggregates: Iterable[Aggregate], dialect: str) -> list[str]:
    return [s for aggregate in aggregates for s in aggregate.backfill_statements(dialect)]


def utc_month(moment: str, dialect: str) -> str:
    """The first day of the UTC calendar month of a stored time (SQL)."""
    if dialect == "sqlite":
        return f"date({moment}, 'start of month')"
    return f"date_trunc('month', {moment} AT TIME ZONE 'UTC')::date"


def cents(amount: str, dialect: str) -> str:
    """An amount of money as whole cents (NULL as 0), summed exactly on both databases."""
    if dialect == "sqlite":
        return f"CAST(round(coalesce({amount}, 0) * 100) AS INTEGER)"
    return f"round(coalesce({amount}, 0) * 100)::bigint"


def flag(condition: str, dialect: str) -> str:
    """1 where ``condition`` holds, else 0 (SQL)."""
    if dialect == "sqlite":
        return f"({condition})"
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"
