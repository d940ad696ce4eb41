"""A small learned reading of anger and threats, next to the rules: hashed character n-grams and two
logistic regressions (angry, threat), trained on hand-labelled DMs by ``bench/train_anger_model.py``.

Why it exists: the rules (``anger.py``) are explainable and the admin's to edit, but a list only knows the
words it holds; a customer who threatens "a word with the Texas AG's office" or "一篇知乎回答" in words
no list foresaw reads as calm. The model reads every character run of the DM, so it carries what many
labelled DMs share to phrasings it has not seen. It only adds to the rules: a DM is angry (or threatening)
when the rules or the model say so, and the model's thresholds are flow data (``escalation.anger.learned``).

The weights ship in the package (``anger_model.bin``, 128 KiB): nothing is downloaded, and the model is
pure Python, so it needs no numerical library. Reading a DM costs a few hundred hashes.
"""

from __future__ import annotations

import math
import re
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.understanding._text import HAN_PATTERN, normalize_lower

__all__ = ["HEADS", "LearnedAnger", "LearnedReading", "features", "has_enough_words", "shipped_model", "sigmoid"]

MODEL_PATH = Path(__file__).with_name("anger_model.bin")
HEADS = ("angry", "threat")
BUCKETS = 1 << 16  # hashed feature slots per head
_MAGIC = b"dmcare-anger-1\n"
_READ_AT_MOST = 1000  # characters: what a DM's tone needs, and a bound on the work
_DIGITS = re.compile(r"\d+")
# Below this many words (a Chinese character is half of one) the model is not asked: "4", "yes", "#1001",
# "好的谢谢" carry too little for it, and the lists read them well. Its prior is even, by design of the
# training (each class weighted to count as much), so a text with nothing to go by reads as a coin toss.
MIN_WORDS = 3
_LATIN_WORDS = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True, slots=True)
class LearnedReading:
    angry: float  # probability, 0..1
    threat: float


def features(text: str) -> list[int]:
    """The hashed feature slots of `text`: character 2- to 4-grams of each word with its edges marked, and
    the words and word pairs of Latin script; in Chinese, character 1- to 3-grams. Each slot once, and
    every run of digits read as one "0"."""
    # Digits become "0": an order or tracking number says nothing about tone, and a model that learned
    # "12345" from "12345热线" would read "订单号12345" as a threat. (The lists name 12315 and 12345.)
    lower = _DIGITS.sub("0", " ".join(normalize_lower(text[:_READ_AT_MOST]).split()))
    grams: set[str] = set()
    words = lower.split(" ")
    previous = ""
    for word in words:
        if not word:
            continue
        marked = f"<{word}>"
        for size in (2, 3, 4):
            grams.update("c" + marked[start : start + size] for start in range(len(marked) - size + 1))
        grams.add("w" + word)
        if previous:
            grams.add("p" + previous + " " + word)
        previous = word
    for run in HAN_PATTERN.findall(lower):
        for size in (1, 2, 3):
            grams.update("h" + run[start : start + size] for start in range(len(run) - size + 1))
    return sorted({zlib.crc32(gram.encode("utf-8")) % BUCKETS for gram in grams})


def has_enough_words(text: str) -> bool:
    """Whether `text` says enough for the model to read: `MIN_WORDS` words or more."""
    head = text[:_READ_AT_MOST]
    han = len(HAN_PATTERN.findall(head))
    latin = sum(1 for word in _LATIN_WORDS.findall(head) if not HAN_PATTERN.match(word))
    return latin + han / 2 >= MIN_WORDS


class LearnedAnger:
    """Two logistic regressions over the same hashed features, with weights kept as int8 and a scale."""

    def __init__(self, weights: dict[str, list[float]], biases: dict[str, float]) -> None:
        missing = [head for head in HEADS if head not in weights or len(weights[head]) != BUCKETS]
        if missing:
            raise ValueError(f"the model needs {BUCKETS} weights for {', '.join(missing)}")
        self.weights = weights
        self.biases = biases

    def read(self, text: str) -> LearnedReading:
        return self.read_slots(features(text))

    def read_slots(self, slots: list[int]) -> LearnedReading:
        """The probabilities for a text with these feature slots (see `features`)."""
        norm = 1.0 / math.sqrt(len(slots)) if slots else 0.0
        angry, threat = self.weights["angry"], self.weights["threat"]
        return LearnedReading(
            angry=sigmoid(self.biases["angry"] + norm * sum(angry[slot] for slot in slots)),
            threat=sigmoid(self.biases["threat"] + norm * sum(threat[slot] for slot in slots)),
        )

    def to_bytes(self) -> bytes:
        """The weights quantized to int8, one scale per head: 128 KiB for both heads."""
        parts = [_MAGIC]
        for head in HEADS:
            values = self.weights[head]
            scale = max(map(abs, values)) / 127 or 1.0
            parts.append(struct.pack("<dd", self.biases[head], scale))
            parts.append(bytes((round(value / scale) & 0xFF) for value in values))
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> LearnedAnger:
        if not data.startswith(_MAGIC):
            raise ValueError("not a dmcare anger model")
        offset = len(_MAGIC)
        weights: dict[str, list[float]] = {}
        biases: dict[str, float] = {}
        for head in HEADS:
            bias, scale = struct.unpack_from("<dd", data, offset)
            offset += 16
            raw = data[offset : offset + BUCKETS]
            if len(raw) != BUCKETS:
                raise ValueError("the model file is cut short")
            offset += BUCKETS
            biases[head] = bias
            weights[head] = [(byte - 256 if byte > 127 else byte) * scale for byte in raw]
        return cls(weights, biases)


@lru_cache(maxsize=1)
def shipped_model() -> LearnedAnger:
    """The model that ships with dmcare, read once per process."""
    return LearnedAnger.from_bytes(MODEL_PATH.read_bytes())


def sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)
