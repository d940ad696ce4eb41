"""What the customer says is wrong with the parcel, so the first reply can acknowledge it."""

from __future__ import annotations

from enum import StrEnum

from bot.understanding._phrases import IGNORED, PhraseTable


class Concern(StrEnum):
    LATE = "late"
    CUSTOMS = "customs"
    LOST = "lost"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    OTHER = "other"


# fmt: off
CONCERN_PHRASES: dict[Concern, tuple[str, ...]] = {
    Concern.LATE: (
        "late", "delayed", "delay", "delays", "overdue", "slow", "taking forever", "taking so long",
        "so long", "too long", "still waiting", "waiting for", "not here yet", "still not here",
        "hasn't arrived", "has not arrived", "hasn't come", "not arrived", "didn't arrive", "did not arrive",
        "hasn't been delivered", "has not been delivered", "not been delivered", "not delivered",
        "haven't received", "have not received", "not received", "haven't got", "not yet", "where is my",
        "where's my", "where is it", "when will", "eta", "no update", "no updates", "no tracking update",
        "not moving", "hasn't moved", "stuck", "still in transit",
        "还没到", "没到", "还没收到", "没收到", "未收到", "延迟", "延误", "迟到", "太慢", "很慢",
        "好慢", "慢",
        "等了", "迟迟", "怎么还没", "什么时候到", "何时到", "多久", "晚到", "超时", "没有更新", "没更新",
        "不动", "卡住", "一直没", "还在路上",
    ),
    Concern.CUSTOMS: (
        "customs", "custom", "duty", "duties", "import tax", "import fee", "import fees", "tariff",
        "tariffs", "clearance", "held at the border", "border",
        "海关", "清关", "关税", "扣关", "被扣", "报关", "税费", "交税", "进口税",
    ),
    Concern.LOST: (
        "lost", "missing", "disappeared", "vanished", "never arrived", "never came", "never received",
        "never got", "never showed up", "stolen", "says delivered", "said delivered", "marked as delivered",
        "marked delivered", "shows delivered", "shows as delivered", "delivered but", "can't find",
        "cannot find", "gone",
        "丢", "丢了", "丢失", "弄丢", "遗失", "找不到", "不见了", "显示已签收", "显示签收",
        "已签收但", "被偷",
        "被人拿走",
    ),
    Concern.DAMAGED: (
        "damaged", "damage", "broken", "broke", "crushed", "smashed", "cracked", "dented", "torn", "ripped",
        "leaking", "leaked", "shattered", "soaked", "scratched", "defective", "doesn't work", "not working",
        "坏了", "坏的", "破损", "损坏", "摔坏", "压坏", "碎了", "破了", "裂了", "漏了", "漏液",
        "变形", "划痕",
        "瑕疵", "压扁",
    ),
    Concern.WRONG_ITEM: (
        "wrong item", "wrong items", "wrong product", "wrong size", "wrong color", "wrong colour",
        "wrong one", "wrong thing", "not what i ordered", "not what i bought", "incorrect item",
        "different item", "different product", "sent me the wrong", "received the wrong", "got the wrong",
        "missing item", "missing items", "item missing", "items missing", "missing from", "incomplete",
        "发错", "寄错", "发错了", "不是我买的", "不是我订的", "不是我要的", "颜色不对", "尺码不对",
        "尺寸不对",
        "型号不对", "少了", "少发", "漏发", "货不对板",
    ),
}
# fmt: on
# The most specific problem decides the reply: a damaged parcel that was also late is about the damage.
_PRIORITY = (Concern.DAMAGED, Concern.WRONG_ITEM, Concern.CUSTOMS, Concern.LOST, Concern.LATE)
_PRIORITY_TAGS = tuple((concern, concern.value) for concern in _PRIORITY)  # `.value` is a slow lookup
_NOT_A_CONCERN = ("customer", "customer service", "custom made", "customized", "customised", "i'm late")

_TABLE = PhraseTable(
    {**{concern.value: phrases for concern, phrases in CONCERN_PHRASES.items()}, IGNORED: _NOT_A_CONCERN}
)


def detect_concern(text: str) -> Concern:
    """The problem the customer describes; OTHER when none of the listed ones (or only denied ones)."""
    said = {hit.tag for clause in _TABLE.read(text, with_hits_only=True) for hit in clause.hits if not hit.negated}
    return next((concern for concern, tag in _PRIORITY_TAGS if tag in said), Concern.OTHER)
