"""The escalation rules as flow data: what makes a conversation go to a person, how urgent, how soon.

Every number and word list here is the admin's to edit in the flow document (``escalation:``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flows.anger_rules import AngerRules

__all__ = ["Escalation"]


def _seconds(text: str) -> int:
    from flows.schema import duration_seconds

    return duration_seconds(text)


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # When a person must first answer, by priority. Seeds: a first human answer within one hour.
    sla: dict[str, str] = Field(default_factory=lambda: {"urgent": "15m", "high": "30m", "normal": "1h", "low": "4h"})
    anger: AngerRules = AngerRules()

    @field_validator("sla")
    @classmethod
    def _sla_is_readable(cls, value: dict[str, str]) -> dict[str, str]:
        from flows.vocabulary import PRIORITIES

        for priority, duration in value.items():
            if priority not in PRIORITIES:
                raise ValueError(f"unknown priority {priority!r}; known: {', '.join(PRIORITIES)}")
            if _seconds(duration) <= 0:
                # "0m" would promise the customer an answer now and make every escalation overdue at once.
                raise ValueError(f"the SLA for {priority} must be longer than 0, got {duration!r}")
        missing = [p for p in PRIORITIES if p not in value]
        if missing:
            raise ValueError(f"an SLA is needed for every priority; missing: {', '.join(missing)}")
        return value

    def sla_seconds(self, priority: str) -> int:
        return _seconds(self.sla[priority])
