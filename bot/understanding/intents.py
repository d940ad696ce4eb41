"""What a customer's reply means for the conversation: yes, no, a refund instead, a person, a rating,
or one of the offered compensations. Bilingual (English, Chinese) phrase lists, negation-aware.

The phrase lists are plain data so they can move into admin-editable flow data later.
"""

from __future__ import annotations

from enum import StrEnum

from bot.understanding._phrases import IGNORED, NEGATOR, Clause, Hit, PhraseTable
from bot.understanding.ratings import extract_rating


class Intent(StrEnum):
    YES = "yes"
    NO = "no"
    REFUND_INSTEAD = "refund_instead"
    HUMAN = "human"
    RATING = "rating"
    CHOOSE_POINTS = "choose_points"
    CHOOSE_COUPON = "choose_coupon"
    CHOOSE_FREE_SHIPPING = "choose_free_shipping"
    CHOOSE_REFUND = "choose_refund"
    WANT_MORE = "want_more"  # pushing back on the offer: the bot never raises it


# fmt: off
YES_PHRASES: tuple[str, ...] = (
    "yes", "yeah", "yea", "yep", "yup", "yes please", "sure", "sure thing", "ok", "okay", "okey", "kk",
    "alright", "all right", "sounds good", "sounds great", "sounds fine", "that works", "works for me",
    "fine by me", "fine with me", "go ahead", "please do", "do it", "let's do it", "of course", "absolutely",
    "definitely", "certainly", "agreed", "i agree", "deal", "no problem", "no worries", "not bad",
    "i'm fine with", "i am fine with", "i'm ok with", "i'm okay with", "i'm good with",
    "👍", "👌", "✅", "🆗", "✔", "☑", "🙆",
    "好的", "好啊", "好吧", "好呀", "好滴", "好哒", "可以", "可以的", "没问题", "嗯", "嗯嗯", "同意", "当然",
    "当然可以", "行啊", "行吧", "没事", "没关系", "不错", "好嘞", "ok的",
)
# Words that only mean yes as a whole reply: "right" yes, "right now" no; "好" yes, "好慢" no.
YES_IF_WHOLE_REPLY_PHRASES: tuple[str, ...] = (
    "y", "k", "right", "correct", "exactly", "fine", "good", "great", "perfect", "nice", "cool", "awesome",
    "confirm", "confirmed", "是", "是的", "对", "对的", "要", "要的", "好", "行", "需要", "确认", "嗯呢",
)
NO_PHRASES: tuple[str, ...] = (
    "nope", "nah", "no thanks", "no thank you", "not really", "not now", "never mind", "nevermind",
    "no way", "negative", "i'd rather not", "rather not", "i'll pass", "not interested", "no no",
    "i'm good", "i am good", "i'm fine", "i am fine",  # a polite "no": "nah, I'm good"
    "👎", "❌", "🙅", "✖",
    "不行", "算了", "不了", "免了", "拒绝", "不同意",
)
# Negators that are also a "no" when they negate nothing: "no, thanks" / "不要" but not "no refund".
NO_OR_NEGATOR_PHRASES: tuple[str, ...] = ("no", "不要", "不用", "不需要", "不要了", "不用了", "不需要了")
HUMAN_PHRASES: tuple[str, ...] = (
    "human", "humans", "a human", "human being", "real person", "a person", "actual person", "live person",
    "real human", "someone real", "talk to someone", "speak to someone", "speak with someone",
    "talk with someone", "talk to somebody", "speak to somebody", "agent", "live agent", "an agent",
    "representative", "rep", "customer service", "customer support", "customer care", "support team",
    "operator", "manager", "supervisor", "staff member", "escalate",
    "转人工", "人工", "人工客服", "人工服务", "真人", "客服", "找人", "活人", "工作人员", "经理", "主管",
    "负责人", "有人吗",
)
# A bot the customer does not want means they want a person: "I don't want to talk to a bot".
BOT_PHRASES: tuple[str, ...] = (
    "bot", "bots", "a bot", "robot", "chatbot", "ai", "machine", "automated", "auto reply", "auto-reply",
    "机器人", "机器", "自动回复",
)
POINTS_PHRASES: tuple[str, ...] = (
    "points", "loyalty points", "reward points", "rewards points", "store points", "pts", "积分", "点数",
)
COUPON_PHRASES: tuple[str, ...] = (
    "coupon", "coupons", "coupon code", "voucher", "vouchers", "discount", "discounts", "discount code",
    "promo code", "promo", "% off", "percent off", "gift card",
    "折扣", "折扣券", "折扣码", "优惠券", "优惠码", "代金券", "抵用券", "券", "打折", "优惠",
)
FREE_SHIPPING_PHRASES: tuple[str, ...] = (
    "free shipping", "free delivery", "free postage", "free ship", "ship for free", "shipping for free",
    "no shipping fee", "no shipping fees", "waive shipping",
    "免运费", "免邮", "包邮", "运费全免", "免费配送", "免费送货", "免运", "免费寄",
)
REFUND_PHRASES: tuple[str, ...] = (
    "refund", "refunds", "refunded", "refunding", "full refund", "money back", "my money", "reimburse",
    "reimbursement", "pay me back", "退款", "退钱", "退费", "把钱退", "钱退", "返还", "全额退款", "退我钱",
)
# Pushing back on an offer for more. Longer than the offer words they contain ("more points"), so they
# win over them: asking for more points is not choosing the points offered.
WANT_MORE_PHRASES: tuple[str, ...] = (
    "not enough", "isn't enough", "is not enough", "not good enough", "is that all", "is that it",
    "only that", "do better", "do better than", "better offer", "better than that",
    "more than that", "more points", "more coupon", "more compensation", "more money", "bigger discount",
    "higher discount", "bigger coupon", "double it", "double that", "raise the offer", "increase the offer",
    "up the offer", "give me more", "want more", "i want more", "i need more", "deserve more", "a joke of an offer",
    "insulting offer", "that's insulting", "pathetic",
    "不够", "太少", "太少了", "就这", "就这点", "就这么点", "才这么点", "才这点", "多给点", "多给一点", "再多给",
    "再加点", "再加一点", "加点", "我要更多", "要更多", "更多补偿", "更多积分", "多点积分", "再多一点", "翻倍",
    "打发叫花子", "打发要饭的",
)
# Not negators elsewhere ("more than 2 weeks"), but "a refund rather than points" is a choice.
OFFER_NEGATORS: tuple[str, ...] = ("than",)
# Phrases that contain an offer or person word without asking for it.
NOT_A_REQUEST_PHRASES: tuple[str, ...] = (
    "customs agent", "shipping agent", "delivery agent", "forwarding agent", "travel agent", "in person",
    "人工智能",
)

