"""Errors raised by integrations, shaped around what the caller does next.

IntegrationError
 ├── RetryableIntegrationError   timeouts, 5xx, 429: try again later (retry_after when known)
 └── PermanentIntegrationError   bad request, unknown account: retrying cannot help
"""

from __future__ import annotations


class IntegrationError(Exception):
    def __init__(self, message: str, *, service: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service


class RetryableIntegrationError(IntegrationError):
    def __init__(self, message: str, *, service: str, retry_after: float | None = None) -> None:
        super().__init__(message, service=service)
        self.retry_after = retry_after


class PermanentIntegrationError(IntegrationError):
    pass
