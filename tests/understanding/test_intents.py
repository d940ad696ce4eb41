from __future__ import annotations

import pytest

from bot.understanding import Intent, classify_intents

YES, NO, HUMAN, RATING = Intent.YES, Intent.NO, Intent.HUMAN, Intent.RATING
POINTS, COUPON, FREE_SHIPPING = Intent.CHOOSE_POINTS, Intent.CHOOSE_COUPON, Intent.CHOOSE_FREE_SHIPPING
REFUND = {Intent.REFUND_INSTEAD, Intent.CHOOSE_REFUND}

ENGLISH = [
    ("yes", {YES}),
    ("Yeah!", {YES}),
    ("sure", {YES}),
    ("ok", {YES}),
    ("okay thanks", {YES}),
    ("sounds good", {YES}),
    ("👍", {YES}),
    ("that's fine", {YES}),
    ("no problem", {YES}),
    ("no", {NO}),
    ("nope", {NO}),
    ("not really", {NO}),
    ("No, thanks.", {NO}),
    ("not ok", {NO}),
    ("nah I'm good", {NO}),
    ("never mind", {NO}),
    ("I'd rather have a refund", REFUND),
    ("just refund me", REFUND),
    ("can I get my money back instead", REFUND),
    ("I don't want to wait, just refund me", REFUND),
    ("human", {HUMAN}),
    ("real person please", {HUMAN}),
    ("agent", {HUMAN}),
    ("let me talk to someone", {HUMAN}),
    ("I don't want to talk to a bot", {HUMAN}),
    ("can I speak to a human?", {HUMAN}),
    ("points", {POINTS}),
    ("coupon please", {COUPON}),
    ("a discount would be nice", {COUPON}),
    ("free shipping", {FREE_SHIPPING}),
    ("refund", REFUND),
    ("yes, points please", {YES, POINTS}),
    ("no refund needed, points are fine", {POINTS}),
    ("I don't want points, give me a coupon", {COUPON}),
    ("points instead of a refund", {POINTS}),
    ("I'd rather have a refund than points", REFUND),
    ("no refund needed", {NO}),
    ("I don't need a human", {NO}),
    ("not a person, just tell me where it is", {NO}),
    ("5 stars", {RATING}),
]

CHINESE = [
    ("好的", {YES}),
    ("可以", {YES}),
    ("行", {YES}),
    ("没问题", {YES}),
    ("嗯", {YES}),
    ("好的，积分吧", {YES, POINTS}),
    ("不要", {NO}),
    ("不用了，谢谢", {NO}),
    ("不行", {NO}),
    ("算了", {NO}),
    ("不是", {NO}),
    ("不需要", {NO}),
    ("把钱退给我", REFUND),
    ("有真人吗", {HUMAN}),
    ("我要积分，不要退款", {POINTS}),
    ("我要退款", REFUND),
    ("直接退钱", REFUND),
    ("可以退款吗", REFUND),
    ("转人工", {HUMAN}),
    ("人工客服", {HUMAN}),
    ("找你们客服", {HUMAN}),
    ("我不想跟机器人聊", {HUMAN}),
    ("积分", {POINTS}),
    ("优惠券吧", {COUPON}),
    ("折扣券", {COUPON}),
    ("免运费", {FREE_SHIPPING}),
    ("包邮可以吗", {FREE_SHIPPING}),
    ("退款", REFUND),
    ("不要积分，要优惠券", {COUPON}),
    ("积分不要了，退款吧", REFUND),
    ("不用退款，给我积分就行", {POINTS}),
    ("我不要等了，直接退款", REFUND | {NO}),
    ("给4分", {RATING}),
    ("五星", {RATING}),
]

NEITHER = [
    "I'm not sure",
    "is that ok?",
    "oh no, it's lost",
    "there's no update on my order",
    "are you a bot?",
    "the customs agent has it",
    "right now please",
    "不好意思，我的包裹还没到",
    "好慢啊",
    "thanks",
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH + CHINESE)
def test_classifies_the_reply(text: str, expected: set[Intent]) -> None:
    assert classify_intents(text) == frozenset(expected)


@pytest.mark.parametrize("text", NEITHER)
def test_no_yes_no_person_or_choice_where_none_is_meant(text: str) -> None:
    assert classify_intents(text) & {YES, NO, HUMAN, POINTS, COUPON, FREE_SHIPPING, *REFUND} == frozenset()


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("no refund needed, points are fine", POINTS, Intent.REFUND_INSTEAD),
        ("not a person, just tell me where it is", None, HUMAN),
        ("I don't want to talk to a bot", HUMAN, None),
        ("不要退款，给我积分", POINTS, Intent.CHOOSE_REFUND),
    ],
)
def test_negation_decides(text: str, present: Intent | None, absent: Intent | None) -> None:
    intents = classify_intents(text)
    assert present is None or present in intents
    assert absent is None or absent not in intents


MORE = Intent.WANT_MORE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("that's not enough", {MORE}),
        ("give me more points", {MORE}),  # asking for more points is not choosing the points offered
        ("is that all?", {MORE}),
        ("you can do better than that", {MORE}),
        ("ok but I want more", {MORE}),  # not a yes to the offer on the table
        ("不够", {MORE}),
        ("就这么点?", {MORE}),
        ("太少了,我要更多积分", {MORE}),
        ("no, that's not enough", {NO, MORE}),
    ],
)
def test_pushing_back_for_more_is_neither_a_choice_nor_a_yes(text: str, expected: set[Intent]) -> None:
    assert classify_intents(text) == expected


@pytest.mark.parametrize("text", ["it's been more than 2 weeks", "I'll take the points", "是不是快到了", "积分就好"])
def test_more_words_that_do_not_push_back(text: str) -> None:
    assert MORE not in classify_intents(text)