# fmt: on
_YES, _YES_IF_WHOLE, _NO, _NO_OR_NEGATOR, _BOT = "yes", "yes_if_whole", "no", "no_or_negator", "bot"
_MORE = "more"
_CHOICES = frozenset({Intent.CHOOSE_POINTS, Intent.CHOOSE_COUPON, Intent.CHOOSE_FREE_SHIPPING, Intent.CHOOSE_REFUND})
_OFFER_INTENTS: dict[str, frozenset[Intent]] = {
    "human": frozenset({Intent.HUMAN}),
    "points": frozenset({Intent.CHOOSE_POINTS}),
    "coupon": frozenset({Intent.CHOOSE_COUPON}),
    "free_shipping": frozenset({Intent.CHOOSE_FREE_SHIPPING}),
    # Asking for a refund answers both questions the flow asks: "refund instead of waiting?" and
    # "which compensation?"; the flow reads the one its current state expects.
    "refund": frozenset({Intent.REFUND_INSTEAD, Intent.CHOOSE_REFUND}),
}
_TABLE = PhraseTable(
    {
        _YES: YES_PHRASES,
        _YES_IF_WHOLE: YES_IF_WHOLE_REPLY_PHRASES,
        _NO: NO_PHRASES,
        _NO_OR_NEGATOR: NO_OR_NEGATOR_PHRASES,
        "human": HUMAN_PHRASES,
        _BOT: BOT_PHRASES,
        "points": POINTS_PHRASES,
        "coupon": COUPON_PHRASES,
        "free_shipping": FREE_SHIPPING_PHRASES,
        "refund": REFUND_PHRASES,
        _MORE: WANT_MORE_PHRASES,
        NEGATOR: OFFER_NEGATORS,
        IGNORED: NOT_A_REQUEST_PHRASES,
    },
    negating_tags=frozenset({_NO_OR_NEGATOR}),
)


def classify_intents(text: str) -> frozenset[Intent]:
    """Every intent `text` expresses; empty when it expresses none of them."""
    intents: set[Intent] = set()
    answers: list[Intent] = []  # yes/no answers in reading order: the last one stands
    declined_offer = False
    for clause in _TABLE.read(text, with_hits_only=True):  # a clause without hits adds nothing
        short_answer = _is_short_answer(clause)
        for hit in clause.hits:
            if hit.tag in _OFFER_INTENTS:
                if hit.negated:
                    declined_offer = True
                else:
                    intents |= _OFFER_INTENTS[hit.tag]
            elif hit.tag == _BOT and hit.negated:
                intents.add(Intent.HUMAN)
            elif hit.tag == _MORE and not hit.negated:
                intents.add(Intent.WANT_MORE)
            elif not clause.is_question:
                answer = _answer(hit, clause, short_answer=short_answer)
                if answer is not None:
                    answers.append(answer)
    if Intent.WANT_MORE in intents:
        # "Not enough, give me more points" is neither a choice nor a yes to the offer on the table.
        intents -= _CHOICES
        answers = [answer for answer in answers if answer is not Intent.YES]
    if extract_rating(text) is not None:
        intents.add(Intent.RATING)
    if answers:
        intents.add(answers[-1])
    elif declined_offer and not intents:
        intents.add(Intent.NO)  # "no refund needed" answers "would you like a refund?"
    return frozenset(intents)


def _answer(hit: Hit, clause: Clause, *, short_answer: bool) -> Intent | None:
    if hit.tag == _YES or (hit.tag == _YES_IF_WHOLE and short_answer):
        return Intent.NO if hit.negated else Intent.YES
    if hit.tag == _NO:
        return Intent.NO
    if hit.tag == _NO_OR_NEGATOR and not hit.applied and (clause.is_bare or _opens_clause(hit, clause)):
        return Intent.NO
    if hit.tag == NEGATOR and not hit.applied and short_answer:
        return Intent.NO  # "不", "没有", "I don't"
    return None


def _is_short_answer(clause: Clause) -> bool:
    """Nothing but answer words and fillers: "right", "that's fine", "没有", not "要优惠券"."""
    return clause.is_bare and not any(hit.tag in _OFFER_INTENTS or hit.tag in (_BOT, _MORE) for hit in clause.hits)


def _opens_clause(hit: Hit, clause: Clause) -> bool:
    """English "no" is an answer when it opens the clause ("no, I'll wait"), not in "there's no update"."""
    return not clause.text[: hit.start].strip() or not clause.text[hit.start : hit.end].isascii()
