"""What ``XSandbox.customer_sends`` refuses, so the chat page can answer 404 / 400."""

from __future__ import annotations

__all__ = ["InvalidMessageError", "UnknownCustomerError"]


class UnknownCustomerError(LookupError):
    """The user id is not one of the configured customers."""


class InvalidMessageError(ValueError):
    """The text is empty or longer than the sandbox accepts."""
