"""The accounts the sandbox knows (the shop and its customers) in v1.1 and v2 user shapes."""

from __future__ import annotations

from typing import Any

from integrations.x.sandbox.config import XSandboxConfig

__all__ = ["known_handles", "names", "v1_user", "v2_user"]


def names(user_id: str, *, config: XSandboxConfig) -> tuple[str, str]:
    """(handle, display name); an id the config no longer lists (e.g. from an old journal) gets placeholders."""
    if user_id == config.bot_user_id:
        return config.bot_handle, config.bot_name
    customer = config.customer(user_id)
    if customer is not None:
        return customer.handle, customer.name
    return f"user{user_id}", f"user{user_id}"


def known_handles(*, config: XSandboxConfig) -> dict[str, tuple[str, str]]:
    """Lower-case handle -> (user id, name), for resolving @mentions."""
    known = {c.handle.lower(): (c.user_id, c.name) for c in config.customers}
    known[config.bot_handle.lower()] = (config.bot_user_id, config.bot_name)
    return known


def v1_user(user_id: str, *, config: XSandboxConfig) -> dict[str, Any]:
    handle, name = names(user_id, config=config)
    return {"id": user_id, "name": name, "screen_name": handle, "protected": False, "verified": False}


def v2_user(user_id: str, *, config: XSandboxConfig) -> dict[str, Any]:
    handle, name = names(user_id, config=config)
    return {"id": user_id, "name": name, "username": handle}
