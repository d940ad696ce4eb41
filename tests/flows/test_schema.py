"""A bad flow document is refused with the path of the field at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flows.loader import DEFAULT_FLOW_PATH, FlowDefinitionError, load_default_flow, parse_flow


def _default() -> dict:
    return yaml.safe_load(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))


def _problems(document: dict | str) -> list[tuple[str, str]]:
    text = document if isinstance(document, str) else yaml.safe_dump(document, allow_unicode=True)
    with pytest.raises(FlowDefinitionError) as caught:
        parse_flow(text, source="broken.yaml")
    assert "broken.yaml" in str(caught.value)
    return caught.value.problems


def _break(path: str, value: object) -> dict:
    document = _default()
    node: object = document
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is _DELETE:
        del node[last]  # type: ignore[attr-defined]
    else:
        node[last] = value  # type: ignore[index]
    return document


_DELETE = object()


def test_the_default_flow_loads() -> None:
    loaded = load_default_flow()
    assert loaded.document.flow == "default"
    assert set(loaded.document.states) == {
        "acknowledge", "collect_order", "lookup", "offer_compensation", "confirm_dispatch",
        "request_feedback", "closed", "human",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        ("transitions[3].to", "nowhere", "transitions[3].to", "not one of the states"),
        ("transitions[3].from", ["acknowledge", "limbo"], "transitions[3].from[1]", "not one of the states"),
        ("transitions[3].when", "has_order_numbr", "transitions[3].when", "unknown fact 'has_order_numbr'"),
        ("transitions[3].when", "has_order_number and", "transitions[3].when", "incomplete"),
        ("transitions[3].when", "__import__('os')", "transitions[3].when", "unknown fact '__import__'"),
        ("transitions[3].when", "wants_human; drop", "transitions[3].when", "unexpected"),
        ("transitions[3].event", "mesage", "transitions[3].event", "unknown event 'mesage'"),
        ("transitions[3].do", [{"say": "no_such_text"}], "transitions[3].do[0].say", "no text named"),
        ("transitions[3].do", [{"shout": "x"}], "transitions[3].do[0]", "unknown action 'shout'"),
        ("transitions[3].do", [{"count": "bananas"}], "transitions[3].do[0]", "counters"),
        ("initial", "start", "initial", "not one of the states"),
        ("texts.ask_order.zh", "", "texts.ask_order.zh", "every language"),
        (
            "texts.ask_order.en",
            "Send {order_numbr}",
            "texts.ask_order.en",
            "unknown placeholder {order_numbr}",
        ),
        (
            "states.collect_order.timeout",
            {"after": "soon"},
            "states.collect_order.timeout.after",
            "not a duration",
        ),
        ("settings.max_order_attempts", 0, "settings.max_order_attempts", "greater than or equal to 1"),
        ("policy.coupon_expiry_days", 120, "policy.coupon_expiry_days", "less than or equal to 90"),
        ("policy.rows[0].offer", [], "policy.rows[0].offer", "at least 1"),
        (
            "policy.rows[0].offer[0]",
            {"points": 0},
            "policy.rows[0].offer[0].points",
            "greater than or equal to 1",
        ),
        ("policy.rows[0].situations", ["late", "stolen"], "policy.rows[0].situations[1]", "late"),
        ("policy.rows[0].delay_days", {"min": 5, "max": 2}, "policy.rows[0].delay_days", "above max"),
        ("languages", ["en", "fr"], "languages[1]", "'en' or 'zh'"),
    ],
)
def test_errors_name_the_field(path: str, value: object, field: str, words: str) -> None:
    problems = _problems(_break(path, value))
    assert any(where == field and words in message for where, message in problems), problems


def test_unknown_keys_are_refused() -> None:
    document = _default()
    document["transitions"][0]["wen"] = "wants_human"
    assert any(where == "transitions[0].wen" for where, _ in _problems(document))


def test_yaml_boolean_keys_get_a_hint() -> None:
    problems = _problems("flow: x\nversion: 1\ntransitions:\n  - on: message\n")
    assert any(where == "transitions[0].True" and "quote the key" in message for where, message in problems)


def test_broken_yaml_points_at_the_line() -> None:
    problems = _problems("flow: x\nstates: [unclosed\n")
    assert problems[0][0].startswith("line ")


def test_a_state_that_drops_messages_is_refused() -> None:
    document = _default()
    document["transitions"] = [
        t for t in document["transitions"] if not (t["event"] == "message" and t.get("from") == "lookup")
    ]
    assert (
        "states.lookup",
        "needs a transition on 'message' without 'when' so no customer message is ever dropped",
    ) in _problems(document)


def test_an_unreachable_state_is_refused() -> None:
    document = _default()
    document["states"]["limbo"] = {"description": "nobody comes here"}
    document["transitions"].append({"event": "message", "from": "limbo", "to": "closed"})
    assert any(where == "states.limbo" and "unreachable" in message for where, message in _problems(document))


def test_a_trap_state_is_refused() -> None:
    document = _default()
    document["states"]["trap"] = {}
    document["transitions"].append({"event": "message", "from": "trap", "to": "trap"})
    document["transitions"].insert(0, {"event": "message", "from": "acknowledge", "to": "trap", "when": "said_no"})
    assert any(where == "states.trap" and "trap" in message for where, message in _problems(document))


def test_a_timeout_without_a_handler_is_refused() -> None:
    document = _default()
    document["states"]["lookup"]["timeout"] = {"after": "1h"}
    assert any(where == "states.lookup.timeout" for where, _ in _problems(document))


def test_the_cli_reports_the_field(tmp_path: Path) -> None:
    from bot.cli import main

    broken = tmp_path / "flow.yaml"
    broken.write_text(yaml.safe_dump(_break("transitions[3].when", "has_ordr")), encoding="utf-8")
    assert main(["flows", "validate", str(broken)]) == 2
