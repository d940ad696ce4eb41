"""The shape of a flow document, and the checks that make a bad one fail loudly at the field.

A flow document is YAML an admin edits: states, transitions with guards and actions, every
customer-facing text in each language, settings, and the compensation policy. Parsing is two layers:
pydantic checks shapes and types; ``check_references`` checks that names point at something
(states, facts, actions, texts, placeholders). Both report ``path.to.field: what is wrong``.
"""

from __future__ import annotations

import re
import string
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flows.escalation import Escalation
from flows.vocabulary import ACTIONS, COUNTERS, EVENTS, FACTS, PRIORITIES

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER)]
Language = Literal["en", "zh"]
Situation = Literal["late", "customs", "lost", "damaged", "unshippable"]
TierName = Literal["new", "regular", "vip"]

# Names a text may interpolate. Unknown placeholders are refused at load time, not at send time.
PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "order_number", "carrier", "tracking_number", "eta", "promised", "delivered_on", "delay_days",
        "delay", "offer", "alternatives", "compensation", "expires", "new_tracking_number", "new_carrier",
        "new_eta", "shop", "points", "reward", "percent", "amount", "code", "items", "news_carrier",
        "news_tracking_number", "news_delivered_on", "sla_in", "minimum",
    }
)  # fmt: skip

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def duration_seconds(text: str) -> int:
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration (use e.g. 90s, 30m, 24h, 2d)")
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


class Timeout(_Strict):
    after: str

    @field_validator("after")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        duration_seconds(value)
        return value


class StateSpec(_Strict):
    description: str = ""
    final: bool = False
    timeout: Timeout | None = None


class EscalateArgs(_Strict):
    reason: Identifier
    priority: Literal["urgent", "high", "normal", "low"] = "normal"


class Action(_Strict):
    """One entry of a transition's ``do`` list: a single-key mapping ``{action: argument}``."""

    name: str
    argument: str | EscalateArgs | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_mapping(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            return {"name": raw}
        if isinstance(raw, dict) and "name" not in raw:
            if len(raw) != 1:
                raise ValueError(f"an action is one mapping like {{say: text_key}}, got keys {sorted(raw)}")
            ((name, argument),) = raw.items()
            return {"name": name, "argument": argument}
        return raw

    @model_validator(mode="after")
    def _argument_fits(self) -> Action:
        if self.name not in ACTIONS:
            raise ValueError(f"unknown action {self.name!r}; known actions: {', '.join(sorted(ACTIONS))}")
        needs_text = {"say"}
        needs_counter = {"count", "reset"}
        if self.name in needs_text and not isinstance(self.argument, str):
            raise ValueError(f"{self.name} takes a text key, e.g. {{{self.name}: ask_order}}")
        if self.name in needs_counter and self.argument not in COUNTERS:
            raise ValueError(f"{self.name} takes one of the counters {sorted(COUNTERS)}")
        if self.name == "escalate" and not isinstance(self.argument, EscalateArgs):
            raise ValueError(f"escalate takes {{reason: ..., priority: {'|'.join(PRIORITIES)}}}")
        if self.name not in needs_text | needs_counter | {"escalate"} and self.argument is not None:
            raise ValueError(f"{self.name} takes no argument")
        return self


class Transition(_Strict):
    event: str
    source: list[Identifier] = Field(alias="from")
    target: Identifier = Field(alias="to")
    when: str | None = None
    do: list[Action] = []
    description: str = ""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        if value not in EVENTS:
            raise ValueError(f"unknown event {value!r}; known events: {', '.join(sorted(EVENTS))}")
        return value

    @field_validator("when")
    @classmethod
    def _guard_expression(cls, value: str | None) -> str | None:
        if value is not None:
            guard_names(value)
        return value


_GUARD_TOKEN = re.compile(r"\s*(?:(\()|(\))|([a-z_][a-z0-9_]*))")


def guard_names(expression: str) -> list[str]:
    """The fact names in a guard; refuses anything but names, and/or/not and parentheses."""
    names: list[str] = []
    position, depth, expect_operand = 0, 0, True
    text = expression.rstrip()
    while position < len(text):
        match = _GUARD_TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"guard {expression!r}: unexpected {text[position:].strip()[:20]!r}")
        position = match.end()
        opening, closing, word = match.groups()
        if opening:
            if not expect_operand:
                raise ValueError(f"guard {expression!r}: '(' where an operator was expected")
            depth += 1
        elif closing:
            depth -= 1
            if depth < 0 or expect_operand:
                raise ValueError(f"guard {expression!r}: unbalanced ')'")
        elif word in ("and", "or"):
            if expect_operand:
                raise ValueError(f"guard {expression!r}: {word!r} needs something on its left")
            expect_operand = True
        elif word == "not":
            if not expect_operand:
                raise ValueError(f"guard {expression!r}: 'not' where an operator was expected")
        else:
            if not expect_operand:
                raise ValueError(f"guard {expression!r}: missing 'and'/'or' before {word!r}")
            if word not in FACTS:
                raise ValueError(
                    f"guard {expression!r}: unknown fact {word!r}; known facts: {', '.join(sorted(FACTS))}"
                )
            names.append(word)
            expect_operand = False
    if depth != 0 or expect_operand:
        raise ValueError(f"guard {expression!r} is incomplete")
    return names


