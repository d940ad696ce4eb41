"""What the runtime reports as it works: one JSON object per transition and per command (``--trace``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Trace = Callable[[dict[str, Any]], None]


def trace_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str, sort_keys=True)
