"""The compensation policy, proven row by row through the real runtime, and its limits and audit log.

Each row of the seed's table (seeds/000: tiered compensation by delay and customer) is one case: a
customer of that tier writes about an order in that situation, and the bot's one offer must be the
row's, best first, each alternative's value in words (points as a catalogue reward, amounts in the
store's currency) with the coupons' expiry date. The shop is this file's own demo data (``DEMO``),
every order worth 40.00 USD; the clock stands at 2026-11-23, so coupons (60 days) run until Jan 22.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import insert

from bot.conversation import ConversationSnapshot, Event
from bot.core.step import DecisionCore
from bot.storage.tables import COMPENSATIONS, Compensation, PolicyDecision
from flows.compiler import compile_flow
from flows.loader import DEFAULT_FLOW_PATH, FlowDefinitionError, load_default_flow, parse_flow
from tests.harness import START, Bot, make_bot

NEW, REGULAR, VIP, STRANGER = "1600000001", "1600000002", "1600000003", "1600000004"
SHOP_ID = {NEW: "n1", REGULAR: "r1", VIP: "v1"}  # the shop's customer ids, which compensations record

DEMO = """
shop: {name: Policy Test Shop, currency: USD, timezone: America/New_York}
customers:
  - {id: n1, x_user_id: "1600000001", handle: new_one, name: New One, tier: new}
  - {id: r1, x_user_id: "1600000002", handle: regular_one, name: Regular One, tier: regular}
  - {id: v1, x_user_id: "1600000003", handle: vip_one, name: Vip One, tier: vip}
  - {id: s1, x_user_id: "1600000004", handle: stranger, name: Stranger, tier: regular}
orders:
  - {number: "41001", customer: n1, value: "40.00", placed: today-9, promised: today-1}
  - {number: "41002", customer: n1, value: "40.00", placed: today-9, promised: today-3}
  - {number: "41003", customer: r1, value: "40.00", placed: today-9, promised: today-2}
  - {number: "41004", customer: r1, value: "40.00", placed: today-9, promised: today-3}
  - {number: "41005", customer: v1, value: "40.00", placed: today-9, promised: today-1}
  - {number: "41006", customer: v1, value: "40.00", placed: today-9, promised: today-3}
  - {number: "41007", customer: n1, value: "40.00", placed: today-12, promised: today-4}
  - {number: "41008", customer: r1, value: "40.00", placed: today-12, promised: today-7}
  - {number: "41009", customer: v1, value: "40.00", placed: today-12, promised: today-5}
  - {number: "41010", customer: r1, value: "40.00", placed: today-20, promised: today-8}
  - {number: "41011", customer: v1, value: "40.00", placed: today-20, promised: today-12}
  - number: "41012"
    customer: r1
    value: "40.00"
    placed: today-2
    promised: today+8
    shipments:
      - {carrier: usps, tracking_number: "9400111201081726049381", status: pending, exception: unshippable}
  - number: "41013"
    customer: r1
    value: "40.00"
    placed: today-30
    promised: today-9
    shipments:
      - {carrier: china-post, tracking_number: RR831506275CN, status: exception, exception: lost}
  - number: "41014"
    customer: n1
    value: "40.00"
    placed: today-7
    promised: today
    shipments:
      - {carrier: ups, tracking_number: 1Z9W4E610351803943, status: delivered, exception: damaged, delivered: today-1}
  - number: "41015"
    customer: v1
    value: "40.00"
    placed: today-14
    promised: today-1
    shipments:
      - {carrier: dhl, tracking_number: "6173049256", status: exception, exception: customs_hold,
         estimated_delivery: today+4}
  - {number: "41016", customer: s1, value: "40.00", placed: today-9, promised: today-2}
  - {number: "41017", customer: n1, value: "40.00", placed: today-9, promised: today-2}
