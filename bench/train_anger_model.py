"""Train the learned anger model (``bot/understanding/anger_model.bin``) on the labelled DMs, or cross-validate it.

Trains on every labelled DM that is not held out: the ``tune`` split of ``bench/data/anger_dms.jsonl``,
``anger_dms_fresh.jsonl`` and ``anger_dms_fresh2.jsonl`` (tuned on already, see bench/data/README.md) and
``bench/data/train/*.jsonl``. Never on the held-out quarter nor on ``anger_dms_fresh3.jsonl``: those
measure it, in ``bench/anger.py``.

Two logistic regressions (angry, threat) over ``anger_model.features``, fitted with Adagrad and a little L2,
each class weighted by its share so that the rarer one counts as much. Pure Python and deterministic: the
same data gives the same file.

    python bench/train_anger_model.py            # train and write the model
    python bench/train_anger_model.py --cv 5     # k-fold figures of the model alone, per threshold
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.understanding.anger_model import BUCKETS, HEADS, MODEL_PATH, LearnedAnger, features, sigmoid

DATA = Path(__file__).resolve().parent / "data"
TUNED_ON = ("anger_dms_fresh.jsonl", "anger_dms_fresh2.jsonl")
EPOCHS = 12
LEARNING_RATE = 0.5
L2 = 1e-5
SEED = 20261123


@dataclass(frozen=True)
class Example:
    language: str
    slots: list[int]
    labels: dict[str, bool]


def training_rows() -> list[dict[str, object]]:
    rows = [row for row in _read(DATA / "anger_dms.jsonl") if row["split"] == "tune"]
    for name in TUNED_ON:
        rows += _read(DATA / name)
    for path in sorted((DATA / "train").glob("*.jsonl")):
        rows += _read(path)
    return rows


def _read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def examples(rows: Sequence[dict[str, object]]) -> list[Example]:
    return [
        Example(
            language=str(row["language"]),
            slots=features(str(row["text"])),
            labels={"angry": bool(row["angry"]), "threat": bool(row["threat"])},
        )
        for row in rows
    ]


def fit(data: Sequence[Example]) -> LearnedAnger:
    weights: dict[str, list[float]] = {}
    biases: dict[str, float] = {}
    for head in HEADS:
        weights[head], biases[head] = _fit_head(data, head)
    return LearnedAnger(weights, biases)


def _fit_head(data: Sequence[Example], head: str) -> tuple[list[float], float]:
    positives = sum(example.labels[head] for example in data)
    negatives = len(data) - positives
    if not positives or not negatives:
        raise SystemExit(f"{head}: the training data needs both classes")
    weight_of = {True: len(data) / (2 * positives), False: len(data) / (2 * negatives)}
    weights = [0.0] * BUCKETS
    squares = [1e-8] * BUCKETS
    bias, bias_square = 0.0, 1e-8
    order = list(range(len(data)))
    shuffle = random.Random(f"{SEED}:{head}")
    for _ in range(EPOCHS):
        shuffle.shuffle(order)
        for index in order:
            example = data[index]
            label = example.labels[head]
            slots = example.slots
            norm = 1.0 / math.sqrt(len(slots)) if slots else 0.0
            margin = bias + norm * sum(weights[slot] for slot in slots)
            predicted = sigmoid(margin)
            error = (predicted - (1.0 if label else 0.0)) * weight_of[label]
            for slot in slots:
                gradient = error * norm + L2 * weights[slot]
                squares[slot] += gradient * gradient
                weights[slot] -= LEARNING_RATE * gradient / math.sqrt(squares[slot])
            bias_square += error * error
            bias -= LEARNING_RATE * error / math.sqrt(bias_square)
    return weights, bias


def cross_validate(data: Sequence[Example], folds: int) -> None:
    scored: list[tuple[Example, float, float]] = []
    order = list(range(len(data)))
    random.Random(SEED).shuffle(order)
    for fold in range(folds):
        held = set(order[fold::folds])
        model = fit([data[index] for index in order if index not in held])
        for index in held:
            reading = model.read_slots(data[index].slots)
            scored.append((data[index], reading.angry, reading.threat))
    print(f"{folds}-fold cross-validation of the model alone, {len(data)} DMs")
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        for language in ("en", "zh"):
            part = [item for item in scored if item[0].language == language]
            print(f"  at {threshold:.1f} [{language}] angry: {_figures(part, 'angry', threshold, 1)}"
                  f"   threat: {_figures(part, 'threat', threshold, 2)}")  # fmt: skip


def _figures(part: Sequence[tuple[Example, float, float]], head: str, threshold: float, column: int) -> str:
    said = [(item[0].labels[head], (item[1] if column == 1 else item[2]) >= threshold) for item in part]
    true_positive = sum(1 for label, guess in said if label and guess)
    guessed = sum(1 for _, guess in said if guess)
    actual = sum(1 for label, _ in said if label)
    false_alarms = sum(1 for example, *_ in part if not example.labels["angry"]) or 1
    calm_flagged = sum(1 for (example, *_), (_, guess) in zip(part, said, strict=True)
                       if guess and not example.labels["angry"])  # fmt: skip
    precision = true_positive / guessed if guessed else 0.0
    recall = true_positive / actual if actual else 0.0
    return f"P {precision:.3f} R {recall:.3f} calm flagged {calm_flagged}/{false_alarms}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cv", type=int, default=0, help="cross-validate with this many folds instead")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    rows = training_rows()
    data = examples(rows)
    if args.cv:
        cross_validate(data, args.cv)
        return
    model = fit(data)
    args.out.write_bytes(model.to_bytes())
    print(f"trained on {len(data)} DMs; wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
