"""The sandbox X DM channel: every DM is recorded once, then handed to whoever plays the customer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from pydantic import TypeAdapter

from integrations.errors import PermanentIntegrationError
from integrations.models import SentMessage
from integrations.sandbox.idempotency import previous_result, record_result, token_from_key
from integrations.sandbox.ledger import SandboxLedger

__all__ = ["DM", "SandboxDirectMessages"]

SERVICE: Final = "sandbox-x"
DM: Final = "dm"
_MAX_TEXT: Final = 10_000  # X's DM text limit (reference/x-dm-api.md)

_MESSAGES = TypeAdapter(SentMessage)


class SandboxDirectMessages:
    """DirectMessageChannel that delivers to a callback (the terminal customer of ``dmcare chat``).

    ``delivered`` lists every DM the ledger knows, oldest first; with a ledger file that includes DMs
    delivered before a restart. ``on_delivered`` is called once per DM, never for a replayed key.
    """

    def __init__(
        self, *, ledger: SandboxLedger, on_delivered: Callable[[SentMessage], None] | None = None
    ) -> None:
        self._ledger = ledger
        self._on_delivered = on_delivered
        self.delivered: list[SentMessage] = [
            _MESSAGES.validate_python(r["payload"]["result"]) for r in ledger.records(DM)
        ]

    async def find_sent(
        self, *, recipient_id: str, text: str, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> SentMessage | None:
        # The sandbox always knows whether it delivered: a key it has seen is answered from the ledger.
        for message in reversed(self.delivered):
            if message.recipient_id == recipient_id and message.text == text and message.message_id not in exclude:
                return message
        return None

    async def send(self, *, recipient_id: str, text: str, idempotency_key: str) -> SentMessage:
        previous = previous_result(self._ledger, key=idempotency_key, kind=DM, service=SERVICE)
        if previous is not None:
            return _MESSAGES.validate_python(previous)
        # X answers these with 400: retrying cannot help, so they are permanent.
        if not recipient_id.isdigit():
            raise PermanentIntegrationError(f"{recipient_id!r} is not an X user id", service=SERVICE)
        if not text.strip():
            raise PermanentIntegrationError("a DM needs text", service=SERVICE)
        if len(text) > _MAX_TEXT:
            raise PermanentIntegrationError(f"a DM holds at most {_MAX_TEXT} characters", service=SERVICE)
        message = SentMessage(
            # dm_event_id-like: a 19-digit number, stable for the key.
            message_id="1" + token_from_key(idempotency_key, purpose=DM, length=18, alphabet="0123456789"),
            recipient_id=recipient_id,
            text=text,
            idempotency_key=idempotency_key,
        )
        record_result(
            self._ledger,
            key=idempotency_key,
            kind=DM,
            request={"recipient_id": recipient_id},
            result=_MESSAGES.dump_python(message, mode="json"),
        )
        self.delivered.append(message)
        if self._on_delivered is not None:
            self._on_delivered(message)
        return message
