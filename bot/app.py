"""Wire dmcare together from settings: database, flows, integrations, runtime."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.providers import Providers, build_providers
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.executors import Executors, Services
from bot.runtime.flow_registry import FlowRegistry
from bot.runtime.inbox import Inbox
from bot.runtime.outbox import Outbox
from bot.runtime.processor import EventProcessor
from bot.runtime.runtime import Runtime
from bot.runtime.send_budget import SendBudget
from bot.runtime.trace import Trace
from bot.settings import Settings
from bot.storage.database import create_database_engine, upgrade
from flows.loader import load_default_flow, load_flow_file
from integrations.caching import CachedTracking
from integrations.models import SentMessage
from integrations.protocols import DirectMessageChannel
from integrations.sandbox import DEFAULT_DEMO_DATA, SandboxServices, build_sandbox


@dataclass
class App:
    settings: Settings
    engine: Engine
    runtime: Runtime
    sandbox: SandboxServices
    services: Services
    providers: Providers

    async def aclose(self) -> None:
        """Close the providers' connections, then the rest."""
        await self.providers.aclose()
        self.close()

    def close(self) -> None:
        self.sandbox.close()
        self.engine.dispose()


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    trace: Trace | None = None,
    on_delivered: Callable[[SentMessage], None] | None = None,
    today: date | None = None,
    customize: Callable[[Services, SandboxServices], Services] | None = None,
    channel: DirectMessageChannel | None = None,
    send_budget: SendBudget | None = None,
) -> App:
    """Everything wired from ``settings``; ``customize`` may swap integrations (tests inject outages).

    ``channel`` replaces the in-process sandbox channel (X, or the X sandbox over HTTP) and
    ``send_budget`` limits what that channel may send.
    """
    clock = clock or SystemClock()
    engine = create_database_engine(settings.database_url)
    upgrade(engine)
    flows = FlowRegistry(engine=engine, clock=clock)
    flows.publish(load_flow_file(settings.flow_file) if settings.flow_file else load_default_flow())
    shop_zone = ZoneInfo(flows.active_core()[1].document.settings.timezone)
    sandbox = build_sandbox(
        data_path=settings.demo_data or DEFAULT_DEMO_DATA,
        ledger_path=settings.default_ledger_path(),
        today=today or clock.now().astimezone(shop_zone).date(),
        on_delivered=on_delivered,
    )
    providers = build_providers(
        settings, sandbox=sandbox, channel=channel or sandbox.channel, engine=engine,
        today=lambda: clock.now().astimezone(shop_zone).date(),
    )  # fmt: skip
    services = providers.services
    if customize is not None:
        services = customize(services, sandbox)
    executors = Executors(
        services=services,
        engine=engine,
        first_response_sla=timedelta(minutes=settings.first_response_sla_minutes),
    )
    runtime = Runtime(
        inbox=Inbox(engine=engine, clock=clock),
        processor=EventProcessor(engine=engine, flows=flows, clock=clock, trace=trace,
                                 max_hold_seconds=settings.batch_max_hold_seconds,
                                 on_news=_stale_views_dropper(services.tracking)),
        outbox=Outbox(engine=engine, executors=executors, clock=clock, max_attempts=settings.max_command_attempts,
                      trace=trace, send_budget=send_budget,
                      lookup_patience=timedelta(seconds=settings.lookup_patience_seconds),
                      # A lease outlives the slowest send: a lookup of earlier attempts, then the send.
                      lease=timedelta(seconds=60 + 5 * settings.x_timeout_seconds)),
        flows=flows,
        clock=clock,
        batch_size=settings.batch_size,
        poll_interval=settings.poll_interval_seconds,
    )  # fmt: skip
    runtime.outbox.recover()
    # What start-up loaded (flows, the demo shop) lives as long as the process: keep the collector's
    # full passes off it, or every step pays for walking it again.
    gc.freeze()
    return App(
        settings=settings, engine=engine, runtime=runtime, sandbox=sandbox, services=services, providers=providers
    )


def _stale_views_dropper(tracking: object) -> Callable[[dict[str, Any]], None] | None:
    """What a carrier's push makes stale in this process: the cached view of that parcel.

    The webhook writes the push to the inbox in the web process; the worker's cache would otherwise
    answer the next lookup with the view from before the news the bot has just told the customer.
    """
    if not isinstance(tracking, CachedTracking):
        return None

    def drop(payload: dict[str, Any]) -> None:
        shipment = payload.get("shipment") if isinstance(payload, dict) else None
        number = shipment.get("tracking_number") if isinstance(shipment, dict) else None
        if isinstance(number, str) and number:
            tracking.forget(number)

    return drop
