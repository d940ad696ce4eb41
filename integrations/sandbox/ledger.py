"""What the sandboxed outside world has done, keyed by idempotency key.

Real providers remember idempotency keys on their side; the sandbox keeps that memory here. Backed by a
JSON-lines file, a killed-and-restarted ``make run`` still answers a retried command with the first
result instead of sending the DM or paying the refund twice.

File format: one JSON object per line, ``{"key", "kind", "payload", "recorded_at"}``, appended and
flushed per record. A process killed mid-write leaves a truncated last line: it is dropped on the next
start (that effect never completed, so a retry redoing it is correct). A damaged line anywhere else is
not guessed at: it raises ``LedgerCorruptError``.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypedDict, TypeVar

import orjson

__all__ = ["LedgerCorruptError", "LedgerIndex", "LedgerRecord", "SandboxLedger"]

V = TypeVar("V")


class LedgerRecord(TypedDict):
    key: str
    kind: str  # "dm", "refund", "dispatch", "points", "coupon"
    payload: dict[str, Any]  # JSON-ready: {"request": ..., "result": ...}
    recorded_at: str  # ISO 8601, UTC; for people reading the file


class LedgerCorruptError(ValueError):
    """A ledger line other than the last cannot be read; the file was edited or damaged."""


class SandboxLedger:
    """Idempotency memory of the sandbox: in memory with ``path=None``, else in a JSON-lines file.

    Single process only: two processes appending to one file would each miss the other's records.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._records: dict[str, LedgerRecord] = {}
        self._by_kind: dict[str, list[LedgerRecord]] = {}
        self._fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._reload(path)
            # One descriptor for the ledger's life: each record is a single append-mode write(2), so a
            # killed process keeps every record it finished and at most a torn last line (cut on reload).
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._closer = weakref.finalize(self, os.close, self._fd)

    def close(self) -> None:
        if self._fd is not None:
            self._closer()
            self._fd = None

    @property
    def path(self) -> Path | None:
        return self._path

    def get(self, key: str) -> LedgerRecord | None:
        return self._records.get(key)

    def record(self, key: str, kind: str, payload: dict[str, Any]) -> LedgerRecord:
        """Remember an effect under ``key``; if the key is known, the first record wins and is returned."""
        existing = self._records.get(key)
        if existing is not None:
            return existing
        entry = LedgerRecord(
            key=key, kind=kind, payload=payload, recorded_at=datetime.now(UTC).isoformat(timespec="seconds")
        )
        if self._path is not None:
            if self._fd is None:
                raise ValueError(f"the ledger {self._path} is closed")
            # Serialize before remembering, so an unserializable payload leaves no half-recorded effect.
            os.write(self._fd, orjson.dumps(entry) + b"\n")
        self._remember(entry)
        return entry

    def records(self, kind: str | None = None) -> Iterator[LedgerRecord]:
        """Every record in the order it was made, optionally only those of one kind."""
        return iter(self._records.values() if kind is None else self._by_kind.get(kind, []))

    def _remember(self, entry: LedgerRecord) -> None:
        if entry["key"] not in self._records:
            self._records[entry["key"]] = entry
            self._by_kind.setdefault(entry["kind"], []).append(entry)

    def __len__(self) -> int:
        return len(self._records)

    def _reload(self, path: Path) -> None:
        if not path.exists():
            return
        content = path.read_bytes()
        complete, _, tail = content.rpartition(b"\n")
        for number, raw in enumerate(complete.split(b"\n"), start=1):
            if not raw.strip():
                continue
            entry = _parse(raw)
            if entry is None:
                raise LedgerCorruptError(f"{path}:{number}: not a ledger record: {raw[:80]!r}")
            self._remember(entry)
        if tail:
            # The process was killed mid-write. Cut the fragment off, or the next append would be glued
            # to it and corrupt a complete record.
            with path.open("r+b") as file:
                file.truncate(len(content) - len(tail))


def _parse(raw: bytes) -> LedgerRecord | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:  # also raised for bytes that are not UTF-8
        return None
    if not (
        isinstance(value, dict)
        and isinstance(value.get("key"), str)
        and isinstance(value.get("kind"), str)
        and isinstance(value.get("payload"), dict)
    ):
        return None
    return LedgerRecord(
        key=value["key"],
        kind=value["kind"],
        payload=value["payload"],
        recorded_at=str(value.get("recorded_at", "")),
    )


class LedgerIndex(Generic[V]):
    """The records of one kind, grouped by a field and kept current as the ledger grows.

    Services look replacement parcels and refunds up on every call; rescanning the whole ledger each
    time would make a long run (or a benchmark) quadratic. Only records added since the last lookup
    are read.
    """

    def __init__(
        self,
        ledger: SandboxLedger,
        *,
        kind: str,
        group_by: Callable[[LedgerRecord], str],
        value: Callable[[LedgerRecord], V],
    ) -> None:
        self._ledger = ledger
        self._kind = kind
        self._group_by = group_by
        self._value = value
        self._read = 0
        self._groups: dict[str, list[V]] = {}

    def get(self, group: str) -> list[V]:
        records = self._ledger._by_kind.get(self._kind, [])
        for record in records[self._read :]:
            self._groups.setdefault(self._group_by(record), []).append(self._value(record))
        self._read = len(records)
        return self._groups.get(group, [])
