"""One typed settings object, read once at start-up from DMCARE_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DMCARE_", frozen=True, extra="ignore")

    database_url: str = "sqlite:///dmcare.db"
    flow_file: Path | None = None  # None: the bundled default flow
    demo_data: Path | None = None  # None: the bundled demo shop
    sandbox_ledger: Path | None = Field(
        default=None,
        description="where the sandboxed outside world remembers what it did; default beside the DB",
    )
    first_response_sla_minutes: int = Field(60, ge=1)  # seed 000: a person answers within one hour
    batch_size: int = Field(500, ge=1, le=10_000)
    max_command_attempts: int = Field(5, ge=1, le=50)
    poll_interval_seconds: float = Field(0.2, gt=0)

    def default_ledger_path(self) -> Path | None:
        if self.sandbox_ledger is not None:
            return self.sandbox_ledger
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            database = Path(self.database_url.removeprefix("sqlite:///"))
            return database.with_name(database.name + ".sandbox.jsonl")
        return None
