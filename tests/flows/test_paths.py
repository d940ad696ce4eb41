"""Every path of the default flow, in English and Chinese, through the real runtime and sandbox shop.

Each row is a customer's messages with what must appear in the bot's answer to each, then where the
conversation ends, what was escalated and what compensation was recorded. The clock is fixed at
2026-11-23, the day the demo data's relative dates are resolved against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.storage.tables import Compensation
from tests.harness import Bot

EMMA, LIAM, SOFIA, FANG, NOAH, LINA, OLIVIA, WEI, AVA, JIE, LUCAS, MIA, JACK, MIN, XIN, PRIYA = (
    f"15000000{n:02d}" for n in range(1, 17)
)


@dataclass(frozen=True)
class Case:
    customer: str
    turns: list[tuple[str, list[str]]]  # (customer says, fragments the bot's reply must contain)
    state: str
    escalated: list[str] = field(default_factory=list)
    compensation: dict[str, object] | None = None  # the recorded alternative, when one was issued
    forbidden: list[str] = field(default_factory=list)  # must never appear in any reply


CASES = {
    "en on time: status, rating, no compensation": Case(
        EMMA,
        [
            ("hi, where is my parcel? it's been a while", ["order number"]),
            ("it's #1001", ["#1001", "on its way", "Nov 25"]),
            ("4", ["Thank you"]),
        ],
        state="closed",
    ),
    "en late 2 days, new customer: best offer first, points issued": Case(
        LIAM,
        [
            ("my package is late and I needed it this weekend", ["sorry", "order number"]),
            ("order 1002", ["2 days late", "300 points", "woven coasters", "5% coupon", "Jan 22"]),
            ("yes please", ["300 points are now in your account", "1 (poor) to 5"]),
            ("5", ["Thank you"]),
        ],
        state="closed",
        compensation={"points": 300},
    ),
    "en late 3 days, regular: a coupon chosen by name": Case(
        SOFIA,
        [
            ("Hello! Order #1003 still hasn't shown up", ["#1003", "300 points"]),
            ("I'll take the coupon", ["coupon code is SORRY-"]),
            ("4/5", ["Thank you"]),
        ],
        state="closed",
        compensation={"coupon_percent": 5},
    ),
    "en pushing back for more: the best offer restated once, never raised": Case(
        LIAM,
        [
            ("my package is late and I needed it this weekend", ["order number"]),
            ("order 1002", ["300 points"]),
            ("seriously? that's not enough, give me more points", ["best I can", "300 points", "5% coupon"]),
            ("fine, the points then", ["300 points are now in your account"]),
        ],
        state="request_feedback",
        compensation={"points": 300},
        forbidden=["600 points", "400 points", "10% coupon"],
    ),
    "zh pushing back twice: restated once, then a person": Case(
        FANG,
        [
            ("你好,我的包裹迟到了,订单号1004", ["500 积分"]),
            ("就这么点?", ["最好方案", "500 积分"]),
            ("太少了,我要更多", ["同事"]),
        ],
        state="human",
        escalated=["offer_declined"],
    ),
    "zh VIP late 1 day: VIP row, free-shipping coupon chosen": Case(
        FANG,
        [
            ("你好,我的包裹迟到了,订单号1004", ["#1004", "500 积分", "10% 折扣券", "免运费券"]),
            ("我要免运费券", ["优惠码"]),
            ("5分", ["感谢"]),
        ],
        state="closed",
        compensation={"free_shipping_coupon": True},
    ),
    "en late 5 days: refund instead of points, as the row allows": Case(
        NOAH,
        [
            ("where is order #1005?? it's really late", ["1000 points", "refund of 8.00 USD"]),
            ("I'd rather have a refund", ["refund of 8.00 USD is on its way"]),
            ("3", ["Thank you"]),
        ],
        state="closed",
        compensation={"refund_percent": 20},
    ),
    "zh late 10 days: full refund plus points": Case(
        LINA,
        [
            ("包裹一直没到,太让人着急了", ["订单号"]),
            ("订单号是1006", ["全额退款 58.00 USD", "1000 积分"]),
            ("好的", ["退款已原路退回", "1000 积分已存入"]),
            ("5", ["感谢"]),
        ],
        state="closed",
        compensation={"refund_percent": 100, "points": 1000},
    ),
    "en customs, 6 days late: the 4-7 day row": Case(
        OLIVIA,
        [
            ("my parcel is stuck in customs, order 1007", ["customs", "1000 points"]),
            ("ok", ["1000 points are now in your account"]),
            ("5", ["Thank you"]),
        ],
        state="closed",
        compensation={"points": 1000},
    ),
    "zh lost: reship with a new tracking number": Case(
        WEI,
        [
            ("我的包裹好像丢了,订单1008", ["丢失", "补发", "1000 积分"]),
            ("好", ["1000 积分已存入", "新包裹", "运单号 RR"]),
            ("4", ["感谢"]),
        ],
        state="closed",
        compensation={"reship": True, "upgraded_shipping": True, "points": 1000},
    ),
    "en damaged: reship confirmed with its tracking number": Case(
        AVA,
        [
            ("my order #1009 arrived broken", ["damaged", "replacement"]),
            ("yes", ["new parcel is booked", "tracking number 1Z"]),
            ("5", ["Thank you"]),
        ],
        state="closed",
        compensation={"reship": True, "points": 1000, "upgraded_shipping": True},
    ),
    "zh cannot ship: full refund": Case(
        JIE,
        [("订单1010怎么还没发货?", ["没能把它发出去", "全额退款"]), ("可以", ["退款"]), ("5", ["感谢"])],
        state="closed",
        compensation={"refund_percent": 100, "points": 1000},
    ),
    "zh address problem at the carrier: a person acts on it, no voucher": Case(
        MIN,
        [("我的包裹怎么还没到?订单1014", ["需要我们人工处理"])],
        state="human",
        escalated=["carrier_exception"],
    ),
    "en not shipped yet but still on time: the promise, no compensation": Case(
        PRIYA,
        [("has order #1016 shipped?", ["being prepared", "1 (poor) to 5"])],
        state="request_feedback",
    ),
    "zh split shipment: judged by the later parcel (4-7 days), not the first": Case(
        XIN,
        [("订单1015的包裹还没收齐", ["1000 积分"])],
        state="offer_compensation",
    ),
    "en high value: a person takes over": Case(
        LUCAS,
        [("order #1011 is late", ["senior teammate"])],
        state="human",
        escalated=["high_value"],
    ),
    "en someone else's order reveals nothing": Case(
        JACK,
        [("where's order 1012?", ["can't match that order"])],
        state="human",
        escalated=["ownership_mismatch"],
        forbidden=["1Z", "USD", "promised", "Mia"],
    ),
    "en asks for a person at once": Case(
        LIAM,
        [("I want to talk to a real person", ["teammate"])],
        state="human",
        escalated=["customer_asked"],
    ),
    "zh asks for a person mid-offer": Case(
        FANG,
        [("订单1004迟到了", ["500 积分"]), ("转人工", ["同事"])],
        state="human",
        escalated=["customer_asked"],
    ),
    "en three failed attempts at the order number": Case(
        EMMA,
        [
            ("hello", ["order number"]),
            ("I don't have it", ["#1001"]),
            ("no idea, sorry", ["#1001"]),
            ("can't find it", ["teammate"]),
        ],
        state="human",
        escalated=["order_number_not_found"],
    ),
    "zh an order that does not exist, then the right one": Case(
        LINA,
        [("订单号 9999,包裹没到", ["没有查到订单 #9999"]), ("不好意思,是1006", ["全额退款"])],
        state="offer_compensation",
    ),
    "en the offer is declined: never raised, a person decides": Case(
        LIAM,
        [("order 1002 is late", ["300 points"]), ("no, that's not enough", ["teammate"])],
        state="human",
        escalated=["offer_declined"],
        forbidden=["500 points"],
    ),
    "en unclear answers to the offer, then a person": Case(
        SOFIA,
        [
            ("order 1003 is late", ["300 points"]),
            ("hmm", ["Your options stand"]),
            ("what do you mean", ["Your options stand"]),
            ("whatever", ["going in circles"]),
        ],
        state="human",
        escalated=["going_in_circles"],
    ),
    "en a low rating reopens to a person": Case(
        LIAM,
        [("order 1002 is late", ["300 points"]), ("yes", ["1 (poor) to 5"]), ("1", ["follow up"])],
        state="human",
        escalated=["low_rating"],
        compensation={"points": 300},
    ),
}


def _recorded(bot: Bot) -> list[dict[str, object]]:
    return [row["alternative"] for row in bot.rows(Compensation)]


@pytest.mark.parametrize("name", list(CASES))
async def test_path(bot: Bot, name: str) -> None:
    case = CASES[name]
    everything: list[str] = []
    for said, expected in case.turns:
        replies = await bot.send(case.customer, said)
        answer = "\n".join(replies)
        everything.append(answer)
        assert replies, f"no reply to {said!r}"
        for fragment in expected:
            assert fragment in answer, f"{fragment!r} missing from the answer to {said!r}:\n{answer}"
    conversation = bot.conversation(case.customer)
    assert conversation["state"] == case.state
    reasons = [reason for row in bot.escalations() for reason in row["reasons"]]
    assert reasons == case.escalated
    assert _recorded(bot) == ([case.compensation] if case.compensation else [])
    for fragment in case.forbidden:
        assert all(fragment not in answer for answer in everything), f"{fragment!r} was revealed"
    # One bot turn is one DM: every customer message got exactly the DMs its turn needed, none twice.
    keys = [row["command_key"] for row in bot.messages(direction="out")]
    assert len(keys) == len(set(keys))


async def test_the_language_follows_a_real_sentence_but_not_a_short_reply(bot: Bot) -> None:
    first = await bot.send(LIAM, "hi")
    assert "order number" in first[0]  # nothing to go on yet: the flow's default, English
    switched = await bot.send(LIAM, "不好意思,我的订单号是1002,包裹还没到")
    assert "#1002" in switched[0] and "订单" in switched[0]
    offer = switched[-1]
    assert "积分" in offer
    stays = await bot.send(LIAM, "ok")  # a short Latin reply does not flip a Chinese conversation
    assert "积分已存入" in "".join(stays)


async def test_days_late_are_counted_in_the_shops_calendar(bot: Bot) -> None:
    # 03:00 UTC on the 25th is still the 24th in New York (the demo shop's zone). The parcel was due on
    # the 22nd and is expected on the 24th: 2 days late in the shop's calendar, 3 by the UTC date.
    bot.clock.advance(days=1, hours=17)
    replies = await bot.send(LIAM, "order 1002 is late")
    assert "2 days late" in "".join(replies)
