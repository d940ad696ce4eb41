"""``XSandbox``: X's DM API, its webhooks and the customers on the other side, in one local object."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from starlette.types import ASGIApp

from integrations.x.sandbox.api import DmApi
from integrations.x.sandbox.app import build_app
from integrations.x.sandbox.chat import ChatPage
from integrations.x.sandbox.config import XSandboxConfig
from integrations.x.sandbox.delivery import Delivery, WebhookDeliverer
from integrations.x.sandbox.errors import InvalidMessageError, UnknownCustomerError
from integrations.x.sandbox.events import DmEvent
from integrations.x.sandbox.faults import SandboxFaults
from integrations.x.sandbox.payloads import account_activity_body, activity_body
from integrations.x.sandbox.store import EventStore
from integrations.x.signatures import crc_response_token

__all__ = ["XSandbox"]

log = logging.getLogger(__name__)

_CRC_TIMEOUT = 10.0  # X gives a webhook 10 s to answer the challenge


def _utc_now() -> datetime:
    return datetime.now(UTC)


class XSandbox:
    """A local stand-in for X: the v2 DM endpoints (``app``), webhook deliveries, and demo customers.

    Mount ``app`` anywhere (it works under a prefix) and point tweepy at it; people chat as customers at
    ``<mount>/chat``; tests call ``customer_sends`` and read ``events()``. Call ``aclose()`` when done.
    """

    def __init__(self, *, config: XSandboxConfig, clock: Callable[[], datetime] = _utc_now) -> None:
        self._config = config
        self.faults = SandboxFaults()
        self._store = EventStore(clock=clock, journal_path=config.journal)
        self._http: httpx.AsyncClient | None = None
        self._deliverer: WebhookDeliverer | None = None
        if config.webhook_url is not None:
            self._deliverer = WebhookDeliverer(
                url=config.webhook_url,
                secret=config.consumer_secret,
                retries=config.delivery_retries,
                timeout=config.delivery_timeout,
                http=self._client,
            )
        self._webhook_valid: bool | None = None
        self._held: list[DmEvent] = []  # customer DMs held back by faults.reverse_next_deliveries
        self._hold_size = 0
        api = DmApi(config=config, store=self._store, faults=self.faults, on_bot_send=self._bot_sent)
        chat = ChatPage(
            config=config, store=self._store, customer_sends=self.customer_sends, webhook_state=self._webhook_state
        )
        self._app = build_app(api=api, chat=chat)

    @property
    def app(self) -> ASGIApp:
        return self._app

    @property
    def config(self) -> XSandboxConfig:
        return self._config

    @property
    def webhook_valid(self) -> bool | None:
        """The last CRC check's result; None until ``check_webhook`` ran. While False, X delivers nothing."""
        return self._webhook_valid

    async def customer_sends(self, user_id: str, text: str) -> str:
        """A customer DMs the shop: the event is created, its webhook delivery scheduled; returns its id.

        Raises:
            UnknownCustomerError: ``user_id`` is not a configured customer.
            InvalidMessageError: the text is blank or longer than ``max_text``.
        """
        if self._config.customer(user_id) is None:
            raise UnknownCustomerError(f"{user_id} is not a sandbox customer")
        if not text.strip():
            raise InvalidMessageError("a DM needs some text")
        if len(text) > self._config.max_text:
            raise InvalidMessageError(f"a DM holds at most {self._config.max_text} characters, not {len(text)}")
        event = self._store.create(sender_id=user_id, recipient_id=self._config.bot_user_id, text=text)
        self._deliver(event, from_customer=True)
        return event.id

    def events(self) -> list[dict[str, Any]]:
        """Every DM event, oldest first, in v2 shape with all fields."""
        return [event.v2() for event in self._store]

    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery so far (with its attempts), in the order they were queued."""
        return self._deliverer.log if self._deliverer is not None else []

    async def deliveries_settled(self) -> None:
        """Wait until no webhook delivery is queued or waiting for a retry (held-back ones do not count)."""
        if self._deliverer is not None:
            await self._deliverer.settled()

    async def check_webhook(self) -> bool:
        """Challenge the webhook as X does on registration: ``GET ?crc_token=`` and check the answer."""
        if self._config.webhook_url is None:
            raise ValueError("the sandbox has no webhook_url to check")
        token = secrets.token_urlsafe(24)
        expected = crc_response_token(self._config.consumer_secret, token)
        valid = False
        try:
            # Merged by hand: httpx's params= would replace a query the webhook URL already has.
            url = httpx.URL(self._config.webhook_url).copy_merge_params({"crc_token": token})
            response = await self._client().get(url, timeout=_CRC_TIMEOUT)
            if response.status_code == 200:
                answer = orjson.loads(response.content)
                valid = isinstance(answer, dict) and answer.get("response_token") == expected
        except (httpx.HTTPError, orjson.JSONDecodeError) as error:
            log.warning("CRC check of %s failed: %r", self._config.webhook_url, error)
        else:
            if not valid:
                log.warning("CRC check of %s: wrong answer (%s)", self._config.webhook_url, response.status_code)
        self._webhook_valid = valid
        return valid

    async def aclose(self) -> None:
        """Stop background deliveries, then close the http client and the journal."""
        if self._deliverer is not None:
            await self._deliverer.aclose()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        self._store.close()

    # -- internals ---------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # No redirects (X counts a 3xx as a failed webhook); no proxies from the environment.
            self._http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        return self._http

    def _bot_sent(self, event: DmEvent) -> None:
        if self._config.echo_bot_sends:
            self._deliver(event, from_customer=False)

    def _deliver(self, event: DmEvent, *, from_customer: bool) -> None:
        if self._deliverer is None:
            return
        if self._webhook_valid is False:
            log.info("not delivering DM %s: the webhook failed its last CRC check", event.id)
            return
        if from_customer:
            if not self._hold_size:
                self._hold_size = self.faults.take_reverse_batch_size()
            if self._hold_size:
                self._held.append(event)
                if len(self._held) < self._hold_size:
                    return
                batch, self._held, self._hold_size = self._held, [], 0
                for held in reversed(batch):
                    self._submit(held)
                return
        self._submit(event)

    def _submit(self, event: DmEvent) -> None:
        assert self._deliverer is not None
        copies = 2 if self.faults.duplicate_deliveries else 1
        configured = self._config.delivery_shape
        shapes = ("account_activity", "activity") if configured == "both" else (configured,)
        for _ in range(copies):
            for shape in shapes:
                body = (
                    account_activity_body(event, config=self._config)
                    if shape == "account_activity"
                    else activity_body(event, config=self._config)
                )
                self._deliverer.submit(Delivery(event_id=event.id, shape=shape, body=orjson.dumps(body)))

    def _webhook_state(self) -> str:
        if self._config.webhook_url is None:
            return "No webhook: customer DMs wait for the bot to poll GET /2/dm_events."
        shape = {"account_activity": "Account Activity", "activity": "X Activity", "both": "both shapes"}
        return f"Webhook: {self._config.webhook_url} ({shape[self._config.delivery_shape]}, signed)."
