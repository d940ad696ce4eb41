"""The issuance journal (integrations/journal.py) in dmcare's database, so it survives a crash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.tables import ISSUANCES
from integrations.journal import Issuance

__all__ = ["SqlIssuanceJournal"]


class SqlIssuanceJournal:
    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def begin(self, *, key: str, provider: str, kind: str) -> Issuance | None:
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            inserted = connection.execute(
                dialect_insert(ISSUANCES)
                .values(idempotency_key=key, provider=provider, kind=kind, status="started", attempts=1,
                        result=None, created_at=now, updated_at=now)
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            ).rowcount  # fmt: skip
            if inserted:
                return None
            row = connection.execute(
                select(ISSUANCES.c.status, ISSUANCES.c.attempts, ISSUANCES.c.result).where(
                    ISSUANCES.c.idempotency_key == key
                )
            ).one()
            if row.status == "started":
                connection.execute(
                    update(ISSUANCES)
                    .where(ISSUANCES.c.idempotency_key == key)
                    .values(attempts=ISSUANCES.c.attempts + 1, updated_at=now)
                )
            return Issuance(status=row.status, attempts=row.attempts, result=row.result)

    def finish(self, *, key: str, result: dict[str, Any]) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(ISSUANCES)
                .where(ISSUANCES.c.idempotency_key == key)
                .values(status="done", result=result, updated_at=datetime.now(UTC))
            )
