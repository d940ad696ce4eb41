"""The ledger is the sandbox's idempotency memory; with a file it must survive a kill and a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.sandbox.ledger import LedgerCorruptError, LedgerIndex, SandboxLedger


@pytest.fixture(params=["memory", "file"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> SandboxLedger:
    return SandboxLedger(None if request.param == "memory" else tmp_path / "ledger.jsonl")


def test_a_recorded_key_can_be_read_back(ledger: SandboxLedger) -> None:
    ledger.record("k1", "dm", {"text": "hello"})

    record = ledger.get("k1")
    assert record is not None
    assert (record["key"], record["kind"], record["payload"]) == ("k1", "dm", {"text": "hello"})
    assert ledger.get("k2") is None


def test_the_first_write_wins(ledger: SandboxLedger) -> None:
    first = ledger.record("k1", "refund", {"amount": "5"})
    second = ledger.record("k1", "refund", {"amount": "500"})

    assert second == first
    assert ledger.get("k1") == first
    assert len(ledger) == 1


def test_records_can_be_listed_by_kind_in_order(ledger: SandboxLedger) -> None:
    ledger.record("a", "dm", {})
    ledger.record("b", "refund", {})
    ledger.record("c", "dm", {})

    assert [r["key"] for r in ledger.records("dm")] == ["a", "c"]
    assert [r["key"] for r in ledger.records()] == ["a", "b", "c"]


def test_a_reopened_file_remembers_every_key(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    before = SandboxLedger(path)
    before.record("k1", "dm", {"text": "你好"})
    before.record("k2", "points", {"points": 200})

    after = SandboxLedger(path)

    assert after.get("k1") == before.get("k1")
    assert after.get("k2") == before.get("k2")
    assert after.record("k1", "dm", {"text": "again"})["payload"] == {"text": "你好"}
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2  # the replay wrote nothing


def test_each_record_is_one_json_line_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    SandboxLedger(path).record("k1", "dm", {"text": "hi"})

    (line,) = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["payload"] == {"text": "hi"}


def test_a_truncated_last_line_from_a_kill_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    SandboxLedger(path).record("k1", "dm", {"text": "delivered"})
    with path.open("a", encoding="utf-8") as file:
        file.write('{"key":"k2","kind":"dm","payload":{"te')  # killed mid-write

    reopened = SandboxLedger(path)

    assert reopened.get("k1") is not None
    assert reopened.get("k2") is None


def test_records_after_a_truncated_line_survive_the_next_restart(tmp_path: Path) -> None:
    # Appending straight after the fragment would glue the new record to it and lose both.
    path = tmp_path / "ledger.jsonl"
    SandboxLedger(path).record("k1", "dm", {})
    with path.open("a", encoding="utf-8") as file:
        file.write('{"key":"k2","ki')
    SandboxLedger(path).record("k3", "dm", {})

    third_start = SandboxLedger(path)

    assert [r["key"] for r in third_start.records()] == ["k1", "k3"]


def test_a_damaged_line_before_the_last_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text(
        '{"key":"k1","kind":"dm","payload":{}}\nnot json\n{"key":"k2","kind":"dm","payload":{}}\n'
    )

    with pytest.raises(LedgerCorruptError, match=r"ledger\.jsonl:2"):
        SandboxLedger(path)


def test_a_missing_file_and_folder_start_empty(tmp_path: Path) -> None:
    ledger = SandboxLedger(tmp_path / "var" / "ledger.jsonl")

    assert len(ledger) == 0
    ledger.record("k", "dm", {})
    assert (tmp_path / "var" / "ledger.jsonl").exists()


def test_an_index_sees_records_added_after_its_first_lookup(ledger: SandboxLedger) -> None:
    by_order = LedgerIndex(
        ledger, kind="refund", group_by=lambda r: r["payload"]["order"], value=lambda r: r["key"]
    )
    ledger.record("r1", "refund", {"order": "1001"})
    assert by_order.get("1001") == ["r1"]

    ledger.record("r2", "refund", {"order": "1001"})
    ledger.record("d1", "dispatch", {"order": "1001"})
    ledger.record("r3", "refund", {"order": "1002"})

    assert by_order.get("1001") == ["r1", "r2"]
    assert by_order.get("1002") == ["r3"]
    assert by_order.get("9999") == []
