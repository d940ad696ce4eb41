"""Peer measurement: python-telegram-bot's ConversationHandler running dmcare's 5-step care flow.

``bench/engine.py`` calls :func:`measure_ptb_conversation_handler` in the same run as its own
measurement and prints the ratio.  Everything here runs in memory on one event loop:

* No network.  The bot is given :class:`_InProcessRequest`, a :class:`telegram.request.BaseRequest`
  that answers ``getMe`` locally with a valid Bot API JSON response and refuses every other method.
  So ``Application.initialize()`` runs its normal code path (``ExtBot.get_me``) without a socket,
  and any handler that accidentally tried to talk to Telegram would fail the run loudly.
* No updater (``.updater(None)``), no job queue, no persistence, ``concurrent_updates`` left off
  (ConversationHandler requires sequential processing).
* Updates are built with ``Update.de_json`` from Bot API-shaped dicts before the clock starts; only
  ``await application.process_update(update)`` is timed, one ``perf_counter_ns`` pair per message.
* Messages are fed round-robin: step 1 of every conversation, then step 2 of every conversation, ...
  so up to ``conversations`` conversations are live at the same time, as in real traffic.
* Handlers "reply" by appending ``(chat_id, text)`` to an in-memory list.

After the run the replies are checked (one reply per message, every conversation reached
``ConversationHandler.END`` with the right order number); a broken setup raises instead of
printing a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

__all__ = [
    "PeerFigures",
    "measure_ptb_conversation_handler",
    "measure_ptb_conversation_handler_async",
]

# Conversation states (the entry point plays ACKNOWLEDGE).
COLLECT_ORDER: Final = 1
OFFER: Final = 2
CONFIRM: Final = 3
FEEDBACK: Final = 4

STEPS: Final = 5  # ACKNOWLEDGE -> COLLECT_ORDER -> OFFER -> CONFIRM -> FEEDBACK -> END

ORDER_RE: Final = re.compile(r"#\s*(\d{3,})")

_BOT_ID: Final = 123
_TOKEN: Final = f"{_BOT_ID}:ABC"
_FIRST_USER_ID: Final = 10_000_000
_FIRST_ORDER: Final = 1001
_EPOCH: Final = 1_700_000_000

_EMPATHY: Final = "I'm so sorry your parcel hasn't arrived - that's really frustrating."
_ASK_ORDER: Final = "Could you send me your order number (e.g. #1001)?"
_THANKS: Final = "Thank you for your feedback - and thanks for your patience!"

Reply = tuple[int, str]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class PeerFigures:
    messages: int
    seconds: float
    messages_per_second: float
    p50_ms: float
    p99_ms: float


class _InProcessRequest(BaseRequest):
    """A ``BaseRequest`` that never opens a socket: ``getMe`` is answered in-process."""

    __slots__ = ()

    _GET_ME: Final = json.dumps(
        {
            "ok": True,
            "result": {
                "id": _BOT_ID,
                "is_bot": True,
                "first_name": "dmcare peer",
                "username": "dmcare_peer_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            },
        }
    ).encode()

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if url.rsplit("/", 1)[-1] == "getMe":
            return 200, self._GET_ME
        raise RuntimeError(f"ptb_peer: network call attempted in an in-memory benchmark: {url}")


def _build_application(replies: list[Reply]) -> AnyApplication:
    """The 5-step care flow as a PTB ConversationHandler whose handlers reply into ``replies``."""

    def reply(update: Update, text: str) -> None:
        message = update.effective_message
        assert message is not None
        replies.append((message.chat_id, text))

    async def acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        reply(update, f"{_EMPATHY} {_ASK_ORDER}")
        return COLLECT_ORDER

    async def collect_order(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        # filters.Regex(ORDER_RE) already matched; PTB hands us the match object.
        assert context.matches
        order = context.matches[0].group(1)
        assert context.user_data is not None
        context.user_data["order"] = order
        reply(update, f"Thanks! Looking it up: order #{order}.")
        return OFFER

    async def offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert context.user_data is not None
        order = context.user_data["order"]
        reply(update, f"Order #{order} is delayed. Can I offer you a 10% refund as compensation?")
        return CONFIRM

    async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert context.user_data is not None
        order = context.user_data["order"]
        reply(update, f"Done - the refund for order #{order} is confirmed. How would you rate us, 1-5?")
        return FEEDBACK

    async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert context.user_data is not None
        order = context.user_data.pop("order")
        reply(update, f"{_THANKS} (order #{order})")
        return ConversationHandler.END

    text = filters.TEXT & ~filters.COMMAND
    # Defaults per_chat=True, per_user=True, per_message=False with only MessageHandlers:
    # the combination PTB recommends for message conversations, so no PTBUserWarning is raised.
    conversation = ConversationHandler(
        entry_points=[MessageHandler(text, acknowledge)],
        states={
            COLLECT_ORDER: [MessageHandler(text & filters.Regex(ORDER_RE), collect_order)],
            OFFER: [MessageHandler(text, offer)],
            CONFIRM: [MessageHandler(text & filters.Regex(re.compile(r"^\s*yes\b", re.I)), confirm)],
            FEEDBACK: [MessageHandler(text & filters.Regex(r"^\s*[1-5]\s*$"), feedback)],
        },
        fallbacks=[],
        name="care_flow",
    )

    application = (
        ApplicationBuilder()
        .token(_TOKEN)
        .request(_InProcessRequest())
        .get_updates_request(_InProcessRequest())
        .updater(None)
        .job_queue(None)
        .concurrent_updates(False)
        .build()
    )
    application.add_handler(conversation)
    return application


def _customer_texts(order: int) -> tuple[str, ...]:
    return (
        "hi, my parcel never arrived and I'm really annoyed",
        f"my order is #{order}",
        "ok, what can you do?",
        "yes",
        "5",
    )


def _update_payload(update_id: int, user_id: int, message_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": _EPOCH + update_id,
            "chat": {"id": user_id, "type": "private", "first_name": "Customer"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Customer"},
            "text": text,
        },
    }


def _build_payloads(conversations: int) -> list[dict[str, Any]]:
    """All messages as Bot API JSON, interleaved round-robin: step k of every conversation before k + 1."""
    texts = [_customer_texts(_FIRST_ORDER + c) for c in range(conversations)]
    payloads: list[dict[str, Any]] = []
    for step in range(STEPS):
        for c in range(conversations):
            payloads.append(_update_payload(len(payloads) + 1, _FIRST_USER_ID + c, step + 1, texts[c][step]))
    return payloads


def _build_updates(application: AnyApplication, conversations: int) -> list[Update]:
    return [Update.de_json(payload, application.bot) for payload in _build_payloads(conversations)]


def _percentile_ms(sorted_ns: Sequence[int], fraction: float) -> float:
    """Nearest-rank percentile of nanosecond samples, in milliseconds."""
    rank = max(1, math.ceil(fraction * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


def _verify(replies: Sequence[Reply], conversations: int) -> None:
    """Raise unless every message got a reply and every conversation reached END correctly."""
    expected = conversations * STEPS
    if len(replies) != expected:
        raise RuntimeError(f"ptb_peer: {len(replies)} replies for {expected} messages")
    per_chat = Counter(chat_id for chat_id, _ in replies)
    short = [
        chat_id
        for chat_id in range(_FIRST_USER_ID, _FIRST_USER_ID + conversations)
        if per_chat[chat_id] != STEPS
    ]
    if short:
        raise RuntimeError(f"ptb_peer: {len(short)} conversations did not get {STEPS} replies")
    thanked = {chat_id: text for chat_id, text in replies if text.startswith(_THANKS)}
    if len(thanked) != conversations:
        raise RuntimeError(f"ptb_peer: only {len(thanked)}/{conversations} conversations reached END")
    for chat_id, text in thanked.items():
        order = _FIRST_ORDER + (chat_id - _FIRST_USER_ID)
        if not text.endswith(f"(order #{order})"):
            raise RuntimeError(f"ptb_peer: chat {chat_id} ended with the wrong order: {text!r}")


async def measure_ptb_conversation_handler_async(
    *, conversations: int, messages_per_conversation: int = STEPS, include_parsing: bool = True
) -> PeerFigures:
    """Async form of :func:`measure_ptb_conversation_handler`, for callers already in a loop."""
    if conversations < 1:
        raise ValueError("conversations must be >= 1")
    if messages_per_conversation != STEPS:
        raise ValueError(
            f"the care flow is {STEPS} messages per conversation, "
            f"got messages_per_conversation={messages_per_conversation}"
        )

    replies: list[Reply] = []
    application = _build_application(replies)
    await application.initialize()  # getMe is served by _InProcessRequest
    try:
        latencies_ns: list[int] = []
        clock = time.perf_counter_ns
        process = application.process_update
        if include_parsing:
            # Like dmcare's figure, start from the wire payload: parsing the update is part of the work.
            payloads = _build_payloads(conversations)
            bot = application.bot
            wall_start = clock()
            for payload in payloads:
                t0 = clock()
                await process(Update.de_json(payload, bot))
                latencies_ns.append(clock() - t0)
            wall_ns = clock() - wall_start
            updates: Sequence[object] = payloads
        else:
            updates = _build_updates(application, conversations)
            wall_start = clock()
            for update in updates:
                t0 = clock()
                await process(update)  # type: ignore[arg-type]
                latencies_ns.append(clock() - t0)
            wall_ns = clock() - wall_start
    finally:
        await application.shutdown()

    _verify(replies, conversations)

    latencies_ns.sort()
    messages = len(updates)
    seconds = wall_ns / 1e9
    return PeerFigures(
        messages=messages,
        seconds=seconds,
        messages_per_second=messages / seconds,
        p50_ms=_percentile_ms(latencies_ns, 0.50),
        p99_ms=_percentile_ms(latencies_ns, 0.99),
    )


def measure_ptb_conversation_handler(
    *, conversations: int, messages_per_conversation: int = STEPS, include_parsing: bool = True
) -> PeerFigures:
    """Run the 5-step care flow through PTB's ConversationHandler in memory and time it.

    Must be called outside a running event loop (it uses ``asyncio.run``); async callers use
    :func:`measure_ptb_conversation_handler_async`.
    """
    return asyncio.run(
        measure_ptb_conversation_handler_async(
            conversations=conversations,
            messages_per_conversation=messages_per_conversation,
            include_parsing=include_parsing,
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=2000)
    args = parser.parse_args(argv)
    figures = measure_ptb_conversation_handler(conversations=args.conversations)
    print(
        "python-telegram-bot ConversationHandler peer "
        f"({args.conversations} conversations x {STEPS} steps, in memory, one core)"
    )
    print(f"  messages            {figures.messages}")
    print(f"  seconds             {figures.seconds:.3f}")
    print(f"  messages/second     {figures.messages_per_second:,.0f}")
    print(f"  p50 latency (ms)    {figures.p50_ms:.3f}")
    print(f"  p99 latency (ms)    {figures.p99_ms:.3f}")


if __name__ == "__main__":
    main()
