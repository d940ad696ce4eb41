"""One step of a conversation: read the event, let the flow's machine decide, turn actions into effects.

``DecisionCore.decide`` is a pure function of (snapshot, event): it returns the new state and context,
the messages to send and the commands to run. It never touches the database or the network, so a
step can be replayed, tested from a table, and committed in one transaction by the runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.conversation import JSON, CommandSpec, ConversationSnapshot, Decision, Event, OutgoingMessage, Urgency
from bot.core.reading import Reader, Reading, alternative_from, needs_dispatch, refund_asked_instead
from bot.core.splitting import split_message
from bot.policy import compensation_key, expires_on, minimum_spend
from bot.texts import TextBook, format_date, format_money
from flows.compiler import CompiledFlow
from flows.schema import EscalateArgs, duration_seconds, guard_names
from flows.vocabulary import NEWS_EVENTS

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
# A hand-over is the policy's decision when a fact here is true in the guard of the transition that fired
# (and there is an offer to propose): (decision, rule) for the audit log.
POLICY_GUARDS: dict[str, tuple[str, str]] = {
    "already_compensated": ("refused", "already_compensated"),
    "needs_approval": ("escalated", "approval_limit"),
    "over_customer_cap": ("escalated", "customer_cap"),
    "over_daily_budget": ("escalated", "daily_budget"),
    "wants_refund": ("escalated", "refund_instead"),
    "said_no": ("refused", "no_raise"),  # pushing back never raises the offer: a person judges
    "wants_more": ("refused", "no_raise"),  # pushing back again after the offer was restated
}
# The text that tells a customer handed to a person when that person will answer (optional in a flow).
WAITING_NOTICE = "waiting_notice"


@dataclass(slots=True)
class _Turn:
    snapshot: ConversationSnapshot
    event: Event
    reading: Reading
    context: JSON
    revision: int
    default_language: str
    texts: list[str] = field(default_factory=list)
    outgoing: list[OutgoingMessage] = field(default_factory=list)
    commands: list[CommandSpec] = field(default_factory=list)
    escalation: JSON | None = None
    transition: int = -1  # the index of the transition that fired
    audit: list[JSON] = field(default_factory=list)  # the policy's decisions, for the policy_decisions table

    @property
    def language(self) -> str:
        """The customer's language once we have seen it; until then the flow's default."""
        return str(self.context.get("language") or self.default_language)

    def key(self, kind: str) -> str:
        return _command_key(self.snapshot.conversation_id, self.revision, kind)


def _command_key(conversation_id: int, revision: int, kind: str) -> str:
    return f"c{conversation_id}:r{revision}:{kind}"


def running_timer_key(snapshot: ConversationSnapshot) -> str | None:
    """The idempotency key of the timer the conversation's state still waits on, if one was kept running
    (news that left the conversation where it was); the runtime cancels every other pending timer."""
    revision = snapshot.context.get(_TIMER)
    return None if revision is None else _command_key(snapshot.conversation_id, revision, "timeout")


# X's limit for one DM's text (reference/x-dm-api.md §1.4).
MAX_DM_LENGTH = 10_000

# Events that are the bot speaking on its own rather than answering what the customer said.
_UNPROMPTED = frozenset({"timeout"})
# In the context: the revision the state's running timer was armed at. A timeout event from any other
# revision is stale. (A conversation from before this key has none; its timer is the latest revision's.)
_TIMER = "timer_revision"


def _urgency(turn: _Turn, message: OutgoingMessage) -> int:
    if turn.escalation is not None:
        return Urgency.HANDOVER
    if message.author == "agent" or turn.snapshot.revision == 0:
        return Urgency.FIRST_ANSWER
    if turn.event.kind in _UNPROMPTED:
        return Urgency.FOLLOW_UP
    return Urgency.ANSWER


class DecisionCore:
    def __init__(self, flow: CompiledFlow, *, max_message_length: int = MAX_DM_LENGTH) -> None:
        self.flow = flow
        self.max_message_length = max_message_length
        self.document = flow.document
        self.reader = Reader(flow.document)
        self.texts = TextBook(flow.document)
        self._timeouts = {
            name: duration_seconds(spec.timeout.after)
            for name, spec in flow.document.states.items()
            if spec.timeout is not None
        }
        self._actions: dict[str, Callable[[_Turn, Any], None]] = {
            "say": self._say,
            "remember_order": self._remember_order,
            "lookup_order": self._lookup_order,
            "lookup_tracking": self._lookup_tracking,
            "make_offer": self._make_offer,
            "issue_compensation": self._issue_compensation,
            "dispatch": self._dispatch,
            "escalate": self._escalate,
            "count": self._count,
            "reset": self._reset,
            "record_rating": self._record_rating,
            "relay_agent_text": self._relay_agent_text,
        }
        self._policy_guards = {
            index: tuple(name for name in guard_names(transition.when) if name in POLICY_GUARDS)
            for index, transition in enumerate(flow.document.transitions)
            if transition.when
        }

    def decide(self, snapshot: ConversationSnapshot, event: Event) -> Decision:
        if event.kind == "timeout" and event.payload.get("revision") != snapshot.context.get(_TIMER, snapshot.revision):
            # A timer armed before the customer last spoke: the conversation has moved on.
            return Decision(
                source=snapshot.state, target=snapshot.state, transition_index=None,
                revision=snapshot.revision, context=snapshot.context, facts={}, outgoing=[], commands=[],
                note="stale timeout",
            )  # fmt: skip
        context = dict(snapshot.context)
        reading = self.reader.read(context, event, self.flow.guards_for(snapshot.state, event.kind))
        outcome = self.flow.decide(snapshot.state, event.kind, reading.facts)
        turn = _Turn(
            snapshot=snapshot, event=event, reading=reading, context=context, revision=snapshot.revision + 1,
            default_language=self.document.default_language, transition=outcome.transition_index,
        )  # fmt: skip
        for action in outcome.actions:
            self._actions[action.name](turn, action.argument)
        self._finish_turn(turn, outcome.target)
        used = self.flow.guards_for(snapshot.state, event.kind)
        return Decision(
            source=outcome.source, target=outcome.target, transition_index=outcome.transition_index,
            revision=turn.revision, context=context, facts={name: reading.facts.get(name, False) for name in used},
            outgoing=turn.outgoing, commands=turn.commands, audit=turn.audit,
        )  # fmt: skip

    def _finish_turn(self, turn: _Turn, target: str) -> None:
        human = self.flow.human_state
        if turn.escalation is not None:
            self._settle_escalation(turn, target)
        elif target != human:
            turn.context.pop("waiting", None)  # back with the bot: a later hand-over is told again
            if turn.snapshot.state == human:
                # The person is done (handed back or closed): a later hand-over is a new escalation.
                turn.commands.append(
                    CommandSpec(kind="resolve_escalations", payload={}, idempotency_key=turn.key("resolve"))
                )
        if turn.texts:
            # One bot turn is one DM: X counts every send against a small budget.
            text = "\n\n".join(turn.texts)
            turn.outgoing.insert(0, OutgoingMessage(author="bot", text=text, language=turn.language))
        # X holds one DM to a limited length: a longer text goes out as several, in order.
        turn.outgoing[:] = [
            OutgoingMessage(author=message.author, text=part, language=message.language)
            for message in turn.outgoing
            for part in split_message(message.text, self.max_message_length)
        ]
        for position, message in enumerate(turn.outgoing):
            turn.commands.insert(
                position,
                CommandSpec(
                    kind="send_reply",
                    payload={
                        "recipient_id": turn.snapshot.customer_id,
                        "text": message.text,
                        "author": message.author,
                    },
                    idempotency_key=turn.key(f"send{position}"),
                    priority=_urgency(turn, message),
                ),
            )
        if turn.escalation is not None:
            turn.commands.append(
                CommandSpec(kind="escalate", payload=turn.escalation, idempotency_key=turn.key("escalate"))
            )
        self._arm_timeout(turn, target)

    def _arm_timeout(self, turn: _Turn, target: str) -> None:
        """Arm the target state's timer, except for news that leaves the conversation where it was: the
        timer already running keeps its time, or a parcel's scans would keep an idle conversation open."""
        if target not in self._timeouts:
            turn.context.pop(_TIMER, None)
            return
        if turn.event.kind in NEWS_EVENTS and target == turn.snapshot.state and _TIMER in turn.context:
            return
        turn.context[_TIMER] = turn.revision
        turn.commands.append(
            CommandSpec(
                kind="schedule_timeout",
                payload={"revision": turn.revision, "state": target},
                idempotency_key=turn.key("timeout"),
                delay_seconds=self._timeouts[target],
            )
        )

    def _settle_escalation(self, turn: _Turn, target: str) -> None:
        """The SLA the escalation gets from its priority, and the one honest word on when a person answers.

        The customer is told once, with the hand-over, when a person will answer; while they wait, the
        bot stays silent (a message that makes things more urgent only raises the escalation's priority).
        """
        escalation = turn.escalation
        assert escalation is not None
        sla = self.document.escalation.sla_seconds(escalation["priority"])
        escalation["sla_seconds"] = sla
        due = turn.event.occurred_at + timedelta(seconds=sla)
        waiting = turn.context.get("waiting")
        if waiting is not None and waiting.get("due_at"):
            due = min(due, datetime.fromisoformat(waiting["due_at"]))  # a raise never moves the promise later
        told = bool(waiting and waiting.get("told"))
        priority = escalation["priority"]
        if waiting is not None and PRIORITY_RANK.get(waiting.get("priority"), 99) < PRIORITY_RANK[priority]:
            priority = waiting["priority"]  # the open escalation's priority only moves up
        turn.context["waiting"] = {"priority": priority, "due_at": due.isoformat(), "told": told}
        if target == self.flow.human_state and not told and WAITING_NOTICE in self.document.texts:
            turn.context["waiting"]["told"] = True
            self._say(turn, WAITING_NOTICE)

    # --- actions --------------------------------------------------------------------------------------

    def _say(self, turn: _Turn, key: str) -> None:
        context = turn.context
        situation = context.get("situation")
        detail = None
        if situation:
            # The most specific wording first, so no text speaks of a date or parcel we do not have.
            shipment = context.get("shipment")
            if shipment is None:
                detail = f"{situation}_unshipped"
            elif shipment.get("delivered_on"):
                detail = f"{situation}_delivered"
            elif not context.get("expected_on"):
                detail = f"{situation}_no_eta"
        turn.texts.append(
            self.texts.render(
                key, language=turn.language, values=self._values(turn),
                variant_keys=(detail, situation, context.get("concern")),
            )
        )  # fmt: skip

    def _remember_order(self, turn: _Turn, _: None) -> None:
        turn.context["order_number"] = turn.reading.order_number
        for stale in ("order", "shipment", "situation", "delay_days", "expected_on", "offer", "chosen"):
            turn.context.pop(stale, None)

    def _lookup_order(self, turn: _Turn, _: None) -> None:
        turn.commands.append(
            CommandSpec(
                kind="lookup_order",
                payload={
                    "order_number": turn.context["order_number"],
                    "customer_id": turn.snapshot.customer_id,
                    "count_since": self._count_since(turn),
                },
                idempotency_key=turn.key("lookup_order"),
            )
        )

    def _count_since(self, turn: _Turn) -> dict[str, str]:
        """Where the executor starts counting for the policy's limits: the cap's window, the shop's day."""
        moment = turn.event.occurred_at
        cap = self.document.policy.limits.customer_cap
        day = moment.astimezone(self.reader.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        return {
            "customer": (moment - timedelta(days=cap.window_days if cap else 0)).isoformat(),
            "shop_day": day.isoformat(),
        }

    def _limits_at_payment(self, turn: _Turn) -> JSON:
        limits = self.document.policy.limits
        since = self._count_since(turn)
        return {
            "customer_cap": limits.customer_cap.compensations if limits.customer_cap else None,
            "window_start": since["customer"],
            "daily_budget": str(limits.daily_budget) if limits.daily_budget is not None else None,
            "day_start": since["shop_day"],
        }

    def _lookup_tracking(self, turn: _Turn, _: None) -> None:
        turn.commands.append(
            CommandSpec(
                kind="lookup_tracking",
                payload={"shipments": turn.context["order"]["shipments"]},
                idempotency_key=turn.key("lookup_tracking"),
            )
        )

    def _make_offer(self, turn: _Turn, _: None) -> None:
        """The row's offer, whole and best first, with what each alternative is worth and when coupons expire."""
        terms = self._policy_terms(turn)
        assert terms is not None, "make_offer needs a policy row (guard it with has_offer)"
        turn.context["offer"] = {
            **terms,
            "refund_instead": self.document.policy.refund_instead,
            "policy_version": self.document.policy.version,
        }
        turn.context["unclear_replies"] = 0
        self._audit(turn, "offered", terms["row"], terms)
        self._say(turn, "offer")

    def _policy_terms(self, turn: _Turn) -> JSON | None:
        """The offer this step's policy reading makes, or the one already made: row, alternatives, values, terms."""
        reading = turn.reading
        if reading.verdict is None:
            offer = turn.context.get("offer")
            if not offer:
                return None
            return {key: offer[key] for key in _TERMS if key in offer}
        policy, row = self.document.policy, reading.verdict.row
        minimum = minimum_spend(policy, row)
        return {
            "row": row.id,
            "alternatives": reading.offer,
            "values": [str(value) for value in reading.verdict.values],
            "expires_on": expires_on(policy, reading.today, row).isoformat(),
            "minimum_spend": None if minimum is None else str(minimum),
            # What the limits were checked against (read by the executor when the order was looked up).
            "history": (turn.context.get("order") or {}).get("history"),
        }

    def _audit(self, turn: _Turn, decision: str, rule: str, detail: JSON) -> None:
        context = turn.context
        order = context.get("order") or {}
        turn.audit.append(
            {
                "order_number": order.get("number") or context.get("order_number"),
                "customer_id": order.get("customer_id"),
                "situation": context.get("situation"),
                "decision": decision,
                "rule": rule,
                "detail": detail,
            }
        )

    def _issue_compensation(self, turn: _Turn, _: None) -> None:
        context = turn.context
        chosen = turn.reading.chosen
        assert chosen is not None, "issue_compensation needs a chosen alternative (guard it with chose_alternative)"
        context["chosen"] = chosen
        order = context["order"]
        offer = context["offer"]
        situation = context.get("situation", "late")
        alternative = offer["alternatives"][chosen]
        values = offer.get("values")
        value = values[chosen] if values else None
        turn.commands.append(
            CommandSpec(
                kind="issue_compensation",
                payload={
                    "order_number": context["order_number"],
                    "customer_id": order["customer_id"],
                    "situation": situation,
                    "policy_row": offer["row"],
                    "alternative": alternative,
                    "value": value,
                    "order_value": order["value"],
                    "currency": order["currency"],
                    "expires_on": offer["expires_on"],
                    "minimum_spend": offer.get("minimum_spend"),
                    # Upgraded shipping that no reship or expedite will use becomes a voucher for next time.
                    "upgrade_voucher": bool(alternative.get("upgraded_shipping")) and not needs_dispatch(context),
                    # One compensation per order and situation, whichever conversation asks.
                    "compensation_key": compensation_key(order["number"], situation),
                    # Checked again when it is paid: offers made together near a limit must not all pass.
                    "limits": self._limits_at_payment(turn),
                },
                idempotency_key=turn.key("issue_compensation"),
            )
        )
        instead = refund_asked_instead(offer, chosen)
        detail = {"row": offer["row"], "chosen": chosen, "alternative": alternative, "value": value,
                  "expires_on": offer["expires_on"]}  # fmt: skip
        if instead:
            detail["refund_instead"] = offer.get("refund_instead", "allow")
        self._audit(turn, "issued", "refund_instead" if instead else offer["row"], detail)

    def _dispatch(self, turn: _Turn, _: None) -> None:
        context = turn.context
        chosen = context["offer"]["alternatives"][context["chosen"]]
        kind = "reship" if chosen.get("reship") else "expedite"
        situation = context.get("situation", "late")
        turn.commands.append(
            CommandSpec(
                kind="dispatch",
                payload={
                    "order_number": context["order_number"],
                    "kind": kind,
                    "dispatch_key": f"dispatch:{context['order_number']}:{situation}",
                },
                idempotency_key=turn.key("dispatch"),
            )
        )

    def _escalate(self, turn: _Turn, arguments: EscalateArgs) -> None:
        if turn.escalation is None:
            turn.escalation = {"reasons": [], "priority": arguments.priority, "state": turn.snapshot.state}
            proposal = self._policy_terms(turn)
            if proposal:
                # The person starts from the offer the policy makes: row, alternatives, their values, terms.
                self._policy_escalation(turn, proposal)
                turn.escalation["proposal"] = proposal
        if arguments.reason not in turn.escalation["reasons"]:
            turn.escalation["reasons"].append(arguments.reason)
        for signal in turn.reading.anger_signals:  # what in the customer's words made it urgent
            if f"anger:{signal}" not in turn.escalation["reasons"]:
                turn.escalation["reasons"].append(f"anger:{signal}")
        if PRIORITY_RANK[arguments.priority] < PRIORITY_RANK[turn.escalation["priority"]]:
            turn.escalation["priority"] = arguments.priority

    def _policy_escalation(self, turn: _Turn, proposal: JSON) -> None:
        """When the policy decided this hand-over (a limit, a repeat claim, a refund asked instead, pushing
        back), the proposal names the rule and the audit log records it."""
        decided = next(
            (name for name in self._policy_guards.get(turn.transition, ()) if turn.reading.facts.get(name)),
            None,
        )
        if decided is None:
            return
        decision, rule = POLICY_GUARDS[decided]
        proposal["rule"] = rule
        if rule == "refund_instead":
            refunds = [index for index, data in enumerate(proposal["alternatives"]) if data.get("refund_percent")]
            proposal["request"] = {"refund": True, "alternative": refunds[0] if refunds else None}
        self._audit(turn, decision, rule, dict(proposal))

    def _count(self, turn: _Turn, counter: str) -> None:
        turn.context[counter] = turn.context.get(counter, 0) + 1

    def _reset(self, turn: _Turn, counter: str) -> None:
        turn.context[counter] = 0

    def _record_rating(self, turn: _Turn, _: None) -> None:
        turn.context["rating"] = turn.reading.rating

    def _relay_agent_text(self, turn: _Turn, _: None) -> None:
        text = turn.reading.agent_text
        if text:
            turn.outgoing.append(OutgoingMessage(author="agent", text=text, language=turn.language))
            # A person is already answering: a later raise must not tell the customer one will.
            turn.context.setdefault("waiting", {})["told"] = True

    # --- wording --------------------------------------------------------------------------------------

    def _values(self, turn: _Turn) -> Mapping[str, str]:
        return _Placeholders(self, turn)

    def placeholder(self, turn: _Turn, name: str) -> str:
        """One placeholder's value; texts ask only for the ones they use (an offer is costly to word)."""
        context = turn.context
        language = turn.language
        order = context.get("order") or {}
        shipment = context.get("shipment") or {}
        dispatch = context.get("dispatch") or {}
        match name:
            case "shop":
                return self.document.shop
            case "order_number":
                return str(context.get("order_number") or turn.reading.order_number or "")
            case "carrier":
                return _carrier_name(shipment.get("carrier") or "")
            case "tracking_number":
                return str(shipment.get("tracking_number") or "")
            case "eta":
                return format_date(context.get("expected_on") or shipment.get("estimated_delivery"), language)
            case "promised":
                return format_date(order.get("promised_on"), language)
            case "delivered_on":
                return format_date(shipment.get("delivered_on"), language)
            case "delay_days":
                return str(context.get("delay_days") or 0)
            case "delay":
                return _days(int(context.get("delay_days") or 0), language)
            case "news_carrier":
                return _carrier_name((context.get("news") or {}).get("carrier") or "")
            case "news_tracking_number":
                return str((context.get("news") or {}).get("tracking_number") or "")
            case "news_delivered_on":
                return format_date((context.get("news") or {}).get("delivered_on"), language)
            case "sla_in":
                return self._sla_in(turn)
            case "new_carrier":
                return _carrier_name(dispatch.get("carrier") or "")
            case "new_tracking_number":
                return str(dispatch.get("tracking_number") or "")
            case "new_eta":
                return format_date(dispatch.get("estimated_delivery"), language)
            case "compensation":
                compensation = context.get("compensation")
                return "" if compensation is None else self._issued_text(turn, compensation)
            case "offer" | "alternatives" | "expires":
                offer = context.get("offer")
                return "" if offer is None else self._offer_values(turn, offer)[name]
        return ""

    def _sla_in(self, turn: _Turn) -> str:
        """How long until a person answers, rounded up to five minutes, in the customer's language."""
        waiting = turn.context.get("waiting") or {}
        if not waiting.get("due_at"):
            return ""
        left = datetime.fromisoformat(waiting["due_at"]) - turn.event.occurred_at
        minutes = max(5, -(-int(left.total_seconds()) // 300) * 5)
        # Rounded up: a promise may be later than the SLA, never earlier ("2 hours" for 2 h 30 min is).
        if turn.language == "zh":
            return f"{minutes} 分钟" if minutes < 120 else f"{-(-minutes // 60)} 小时"
        if minutes < 120:
            return f"{minutes} minutes"
        return f"{-(-minutes // 60)} hours"

    def _offer_values(self, turn: _Turn, offer: JSON) -> dict[str, str]:
        """{offer} is the best alternative in words; {alternatives} the sentence offering the others."""
        language = turn.language
        described = [
            self._alternative_text(turn, data, offer["expires_on"], offer.get("minimum_spend"))
            for data in offer["alternatives"]
        ]
        alternatives = ""
        if len(described) > 1:
            rest = self.texts.join(described[1:], conjunction="join_or", language=language)
            alternatives = self.texts.render("offer_alternatives", language=language, values={"alternatives": rest})
        return {
            "offer": described[0],
            "alternatives": alternatives,
            "expires": format_date(offer["expires_on"], language),
        }

    def _alternative_text(self, turn: _Turn, data: JSON, expires: str, minimum: str | None = None) -> str:
        alternative = alternative_from(data)
        language = turn.language
        order = turn.context.get("order") or {}
        value = Decimal(str(order.get("value", "0")))
        currency = str(order.get("currency", ""))
        common = {"expires": format_date(expires, language), "minimum": self._minimum_text(minimum, currency, language)}
        parts: list[str] = []
        if alternative.reship:
            parts.append(self.texts.render("part_reship", language=language, values=common))
        if alternative.refund_percent:
            amount = format_money(value * alternative.refund_percent / 100, currency)
            key = "part_full_refund" if alternative.refund_percent == 100 else "part_refund"
            parts.append(self.texts.render(key, language=language, values={"amount": amount}))
        if alternative.coupon_order_value:
            values: dict[str, str] = {**common, "amount": format_money(value, currency)}
            parts.append(self.texts.render("part_coupon_order_value", language=language, values=values))
        if alternative.coupon_percent:
            values = {**common, "percent": str(alternative.coupon_percent)}
            parts.append(self.texts.render("part_coupon_percent", language=language, values=values))
        if alternative.free_shipping_coupon:
            parts.append(self.texts.render("part_free_shipping", language=language, values=common))
        if alternative.upgraded_shipping:
            parts.append(self.texts.render("part_upgraded_shipping", language=language, values=common))
        if alternative.points:
            parts.append(self._points_text(alternative.points, language, "part_points", "part_points_plain"))
        return self.texts.join(parts, conjunction="join_and", language=language)

    def _minimum_text(self, minimum: str | None, currency: str, language: str) -> str:
        """A coupon's minimum spend in words ({minimum}); a flow without these texts says nothing of it."""
        key = "coupon_minimum" if minimum else "coupon_no_minimum"
        if key not in self.document.texts:
            return ""
        values = {"amount": format_money(minimum, currency)} if minimum else {}
        return self.texts.render(key, language=language, values=values)

    def _points_text(self, points: int, language: str, with_reward: str, plain: str) -> str:
        reward = self._reward_for(points, language)
        key = with_reward if reward else plain
        return self.texts.render(key, language=language, values={"points": str(points), "reward": reward})

    def _reward_for(self, points: int, language: str) -> str:
        """The biggest catalogue reward the points cover: "500 points is a camping lamp"."""
        best = ""
        for item in sorted(self.document.policy.catalogue, key=lambda item: item.points):
            if item.points <= points:
                best = item.reward.get(language) or item.reward.get(self.document.default_language, "")  # type: ignore[call-overload]
        return best

    def _issued_text(self, turn: _Turn, issued: JSON) -> str:
        language = turn.language
        parts: list[str] = []
        if issued.get("refund"):
            amount = format_money(issued["refund"]["amount"], issued["refund"]["currency"])
            parts.append(self.texts.render("issued_refund", language=language, values={"amount": amount}))
        for coupon in issued.get("coupons", []):
            values = {"code": coupon["code"], "expires": format_date(coupon["expires_on"], language)}
            key = "issued_upgrade" if coupon.get("part") == "upgraded_shipping" else "issued_coupon"
            parts.append(self.texts.render(key, language=language, values=values))
        if issued.get("points"):
            parts.append(self._points_text(int(issued["points"]), language, "issued_points", "issued_points"))
        return " ".join(parts)


class _Placeholders(dict[str, str]):
    """Placeholder values worked out on first use and kept for the rest of the text."""

    def __init__(self, core: DecisionCore, turn: _Turn) -> None:
        super().__init__()
        self._core = core
        self._turn = turn

    def __missing__(self, name: str) -> str:
        value = self[name] = self._core.placeholder(self._turn, name)
        return value


# What an offer carries from the policy, for the customer's words, the issue and a person's proposal.
_TERMS = ("row", "alternatives", "values", "expires_on", "minimum_spend", "history")

_CARRIER_NAMES = {
    "ups": "UPS", "usps": "USPS", "fedex": "FedEx", "dhl": "DHL", "dhl_express": "DHL Express",
    "china-post": "China Post", "china-ems": "China EMS",
}  # fmt: skip


def _days(count: int, language: str) -> str:
    if language == "zh":
        return f"{count} 天"
    return f"{count} day" if count == 1 else f"{count} days"


def _carrier_name(slug: str) -> str:
    return _CARRIER_NAMES.get(slug.lower(), slug)
