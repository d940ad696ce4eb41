"""The flow compiles to a strict python-statemachine class, and the memo never disagrees with it."""

from __future__ import annotations

import itertools

import pytest
from statemachine import StateMachine
from statemachine.exceptions import TransitionNotAllowed

from flows.compiler import CompiledFlow, FactSheet, NoTransition, UnknownState, compile_flow
from flows.loader import load_default_flow
from flows.vocabulary import EVENTS, NEWS_EVENTS


@pytest.fixture(scope="module")
def flow() -> CompiledFlow:
    return compile_flow(load_default_flow())


def test_it_is_a_strict_state_machine(flow: CompiledFlow) -> None:
    assert issubclass(flow.machine_class, StateMachine)
    machine = flow.machine_class(model=FactSheet(), state_field="state")
    with pytest.raises(TransitionNotAllowed):
        machine.send("agent_handback")  # acknowledge takes no hand-back: strict semantics raise


def test_compiled_once_per_version(flow: CompiledFlow) -> None:
    assert compile_flow(load_default_flow()) is flow


def test_unhandled_events_raise_instead_of_being_ignored(flow: CompiledFlow) -> None:
    with pytest.raises(NoTransition):
        flow.decide("acknowledge", "dispatched", {})


def test_a_state_the_flow_does_not_know_is_reported(flow: CompiledFlow) -> None:
    with pytest.raises(UnknownState):
        flow.decide("renamed_state", "message", {})


def test_memoized_decisions_match_the_library_machine(flow: CompiledFlow) -> None:
    """Every (state, event, guard values) combination: the remembered outcome is the machine's own."""
    checked = 0
    for state in sorted(flow.states - flow.final_states):
        for event in EVENTS:
            if not flow.handles(state, event):
                continue
            names = sorted(flow.guards_for(state, event))
            for values in itertools.product([False, True], repeat=len(names)):
                facts = dict(zip(names, values, strict=True))
                model = FactSheet()
                for name, value in facts.items():
                    setattr(model, name, value)
                model.state = state
                machine = flow.machine_class(model=model, state_field="state")
                try:
                    outcome = flow.decide(state, event, facts)
                except NoTransition:
                    # Only news events may go unhandled (the runtime ignores them); the library refuses too.
                    assert event in NEWS_EVENTS
                    with pytest.raises(TransitionNotAllowed):
                        machine.send(event)
                    checked += 1
                    continue
                assert flow._run_machine(state, event, facts) == outcome  # asked afresh, not remembered
                machine.send(event)
                assert (model.state, model.fired) == (outcome.target, outcome.transition_index)
                checked += 1
    assert checked > 100


def test_mermaid_diagram_shows_every_state_and_guard(flow: CompiledFlow) -> None:
    diagram = flow.mermaid()
    assert diagram.startswith("stateDiagram-v2")
    for state in flow.states:
        assert state in diagram
    assert "[has_order_number]" in diagram


def test_cli_diagram(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["flows", "diagram"]) == 0
    assert "offer_compensation --> confirm_dispatch" in capsys.readouterr().out
