"""The learned anger model: its features, its file, its training, and how it adds to the rules."""

from __future__ import annotations

import pytest

from bench.train_anger_model import Example, examples, fit, training_rows
from bot.understanding.anger import read_anger
from bot.understanding.anger_model import BUCKETS, MODEL_PATH, LearnedAnger, features, shipped_model
from flows.anger_rules import AngerRules, LearnedRule
from flows.loader import load_default_flow

DEFAULT = load_default_flow().document.escalation.anger
LISTS_ONLY = DEFAULT.model_copy(update={"learned": LearnedRule(enabled=False)})


def _with_learned(**changes: object) -> AngerRules:
    return DEFAULT.model_copy(update={"learned": DEFAULT.learned.model_copy(update=changes)})


def test_features_are_stable_slots_of_both_scripts() -> None:
    latin, chinese = features("Where is my parcel"), features("我的包裹呢")
    assert latin == features("  where IS my  parcel ") and latin == sorted(set(latin))
    assert all(0 <= slot < BUCKETS for slot in latin + chinese)
    assert set(features("包裹")) & set(chinese)  # the grams of its characters are the longer text's too
    assert features("") == [] and features("!!! ???") != []
    assert features("订单号12345") == features("订单号1001")  # a number's digits say nothing about tone


def test_the_model_file_round_trips_and_refuses_what_is_not_one() -> None:
    model = shipped_model()
    again = LearnedAnger.from_bytes(model.to_bytes())
    text = "still nothing after three weeks, this is a joke"
    assert again.read(text) == model.read(text)
    with pytest.raises(ValueError, match="not a dmcare anger model"):
        LearnedAnger.from_bytes(b"PK\x03\x04 something else")
    with pytest.raises(ValueError, match="cut short"):
        LearnedAnger.from_bytes(model.to_bytes()[:5000])


def test_training_learns_what_the_labels_say() -> None:
    angry = ["you thieves give my money back", "worst shop ever, thieves", "thieves! refund now", "骗子店铺退钱"]
    calm = ["thanks, it arrived", "lovely jumper, thanks", "could you check my order please", "谢谢，收到了"]
    data = [Example("en", features(text), {"angry": True, "threat": "refund" in text}) for text in angry]
    data += [Example("en", features(text), {"angry": False, "threat": False}) for text in calm]
    model = fit(data)
    assert model.read("thieves, the lot of you").angry > 0.5 > model.read("thanks, lovely").angry
    assert model.read("refund now").threat > model.read("thanks, lovely").threat


def test_the_model_only_adds_to_the_lists() -> None:
    # What the lists find stands and is what the reading names, model or not.
    text = "I'm reporting you to the BBB"
    assert read_anger(text, DEFAULT).signals == read_anger(text, LISTS_ONLY).signals == ("threat_consumer_body",)


@pytest.mark.parametrize(
    "text",
    [
        "I'm not going to sue, just want a refund",  # negated
        "my friend says I should report you to the BBB, but I just want my parcel",  # someone else's words
        "12315是什么",  # asked about
        "我朋友说要去12315，我觉得没必要",
    ],
)
def test_what_a_cue_cancelled_the_model_does_not_undo(text: str) -> None:
    assert not read_anger(text, _with_learned(angry_at=0.01, threat_at=0.01)).angry


def test_the_thresholds_are_the_admins() -> None:
    calm = "could you tell me when order 1234 ships?"
    assert not read_anger(calm, DEFAULT).angry
    eager = read_anger(calm, _with_learned(angry_at=1e-9, threat_at=0.99))
    assert eager.angry and eager.signals == ("learned_anger",) and not eager.threat
    assert read_anger(calm, _with_learned(threat_at=1e-9)).signals == ("learned_threat",)
    assert not read_anger(calm, _with_learned(enabled=False, angry_at=0.01)).angry


@pytest.mark.parametrize(
    "text",
    ["hi, my parcel still hasn't arrived, could you check order 1001?", "订单号12345", "好的，谢谢",
     "can I pay by bank transfer instead of card?", "12315是什么", "OMG IT'S HERE!!! love it!!!",
     "I'm not going to sue, just want a refund", "我不会去投诉的，放心", "is the Twitter discount still on?"],
)  # fmt: skip
def test_calm_dms_stay_calm_with_the_shipped_model(text: str) -> None:
    assert not read_anger(text, DEFAULT).angry


def test_the_shipped_model_is_what_the_trainer_makes_of_the_committed_data() -> None:
    # The weights are no blob of unknown origin: training again on bench/data gives the same bytes.
    assert fit(examples(training_rows())).to_bytes() == MODEL_PATH.read_bytes()
