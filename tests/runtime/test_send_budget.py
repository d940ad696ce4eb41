"""The send budget: configured windows, counted in the database, tightened by X's own headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.runtime.send_budget import SendBudget, parse_windows
from bot.storage.database import create_database_engine, upgrade
from integrations.models import RateLimit

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'budget.db'}")
    upgrade(engine)
    yield engine  # type: ignore[misc]
    engine.dispose()


def take(engine: Engine, budget: SendBudget, at: datetime, wanted: int) -> int:
    with engine.begin() as connection:
        return budget.take(connection, at, wanted)[0]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("15/15m,1440/24h", [(15, 900), (1440, 86400)]),
        (" 300 / 15m ", [(300, 900)]),
        ("5/30s,7/1d", [(5, 30), (7, 86400)]),
    ],
)
def test_budget_specs_are_read(spec: str, expected: list[tuple[int, int]]) -> None:
    assert [(w.limit, int(w.length.total_seconds())) for w in parse_windows(spec)] == expected


@pytest.mark.parametrize("spec", ["", "15", "15/15", "0/15m", "15/0m", "15/15w", "a/15m", "15/15m,"])
def test_unreadable_budget_specs_name_the_part(spec: str) -> None:
    with pytest.raises(ValueError, match="send budget"):
        parse_windows(spec)


def test_every_window_holds_over_a_simulated_day(engine: Engine) -> None:
    """Greedy sending every minute for 24 hours never exceeds any window, and uses what is allowed."""
    windows = parse_windows("15/15m,100/24h")
    budget = SendBudget(name="x.dm_send", windows=windows)
    sent: list[datetime] = []
    for minute in range(24 * 60):
        at = START + timedelta(minutes=minute)
        sent += [at] * take(engine, budget, at, 50)
    for window in windows:
        for index, first in enumerate(sent):
            inside = [moment for moment in sent[index:] if moment < first + window.length]
            assert len(inside) <= window.limit
    assert len(sent) == 100  # the daily window is the binding one, and it is used in full


def test_a_fifteen_minute_window_reopens_when_its_oldest_send_ages_out(engine: Engine) -> None:
    budget = SendBudget(name="x.dm_send", windows=parse_windows("3/15m"))
    assert take(engine, budget, START, 2) == 2
    assert take(engine, budget, START + timedelta(minutes=5), 5) == 1
    with engine.connect() as connection:
        assert budget.available(connection, START + timedelta(minutes=14)) == 0
        assert budget.next_opening(connection, START + timedelta(minutes=14)) == START + timedelta(minutes=15)
    assert take(engine, budget, START + timedelta(minutes=15), 5) == 2
    assert take(engine, budget, START + timedelta(minutes=20), 5) == 1


def test_the_budget_survives_a_restart(engine: Engine, tmp_path: Path) -> None:
    assert take(engine, SendBudget(name="x.dm_send", windows=parse_windows("4/15m")), START, 4) == 4
    engine.dispose()
    again = create_database_engine(f"sqlite:///{tmp_path / 'budget.db'}")
    try:
        assert take(again, SendBudget(name="x.dm_send", windows=parse_windows("4/15m")), START, 1) == 0
    finally:
        again.dispose()


def test_x_saying_fewer_remain_tightens_the_budget_until_its_reset(engine: Engine) -> None:
    budget = SendBudget(name="x.dm_send", windows=parse_windows("15/15m"))
    with engine.begin() as connection:
        granted, last = budget.take(connection, START, 1)
        reading = RateLimit(limit=15, remaining=2, reset_at=START + timedelta(minutes=10))
        budget.observe(connection, reading, START, after_attempt=last)
    assert take(engine, budget, START + timedelta(minutes=1), 10) == 2
    assert take(engine, budget, START + timedelta(minutes=2), 10) == 0
    # After X's reset its reading no longer applies; only the configured window counts.
    assert take(engine, budget, START + timedelta(minutes=10), 20) == 12


def test_x_saying_more_remain_never_widens_the_configured_budget(engine: Engine) -> None:
    budget = SendBudget(name="x.dm_send", windows=parse_windows("5/15m"))
    with engine.begin() as connection:
        budget.observe(
            connection, RateLimit(limit=300, remaining=299, reset_at=START + timedelta(minutes=15)), START,
            after_attempt=0,
        )  # fmt: skip
    assert take(engine, budget, START, 50) == 5


def test_a_429_reading_stops_everything_until_reset(engine: Engine) -> None:
    budget = SendBudget(name="x.dm_send", windows=parse_windows("15/15m"))
    with engine.begin() as connection:
        budget.observe(connection, RateLimit(limit=15, remaining=0, reset_at=START + timedelta(seconds=90)), START,
                       after_attempt=0)  # fmt: skip
        assert budget.next_opening(connection, START) == START + timedelta(seconds=90)
    assert take(engine, budget, START + timedelta(seconds=89), 1) == 0
    assert take(engine, budget, START + timedelta(seconds=90), 1) == 1


def test_two_budgets_do_not_share_attempts(engine: Engine) -> None:
    sends = SendBudget(name="x.dm_send", windows=parse_windows("2/15m"))
    reads = SendBudget(name="x.dm_read", windows=parse_windows("2/15m"))
    assert take(engine, sends, START, 2) == 2
    assert take(engine, reads, START, 2) == 2


def test_a_looser_reading_cannot_lift_a_429_before_its_reset(engine: Engine) -> None:
    budget = SendBudget(name="x.dm_send", windows=parse_windows("15/15m"))
    with engine.begin() as connection:
        budget.observe(connection, RateLimit(limit=15, remaining=0, reset_at=START + timedelta(minutes=5)), START,
                       after_attempt=0)  # fmt: skip
        # An answer to a request sent before the 429, arriving after it.
        budget.observe(connection, RateLimit(limit=15, remaining=9, reset_at=START + timedelta(minutes=5)), START,
                       after_attempt=0)  # fmt: skip
    assert take(engine, budget, START + timedelta(minutes=1), 1) == 0
    with engine.begin() as connection:  # a new window's reading replaces it
        budget.observe(connection, RateLimit(limit=15, remaining=14, reset_at=START + timedelta(minutes=20)),
                       START + timedelta(minutes=6), after_attempt=0)  # fmt: skip
    assert take(engine, budget, START + timedelta(minutes=6), 1) == 1
