"""Errors raised by integrations, shaped around what the caller does next.

IntegrationError
 ├── RetryableIntegrationError   timeouts, 5xx, 429: try again later (retry_after when known)
 │    ├── RateLimitedError        429: wait until the provider's reset time
 │    └── OutcomeUnknownError     the request left but no answer came: it may have taken effect
 └── PermanentIntegrationError   bad request, unknown account: retrying cannot help
"""

from __future__ import annotations

from integrations.models import RateLimit


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


class RateLimitedError(RetryableIntegrationError):
    """The provider refused for its rate limit; ``rate_limit`` is what its headers said, when they did."""

    def __init__(
        self, message: str, *, service: str, retry_after: float | None = None, rate_limit: RateLimit | None = None
    ) -> None:
        super().__init__(message, service=service, retry_after=retry_after)
        self.rate_limit = rate_limit


class OutcomeUnknownError(RetryableIntegrationError):
    """A change was sent but its answer never came (timeout, dropped connection, gateway error).

    The provider may have carried it out: before trying again, look for its effect (a DM sent, a
    coupon created) instead of repeating it blindly.
    """
