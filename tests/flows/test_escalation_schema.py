"""The flow's ``escalation.sla``: every priority has a time a person must answer within, and a bad one is
refused at the field with what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from flows.loader import DEFAULT_FLOW_PATH, FlowDefinitionError, load_default_flow, parse_flow


def _flow_with_sla(sla: Any) -> str:
    document = yaml.safe_load(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))
    document["escalation"]["sla"] = sla
    return yaml.safe_dump(document, allow_unicode=True)


def test_the_default_slas_follow_the_seeds() -> None:
    escalation = load_default_flow().document.escalation
    assert [escalation.sla_seconds(p) for p in ("urgent", "high", "normal", "low")] == [900, 1800, 3600, 14400]


def test_an_edited_sla_is_read() -> None:
    flow = parse_flow(_flow_with_sla({"urgent": "5m", "high": "20m", "normal": "2h", "low": "1d"}), source="x.yaml")
    assert flow.document.escalation.sla_seconds("normal") == 7200


@pytest.mark.parametrize(
    ("sla", "words"),
    [
        ({"urgent": "0m", "high": "30m", "normal": "1h", "low": "4h"}, "longer than 0"),
        ({"urgent": "soon", "high": "30m", "normal": "1h", "low": "4h"}, "is not a duration"),
        ({"urgent": "15m", "high": "30m", "normal": "1h"}, "missing: low"),
        ({"urgent": "15m", "high": "30m", "normal": "1h", "low": "4h", "asap": "1m"}, "unknown priority 'asap'"),
    ],
)
def test_a_bad_sla_is_refused_at_the_field(sla: dict[str, str], words: str) -> None:
    with pytest.raises(FlowDefinitionError) as caught:
        parse_flow(_flow_with_sla(sla), source="broken.yaml")
    problems = caught.value.problems
    assert any(path == "escalation.sla" and words in message for path, message in problems), problems
