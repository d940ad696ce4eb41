"""Driver-level batch writes for the rows every step produces.

Each step writes a handful of rows (the event's processed mark, messages, commands, the conversation),
and SQLAlchemy's per-row parameter processing cost more than SQLite's own work. These statements go
to the driver's ``executemany`` with values already in the column's stored form: JSON as text
(orjson), timestamps as SQLAlchemy stores them (naive UTC text on SQLite, aware datetimes on
PostgreSQL), so rows written here read back through the SQLModel tables unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from bot.storage.database import dump_json


class BulkWriter:
    def __init__(self, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {dialect!r}")
        self._postgres = dialect == "postgresql"
        self._mark = "%s" if self._postgres else "?"

    def stamp(self, moment: datetime | None) -> Any:
        if moment is None or self._postgres:
            return moment
        # SQLAlchemy's SQLite DateTime: naive UTC, always with microseconds, so text order is time order.
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    @staticmethod
    def json(value: Any) -> str | None:
        return None if value is None else dump_json(value)

    def _placeholder(self, column: str, json_columns: frozenset[str]) -> str:
        return f"{self._mark}::json" if self._postgres and column in json_columns else self._mark

    def insert(
        self,
        connection: Connection,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        json_columns: frozenset[str] = frozenset(),
        ignore_conflicts_on: str | None = None,
    ) -> None:
        if not rows:
            return
        marks = ", ".join(self._placeholder(column, json_columns) for column in columns)
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        if ignore_conflicts_on is not None:
            statement += f" ON CONFLICT ({ignore_conflicts_on}) DO NOTHING"
        connection.exec_driver_sql(statement, list(rows))

    def update(
        self,
        connection: Connection,
        table: str,
        columns: Sequence[str],
        key: str,
        rows: Sequence[Sequence[Any]],
        *,
        json_columns: frozenset[str] = frozenset(),
        only_if: str | None = None,
    ) -> None:
        """UPDATE ... SET columns WHERE key = ? [AND only_if]; each row is (*column values, key value)."""
        if not rows:
            return
        assignments = ", ".join(f"{column} = {self._placeholder(column, json_columns)}" for column in columns)
        condition = f"{key} = {self._mark}" + (f" AND {only_if}" if only_if else "")
        connection.exec_driver_sql(f"UPDATE {table} SET {assignments} WHERE {condition}", list(rows))
