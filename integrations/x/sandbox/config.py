"""What an X sandbox is set up with: the shop's account, its customers, limits, webhook and journal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

__all__ = ["RateWindow", "SandboxCustomer", "XSandboxConfig"]

_USER_ID: Final = re.compile(r"[0-9]{1,19}")
_HANDLE: Final = re.compile(r"[A-Za-z0-9_]{1,15}")


@dataclass(frozen=True, kw_only=True)
class SandboxCustomer:
    """A person who can write to the shop; ``handle`` is the X username without the ``@``."""

    user_id: str
    handle: str
    name: str

    def __post_init__(self) -> None:
        if not _USER_ID.fullmatch(self.user_id):
            raise ValueError(f"customer user_id {self.user_id!r} is not an X user id (1-19 digits)")
        if not _HANDLE.fullmatch(self.handle):
            raise ValueError(f"customer handle {self.handle!r} is not an X username (1-15 of A-Z a-z 0-9 _)")
        if not self.name.strip():
            raise ValueError(f"customer {self.user_id} needs a name")


@dataclass(frozen=True, kw_only=True)
class RateWindow:
    """At most ``limit`` requests per ``seconds``-long window."""

    limit: int
    seconds: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.seconds < 1:
            raise ValueError(f"a rate window needs limit >= 1 and seconds >= 1, not {self.limit}/{self.seconds}s")


@dataclass(frozen=True, kw_only=True)
class XSandboxConfig:
    """Everything an ``XSandbox`` is built from. Defaults are the 2022 X limits a recorded response confirms.

    Attributes:
        bot_user_id, bot_handle, bot_name: the shop's X account (what ``GET /2/users/me`` answers).
        consumer_secret: signs webhook deliveries and answers CRC checks, like the app's API secret.
        customers: who can write to the shop; the bot can only DM these (others: 403).
        send_windows, read_windows: rate limits; the first window is the one the headers report.
        rate_limit_body: the 429 body style, v2 Problem or v1.1 ``errors[].code=88``.
        webhook_url: where customer DMs (and echoes of bot sends) are POSTed, signed; None: polling only.
        delivery_shape: Account Activity (v1.1-shaped), X Activity (``dm.received``/``dm.sent``) or both.
        echo_bot_sends: deliver the account's own sends to the webhook too, as X does.
        delivery_retries: waits before each retry after a non-200 or a timeout (X's legacy AAA: 3, 27, 242 s).
        delivery_timeout: seconds a webhook has to answer before the attempt counts as failed.
        journal: JSON-lines file of every DM event, so a restart keeps the chat; None keeps them in memory.
        max_text: the longest DM text accepted.
    """

    bot_user_id: str = "1600000000000000001"
    bot_handle: str = "lanternandloom"
    bot_name: str = "Lantern & Loom"
    consumer_secret: str = "sandbox-consumer-secret"
    customers: tuple[SandboxCustomer, ...] = ()
    send_windows: tuple[RateWindow, ...] = (RateWindow(limit=200, seconds=900), RateWindow(limit=1000, seconds=86400))
    read_windows: tuple[RateWindow, ...] = (RateWindow(limit=300, seconds=900),)
    rate_limit_body: Literal["problem", "v1"] = "problem"
    webhook_url: str | None = None
    delivery_shape: Literal["account_activity", "activity", "both"] = "account_activity"
    echo_bot_sends: bool = True
    delivery_retries: tuple[float, ...] = (3.0, 27.0, 242.0)
    delivery_timeout: float = 3.0
    journal: Path | None = None
    max_text: int = 10_000

    def __post_init__(self) -> None:
        if not _USER_ID.fullmatch(self.bot_user_id):
            raise ValueError(f"bot_user_id {self.bot_user_id!r} is not an X user id (1-19 digits)")
        if not _HANDLE.fullmatch(self.bot_handle):
            raise ValueError(f"bot_handle {self.bot_handle!r} is not an X username")
        ids = [c.user_id for c in self.customers]
        if len(set(ids)) != len(ids) or self.bot_user_id in ids:
            raise ValueError("customer user ids must be unique and differ from the bot's")
        handles = [c.handle.lower() for c in (*self.customers,)] + [self.bot_handle.lower()]
        if len(set(handles)) != len(handles):
            raise ValueError("handles must be unique (X compares them without case)")
        if not self.send_windows or not self.read_windows:
            raise ValueError("send_windows and read_windows each need at least one window")
        if any(wait < 0 for wait in self.delivery_retries) or self.delivery_timeout <= 0:
            raise ValueError("delivery_retries must be >= 0 and delivery_timeout > 0")
        if self.max_text < 1:
            raise ValueError("max_text must be at least 1")

    def customer(self, user_id: str) -> SandboxCustomer | None:
        return next((c for c in self.customers if c.user_id == user_id), None)
