from __future__ import annotations

import pytest

from bot.understanding import Concern, detect_concern


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my parcel is late", Concern.LATE),
        ("it still hasn't arrived after 3 weeks", Concern.LATE),
        ("where is my order?", Concern.LATE),
        ("包裹还没到", Concern.LATE),
        ("等了两个星期，物流一直没更新", Concern.LATE),
        ("it's stuck in customs", Concern.CUSTOMS),
        ("they want me to pay import tax", Concern.CUSTOMS),
        ("海关扣了我的包裹", Concern.CUSTOMS),
        ("2 weeks late and now customs wants duties", Concern.CUSTOMS),
        ("I think it's lost", Concern.LOST),
        ("it says delivered but I never got it", Concern.LOST),
        ("快递丢了", Concern.LOST),
        ("显示已签收但是我没收到", Concern.LOST),
        ("the box arrived crushed", Concern.DAMAGED),
        ("late and the vase is broken", Concern.DAMAGED),
        ("杯子碎了", Concern.DAMAGED),
        ("you sent me the wrong size", Concern.WRONG_ITEM),
        ("发错货了，不是我买的", Concern.WRONG_ITEM),
        ("it's not lost, just late", Concern.LATE),
        ("没有破损，就是太慢了", Concern.LATE),
        ("can I talk to customer service", Concern.OTHER),
        ("hello", Concern.OTHER),
        ("你好", Concern.OTHER),
    ],
)
def test_detects_what_went_wrong(text: str, expected: Concern) -> None:
    assert detect_concern(text) == expected
