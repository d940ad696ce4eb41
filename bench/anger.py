"""How well the anger rules of the default flow tell angry and threatening DMs, on hand-labelled data.

Reads ``bench/data/anger_dms.jsonl`` (480 DMs, English and Chinese, labelled angry / threat, each with the
kind it was written for and a split; see ``bench/data/README.md``) and reads every DM with
``read_anger`` and the rules of ``flows/default.yaml`` (``escalation.anger``). Prints, per language:

- for the held-out split (never tuned on) and, labelled apart, the tune split: count, precision, recall
  and F1 of ``angry``, and the recall of threats twice: read as a threat, and read as at least angry;
- for the tune split only, every error by kind with its text and the signals read, to guide tuning;
- for the held-out split only, how many errors per kind: no texts, so nobody tunes on them.

Each DM is read alone (``complaints_before=0``): a repeated complaint has to say so in its words.

    python bench/anger.py [--data bench/data/anger_dms.jsonl] [--no-errors] [--tune-only]

With the default data, the sets written later by other hands are measured too (see bench/data/README.md),
each after a round of tuning and measured once untouched before the next round tuned on it:
``anger_dms_fresh.jsonl`` (200 DMs, tuned on in round 2), ``anger_dms_fresh2.jsonl`` (240, tuned on in
round 3) and ``anger_dms_fresh3.jsonl`` (240, written after round 3 and never tuned on: figures and error
counts only).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.understanding.anger import AngerReading, read_anger
from flows.anger_rules import AngerRules
from flows.loader import load_default_flow

DATA = Path(__file__).resolve().parent / "data" / "anger_dms.jsonl"
# Written after a round of tuning, each by another hand that saw neither the rules nor the other sets.
# (file, what it is, whether it was tuned on): the never-tuned one shows counts only, never texts.
LATER_SETS = (
    (
        "anger_dms_fresh.jsonl",
        "FRESH 1 (by another hand after round 1; measured once untouched, tuned on in round 2)",
        True,
    ),
    (
        "anger_dms_fresh2.jsonl",
        "FRESH 2 (by another hand after round 2; measured once untouched, tuned on in round 3)",
        True,
    ),
    ("anger_dms_fresh3.jsonl", "FRESH 3 (by another hand after round 3; never tuned on)", False),
)
LANGUAGES = ("en", "zh")
SPLITS = (("held_out", "HELD-OUT (never tuned on)"), ("tune", "TUNE (the rules were tuned on these)"))


@dataclass(frozen=True)
class Row:
    id: str
    language: str
    text: str
    angry: bool
    threat: bool
    kind: str
    split: str


@dataclass(frozen=True)
class Scored:
    row: Row
    reading: AngerReading


@dataclass(frozen=True)
class Figures:
    count: int
    precision: float
    recall: float
    f1: float
    threats: int
    threats_as_threat: int
    threats_as_angry: int


def load_rows(path: Path) -> list[Row]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            raw = json.loads(line)
            try:
                rows.append(
                    Row(
                        id=str(raw["id"]),
                        language=str(raw["language"]),
                        text=str(raw["text"]),
                        angry=bool(raw["angry"]),
                        threat=bool(raw["threat"]),
                        kind=str(raw["kind"]),
                        split=str(raw["split"]),
                    )
                )
            except KeyError as missing:
                raise SystemExit(f"{path}:{number}: no field {missing}") from None
    return rows


def figures(scored: list[Scored]) -> Figures:
    true_positives = sum(1 for item in scored if item.row.angry and item.reading.angry)
    predicted = sum(1 for item in scored if item.reading.angry)
    actual = sum(1 for item in scored if item.row.angry)
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    threats = [item for item in scored if item.row.threat]
    return Figures(
        count=len(scored),
        precision=precision,
        recall=recall,
        f1=f1,
        threats=len(threats),
        threats_as_threat=sum(1 for item in threats if item.reading.threat),
        threats_as_angry=sum(1 for item in threats if item.reading.angry),
    )


def is_error(item: Scored) -> bool:
    return item.row.angry != item.reading.angry or (item.row.threat and not item.reading.threat)


def error_label(item: Scored) -> str:
    if item.row.threat and not item.reading.threat:
        return "missed threat" + ("" if item.reading.angry else " (not angry either)")
    return "missed anger" if item.row.angry else "false alarm"


def _ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.3f}" if whole else "n/a"


def print_figures(title: str, by_language: dict[str, list[Scored]]) -> None:
    print(title)
    print(f"  {'lang':<5} {'count':>5} {'precision':>9} {'recall':>7} {'F1':>6}   threat recall: as threat / as angry")
    for language in (*LANGUAGES, "all"):
        scored = [item for items in by_language.values() for item in items] if language == "all" else []
        scored = scored or by_language.get(language, [])
        if not scored:
            continue
        result = figures(scored)
        print(
            f"  {language:<5} {result.count:>5} {result.precision:>9.3f} {result.recall:>7.3f} {result.f1:>6.3f}"
            f"   {_ratio(result.threats_as_threat, result.threats)} / {_ratio(result.threats_as_angry, result.threats)}"
        )


def print_tune_errors(by_language: dict[str, list[Scored]]) -> None:
    print("TUNE errors by kind (texts shown: tune on these only)")
    for language in LANGUAGES:
        errors = [item for item in by_language.get(language, []) if is_error(item)]
        print(f"  [{language}] {len(errors)} errors")
        by_kind: dict[str, list[Scored]] = defaultdict(list)
        for item in errors:
            by_kind[item.row.kind].append(item)
        for kind in sorted(by_kind):
            print(f"    {kind} ({len(by_kind[kind])})")
            for item in by_kind[kind]:
                signals = ",".join(item.reading.signals) or "-"
                print(f"      {item.row.id} {error_label(item)} [{signals} {item.reading.score}] {item.row.text!r}")


def print_held_out_error_counts(by_language: dict[str, list[Scored]]) -> None:
    print("HELD-OUT errors per kind (counts only, never texts)")
    for language in LANGUAGES:
        counts = Counter((item.row.kind, error_label(item)) for item in by_language.get(language, []) if is_error(item))
        listed = ", ".join(f"{kind} {label}: {count}" for (kind, label), count in sorted(counts.items()))
        print(f"  [{language}] {sum(counts.values())} errors" + (f": {listed}" if listed else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-errors", action="store_true", help="figures only, no tune error list")
    parser.add_argument(
        "--tune-only", action="store_true", help="leave the held-out split out entirely: for tuning without a peek"
    )
    args = parser.parse_args()
    if not args.data.exists():
        print(f"dataset missing: {args.data} not found; nothing to measure (see bench/data/README.md)")
        return
    rules = load_default_flow().document.escalation.anger
    rows = load_rows(args.data)
    by_split: dict[str, dict[str, list[Scored]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_split[row.split][row.language].append(Scored(row, read_anger(row.text, rules)))
    unknown = sorted(set(by_split) - {split for split, _ in SPLITS})
    if unknown:
        print(f"rows with an unknown split left out: {', '.join(unknown)}")
    print(f"{len(rows)} DMs from {args.data}")
    for split, title in SPLITS:
        if args.tune_only and split != "tune":
            continue
        print()
        print_figures(title, by_split[split])
    if not args.no_errors:
        print()
        print_tune_errors(by_split["tune"])
    if not args.tune_only:
        print()
        print_held_out_error_counts(by_split["held_out"])
    for name, title, tuned_on in LATER_SETS if args.data == DATA else ():
        path = DATA.parent / name
        if path.exists() and (tuned_on or not args.tune_only):
            print_fresh(path, title, rules, counts_only=args.no_errors or not tuned_on)


def print_fresh(path: Path, title: str, rules: AngerRules, *, counts_only: bool = False) -> None:
    fresh: dict[str, list[Scored]] = defaultdict(list)
    rows = load_rows(path)
    for row in rows:
        fresh[row.language].append(Scored(row, read_anger(row.text, rules)))
    print()
    print(f"{len(rows)} DMs from {path}")
    print_figures(title, fresh)
    print()
    if counts_only:
        print_held_out_error_counts(fresh)
    else:
        print_tune_errors(fresh)


if __name__ == "__main__":
    main()
