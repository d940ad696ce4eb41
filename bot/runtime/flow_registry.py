"""Published flow versions: stored in the database, compiled once, pinned per conversation."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update

from bot.core import DecisionCore
from bot.runtime.clock import Clock
from bot.storage.tables import FLOWS
from flows.compiler import compile_flow
from flows.loader import LoadedFlow, parse_flow

FlowKey = tuple[str, int, str]


class FlowVersionConflict(ValueError):
    """The same flow and version number was published before with different content."""


class FlowRegistry:
    def __init__(self, *, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._cores: dict[FlowKey, DecisionCore] = {}
        self.active: FlowKey | None = None

    def publish(self, loaded: LoadedFlow) -> FlowKey:
        """Store this version (once) and make it the one new conversations start on."""
        document = loaded.document
        key = (document.flow, document.version, loaded.checksum)
        with self._engine.begin() as connection:
            existing = connection.execute(
                select(FLOWS.c.checksum).where(FLOWS.c.flow_id == document.flow, FLOWS.c.version == document.version)
            ).scalar_one_or_none()
            if existing is not None and existing != loaded.checksum:
                raise FlowVersionConflict(
                    f"flow {document.flow!r} version {document.version} is already published with other content; "
                    "raise the version number"
                )
            connection.execute(update(FLOWS).where(FLOWS.c.flow_id == document.flow).values(active=False))
            if existing is None:
                connection.execute(
                    insert(FLOWS).values(
                        flow_id=document.flow, version=document.version, checksum=loaded.checksum,
                        document=loaded.text, published_at=self._clock.now(), active=True,
                    )
                )  # fmt: skip
            else:
                connection.execute(
                    update(FLOWS)
                    .where(FLOWS.c.flow_id == document.flow, FLOWS.c.version == document.version)
                    .values(active=True)
                )
        self._cores[key] = DecisionCore(compile_flow(loaded))
        self.active = key
        return key

    def core(self, key: FlowKey) -> DecisionCore:
        core = self._cores.get(key)
        if core is None:
            flow_id, version, checksum = key
            with self._engine.connect() as connection:
                text = connection.execute(
                    select(FLOWS.c.document).where(
                        FLOWS.c.flow_id == flow_id, FLOWS.c.version == version, FLOWS.c.checksum == checksum
                    )
                ).scalar_one()
            core = self._cores[key] = DecisionCore(compile_flow(parse_flow(text, source=f"{flow_id} v{version}")))
        return core

    def active_core(self) -> tuple[FlowKey, DecisionCore]:
        if self.active is None:
            raise RuntimeError("no flow is published yet")
        return self.active, self.core(self.active)
