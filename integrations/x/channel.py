"""The X DM channel: one bot turn, one DM, sent through the X API with its outcome always settled.

X has no idempotency keys. A send that timed out after leaving may or may not have created the DM, so
``find_sent`` reads the conversation back and finds the DM by its words and time before the runtime
dares to send again.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Final

from integrations.errors import OutcomeUnknownError, PermanentIntegrationError
from integrations.models import SentMessage
from integrations.x.client import SERVICE, XApi
from integrations.x.events import decode_dm_event

# X's clock and ours differ a little; a DM created a moment "before" our attempt is still ours.
_CLOCK_SLACK: Final = timedelta(minutes=2)
# A reconcile reads at most this many pages of the conversation (X's read budget is small).
_MAX_PAGES: Final = 3
# X may wrap links in t.co and trim the ends; compare texts without either.
_LINK = re.compile(r"https?://\S+")


class XDirectMessages:
    """DirectMessageChannel over the X API v2 (tweepy), for the real X or the X sandbox.

    X takes no idempotency key. Within the process a key already sent is answered from memory; after
    a restart the runtime settles an uncertain send with ``find_sent`` before sending it again.
    """

    def __init__(self, *, api: XApi, bot_user_id: str, remember: int = 10_000) -> None:
        self._api = api
        self.bot_user_id = bot_user_id
        self._sent: OrderedDict[str, SentMessage] = OrderedDict()
        self._remember = remember

    async def send(self, *, recipient_id: str, text: str, idempotency_key: str) -> SentMessage:
        earlier = self._sent.get(idempotency_key)
        if earlier is not None:
            return earlier
        if not text.strip():
            # X answers 400 to an empty DM; refusing here spends none of the send budget.
            raise PermanentIntegrationError("a DM needs text", service=SERVICE)
        sent = await self._api.send_dm(participant_id=recipient_id, text=text)
        message = SentMessage(
            message_id=sent.event_id, recipient_id=recipient_id, text=text, idempotency_key=idempotency_key,
            rate_limit=sent.rate_limit,
        )  # fmt: skip
        self._sent[idempotency_key] = message
        if len(self._sent) > self._remember:
            self._sent.popitem(last=False)
        return message

    async def find_sent(
        self, *, recipient_id: str, text: str, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> SentMessage | None:
        wanted = _comparable(text)
        token: str | None = None
        for _ in range(_MAX_PAGES):
            page = await self._api.dm_events(participant_id=recipient_id, pagination_token=token)
            for position, raw in enumerate(page.events):  # newest first
                created = _parse_time(raw.get("created_at"))
                if created is not None and created < since - _CLOCK_SLACK:
                    return None
                # The bot's own events are what decode_dm_event drops, so decode without a bot id.
                event = decode_dm_event(raw, path=f"data[{position}]")
                if event is None or event.sender_id != self.bot_user_id or event.event_id in exclude:
                    continue
                if _comparable(event.text) == wanted:
                    return SentMessage(
                        message_id=event.event_id, recipient_id=recipient_id, text=text,
                        idempotency_key="", meta={"reconciled": "true"}, rate_limit=page.rate_limit,
                    )  # fmt: skip
            token = page.next_token
            if token is None:
                return None
        # Not found in the pages read, but those did not reach back to ``since``: it may be further down.
        raise OutcomeUnknownError("an earlier send could not be settled within the pages read", service=SERVICE)

    async def aclose(self) -> None:
        await self._api.aclose()


def _comparable(text: str) -> str:
    return " ".join(_LINK.sub("<link>", text).split())


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
