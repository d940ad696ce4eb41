"""Everything the core reads from one event before the machine decides: the facts and their sources.

A ``Reading`` holds what was understood (order number, intents, rating, the assessment and the offer
the policy would make) so the actions can use it after the machine has picked a transition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation import JSON, Event
from bot.policy import Assessment, History, Verdict, assess, judge, matching_row
from bot.understanding import (
    Intent,
    OrderNumberRules,
    classify_intents,
    detect_concern,
    detect_language,
    extract_order_number,
    extract_rating,
)
from bot.understanding.anger import is_complaint, read_anger
from flows.schema import Alternative, FlowDocument

# Which offered part each choice intent points at, most specific first: a "free-shipping coupon" is
# also a coupon, and must pick the free-shipping alternative, not the percent one.
CHOICE_PARTS: tuple[tuple[Intent, tuple[str, ...]], ...] = (
    (Intent.CHOOSE_FREE_SHIPPING, ("free_shipping_coupon",)),
    (Intent.CHOOSE_REFUND, ("refund_percent",)),
    (Intent.REFUND_INSTEAD, ("refund_percent",)),
    (Intent.CHOOSE_POINTS, ("points",)),
    (Intent.CHOOSE_COUPON, ("coupon_percent", "coupon_order_value")),
)


# How much a parcel's situation weighs when an order has several: a person-needing problem first.
SEVERITY = {"parcel_problem": 5, "lost": 4, "damaged": 4, "unshippable": 3, "customs": 2, "late": 2}
PROBLEM_SITUATIONS = frozenset({"parcel_problem", "lost", "damaged"})
READ_AT_MOST = 4000  # characters of a message the bot reads; a DM is at most 10,000
INTENT_FACTS = frozenset({"wants_human", "said_yes", "said_no", "wants_refund", "chose_alternative", "wants_more"})
RATING_FACTS = frozenset({"has_rating", "low_rating"})
ANGER_FACTS = frozenset({"angry", "threatens"})


@dataclass(slots=True)
class Reading:
    today: date
    facts: dict[str, bool] = field(default_factory=dict)
    order_number: str | None = None
    rating: int | None = None
    chosen: int | None = None  # index into the offer's alternatives
    assessment: Assessment | None = None
    offer_row: str | None = None
    offer: list[JSON] | None = None
    verdict: Verdict | None = None  # the policy's view of the offer: values and the limits it runs into
    agent_text: str | None = None
    anger_signals: tuple[str, ...] = ()  # what made the message read as angry or threatening


class Reader:
    def __init__(self, document: FlowDocument) -> None:
        self.document = document
        settings = document.settings
        self.zone = ZoneInfo(settings.timezone)
        self.rules = OrderNumberRules(
            pattern=settings.order_number.pattern,
            min_digits=settings.order_number.min_digits,
            max_digits=settings.order_number.max_digits,
        )

    def read(self, context: JSON, event: Event, wanted: frozenset[str]) -> Reading:
        """Facts for this event; also updates ``context`` with what is now known for good.

        Only the facts in ``wanted`` (those the flow's guards for this state and event mention) are
        worked out from the customer's text: reading a message is most of a step's cost.
        """
        reading = Reading(today=event.occurred_at.astimezone(self.zone).date())
        settings = self.document.settings
        facts = reading.facts
        facts["order_attempts_left"] = context.get("order_attempts", 0) + 1 < settings.max_order_attempts
        facts["unclear_replies_left"] = context.get("unclear_replies", 0) < settings.max_unclear_replies
        facts["pushed_back"] = context.get("pushbacks", 0) > 0
        facts["is_vip"] = (context.get("order") or {}).get("tier") == "vip"
        offer: JSON | None = context.get("offer")
        facts["refund_allowed"] = refund_allowed(offer)
        kind = event.kind
        if kind == "message":
            # The whole text is kept for the agent; understanding reads its start, which bounds a step's cost.
            text = str(event.payload.get("text", ""))[:READ_AT_MOST]
            self._read_message(context, text, reading, wanted)
        elif kind == "order_found":
            self._read_order(context, event.payload, reading)
        elif kind == "tracking_found":
            context["shipment"] = self._worst_parcel(context, event.payload["shipments"], reading.today)
            self._assess(context, reading)
        elif kind == "compensation_issued":
            context["compensation"] = event.payload
            facts["needs_dispatch"] = needs_dispatch(context)
        elif kind == "dispatched":
            context["dispatch"] = event.payload
        elif kind == "compensation_held":
            rule = event.payload.get("rule")
            facts["over_customer_cap"] = rule == "customer_cap"
            facts["over_daily_budget"] = rule == "daily_budget"
        elif kind == "order_not_found":
            conclusive = bool(event.payload.get("conclusive", True))
            facts["order_search_conclusive"] = conclusive
            # The first such answer asks the customer to check the number and send it once more; the
            # next one (that number again, or another the shop cannot see) goes to a person as promised.
            facts["order_search_retried"] = not conclusive and bool(context.get("order_not_visible"))
            if not conclusive:
                context["order_not_visible"] = True
        elif kind == "shipment_update":
            self._read_news(context, event.payload, reading)
        elif kind == "agent_reply":
            reading.agent_text = str(event.payload.get("text", ""))
        return reading

    def _read_message(self, context: JSON, text: str, reading: Reading, wanted: frozenset[str]) -> None:
        facts = reading.facts
        detected = detect_language(text)
        current = context.get("language")
        # Sticky: "ok" or "5" never flips the language, but a real sentence in the other one does.
        if current is None or (detected is not None and detected != current and _substantial(text, detected)):
            context["language"] = detected or current
        if "concern" not in context:
            concern = detect_concern(text)
            context["concern"] = "" if concern == "other" else str(concern)
        if wanted & ANGER_FACTS:
            rules = self.document.escalation.anger
            anger = read_anger(text, rules, complaints_before=context.get("complaints", 0))
            facts["angry"], facts["threatens"] = anger.angry, anger.threat
            reading.anger_signals = anger.signals
            if anger.signals or is_complaint(text, rules):
                context["complaints"] = context.get("complaints", 0) + 1  # for "repeated complaints"
        if "has_order_number" in wanted:
            reading.order_number = extract_order_number(text, self.rules)
            facts["has_order_number"] = reading.order_number is not None
        if wanted & RATING_FACTS:
            reading.rating = extract_rating(text)
            facts["has_rating"] = reading.rating is not None
            facts["low_rating"] = reading.rating is not None and reading.rating <= self.document.settings.low_rating
        if wanted & INTENT_FACTS:
            intents = classify_intents(text)
            facts["wants_human"] = Intent.HUMAN in intents
            facts["said_yes"] = Intent.YES in intents
            facts["said_no"] = Intent.NO in intents
            facts["wants_refund"] = Intent.REFUND_INSTEAD in intents or Intent.CHOOSE_REFUND in intents
            facts["wants_more"] = Intent.WANT_MORE in intents
            offer = context.get("offer")
            if offer:
                reading.chosen = choose_from_offer(offer, intents)
            facts["chose_alternative"] = reading.chosen is not None

    def _read_news(self, context: JSON, payload: JSON, reading: Reading) -> None:
        """A carrier's push about one of this conversation's parcels: what changed, in facts."""
        news = payload["shipment"]
        context["news"] = news
        status, first = news.get("status"), bool(payload.get("first_of_tag", True))
        facts = reading.facts
        facts["news_first_scan"] = first and status == "in_transit"
        facts["news_out_for_delivery"] = first and status == "out_for_delivery"
        # AfterShip pushes every later scan under a tag too: only the first under "Delivered" is news.
        facts["news_delivered"] = first and status == "delivered"
        order = context.get("order")
        situation = (
            assess(promised_on=date.fromisoformat(order["promised_on"]), shipment=news, today=reading.today).situation
            if order
            else None
        )
        # A problem is news when it is new: the first update under its tag, or not the one this
        # conversation is already handling (a damaged parcel replaced: more scans of it change nothing).
        facts["news_problem"] = situation in PROBLEM_SITUATIONS and (first or situation != context.get("situation"))
        replacement = (context.get("dispatch") or {}).get("tracking_number")
        facts["news_on_replacement"] = replacement is not None and _same_parcel(replacement, news["tracking_number"])

    def _read_order(self, context: JSON, payload: JSON, reading: Reading) -> None:
        facts = reading.facts
        owned = bool(payload.get("owned"))
        facts["order_owned"] = owned
        if not owned:
            return  # nothing about someone else's order is kept or shown
        order = payload["order"]
        context["order"] = order
        facts["is_vip"] = order.get("tier") == "vip"
        facts["high_value"] = Decimal(order["value"]) >= self.document.settings.high_value_threshold
        facts["has_shipment"] = bool(order.get("shipments"))
        # One compensation per order and situation: known once the situation is (here, or from the carrier).
        facts["already_compensated"] = False
        if not facts["has_shipment"]:
            self._assess(context, reading)

    def _worst_parcel(self, context: JSON, shipments: list[JSON], today: date) -> JSON:
        """The parcel the customer suffers most from: an exception first, then the longest delay."""
        promised = date.fromisoformat(context["order"]["promised_on"])

        def badness(shipment: JSON) -> tuple[int, int]:
            assessment = assess(promised_on=promised, shipment=shipment, today=today)
            return SEVERITY.get(assessment.situation, 0), assessment.delay_days

        return max(shipments, key=badness)

    def _assess(self, context: JSON, reading: Reading) -> None:
        order = context["order"]
        assessment = assess(
            promised_on=date.fromisoformat(order["promised_on"]),
            shipment=context.get("shipment"),
            today=reading.today,
        )
        reading.assessment = assessment
        context["situation"] = assessment.situation
        context["delay_days"] = assessment.delay_days
        context["expected_on"] = assessment.expected_on.isoformat() if assessment.expected_on else None
        facts = reading.facts
        facts["is_late"] = assessment.delay_days > 0
        facts["parcel_problem"] = assessment.situation == "parcel_problem"
        facts["delivered"] = bool((context.get("shipment") or {}).get("delivered_on"))
        facts["already_compensated"] = was_compensated(order, assessment.situation)
        policy = self.document.policy
        row = matching_row(
            policy,
            situation=assessment.situation,
            delay_days=assessment.delay_days,
            tier=order.get("tier", "regular"),
        )
        facts["has_offer"] = row is not None
        if row is None:
            return
        # The limits are checked against the history the executor read when it looked the order up.
        verdict = judge(
            policy, row, order_value=Decimal(order["value"]), history=History.from_json(order.get("history"))
        )
        reading.verdict = verdict
        reading.offer_row = row.id
        reading.offer = [alternative.model_dump(exclude_defaults=True) for alternative in row.offer]
        facts["needs_approval"] = verdict.needs_approval
        facts["over_customer_cap"] = verdict.over_customer_cap
        facts["over_daily_budget"] = verdict.over_daily_budget
        facts["refund_allowed"] = policy.refund_instead == "allow" and any(alt.refund_percent for alt in row.offer)


def was_compensated(order: JSON, situation: str) -> bool:
    """Whether this order was already compensated for this situation, by any conversation."""
    earlier = order.get("compensated") or {}
    if "alternative" in earlier:  # a lookup from before compensations were kept per situation: the order
        return True
    return situation in earlier


def refund_allowed(offer: JSON | None) -> bool:
    """Whether the bot pays the offer's refund to a customer who asks for it instead (policy.refund_instead)."""
    if offer is None or offer.get("refund_instead") == "person":
        return False
    return any(alternative.get("refund_percent") for alternative in offer["alternatives"])


def refund_asked_instead(offer: JSON, chosen: int | None) -> bool:
    """The customer picked a refund in place of the offer's first (best) alternative."""
    return chosen is not None and chosen > 0 and bool(offer["alternatives"][chosen].get("refund_percent"))


def choose_from_offer(offer: JSON, intents: frozenset[Intent]) -> int | None:
    """The alternative picked; a refund asked for instead is no pick when the policy sends it to a person."""
    chosen = choose_alternative(offer["alternatives"], intents)
    if offer.get("refund_instead") == "person" and refund_asked_instead(offer, chosen):
        return None
    return chosen


def choose_alternative(alternatives: list[JSON], intents: frozenset[Intent]) -> int | None:
    """The alternative the customer picked: the one naming a part they asked for, or the first on yes."""
    named = [parts for intent, parts in CHOICE_PARTS if intent in intents]
    if named:
        for parts in named:
            for index, alternative in enumerate(alternatives):
                if any(alternative.get(part) for part in parts):
                    return index
        return None
    if Intent.YES in intents and Intent.NO not in intents:
        return 0
    return None


_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _substantial(text: str, language: str) -> bool:
    """Enough words in ``language`` to trust a switch: four Han characters or four Latin words."""
    sample = text[:2000]
    if language == "zh":
        return len(_HAN.findall(sample)) >= 4
    return len(_LATIN_WORD.findall(sample)) >= 4


def needs_dispatch(context: JSON) -> bool:
    """A replacement always ships; upgraded shipping expedites only a parcel not yet handed over."""
    chosen = _chosen_alternative(context)
    if chosen is None:
        return False
    if chosen.get("reship"):
        return True
    not_handed_over = (context.get("shipment") or {}).get("status") in (None, "pending")
    return bool(chosen.get("upgraded_shipping")) and not_handed_over and not chosen.get("refund_percent")


def _chosen_alternative(context: JSON) -> dict[str, Any] | None:
    offer = context.get("offer")
    chosen = context.get("chosen")
    if not offer or chosen is None:
        return None
    alternative: dict[str, Any] = offer["alternatives"][chosen]
    return alternative


def alternative_from(data: JSON) -> Alternative:
    return Alternative.model_validate(data)


def _same_parcel(first: str, second: str) -> bool:
    def key(number: str) -> str:
        return "".join(number.split()).replace("-", "").upper()

    return key(first) == key(second)