LocalizedText = dict[Language, str]


class TextEntry(_Strict):
    """A text in every language, or variants of it picked by situation or concern."""

    languages: LocalizedText | None = None
    variants: dict[Identifier, LocalizedText] | None = None

    @model_validator(mode="before")
    @classmethod
    def _detect_form(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and not ({"languages", "variants"} & set(raw)):
            if all(isinstance(value, str) for value in raw.values()):
                return {"languages": raw}
            return {"variants": raw}
        return raw

    @model_validator(mode="after")
    def _has_default(self) -> TextEntry:
        if self.variants is not None and "default" not in self.variants:
            raise ValueError("a text with variants needs a 'default' variant")
        return self

    def all_localized(self) -> dict[str, LocalizedText]:
        if self.languages is not None:
            return {"default": self.languages}
        assert self.variants is not None
        return dict(self.variants)


class OrderNumberSettings(_Strict):
    pattern: str = r"#?[A-Z]{0,4}-?\d{3,12}"
    min_digits: int = Field(3, ge=1, le=30)
    max_digits: int = Field(12, ge=1, le=30)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        return value


class Settings(_Strict):
    timezone: str = "UTC"  # the shop's IANA zone: lateness is counted in the shop's calendar days
    max_order_attempts: int = Field(3, ge=1, le=10)
    max_unclear_replies: int = Field(2, ge=0, le=10)
    high_value_threshold: Decimal = Field(Decimal(500), ge=0)
    low_rating: int = Field(2, ge=1, le=5)
    order_number: OrderNumberSettings = OrderNumberSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone (e.g. UTC, America/New_York, Asia/Shanghai)"
            ) from None
        return value


class Alternative(_Strict):
    """One remedy the customer may choose; its parts add up (e.g. a full refund plus 1000 points)."""

    points: int | None = Field(None, ge=1)
    coupon_percent: int | None = Field(None, ge=1, le=100)
    free_shipping_coupon: bool = False
    coupon_order_value: bool = False  # a coupon worth what the customer paid for the order
    refund_percent: int | None = Field(None, ge=1, le=100)
    reship: bool = False
    upgraded_shipping: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> Alternative:
        if not (
            self.points or self.coupon_percent or self.free_shipping_coupon or self.coupon_order_value
            or self.refund_percent or self.reship or self.upgraded_shipping
        ):  # fmt: skip
            raise ValueError("an alternative needs at least one part (points, coupon_percent, refund_percent, ...)")
        return self


class DelayBand(_Strict):
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> DelayBand:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self

    def contains(self, days: int) -> bool:
        return (self.min is None or days >= self.min) and (self.max is None or days <= self.max)


class PolicyRow(_Strict):
    id: Identifier
    description: str = ""
    situations: list[Situation] = Field(min_length=1)
    delay_days: DelayBand = DelayBand()
    tiers: list[TierName] = ["new", "regular", "vip"]
    offer: list[Alternative] = Field(min_length=1)  # the best first: it is what the bot offers first
    # Overrides of the policy's coupon terms for this row; unset takes the policy's.
    coupon_expiry_days: int | None = Field(None, ge=30, le=90)
    minimum_spend: Decimal | None = Field(None, ge=0)  # 0: no minimum, even when the policy sets one


class CatalogueItem(_Strict):
    points: int = Field(ge=1)
    reward: LocalizedText


