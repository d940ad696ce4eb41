"""Compile a flow document into a python-statemachine class, and ask it for decisions.

The class is a strict ``StateMachine``: an event a state does not handle raises, guard errors
propagate. Deciding is pure: the outcome of (state, event) depends only on the truth of the guard
facts that state's transitions for that event mention. So each compiled flow runs the real machine
once per distinct (state, event, guard values) and remembers the outcome; after warm-up a decision is
a dictionary lookup instead of a ~200 µs trip through the statechart engine. Compiled flows are cached
per (flow, version, checksum).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from flows.loader import LoadedFlow
from flows.schema import Action, FlowDocument, guard_names
from flows.vocabulary import FACTS


class FlowError(Exception):
    """Root of the errors raised while running a compiled flow."""


class NoTransition(FlowError):
    """The flow has no transition for this event in this state (strict semantics: never ignored)."""

    def __init__(self, *, flow: str, state: str, event: str) -> None:
        super().__init__(f"flow {flow!r} has no transition for event {event!r} in state {state!r}")
        self.state = state
        self.event = event


class UnknownState(FlowError):
    """A stored conversation names a state this flow version does not define."""


@dataclass(frozen=True)
class Outcome:
    source: str
    target: str
    transition_index: int
    actions: tuple[Action, ...]


class FactSheet:
    """The model a compiled machine runs against: a state field plus one attribute per fact."""

    def __init__(self) -> None:
        self.state: str | None = None
        self.fired: int | None = None
        for name in FACTS:
            setattr(self, name, False)


def _recorder(index: int) -> Callable[..., None]:
    def record(model: FactSheet) -> None:
        model.fired = index

    record.__name__ = f"transition_{index}"
    return record


_RESERVED = frozenset(dir(StateMachine))


def build_machine_class(document: FlowDocument) -> type[StateMachine]:
    """The flow as a StateMachine subclass; transitions keep the document's order under each event."""
    for name in list(document.states) + [t.event for t in document.transitions]:
        if name in _RESERVED:
            raise ValueError(f"{name!r} is reserved by python-statemachine; rename the state or event")
    states = {
        name: State(name, initial=(name == document.initial), final=spec.final)
        for name, spec in document.states.items()
    }
    by_event: dict[str, Any] = {}
    for index, transition in enumerate(document.transitions):
        options: dict[str, Any] = {"on": [_recorder(index)]}
        if transition.when is not None:
            options["cond"] = transition.when
        for source in transition.source:
            origin = states[source]
            if source == transition.target:
                edge = origin.to.itself(**options)  # type: ignore[no-untyped-call]
            else:
                edge = origin.to(states[transition.target], **options)
            by_event[transition.event] = edge if transition.event not in by_event else by_event[transition.event] | edge
    attributes: dict[str, Any] = {**states, **by_event, "__module__": __name__}
    class_name = "".join(part.capitalize() for part in document.flow.split("_")) + f"FlowV{document.version}"
    machine_class: type[StateMachine] = type(class_name, (StateMachine,), attributes)
    return machine_class


class CompiledFlow:
    def __init__(self, loaded: LoadedFlow) -> None:
        self.document = loaded.document
        self.checksum = loaded.checksum
        self.machine_class = build_machine_class(loaded.document)
        self.states = frozenset(self.document.states)
        self.final_states = frozenset(name for name, spec in self.document.states.items() if spec.final)
        handled: dict[str, set[str]] = {}
        for transition in self.document.transitions:
            for source in transition.source:
                handled.setdefault(source, set()).add(transition.event)
        # Where a conversation goes when something breaks: the state where agents act (the checks
        # guarantee one exists).
        self.human_state = next(
            (
                name
                for name in self.document.states
                if {"agent_reply", "agent_handback", "agent_close"} <= handled.get(name, set())
            ),
            None,
        )
        self._guards: dict[tuple[str, str], frozenset[str]] = {}
        for transition in self.document.transitions:
            names = guard_names(transition.when) if transition.when else []
            for source in transition.source:
                known = self._guards.get((source, transition.event), frozenset())
                self._guards[(source, transition.event)] = known | frozenset(names)
        # A stable order for the memo key.
        self._guard_order = {key: tuple(sorted(names)) for key, names in self._guards.items()}
        self._outcomes: dict[tuple[Any, ...], Outcome] = {}
        self._lock = threading.Lock()

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.document.flow, self.document.version, self.checksum)

    def guards_for(self, state: str, event: str) -> frozenset[str]:
        """The facts whose truth decides what ``event`` does in ``state``."""
        return self._guards.get((state, event), frozenset())

    def handles(self, state: str, event: str) -> bool:
        return (state, event) in self._guards

    def decide(self, state: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        if state not in self.states:
            raise UnknownState(f"flow {self.document.flow!r} v{self.document.version} has no state {state!r}")
        names = self._guard_order.get((state, event), ())
        memo_key = (state, event, *(bool(facts.get(name, False)) for name in names))
        outcome = self._outcomes.get(memo_key)
        if outcome is None:
            outcome = self._run_machine(state, event, {name: bool(facts.get(name, False)) for name in names})
            self._outcomes[memo_key] = outcome
        return outcome

    def _run_machine(self, state: str, event: str, facts: dict[str, bool]) -> Outcome:
        with self._lock:
            probe = FactSheet()
            for name, value in facts.items():
                setattr(probe, name, value)
            probe.state = state
            # A fresh machine per question: one that reached a final state stays terminated.
            machine = self.machine_class(model=probe, state_field="state")
            try:
                machine.send(event)
            except TransitionNotAllowed:
                raise NoTransition(flow=self.document.flow, state=state, event=event) from None
            assert probe.fired is not None and probe.state is not None, "every transition records itself"
            transition = self.document.transitions[probe.fired]
            return Outcome(source=state, target=probe.state, transition_index=probe.fired, actions=tuple(transition.do))

    def mermaid(self) -> str:
        return f"{self.machine_class:mermaid}"


_compiled: dict[tuple[str, int, str], CompiledFlow] = {}
_compiled_lock = threading.Lock()


def compile_flow(loaded: LoadedFlow) -> CompiledFlow:
    """The compiled flow for this document, built once per (flow, version, checksum)."""
    key = (loaded.document.flow, loaded.document.version, loaded.checksum)
    with _compiled_lock:
        compiled = _compiled.get(key)
        if compiled is None:
            compiled = _compiled[key] = CompiledFlow(loaded)
        return compiled
