"""Kill a real ``dmcare`` process mid-conversation, restart it, and check nothing was lost or doubled."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from integrations.sandbox import SandboxLedger

DMCARE = Path(sys.executable).with_name("dmcare")


class Customer:
    """A running ``dmcare chat`` with a thread collecting what it prints."""

    def __init__(self, database: Path) -> None:
        self.process = subprocess.Popen(
            [str(DMCARE), "chat", "--as", "liam_oc", "--db", f"sqlite:///{database}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.output: queue.Queue[str] = queue.Queue()
        self.seen = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.put(line)

    def say(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def wait_for(self, fragment: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while fragment not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None and self.output.empty():
                stderr = self.process.stderr.read() if self.process.poll() is not None and self.process.stderr else ""
                raise AssertionError(f"never saw {fragment!r}; output so far:\n{self.seen}\n{stderr}")
            try:
                self.seen += self.output.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._close()

    def finish(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = self.process.wait(timeout=30)
        stderr = self.process.stderr.read() if self.process.stderr else ""
        self._close()
        assert code == 0, stderr

    def _close(self) -> None:
        self._reader.join(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass  # the process is gone; what it did not read does not matter


def _wait_until_received(database: Path, *, messages: int) -> None:
    """Kill only once the DM is in the inbox: before that it is X's to redeliver, not ours to keep."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(database) as connection:
                count = connection.execute("select count(*) from inbound_events where kind = 'message'").fetchone()
            if count[0] >= messages:
                return
        except sqlite3.OperationalError:
            pass  # the schema is not there yet
        time.sleep(0.002)
    raise AssertionError(f"the bot never received message {messages}")


@pytest.mark.parametrize("delay", [0.0, 0.005, 0.02, 0.05, 0.15])
def test_killed_while_paying_then_restarted(tmp_path: Path, delay: float) -> None:
    database = tmp_path / "dmcare.db"
    first = Customer(database)
    first.say("my order 1002 is late")
    first.wait_for("300 points")
    first.say("yes")
    _wait_until_received(database, messages=2)
    time.sleep(delay)  # somewhere between the message landing and the payment being confirmed
    first.kill()

    second = Customer(database)
    second.say("5")
    second.wait_for("Thank you")
    second.finish()

    ledger = SandboxLedger(database.with_name(database.name + ".sandbox.jsonl"))
    sent = [record["payload"]["result"]["text"] for record in ledger.records("dm")]
    # Every step's reply went out exactly once, in order, across the crash.
    steps = [
        "check order #1002",
        "300 points (enough",
        "300 points are now in your account",
        "Thank you so much",
    ]
    positions = [next(i for i, text in enumerate(sent) if step in text) for step in steps]
    assert positions == sorted(positions)
    assert Counter(step for text in sent for step in steps if step in text) == dict.fromkeys(steps, 1)
    assert len(list(ledger.records("points"))) == 1  # paid once

    with sqlite3.connect(database) as connection:
        states = connection.execute("select state from conversations").fetchall()
        pending = connection.execute("select count(*) from inbound_events where processed_at is null").fetchone()
        unfinished = connection.execute(
            "select count(*) from commands where status not in ('done', 'cancelled')"
        ).fetchone()
        received = connection.execute("select count(*) from messages where direction = 'in'").fetchone()
        compensations = connection.execute("select status from compensations").fetchall()
    assert states == [("closed",)]
    assert pending == (0,) and unfinished == (0,)
    assert received == (3,)  # no customer message lost, none counted twice
    assert compensations == [("issued",)]


def test_killed_while_looking_up_then_restarted(tmp_path: Path) -> None:
    database = tmp_path / "dmcare.db"
    first = Customer(database)
    first.say("hi, order #1002 hasn't arrived")
    _wait_until_received(database, messages=1)
    first.kill()
    second = Customer(database)
    second.say("yes")  # the offer must have been made, before or after the crash, exactly once
    second.wait_for("300 points are now in your account")
    second.finish()
    ledger = SandboxLedger(database.with_name(database.name + ".sandbox.jsonl"))
    sent = [record["payload"]["result"]["text"] for record in ledger.records("dm")]
    assert sum("300 points (enough" in text for text in sent) == 1
