"""One typed settings object, read once at start-up from DMCARE_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.runtime.send_budget import parse_windows
from integrations.x.client import XCredentials

# X's documented DM limits in 2026 (reference/x-dm-api.md §1.5): per user, 15 sends per 15 minutes
# and 1,440 per day; 15 reads per 15 minutes.
X_SEND_BUDGET = "15/15m,1440/24h"
X_READ_BUDGET = "15/15m"
# The X sandbox plays an older, roomier plan (200 per 15 minutes, 1,000 per day), so a demo flows.
SANDBOX_SEND_BUDGET = "200/15m,1000/24h"
SANDBOX_READ_BUDGET = "300/15m"


class Settings(BaseSettings):
    # hide_input_in_errors: a validation error must not print the keys it was given.
    model_config = SettingsConfigDict(env_prefix="DMCARE_", frozen=True, extra="ignore", hide_input_in_errors=True)

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
    # How long a batch may spend deciding while it holds the database's write lock (the webhook waits).
    batch_max_hold_seconds: float = Field(0.05, gt=0, le=10)

    # --- the web server: X's webhook, the X sandbox's chat page, the console ---------------------------
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    public_url: str | None = None  # how X (or the sandbox) reaches us; default http://HOST:PORT
    webhook_max_body_bytes: int = Field(1 << 20, ge=1024)

    # --- X: with no credentials, the bundled X sandbox stands in for it -------------------------------
    x_consumer_key: SecretStr | None = None
    x_consumer_secret: SecretStr | None = None  # also signs webhook deliveries and answers CRC checks
    x_access_token: SecretStr | None = None
    x_access_token_secret: SecretStr | None = None
    x_oauth2_user_token: SecretStr | None = None  # instead of the four OAuth 1.0a keys
    x_api_base_url: str | None = None  # default: X itself (tweepy's host), or the sandbox
    x_user_id: str | None = Field(None, pattern=r"^[0-9]{1,19}$")  # the shop's account; default: asked of X
    x_send_budget: str | None = None  # e.g. "15/15m,1440/24h"; default by plan, see above
    x_read_budget: str | None = None
    x_receive: Literal["webhook", "polling", "both"] = "both"
    x_poll_interval_seconds: float = Field(60.0, gt=0)
    x_first_backfill_hours: float = Field(24.0, ge=0, le=720)
    x_timeout_seconds: float = Field(10.0, gt=0, le=120)

    # --- providers: which service plays each role; the sandbox by default (integrations/providers) -------
    orders_provider: Literal["sandbox", "shopify"] = "sandbox"
    refunds_provider: Literal["sandbox", "shopify", "manual"] | None = None  # default: as orders
    dispatch_provider: Literal["sandbox", "manual"] | None = None  # default: sandbox with it, else manual
    tracking_provider: Literal["sandbox", "aftership", "17track"] = "sandbox"
    points_provider: Literal["sandbox", "smile"] = "sandbox"
    coupons_provider: Literal["sandbox", "shopify"] = "sandbox"
    provider_timeout_seconds: float = Field(10.0, gt=0, le=120)
    tracking_cache_seconds: float = Field(600.0, ge=0)  # carriers update a few times a day at most
    order_cache_seconds: float = Field(30.0, ge=0)  # refunds and new fulfilments must show soon
    # How long a customer waits on a lookup that keeps failing before a person is brought in.
    lookup_patience_seconds: float = Field(45.0, gt=0, le=3600)

    shopify_shop_domain: str | None = None  # "my-shop.myshopify.com"
    shopify_base_url: str | None = None  # default https://<shop domain>; a test server or proxy otherwise
    shopify_access_token: SecretStr | None = None
    shopify_api_version: str = "2026-07"
    shopify_vip_tags: str = "vip"  # comma-separated customer tags that make a VIP
    shopify_x_user_id_metafield: str = Field("dmcare.x_user_id", pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
    shopify_promise_days: int = Field(14, ge=1, le=365)  # promised delivery = placed + this, unless set

    aftership_api_key: SecretStr | None = None
    aftership_base_url: str = "https://api.aftership.com/tracking/2026-07"
    aftership_webhook_secret: SecretStr | None = None  # enables POST /webhooks/aftership

    seventeen_track_api_key: SecretStr | None = None
    seventeen_track_base_url: str = "https://api.17track.net/track/v2.2"

    smile_api_key: SecretStr | None = None
    smile_base_url: str = "https://api.smile.io/v1"

    @model_validator(mode="after")
    def _providers_have_their_keys(self) -> Settings:
        """A provider chosen without its key is a mistake to report at start-up, naming the variable."""
        needs = {
            "shopify": ("shopify_access_token", "shopify_shop_domain|shopify_base_url"),
            "aftership": ("aftership_api_key",),
            "17track": ("seventeen_track_api_key",),
            "smile": ("smile_api_key",),
        }
        chosen = {self.orders_provider, self.refunds_provider, self.tracking_provider, self.points_provider,
                  self.coupons_provider}  # fmt: skip
        missing = [
            "DMCARE_" + " or DMCARE_".join(name.upper() for name in field.split("|"))
            for provider in sorted(p for p in chosen if p in needs)
            for field in needs[provider]
            if not any(_given(getattr(self, name)) for name in field.split("|"))
        ]
        if missing:
            raise ValueError("a chosen provider needs " + ", ".join(missing))
        return self

    @field_validator("x_send_budget", "x_read_budget")
    @classmethod
    def _budget_is_readable(cls, value: str | None) -> str | None:
        if value is not None:
            parse_windows(value)
        return value

    def x_credentials(self) -> XCredentials | None:
        """The X account's credentials, or None to run against the X sandbox."""

        def secret(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        keys = (self.x_consumer_key, self.x_consumer_secret, self.x_access_token, self.x_access_token_secret,
                self.x_oauth2_user_token)  # fmt: skip
        given = [value for value in keys if value is not None]
        if not given:
            return None
        if any(not value.get_secret_value().strip() for value in given):
            raise ValueError("an X credential is set but empty: unset it or give its value")
        # Some keys but not a whole set is a mistake, never a wish for the sandbox: XCredentials says so.
        return XCredentials(
            consumer_key=secret(self.x_consumer_key), consumer_secret=secret(self.x_consumer_secret),
            access_token=secret(self.x_access_token), access_token_secret=secret(self.x_access_token_secret),
            oauth2_user_token=secret(self.x_oauth2_user_token),
        )  # fmt: skip

    @property
    def uses_x_sandbox(self) -> bool:
        return self.x_credentials() is None

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def default_ledger_path(self) -> Path | None:
        if self.sandbox_ledger is not None:
            return self.sandbox_ledger
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            database = Path(self.database_url.removeprefix("sqlite:///"))
            return database.with_name(database.name + ".sandbox.jsonl")
        return None


def _given(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value().strip())
    return bool(value and str(value).strip())
