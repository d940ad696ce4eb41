"""A sandboxed outside world for ``make run`` and the tests: X DMs, orders, carriers and loyalty.

Everything is fed by a demo-data YAML file (``DEFAULT_DEMO_DATA`` unless ``--data FILE``; see README.md
here) and remembers its effects in a ``SandboxLedger``, so retried commands are answered, not repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Final

from integrations.models import SentMessage
from integrations.sandbox.demo_data import DemoData, DemoDataError, Shop, load_demo_data
from integrations.sandbox.direct_messages import SandboxDirectMessages
from integrations.sandbox.ledger import LedgerCorruptError, LedgerRecord, SandboxLedger
from integrations.sandbox.loyalty import SandboxLoyalty
from integrations.sandbox.orders import SandboxOrders
from integrations.sandbox.tracking import SandboxTracking

if TYPE_CHECKING:
    from integrations.protocols import (
        CouponIssuer,
        DirectMessageChannel,
        DispatchService,
        OrderSystem,
        PointsProgram,
        RefundService,
        TrackingService,
    )

__all__ = [
    "DEFAULT_DEMO_DATA",
    "DemoData",
    "DemoDataError",
    "LedgerCorruptError",
    "LedgerRecord",
    "SandboxDirectMessages",
    "SandboxLedger",
    "SandboxLoyalty",
    "SandboxOrders",
    "SandboxServices",
    "SandboxTracking",
    "Shop",
    "build_sandbox",
    "load_demo_data",
]

DEFAULT_DEMO_DATA: Final[Path] = Path(__file__).with_name("demo.yaml")


@dataclass(frozen=True, kw_only=True)
class SandboxServices:
    """The four sandbox services sharing one demo shop and one ledger."""

    orders: SandboxOrders
    tracking: SandboxTracking
    loyalty: SandboxLoyalty
    channel: SandboxDirectMessages
    data: DemoData
    ledger: SandboxLedger

    def close(self) -> None:
        self.ledger.close()


def build_sandbox(
    *,
    data_path: Path,
    ledger_path: Path | None,
    today: date,
    on_delivered: Callable[[SentMessage], None] | None = None,
) -> SandboxServices:
    """Load the demo data and wire the sandbox services to it.

    Args:
        data_path: the demo-data YAML file, e.g. ``DEFAULT_DEMO_DATA``.
        ledger_path: JSON-lines file that keeps idempotency memory across restarts; None keeps it in memory.
        today: the day relative dates ("today-3") are counted from, in the shop's time zone.
        on_delivered: called once with each DM the bot sends (the terminal customer prints it).

    Raises:
        DemoDataError: the demo-data file is unreadable or invalid (every problem is listed).
        LedgerCorruptError: the ledger file has a damaged line before its last one.
    """
    data = load_demo_data(data_path, today=today)
    ledger = SandboxLedger(ledger_path)
    return SandboxServices(
        orders=SandboxOrders(data=data, ledger=ledger),
        tracking=SandboxTracking(data=data, ledger=ledger),
        loyalty=SandboxLoyalty(data=data, ledger=ledger),
        channel=SandboxDirectMessages(ledger=ledger, on_delivered=on_delivered),
        data=data,
        ledger=ledger,
    )


if TYPE_CHECKING:
    # mypy proves here that each sandbox satisfies its Protocol; nothing runs.
    def _satisfies_protocols(
        services: SandboxServices,
    ) -> tuple[
        OrderSystem, RefundService, DispatchService, TrackingService, PointsProgram, CouponIssuer, DirectMessageChannel
    ]:
        return (
            services.orders, services.orders, services.orders, services.tracking, services.loyalty, services.loyalty,
            services.channel,
        )  # fmt: skip
