"""Schema by Alembic on SQLite (WAL) and PostgreSQL; the same conversation runs on both."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from bot.cli import main
from bot.storage.database import create_database_engine, upgrade
from bot.storage.tables import Compensation
from tests.harness import Bot, make_bot

POSTGRES_ADMIN = os.environ.get("DMCARE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
TABLES = {
    "alembic_version", "commands", "compensations", "conversations", "escalations", "flow_versions",
    "inbound_events", "messages", "send_attempts", "rate_limit_readings", "ingest_cursors", "provider_issuances",
    "shipment_watches", "policy_decisions",
}  # fmt: skip


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database on the local PostgreSQL (CI machines run one; elsewhere the test is skipped)."""
    name = f"dmcare_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            raise  # CI has PostgreSQL: an unreachable server is a failure there, not a reason to skip
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_sqlite_schema_is_created_in_wal_mode(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    upgrade(engine)  # a second upgrade is a no-op
    assert set(inspect(engine).get_table_names()) == TABLES
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("select version_num from alembic_version")).scalar() == "0004"
    engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_migrations_build_exactly_the_tables_the_code_uses(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    engine = create_database_engine(url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_cli_db_upgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", f"sqlite:///{tmp_path / 'cli.db'}"]) == 0
    assert "newest schema" in capsys.readouterr().out


async def test_a_whole_conversation_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    bot: Bot = make_bot(tmp_path, database_url=postgres_url)
    assert set(inspect(bot.app.engine).get_table_names()) == TABLES
    assert "300 points" in "".join(await bot.send("1500000002", "order 1002 is late", event_id="pg-1"))
    assert await bot.send("1500000002", "order 1002 is late", event_id="pg-1") == []  # deduplicated
    assert "300 points are now" in "".join(await bot.send("1500000002", "yes"))
    assert (await bot.send("1500000002", "5"))[0].startswith("Thank you")
    assert bot.conversation("1500000002")["state"] == "closed"
    assert len(bot.rows(Compensation)) == 1
    # One open conversation per customer is enforced by the database itself.
    assert await bot.send("1500000002", "hi again")
    bot.app.engine.dispose()
