"""The journal: a restarted sandbox keeps its conversations, survives a torn write, refuses damage."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.x.sandbox import JournalCorruptError, XSandbox, XSandboxConfig
from tests.integrations.x.sandbox.conftest import ADA, BO, FakeClock, Start
from tests.integrations.x.sandbox.server import serve, tweepy_client


async def test_a_restart_keeps_every_event_and_ids_keep_growing(tmp_path: Path, clock: FakeClock) -> None:
    journal = tmp_path / "x" / "events.jsonl"
    config = XSandboxConfig(customers=(ADA, BO), journal=journal)
    first = XSandbox(config=config, clock=clock)
    try:
        async with serve(first.app) as base_url, tweepy_client(base_url, return_type=dict) as client:
            await first.customer_sends(ADA.user_id, "before the restart ✓")
            await client.create_direct_message(participant_id=ADA.user_id, text="noted")
    finally:
        await first.aclose()
    before = first.events()

    second = XSandbox(config=config, clock=clock)  # same millisecond: ids must still not collide
    try:
        later = await second.customer_sends(BO.user_id, "after")
        async with serve(second.app) as base_url, tweepy_client(base_url, return_type=dict) as client:
            page = await client.get_direct_message_events(dm_event_fields=["sender_id", "created_at"])
    finally:
        await second.aclose()

    assert second.events()[:2] == before
    assert int(later) > max(int(e["id"]) for e in before)
    assert [e["id"] for e in page["data"]] == [later, before[1]["id"], before[0]["id"]]
    assert page["data"][2]["text"] == "before the restart ✓"


async def test_a_torn_last_line_is_dropped_and_the_file_stays_appendable(start: Start, tmp_path: Path) -> None:
    journal = tmp_path / "events.jsonl"
    x = await start(journal=journal)
    kept = await x.sandbox.customer_sends(ADA.user_id, "kept")
    await x.sandbox.aclose()
    with journal.open("ab") as file:
        file.write(b'{"id": "2031339282232246999", "sender_id": "17000')  # killed mid-write

    restarted = await start(journal=journal)
    added = await restarted.sandbox.customer_sends(ADA.user_id, "added")
    await restarted.sandbox.aclose()
    third = await start(journal=journal)

    assert [e["id"] for e in third.sandbox.events()] == [kept, added]


async def test_a_damaged_line_before_the_last_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "events.jsonl"
    journal.write_text('not json\n{"id": "1"}\n', encoding="utf-8")

    with pytest.raises(JournalCorruptError, match="events.jsonl:1"):
        XSandbox(config=XSandboxConfig(journal=journal))