"""

EXPIRES = "2027-01-22"  # 2026-11-23 + policy.coupon_expiry_days (60)

# Each alternative in words, as the customer reads it.
POINTS_300 = ("300 points (enough for a set of woven coasters)", "300 积分(足够兑换一套手工编织杯垫)")
POINTS_500 = ("500 points (enough for a brass camping lantern)", "500 积分(足够兑换一盏黄铜露营灯)")
POINTS_1000 = ("1000 points (enough for a hand-loomed throw blanket)", "1000 积分(足够兑换一条手工织毯)")


def _coupon(percent: int) -> tuple[str, str]:
    return (
        f"a {percent}% coupon for your next order with no minimum spend, valid until Jan 22",
        f"一张下次可用的 {percent}% 折扣券(无门槛),有效期至 1月22日",
    )


FREE_SHIPPING = (
    "a free-shipping coupon with no minimum spend, valid until Jan 22",
    "一张免运费券(无门槛),有效期至 1月22日",
)
PARTIAL_REFUND = ("a refund of 8.00 USD", "退款 8.00 USD")
FULL_REFUND_AND_POINTS = (f"a full refund of 40.00 USD and {POINTS_1000[0]}", f"全额退款 40.00 USD + {POINTS_1000[1]}")
COUPON_AND_UPGRADE = (
    "a coupon worth the full 40.00 USD you paid with no minimum spend, valid until Jan 22 and free upgraded express "
    "shipping",
    "一张与您订单等值(40.00 USD)的优惠券(无门槛),有效期至 1月22日 + 免费升级为加急快递",
)
RESHIP_FIRST = (
    f"a replacement sent right away and free upgraded express shipping and {POINTS_1000[0]}",
    f"立即为您补发一件 + 免费升级为加急快递 + {POINTS_1000[1]}",
)


@dataclass(frozen=True)
class Offer:
    row: str  # the policy row's id
    alternatives: list[dict[str, Any]]
    values: list[str]  # what each alternative costs the shop, store currency
    words: list[tuple[str, str]]  # each alternative in words (en, zh), best first


STANDARD_1_3 = Offer("late_1_3_standard", [{"points": 300}, {"coupon_percent": 5}], ["3.00", "0.00"],
                     [POINTS_300, _coupon(5)])  # fmt: skip
VIP_1_3 = Offer("late_1_3_vip", [{"points": 500}, {"coupon_percent": 10}, {"free_shipping_coupon": True}],
                ["5.00", "0.00", "0.00"], [POINTS_500, _coupon(10), FREE_SHIPPING])  # fmt: skip
LATE_4_7 = Offer("late_4_7", [{"points": 1000}, {"coupon_percent": 20}, {"refund_percent": 20}],
                 ["10.00", "0.00", "8.00"], [POINTS_1000, _coupon(20), PARTIAL_REFUND])  # fmt: skip
FULL_REFUND = [{"refund_percent": 100, "points": 1000}, {"coupon_order_value": True, "upgraded_shipping": True}]
LATE_OVER_7 = Offer("late_over_7", FULL_REFUND, ["50.00", "40.00"], [FULL_REFUND_AND_POINTS, COUPON_AND_UPGRADE])
CANNOT_SHIP = Offer("cannot_ship", FULL_REFUND, ["50.00", "40.00"], [FULL_REFUND_AND_POINTS, COUPON_AND_UPGRADE])
RESHIP = {"reship": True, "upgraded_shipping": True, "points": 1000}
LOST_OR_DAMAGED = Offer("lost_or_damaged", [RESHIP, *FULL_REFUND], ["50.00", "50.00", "40.00"],
                        [RESHIP_FIRST, FULL_REFUND_AND_POINTS, COUPON_AND_UPGRADE])  # fmt: skip

# (customer, order, the offer the seed's row grants), one per row of the table and its edges.
SEED_ROWS = {
    "1-3 days, new customer, 1 day late": (NEW, "41001", STANDARD_1_3),
    "1-3 days, new customer, 3 days late": (NEW, "41002", STANDARD_1_3),
    "1-3 days, regular member, 2 days late": (REGULAR, "41003", STANDARD_1_3),
    "1-3 days, regular member, 3 days late": (REGULAR, "41004", STANDARD_1_3),
    "1-3 days, VIP, 1 day late": (VIP, "41005", VIP_1_3),
    "1-3 days, VIP, 3 days late": (VIP, "41006", VIP_1_3),
    "4-7 days, new customer, 4 days late": (NEW, "41007", LATE_4_7),
    "4-7 days, regular member, 7 days late": (REGULAR, "41008", LATE_4_7),
    "4-7 days, VIP, 5 days late": (VIP, "41009", LATE_4_7),
    "4-7 days, customs hold, VIP, 5 days late": (VIP, "41015", LATE_4_7),
    "over 7 days, regular member, 8 days late": (REGULAR, "41010", LATE_OVER_7),
    "over 7 days, VIP, 12 days late": (VIP, "41011", LATE_OVER_7),
    "cannot ship": (REGULAR, "41012", CANNOT_SHIP),
    "lost: express reship and 1000 points first": (REGULAR, "41013", LOST_OR_DAMAGED),
    "damaged: express reship and 1000 points first": (NEW, "41014", LOST_OR_DAMAGED),
}

ASK = {"en": "order {} is late, what can you do?", "zh": "订单{}的包裹到现在还没到,怎么办?"}
OFFER_OPENING = {"en": "I'd like to offer you ", "zh": "我想为您提供:"}


def _demo(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(DEMO, encoding="utf-8")
    return path


def _flow(tmp_path: Path, **policy: Any) -> Path:
    """The default flow with some policy settings changed (``rows`` as a function of the rows)."""
    document = yaml.safe_load(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))
    for name, value in policy.items():
        document["policy"][name] = value(document["policy"][name]) if callable(value) else value
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _bot(tmp_path: Path, **settings: Any) -> Bot:
    return make_bot(tmp_path, demo_data=_demo(tmp_path), **settings)


def _coupons_held(bot: Bot) -> dict[str, tuple[str, Decimal | None, str]]:
    """The coupons the sandbox shop made, by code: (the part they pay, their minimum spend, last day)."""
    held = {}
    for record in bot.app.sandbox.ledger.records("coupon"):
        coupon = record["payload"]["result"]
        minimum = None if coupon["minimum_spend"] is None else Decimal(coupon["minimum_spend"])
        held[coupon["code"]] = (record["key"].rsplit(":", 1)[1], minimum, coupon["expires_on"])
    return held


def _audit(bot: Bot) -> list[tuple[str, str]]:
    return [(row["decision"], row["rule"]) for row in bot.rows(PolicyDecision)]


def _compensated(bot: Bot, customer: str, order: str, situation: str, *, at: datetime, value: str = "3.00") -> None:
    """An earlier compensation, as the executor records it."""
    with bot.app.engine.begin() as connection:
        connection.execute(
            insert(COMPENSATIONS),
            [
                {
                    "idempotency_key": f"compensation:{order}:{situation}", "conversation_id": 999,
                    "order_number": order, "customer_id": customer, "situation": situation,
                    "policy_row": "late_1_3_standard", "alternative": {"points": 300}, "value": value,
                    "status": "issued", "result": {}, "created_at": at, "issued_at": at,
                }
            ],
        )  # fmt: skip


# --- the table as data -----------------------------------------------------------------------------


def test_the_default_policy_is_the_seed_table() -> None:
    policy = load_default_flow().document.policy
    table = [
        (row.id, row.situations, (row.delay_days.min, row.delay_days.max), row.tiers,
         [alternative.model_dump(exclude_defaults=True) for alternative in row.offer])
        for row in policy.rows
    ]  # fmt: skip
    everyone = ["new", "regular", "vip"]
    assert table == [
        ("late_1_3_standard", ["late", "customs"], (1, 3), ["new", "regular"], STANDARD_1_3.alternatives),
        ("late_1_3_vip", ["late", "customs"], (1, 3), ["vip"], VIP_1_3.alternatives),
        ("late_4_7", ["late", "customs"], (4, 7), everyone, LATE_4_7.alternatives),
        ("late_over_7", ["late", "customs"], (8, None), everyone, FULL_REFUND),
        ("lost_or_damaged", ["lost", "damaged"], (None, None), everyone, LOST_OR_DAMAGED.alternatives),
        ("cannot_ship", ["unshippable"], (None, None), everyone, FULL_REFUND),
    ]
    # The playbook's terms: coupons expire in 30-90 days (60 here), with no minimum spend.
    assert (policy.coupon_expiry_days, policy.minimum_spend) == (60, None)
    assert all(row.coupon_expiry_days is None and row.minimum_spend is None for row in policy.rows)
    assert policy.refund_instead == "allow"
    assert policy.limits.customer_cap is not None
    assert (policy.limits.customer_cap.compensations, policy.limits.customer_cap.window_days) == (3, 90)
    assert policy.limits.daily_budget == Decimal(2000)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("name", list(SEED_ROWS))
async def test_the_seed_table_row_by_row(tmp_path: Path, name: str, language: str) -> None:
    customer, order, case = SEED_ROWS[name]
    bot = _bot(tmp_path)
    answer = "\n".join(await bot.send(customer, ASK[language].format(order)))
    index = 0 if language == "en" else 1
    best, *others = [words[index] for words in case.words]
    # One offer, the best first, every alternative in words with its value and the coupons' expiry date.
    assert OFFER_OPENING[language] + best in answer, answer
    for other in others:
        assert other in answer, answer
    conversation = bot.conversation(customer)
    assert conversation["state"] == "offer_compensation"
    offer = conversation["context"]["offer"]
    assert (offer["row"], offer["alternatives"], offer["values"]) == (case.row, case.alternatives, case.values)
    assert (offer["expires_on"], offer["minimum_spend"]) == (EXPIRES, None)
    assert _audit(bot) == [("offered", case.row)]
    decision = bot.rows(PolicyDecision)[0]
    assert (decision["order_number"], decision["customer_id"]) == (order, SHOP_ID[customer])
    assert decision["detail"]["values"] == case.values


async def test_a_row_sets_its_own_coupon_terms(tmp_path: Path) -> None:
    def shorter(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0].update(coupon_expiry_days=30, minimum_spend=25)
        return rows

    bot = _bot(tmp_path, flow_file=_flow(tmp_path, rows=shorter))
    answer = "".join(await bot.send(NEW, "order 41001 is late"))
    assert "a 5% coupon for your next order on orders of 25.00 USD or more, valid until Dec 23" in answer
    offer = bot.conversation(NEW)["context"]["offer"]
    assert (offer["expires_on"], offer["minimum_spend"]) == ("2026-12-23", "25")
    # The customer's choice is issued on those terms, and the code the shop made needs that minimum.
    said = "".join(await bot.send(NEW, "I'll take the coupon"))
    issue = bot.commands(kind="issue_compensation")[0]["payload"]
    assert (issue["expires_on"], issue["minimum_spend"]) == ("2026-12-23", "25")
    (code,) = re.findall(r"coupon code is (SORRY-\w+)", said)
    assert _coupons_held(bot) == {code: ("coupon_percent", Decimal("25"), "2026-12-23")}


async def test_the_order_value_coupon_keeps_the_minimum_and_the_express_voucher_has_none(tmp_path: Path) -> None:
    def with_minimum(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            row["minimum_spend"] = 25
        return rows

    bot = _bot(tmp_path, flow_file=_flow(tmp_path, rows=with_minimum))
    offer = "".join(await bot.send(REGULAR, "my parcel for order 41013 is lost"))
    # Both were offered as the customer reads them: the coupon with its minimum, the upgrade without one.
    assert "a coupon worth the full 40.00 USD you paid on orders of 25.00 USD or more" in offer, offer
    assert "and free upgraded express shipping instead" in offer, offer
    said = "".join(await bot.send(REGULAR, "I'll take the coupon"))

    upgrade = re.findall(r"ships by express for free with code (SORRY-\w+)", said)
    coupon = re.findall(r"coupon code is (SORRY-\w+)", said)
    assert _coupons_held(bot) == {
        upgrade[0]: ("upgraded_shipping", None, EXPIRES),
        coupon[0]: ("coupon_order_value", Decimal("25"), EXPIRES),
    }


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        ("limits", {"customer_cap": {"compensations": 0}}, "policy.limits.customer_cap.compensations", "greater"),
        ("limits", {"customer_cap": {"window_days": 0}}, "policy.limits.customer_cap.window_days", "greater"),
        ("limits", {"customer_cap": {"per": 3}}, "policy.limits.customer_cap.per", "Extra inputs"),
        ("limits", {"daily_budget": -1}, "policy.limits.daily_budget", "greater than or equal to 0"),
        ("limits", {"budget": 100}, "policy.limits.budget", "Extra inputs"),
        ("refund_instead", "sometimes", "policy.refund_instead", "'allow' or 'person'"),
        ("rows", [{"id": "r", "situations": ["late"], "offer": [{"points": 1}], "coupon_expiry_days": 120}],
         "policy.rows[0].coupon_expiry_days", "less than or equal to 90"),
        ("rows", [{"id": "r", "situations": ["late"], "offer": [{"points": 1}], "minimum_spend": -5}],
         "policy.rows[0].minimum_spend", "greater than or equal to 0"),
    ],
)  # fmt: skip
def test_a_bad_policy_is_refused_naming_the_field(path: str, value: object, field: str, words: str) -> None:
    document = yaml.safe_load(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))
    document["policy"][path] = value
    with pytest.raises(FlowDefinitionError) as caught:
        parse_flow(yaml.safe_dump(document, allow_unicode=True), source="policy.yaml")
    assert any(where == field and words in message for where, message in caught.value.problems), caught.value.problems


def test_limits_can_be_switched_off() -> None:
    document = yaml.safe_load(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))
    document["policy"]["limits"] = {"customer_cap": None, "daily_budget": None}
    limits = parse_flow(yaml.safe_dump(document, allow_unicode=True)).document.policy.limits
    assert (limits.customer_cap, limits.daily_budget) == (None, None)


# --- best offer first, never raised ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ask", "push", "state", "audit"),
    [
        ("order 41003 is late", "that's not enough", "offer_compensation", []),
        ("order 41003 is late", "no, that's not enough, I want more", "human", [("refused", "no_raise")]),
        ("订单41003迟到了", "我要更多", "offer_compensation", []),
        ("订单41003迟到了", "不行,太少了,我要更多", "human", [("refused", "no_raise")]),
    ],
)
async def test_pushing_back_never_raises_the_offer(
    tmp_path: Path, ask: str, push: str, state: str, audit: list[tuple[str, str]]
) -> None:
    bot = _bot(tmp_path)
    first = "".join(await bot.send(REGULAR, ask))
    offered = bot.conversation(REGULAR)["context"]["offer"]
    pushed = "".join(await bot.send(REGULAR, push))
    conversation = bot.conversation(REGULAR)
    assert conversation["state"] == state
    # Nothing bigger, ever: the same offer restated, or a person who starts from it.
    for bigger in ("500", "1000", "10%", "20%", "退款", "refund"):
        assert bigger not in first + pushed
    assert conversation["context"]["offer"] == offered
    if state == "offer_compensation":
        assert ("300 points" in pushed) or ("300 积分" in pushed)
    else:
        assert bot.escalations()[0]["proposal"]["alternatives"] == offered["alternatives"]
    assert _audit(bot) == [("offered", "late_1_3_standard"), *audit]
    assert bot.rows(Compensation) == []


@pytest.mark.parametrize(("ask", "pushes"), [
    ("order 41003 is late", ("that's not enough", "still not enough, give me more")),
    ("订单41003迟到了", ("我要更多", "还是太少了")),
])  # fmt: skip
async def test_pushing_back_twice_goes_to_a_person_and_the_audit_log_says_why(
    tmp_path: Path, ask: str, pushes: tuple[str, str]
) -> None:
    bot = _bot(tmp_path)
    await bot.send(REGULAR, ask)
    for push in pushes:
        await bot.send(REGULAR, push)

    assert bot.conversation(REGULAR)["state"] == "human"
    assert bot.escalations()[0]["proposal"]["rule"] == "no_raise"
    assert _audit(bot) == [("offered", "late_1_3_standard"), ("refused", "no_raise")]


async def test_a_customer_compensated_recently_gets_the_rows_offer_and_no_more(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    for days_ago, order in ((10, "41001"), (40, "41002")):  # two this quarter: under the cap of three
        _compensated(bot, "r1", order, "late", at=START - timedelta(days=days_ago))
    answer = "".join(await bot.send(REGULAR, "order 41008 is late"))
    assert "1000 points" in answer  # the 4-7 day row, as for anyone
    offer = bot.conversation(REGULAR)["context"]["offer"]
    assert offer["alternatives"] == LATE_4_7.alternatives
    assert offer["history"]["customer_compensations"] == 2
    assert bot.rows(PolicyDecision)[0]["detail"]["history"]["customer_compensations"] == 2


# --- limits ------------------------------------------------------------------------------------------


async def test_a_customer_at_the_cap_goes_to_a_person_with_the_proposal(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    for days_ago, order in ((5, "41001"), (30, "41002"), (89, "41004")):
        _compensated(bot, "r1", order, "late", at=START - timedelta(days=days_ago))
    answer = "".join(await bot.send(REGULAR, "order 41008 is late"))
    assert "teammate needs to approve it" in answer
    assert "1000 points" not in answer
    assert bot.conversation(REGULAR)["state"] == "human"
    (escalation,) = bot.escalations()
    assert escalation["reasons"] == ["customer_cap"]
    proposal = escalation["proposal"]
    assert (proposal["row"], proposal["alternatives"], proposal["values"]) == (
        "late_4_7", LATE_4_7.alternatives, LATE_4_7.values
    )  # fmt: skip
    assert (proposal["rule"], proposal["expires_on"], proposal["history"]["customer_compensations"]) == (
        "customer_cap", EXPIRES, 3
    )  # fmt: skip
    assert _audit(bot) == [("escalated", "customer_cap")]
    assert bot.rows(Compensation, conversation_id=bot.conversation(REGULAR)["id"]) == []


async def test_compensations_outside_the_window_or_failed_do_not_count(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    for days_ago, order in ((91, "41001"), (120, "41002"), (200, "41004")):
        _compensated(bot, "r1", order, "late", at=START - timedelta(days=days_ago))
    _compensated(bot, "r1", "41003", "lost", at=START - timedelta(days=1))
    with bot.app.engine.begin() as connection:
        connection.execute(COMPENSATIONS.update().where(COMPENSATIONS.c.situation == "lost").values(status="failed"))
    assert "1000 points" in "".join(await bot.send(REGULAR, "order 41008 is late"))
    assert _audit(bot) == [("offered", "late_4_7")]


@pytest.mark.parametrize(("issued_today", "state"), [("1990.00", "offer_compensation"), ("1990.01", "human")])
async def test_the_daily_budget(tmp_path: Path, issued_today: str, state: str) -> None:
    bot = _bot(tmp_path)
    # Today in the shop's zone (New York) began at 05:00 UTC; 04:59 UTC is yesterday there and does not count.
    _compensated(bot, "n1", "41001", "late", at=datetime(2026, 11, 23, 5, 0, tzinfo=UTC), value=issued_today)
    _compensated(bot, "n1", "41002", "late", at=datetime(2026, 11, 23, 4, 59, tzinfo=UTC), value="500.00")
    await bot.send(REGULAR, "order 41008 is late")  # the 4-7 day row: at most 10.00 (1000 points)
    assert bot.conversation(REGULAR)["state"] == state
    if state == "human":
        (escalation,) = bot.escalations()
        assert escalation["reasons"] == ["daily_budget"]
        assert escalation["proposal"]["rule"] == "daily_budget"
        assert escalation["proposal"]["history"]["issued_today"] == issued_today
        assert _audit(bot) == [("escalated", "daily_budget")]
    else:
        assert _audit(bot) == [("offered", "late_4_7")]


async def test_what_the_bot_issues_counts_against_the_budget(tmp_path: Path) -> None:
    bot = _bot(tmp_path, flow_file=_flow(tmp_path, limits={"daily_budget": 55}))
    await bot.send(REGULAR, "order 41010 is late")  # over 7 days: full refund + 1000 points, 50.00
    await bot.send(REGULAR, "yes")
    assert [row["value"] for row in bot.rows(Compensation)] == ["50.00"]
    await bot.send(VIP, "order 41009 is late")  # 50.00 issued today + up to 10.00 > 55
    assert bot.conversation(VIP)["state"] == "human"
    assert [row["reasons"] for row in bot.escalations()] == [["daily_budget"]]
    assert _audit(bot) == [
        ("offered", "late_over_7"), ("issued", "late_over_7"), ("escalated", "daily_budget")
    ]  # fmt: skip


async def test_an_offer_above_the_approval_limit_goes_to_a_person_with_the_proposal(tmp_path: Path) -> None:
    bot = _bot(tmp_path, flow_file=_flow(tmp_path, bot_approval_limit=45))
    answer = "".join(await bot.send(REGULAR, "order 41013 is lost"))  # a reship with points: 50.00
    assert "teammate needs to approve it" in answer
    (escalation,) = bot.escalations()
    assert escalation["reasons"] == ["approval_needed"]
    proposal = escalation["proposal"]
    assert (proposal["row"], proposal["alternatives"], proposal["values"], proposal["rule"]) == (
        "lost_or_damaged", LOST_OR_DAMAGED.alternatives, LOST_OR_DAMAGED.values, "approval_limit"
    )  # fmt: skip
    assert _audit(bot) == [("escalated", "approval_limit")]


async def test_one_compensation_per_order_and_situation(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    # Order 41013 was compensated while it was late; the carrier has since declared it lost: a new case.
    _compensated(bot, "r1", "41013", "late", at=START - timedelta(days=3))
    assert "replacement" in "".join(await bot.send(REGULAR, "order 41013 is lost"))
    assert _audit(bot) == [("offered", "lost_or_damaged")]
    await bot.send(REGULAR, "yes")
    assert [row["idempotency_key"] for row in bot.rows(Compensation)] == [
        "compensation:41013:late", "compensation:41013:lost"
    ]  # fmt: skip
    await bot.send(REGULAR, "5")
    # Asking about the lost parcel again, in a new conversation, pays nothing more: a person looks.
    answer = "".join(await bot.send(REGULAR, "order 41013 is lost, what now?"))
    assert "already made up for the trouble" in answer and "replacement" not in answer
    assert bot.conversation(REGULAR)["state"] == "human"
    assert [row["reasons"] for row in bot.escalations()] == [["repeat_claim"]]
    assert _audit(bot)[-1] == ("refused", "already_compensated")
    assert len(bot.rows(Compensation)) == 2
    assert len(list(bot.app.sandbox.ledger.records("points"))) == 1


async def test_a_repeat_claim_on_an_unshipped_order_is_refused_at_the_order(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    _compensated(bot, "r1", "41008", "late", at=START - timedelta(days=1))
    assert "already made up" in "".join(await bot.send(REGULAR, "order 41008 is still late"))
    assert _audit(bot) == [("refused", "already_compensated")]
    assert bot.escalations()[0]["proposal"]["rule"] == "already_compensated"


async def test_someone_elses_order_pays_nothing(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    answer = "".join(await bot.send(STRANGER, "order 41003 is late"))  # Regular One's order
    assert "can't match that order" in answer
    for secret in ("points", "USD", "coupon", "41003 was"):
        assert secret not in answer
    assert [row["reasons"] for row in bot.escalations()] == [["ownership_mismatch"]]
    assert bot.escalations()[0]["proposal"] is None
    assert bot.rows(Compensation) == [] and _audit(bot) == []


# --- a refund instead of the offer ----------------------------------------------------------------


async def test_refund_instead_allowed_pays_the_rows_refund(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    await bot.send(NEW, "order 41007 is late")
    assert "refund of 8.00 USD is on its way" in "".join(await bot.send(NEW, "I'd rather have a refund"))
    assert [row["alternative"] for row in bot.rows(Compensation)] == [{"refund_percent": 20}]
    assert _audit(bot) == [("offered", "late_4_7"), ("issued", "refund_instead")]
    issued = bot.rows(PolicyDecision)[1]["detail"]
    assert [issued[key] for key in ("row", "chosen", "value", "refund_instead")] == ["late_4_7", 2, "8.00", "allow"]


@pytest.mark.parametrize("ask", ["I'd rather have a refund", "我要退款"])
async def test_refund_instead_person_records_the_request_for_a_person(tmp_path: Path, ask: str) -> None:
    bot = _bot(tmp_path, flow_file=_flow(tmp_path, refund_instead="person"))
    await bot.send(NEW, "order 41007 is late")
    answer = "".join(await bot.send(NEW, ask))
    assert "refund" in answer or "退款" in answer
    assert bot.conversation(NEW)["state"] == "human"
    assert bot.rows(Compensation) == []
    (escalation,) = bot.escalations()
    assert escalation["reasons"] == ["refund_requested"]
    assert escalation["proposal"]["request"] == {"refund": True, "alternative": 2}
    assert escalation["proposal"]["rule"] == "refund_instead"
    assert _audit(bot) == [("offered", "late_4_7"), ("escalated", "refund_instead")]


async def test_refund_instead_person_still_pays_a_refund_that_is_the_offer(tmp_path: Path) -> None:
    bot = _bot(tmp_path, flow_file=_flow(tmp_path, refund_instead="person"))
    await bot.send(REGULAR, "order 41010 is late")  # over 7 days: the full refund is the best offer
    assert "refund of 40.00 USD is on its way" in "".join(await bot.send(REGULAR, "the refund please"))
    assert _audit(bot) == [("offered", "late_over_7"), ("issued", "late_over_7")]


# --- the audit log -------------------------------------------------------------------------------


async def test_each_policy_decision_is_written_with_its_step(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    await bot.send(NEW, "order 41001 is late")
    await bot.send(NEW, "yes")
    offered, issued = bot.rows(PolicyDecision)
    conversation = bot.conversation(NEW)
    assert (offered["decision"], offered["rule"], issued["decision"], issued["rule"]) == (
        "offered", "late_1_3_standard", "issued", "late_1_3_standard"
    )  # fmt: skip
    assert {offered["conversation_id"], issued["conversation_id"]} == {conversation["id"]}
    assert (issued["order_number"], issued["customer_id"], issued["situation"]) == ("41001", "n1", "late")
    assert issued["detail"]["alternative"] == {"points": 300} and issued["detail"]["value"] == "3.00"
    # Written by the step's own commit: the offer with the order's lookup result, the issue with the "yes".
    steps = {event["event_id"]: event["processed_at"] for event in bot.events()}
    assert offered["created_at"] in steps.values() and issued["created_at"] in steps.values()


def test_the_policy_decides_from_the_counts_in_the_event_and_replays_the_same() -> None:
    core = DecisionCore(compile_flow(load_default_flow()))

    def decide(history: dict[str, Any]) -> Any:
        order = {
            "number": "41008", "value": "40.00", "currency": "USD", "customer_id": "r1", "tier": "regular",
            "placed_on": "2026-11-11", "promised_on": "2026-11-16", "shipments": [], "compensated": {},
            "history": history,
        }  # fmt: skip
        snapshot = ConversationSnapshot(
            conversation_id=7, customer_id=REGULAR, flow_key=core.flow.key, state="lookup", revision=2,
            context={"order_number": "41008", "language": "en"},
        )  # fmt: skip
        event = Event(kind="order_found", payload={"owned": True, "order": order}, occurred_at=START, event_id="e1")
        return core.decide(snapshot, event)

    at_cap = {"customer_compensations": 3, "issued_today": "0"}
    first, again = decide(at_cap), decide(at_cap)
    assert (first.target, first.audit) == (again.target, again.audit)
    assert (first.target, first.audit[0]["rule"]) == ("human", "customer_cap")
    under = decide({"customer_compensations": 2, "issued_today": "1990.00"})
    assert (under.target, under.audit[0]["decision"], under.audit[0]["rule"]) == (
        "offer_compensation", "offered", "late_4_7"
    )  # fmt: skip
    assert decide({"customer_compensations": 0, "issued_today": "1995.00"}).audit[0]["rule"] == "daily_budget"


async def test_offers_made_together_near_the_budget_cannot_all_be_paid(tmp_path: Path) -> None:
    bot = _bot(tmp_path, flow_file=_flow(tmp_path, limits={"daily_budget": 55}))
    await bot.send(REGULAR, "order 41010 is late")  # over 7 days: full refund + 1000 points, 50.00
    await bot.send(VIP, "order 41009 is late")  # nothing paid yet: 0 + up to 10.00 fits, so it is offered
    assert bot.conversation(VIP)["state"] == "offer_compensation"

    await bot.send(REGULAR, "yes")  # 50.00 paid
    answer = "".join(await bot.send(VIP, "yes"))  # 50.00 + 10.00 > 55: held when paying, nothing paid

    assert "teammate needs to approve it" in answer
    assert bot.conversation(VIP)["state"] == "human"
    assert [(row["status"], row["value"]) for row in bot.rows(Compensation)] == [("issued", "50.00"), ("held", "10.00")]
    assert [row["reasons"] for row in bot.escalations()] == [["daily_budget"]]
    assert _audit(bot)[-1] == ("escalated", "daily_budget")


async def test_a_customer_cap_reached_while_an_offer_was_open_holds_the_payment(tmp_path: Path) -> None:
    limits = {"customer_cap": {"compensations": 1, "window_days": 90}}
    bot = _bot(tmp_path, flow_file=_flow(tmp_path, limits=limits))
    await bot.send(REGULAR, "order 41010 is late")  # offered: no compensation yet
    # Meanwhile an agent compensated the same shop customer for another order.
    _compensated(bot, SHOP_ID[REGULAR], "41002", "late", at=START)

    await bot.send(REGULAR, "yes")

    assert bot.conversation(REGULAR)["state"] == "human"
    assert [row["status"] for row in bot.rows(Compensation)] == ["issued", "held"]
    assert [row["reasons"] for row in bot.escalations()] == [["customer_cap"]]
