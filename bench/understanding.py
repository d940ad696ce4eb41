"""Cost of reading one customer DM: each public reader of ``bot.understanding``, timed call by call.

The corpus below is fixed and committed so runs compare: 60 realistic DMs, half English and half Chinese,
from one-word answers to a few long complaints. Each reader is called on every text, ``--rounds`` times,
and timed call by call; the table gives µs per call (p50, p99, mean) and calls per second, over all texts
and over the typical ones (under 200 characters). "one message read" is what a conversation step can ask
of a DM: language, order number, intents, rating and concern on the same text.

By default every call is cold: the module's caches are emptied before it (outside the timed region), so
the figures are the cost of a text never seen before. ``--warm`` keeps the caches, which is what repeated
texts ("yes", "5") cost.

    python bench/understanding.py [--rounds 200] [--warm] [--only classify_intents]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.understanding import (
    classify_intents,
    detect_concern,
    detect_language,
    extract_order_number,
    extract_rating,
)
from bot.understanding._cache import clear_caches
from bot.understanding.anger import read_anger
from flows.anger_rules import LearnedRule
from flows.loader import load_default_flow

TYPICAL_MAX_CHARS = 200

# fmt: off
ENGLISH: tuple[str, ...] = (
    "hi, my parcel still hasn't arrived and I'm worried",
    "my order is #100234",
    "order number 4471023",
    "yes please",
    "ok",
    "5",
    "no thanks, I'm good",
    "let me think about it",
    "I'd rather have a refund",
    "can I talk to a real person please?",
    "I don't want to talk to a bot, get me an agent",
    "the box arrived but the mug inside is broken :(",
    "You sent me the wrong size, I ordered a M not an XL",
    "it's been stuck in customs for two weeks, do I have to pay import tax?",
    "tracking says delivered but there's nothing at my door",
    "Where is my order?? It was supposed to be here on March 5th",
    "points please",
    "a coupon would be nice",
    "free shipping on my next order then",
    "no refund needed, points are fine",
    "4/5, the driver was rude but you fixed it",
    "⭐⭐⭐⭐⭐",
    "I'd give you 3 stars",
    "order #A-10234, paid $49.99, call me at +1 415 555 0134",
    "Hey! Ordered a hoodie 3 weeks ago (order 88231) and still nothing. Tracking 1Z999AA10123456784 "
    "hasn't moved since Monday. Can you check?",
    "Hi there, I placed order #100771 on the 2nd for two pairs of running shoes, size 10. One pair came "
    "yesterday, the other is missing from the box and the packing slip only lists one. Could you send the "
    "second pair or refund it? My zip is 94107 if that helps.",
    "hello?? anyone there? this is the third time I'm writing. my parcel is late, I paid for express "
    "shipping ($14.99) and it's now 6 days overdue. I want a refund of the shipping at least, or a real "
    "person to talk to. Honestly this is really disappointing, I have ordered from you guys for years "
    "and never had a problem until now. The tracking page just says 'in transit' with no updates since "
    "last Thursday, and when I called the carrier at 1-800-555-0199 they told me to contact the shop. "
    "So here I am. Order number is 5512093, placed on April 14, 2026. Please sort it out, I need the "
    "jacket for a trip next week and if it doesn't come by Friday I'll have to buy another one locally. "
    "If you can't get it here in time then just cancel it and give me my money back, no coupons please, "
    "I don't want store credit. Thanks.",
    "I'm writing about order #7730042. The package arrived today but it was soaked and the corner was "
    "crushed, and the ceramic bowl inside is cracked right through. I've attached photos in my earlier "
    "message. The outer box says it was handled by the courier's Newark depot. I'm not angry, these "
    "things happen, but I would like either a replacement sent out or a partial refund, whichever is "
    "easier for you. I don't need a call, email or DM is fine. For reference I paid 89.50 dollars "
    "including shipping, the card ending in 4412. If you need the bowl back for inspection let me know "
    "and send a label, I still have the original packaging. Also the second item in the order, the "
    "linen napkins, were fine. Thanks for your help, and sorry for the long message!",
    "thx",
    "nope",
)
CHINESE: tuple[str, ...] = (
    "你好，我的快递还没到",
    "订单号是 100234",
    "我的订单号：4471023",
    "好的",
    "可以",
    "嗯嗯",
    "不用了，谢谢",
    "我想想",
    "我要退款",
    "转人工",
    "不要机器人，我要找人工客服",
    "收到了但是杯子碎了",
    "发错了，我买的是黑色的，寄来的是白色",
    "包裹卡在海关两个星期了，要交关税吗？",
    "显示已签收但是我没收到",
    "我的快递到哪了？说好3月5日到的",
    "积分吧",
    "给我优惠券",
    "那就包邮吧",
    "不要退款，积分就行",
    "给4分，客服态度还可以",
    "五星",
    "打5分",
    "订单号 A-10234，付了 ¥199，电话 138 0013 8000",
    "你好！我三个星期前买了一件卫衣（订单88231），到现在还没收到，物流单号 SF1234567890 好几天没更新了，帮我查一下",
    "你好，我在2号下的订单#100771，买了两双跑鞋，昨天到了一双，另一双没有，装箱单上也只写了一双。"
    "能不能补发另一双或者退那一双的钱？我的邮编是200030。",
    "有人吗？？这是我第三次发消息了。我的包裹延误了，我付了加急运费15元，现在已经超时6天了。"
    "我至少要退运费，或者找个真人客服跟我说。说实话真的很失望，我在你们店买了好几年东西，从来没出过问题。"
    "物流页面一直显示运输中，从上周四开始就没有更新，我打了快递电话400-811-1111，他们让我联系商家。"
    "所以我来了。订单号是5512093，4月14日下的单。请尽快处理，我下周出差要穿这件外套，如果周五之前到不了"
    "我就只能在本地再买一件了。如果赶不上，那就直接取消订单把钱退给我，不要优惠券，我不想要店铺积分。谢谢。",
    "我想问一下订单7730042的事。包裹今天到了，但是外箱湿透了，一个角被压扁了，里面的陶瓷碗裂了一条缝。"
    "照片我之前的消息里发过了。外箱上写着是快递公司上海分拨中心处理的。我没有生气，这种事难免，"
    "但是希望能补发一个，或者部分退款，哪个方便就哪个。不用给我打电话，私信就可以。"
    "我付了89.5元含运费，用的是尾号4412的卡。如果需要把碗寄回去检查请告诉我，并发个退货单，原包装我还留着。"
    "订单里的另一件东西，亚麻餐巾，是好的。谢谢帮忙，不好意思写了这么长！",
    "谢谢",
    "不行",
)
# fmt: on
CORPUS: tuple[str, ...] = ENGLISH + CHINESE


# The default flow's anger rules, with the learned model as shipped and without it.
ANGER = load_default_flow().document.escalation.anger
ANGER_LISTS_ONLY = ANGER.model_copy(update={"learned": LearnedRule(enabled=False)})


def read_message(text: str) -> object:
    """Everything a conversation step may ask of one DM."""
    return (
        detect_language(text),
        extract_order_number(text),
        classify_intents(text),
        extract_rating(text),
        detect_concern(text),
        read_anger(text, ANGER),
    )


READERS: dict[str, Callable[[str], object]] = {
    "detect_language": detect_language,
    "extract_order_number": extract_order_number,
    "classify_intents": classify_intents,
    "extract_rating": extract_rating,
    "detect_concern": detect_concern,
    "read_anger, lists": lambda text: read_anger(text, ANGER_LISTS_ONLY),
    "read_anger, +model": lambda text: read_anger(text, ANGER),
    "one message read": read_message,
}


@dataclass(frozen=True)
class Figures:
    p50_us: float
    p99_us: float
    mean_us: float

    @property
    def calls_per_second(self) -> float:
        return 1e6 / self.mean_us


def figures(samples_ns: Sequence[int]) -> Figures:
    ordered = sorted(samples_ns)
    p99_index = min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))
    return Figures(
        p50_us=statistics.median(ordered) / 1e3,
        p99_us=ordered[p99_index] / 1e3,
        mean_us=statistics.fmean(ordered) / 1e3,
    )


def time_reader(reader: Callable[[str], object], texts: Sequence[str], rounds: int, *, warm: bool) -> list[int]:
    """Nanoseconds per call, one sample per (round, text); caches emptied before each call unless warm."""
    clock = time.perf_counter_ns
    samples: list[int] = []
    for text in texts:  # one untimed pass: imports, lazily compiled shop patterns
        reader(text)
    gc.collect()
    gc.disable()  # a collection landing in one call is noise, not the reader's cost
    try:
        for _ in range(rounds):
            for text in texts:
                if not warm:
                    clear_caches()
                started = clock()
                reader(text)
                samples.append(clock() - started)
    finally:
        gc.enable()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="passes over the corpus per reader")
    parser.add_argument("--warm", action="store_true", help="keep caches between calls (repeated texts)")
    parser.add_argument("--only", choices=sorted(READERS), action="append", help="time only these readers")
    arguments = parser.parse_args()
    typical = [text for text in CORPUS if len(text) < TYPICAL_MAX_CHARS]
    longest = max(len(text) for text in CORPUS)
    print(
        f"bot.understanding, {len(CORPUS)} DMs ({len(ENGLISH)} en, {len(CHINESE)} zh; {len(typical)} under "
        f"{TYPICAL_MAX_CHARS} chars, longest {longest}), {arguments.rounds} rounds, "
        f"{'warm' if arguments.warm else 'cold'} caches, µs per call"
    )
    print(f"  {'':22}{'all DMs':>28}  {'typical (<200 chars)':>30}")
    print(f"  {'reader':22}{'p50':>8}{'p99':>8}{'calls/s':>12}  {'p50':>8}{'p99':>8}{'calls/s':>12}  {'mean':>6}")
    for name, reader in READERS.items():
        if arguments.only and name not in arguments.only:
            continue
        samples = time_reader(reader, CORPUS, arguments.rounds, warm=arguments.warm)
        typical_samples = [
            sample for index, sample in enumerate(samples) if len(CORPUS[index % len(CORPUS)]) < TYPICAL_MAX_CHARS
        ]
        every, short = figures(samples), figures(typical_samples)
        print(
            f"  {name:22}{every.p50_us:8.1f}{every.p99_us:8.1f}{every.calls_per_second:12,.0f}"
            f"  {short.p50_us:8.1f}{short.p99_us:8.1f}{short.calls_per_second:12,.0f}  {short.mean_us:6.1f}"
        )


if __name__ == "__main__":
    main()
