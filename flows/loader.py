"""Read a flow document from YAML and turn every problem into one error that names its fields."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flows.schema import FlowDocument, check_references
from flows.structure import check_structure

DEFAULT_FLOW_PATH = Path(__file__).with_name("default.yaml")


class FlowDefinitionError(ValueError):
    """A flow document that cannot be used, with every problem as (field path, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {path}: {message}" if path else f"{source}: {message}" for path, message in problems]
        super().__init__("invalid flow document\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class LoadedFlow:
    document: FlowDocument
    text: str
    checksum: str  # sha256 of the YAML text: two documents with one version number must not mix


def _field_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("languages", "variants") and path.startswith("texts."):
            continue  # the two text forms are an internal distinction; authors write the mapping directly
        else:
            path += f".{part}" if path else str(part)
    return path


def _non_string_keys(node: Any, path: str) -> Any:
    """YAML 1.1 reads unquoted on/off/yes/no keys as booleans; say so instead of a baffling error."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                hint = (
                    " (YAML reads unquoted on/off/yes/no as true/false: quote the key)" if isinstance(key, bool) else ""
                )
                yield (f"{path}.{key}" if path else str(key), f"keys must be text, got {key!r}{hint}")
            else:
                yield from _non_string_keys(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _non_string_keys(item, f"{path}[{index}]")


def parse_flow(text: str, *, source: str = "<flow>") -> LoadedFlow:
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise FlowDefinitionError(source, [(where, f"not valid YAML: {getattr(error, 'problem', error)}")]) from None
    if not isinstance(raw, dict):
        raise FlowDefinitionError(source, [("", "a flow document is a YAML mapping (flow:, version:, states:, ...)")])
    odd_keys = list(_non_string_keys(raw, ""))
    if odd_keys:
        raise FlowDefinitionError(source, odd_keys)
    try:
        document = FlowDocument.model_validate(raw)
    except ValidationError as error:
        problems = [(_field_path(item["loc"]), item["msg"].removeprefix("Value error, ")) for item in error.errors()]
        raise FlowDefinitionError(source, problems) from None
    problems = check_references(document)
    if not problems:
        problems = check_structure(document)
    if problems:
        raise FlowDefinitionError(source, problems)
    return LoadedFlow(document=document, text=text, checksum=hashlib.sha256(text.encode()).hexdigest())


def load_flow_file(path: Path) -> LoadedFlow:
    return parse_flow(path.read_text(encoding="utf-8"), source=str(path))


def load_default_flow() -> LoadedFlow:
    return load_flow_file(DEFAULT_FLOW_PATH)
