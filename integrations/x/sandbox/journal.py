"""The sandbox's DM events on disk: one JSON object per line, appended as each event is created.

A process killed mid-write leaves a torn last line; it is cut off on the next start (that event's
request never got its answer, so the client cannot rely on it). A damaged line anywhere else is not
guessed at: it raises ``JournalCorruptError``.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

import orjson

__all__ = ["EventJournal", "JournalCorruptError"]


class JournalCorruptError(ValueError):
    """A journal line other than the last cannot be read; the file was edited or damaged."""


class EventJournal:
    """Appends records to ``path`` and reads back what an earlier run wrote."""

    def __init__(self, *, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._records = self._load()
        # One descriptor for the journal's life; each record is one append-mode write(2).
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._closer = weakref.finalize(self, os.close, self._fd)

    @property
    def path(self) -> Path:
        return self._path

    def records(self) -> list[dict[str, Any]]:
        """What the file held when it was opened, in file order."""
        return list(self._records)

    def append(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            raise RuntimeError(f"journal {self._path} is closed")
        os.write(self._fd, orjson.dumps(record) + b"\n")

    def close(self) -> None:
        if self._fd is not None:
            self._closer()
            self._fd = None

    def _load(self) -> list[dict[str, Any]]:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return []
        records: list[dict[str, Any]] = []
        good_end = 0
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            is_last = number == len(lines) or (number == len(lines) - 1 and lines[-1] == b"")
            if line.strip():
                try:
                    record = orjson.loads(line)
                    if not isinstance(record, dict):
                        raise ValueError("not an object")
                except ValueError as error:
                    if is_last:
                        break  # torn by a crash mid-write: cut it off below
                    raise JournalCorruptError(f"{self._path}:{number}: unreadable record ({error})") from error
                records.append(record)
            good_end += len(line) + 1
        if good_end < len(raw):
            with self._path.open("r+b") as file:
                file.truncate(min(good_end, len(raw)))
        elif raw and not raw.endswith(b"\n"):
            # A complete last record without its newline: finish the line so the next append starts fresh.
            with self._path.open("ab") as file:
                file.write(b"\n")
        return records
