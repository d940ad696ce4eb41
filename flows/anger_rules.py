"""Placeholder: the anger rules (word lists and thresholds) an admin edits; filled in by the anger work."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AngerRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