class CustomerCap(_Strict):
    """At most ``compensations`` per customer over the last ``window_days``; the next goes to a person."""

    compensations: int = Field(3, ge=1, le=100)
    window_days: int = Field(90, ge=1, le=730)


class PolicyLimits(_Strict):
    """What the bot may give away on its own; past a limit a person decides, with the proposal ready.

    One compensation per order and situation is not a setting: it is the compensation's unique key.
    """

    customer_cap: CustomerCap | None = CustomerCap()  # None: no cap
    # Store currency per calendar day in settings.timezone, counted over what was issued that day and the
    # most the new offer can cost. None: no budget.
    daily_budget: Decimal | None = Field(Decimal(2000), ge=0)


class Policy(_Strict):
    version: int = Field(1, ge=1)
    coupon_expiry_days: int = Field(60, ge=30, le=90)
    minimum_spend: Decimal | None = Field(None, ge=0)  # None or 0: coupons without a minimum spend
    bot_approval_limit: Decimal = Field(Decimal(500), ge=0)
    point_value: Decimal = Field(Decimal("0.01"), gt=0)
    # A customer asking for the row's refund in place of the offer: paid by the bot (allow), or handed to a
    # person with the request recorded (person). Either way, only a row with a refund alternative has one.
    refund_instead: Literal["allow", "person"] = "allow"
    limits: PolicyLimits = PolicyLimits()
    catalogue: list[CatalogueItem] = []
    rows: list[PolicyRow] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_row_ids(self) -> Policy:
        seen: set[str] = set()
        for row in self.rows:
            if row.id in seen:
                raise ValueError(f"policy row id {row.id!r} is used twice")
            seen.add(row.id)
        return self


class FlowDocument(_Strict):
    flow: Identifier
    version: int = Field(ge=1)
    description: str = ""
    languages: list[Language] = Field(min_length=1)
    default_language: Language
    shop: str = "our shop"
    initial: Identifier
    settings: Settings = Settings()
    states: dict[Identifier, StateSpec] = Field(min_length=2)
    transitions: list[Transition] = Field(min_length=1)
    texts: dict[Identifier, TextEntry]
    policy: Policy
    escalation: Escalation = Escalation()


class FlowReferenceError(ValueError):
    """A reference that points nowhere, with the path of the field that holds it."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


def check_references(document: FlowDocument) -> list[tuple[str, str]]:
    """Names that point nowhere, missing languages, bad placeholders, as (field path, message)."""
    problems: list[tuple[str, str]] = []
    states = document.states
    if document.initial not in states:
        problems.append(("initial", f"{document.initial!r} is not one of the states"))
    if document.default_language not in document.languages:
        problems.append(("default_language", f"{document.default_language!r} is not in languages"))
    for index, transition in enumerate(document.transitions):
        where = f"transitions[{index}]"
        for position, source in enumerate(transition.source):
            if source not in states:
                problems.append((f"{where}.from[{position}]", f"{source!r} is not one of the states"))
            elif states[source].final:
                problems.append((f"{where}.from[{position}]", f"{source!r} is final: nothing leaves it"))
        if transition.target not in states:
            problems.append((f"{where}.to", f"{transition.target!r} is not one of the states"))
        for position, action in enumerate(transition.do):
            if action.name == "say" and action.argument not in document.texts:
                problems.append((f"{where}.do[{position}].say", f"no text named {action.argument!r} in texts"))
    formatter = string.Formatter()
    for key, entry in document.texts.items():
        for variant, localized in entry.all_localized().items():
            path = f"texts.{key}" if entry.languages is not None else f"texts.{key}.{variant}"
            for language in document.languages:
                if not localized.get(language, "").strip():
                    problems.append((f"{path}.{language}", "missing: every text needs every language"))
            for language, text in localized.items():
                try:
                    fields = [name for _, name, _, _ in formatter.parse(text) if name is not None]
                except ValueError as error:
                    problems.append((f"{path}.{language}", f"bad placeholder syntax: {error}"))
                    continue
                for name in fields:
                    if name not in PLACEHOLDERS:
                        problems.append(
                            (
                                f"{path}.{language}",
                                f"unknown placeholder {{{name}}}; known: {sorted(PLACEHOLDERS)}",
                            )
                        )
    for index, item in enumerate(document.policy.catalogue):
        for language in document.languages:
            if not item.reward.get(language, "").strip():
                problems.append((f"policy.catalogue[{index}].reward.{language}", "missing"))
    return problems
