"""Structural checks that python-statemachine skips for machines built from data.

Every state must be reachable, every non-final state must be able to end, a customer message must
always have somewhere to go, and states that wait on timers or agents must handle those events.
"""

from __future__ import annotations

from collections import defaultdict

from flows.schema import FlowDocument

HUMAN_EVENTS = ("agent_reply", "agent_handback", "agent_close")
# Actions that emit a command: twice in one transition would be two commands under one key.
ONCE_PER_TRANSITION = frozenset(
    {"lookup_order", "lookup_tracking", "make_offer", "issue_compensation", "dispatch", "relay_agent_text"}
)


def check_structure(document: FlowDocument) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    edges: dict[str, set[str]] = defaultdict(set)
    unguarded: dict[str, set[str]] = defaultdict(set)
    handled: dict[str, set[str]] = defaultdict(set)
    for transition in document.transitions:
        for source in transition.source:
            edges[source].add(transition.target)
            handled[source].add(transition.event)
            if transition.when is None:
                unguarded[source].add(transition.event)

    for index, transition in enumerate(document.transitions):
        effects = [action.name for action in transition.do if action.name in ONCE_PER_TRANSITION]
        for name in sorted({name for name in effects if effects.count(name) > 1}):
            problems.append((f"transitions[{index}].do", f"{name!r} appears twice; it may run once per transition"))
    reachable = _reachable(document.initial, edges)
    finals = {name for name, spec in document.states.items() if spec.final}
    if not finals:
        problems.append(("states", "no state is final: conversations could never close"))
    for name, spec in document.states.items():
        where = f"states.{name}"
        if name not in reachable:
            problems.append((where, f"unreachable from the initial state {document.initial!r}"))
        if spec.final:
            if spec.timeout is not None:
                problems.append((f"{where}.timeout", "a final state cannot wait for a timeout"))
            continue
        if finals and not (_reachable(name, edges) & finals):
            problems.append((where, "no path from here to a final state (a trap)"))
        if "message" not in unguarded[name]:
            problems.append(
                (
                    where,
                    "needs a transition on 'message' without 'when' so no customer message is ever dropped",
                )
            )
        if spec.timeout is not None and "timeout" not in handled[name]:
            problems.append((f"{where}.timeout", "the state sets a timeout but no transition handles 'timeout'"))
    if not any(all(event in handled[name] for event in HUMAN_EVENTS) for name in document.states):
        problems.append(("states", "no state takes agent events (agent_reply, agent_handback, agent_close)"))
    return problems


def _reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    frontier = [start]
    while frontier:
        for target in edges[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen
