"""A circuit breaker per provider: stop calling a provider that keeps failing, try again after a pause.

Closed: calls go through; ``failure_threshold`` failures in a row open it. Open: calls fail at once
with ``ProviderUnavailableError`` (retryable, with the time left), so a conversation hears "a person
will help" in seconds instead of every lookup waiting out its own timeouts. After ``reset_after``
seconds it is half-open: one call goes through as a probe; its success closes the breaker, its failure
opens it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import StrEnum

from integrations.errors import RetryableIntegrationError

__all__ = ["BreakerState", "CircuitBreaker", "ProviderUnavailableError"]

log = logging.getLogger(__name__)


class ProviderUnavailableError(RetryableIntegrationError):
    """The provider failed too often lately; no call was made."""


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        service: str,
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._service = service
        self._threshold = failure_threshold
        self._reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self) -> bool:
        """Let the call through, or raise ProviderUnavailableError when the breaker is open.

        Returns True when the call is the half-open probe: only that call may ``release_probe()``.
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True  # this call is the probe; the others keep failing fast until it answers
            return True
        assert self._opened_at is not None
        left = max(0.0, self._reset_after - (self._clock() - self._opened_at))
        raise ProviderUnavailableError(
            f"not calling: {self._failures} failures in a row; trying again in {left:.0f} s",
            service=self._service,
            retry_after=left or self._reset_after,
        )

    def record_success(self) -> None:
        if self._opened_at is not None:
            log.info("%s answers again: circuit closed", self._service)
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        reopen = self._probing or (self._opened_at is None and self._failures >= self._threshold)
        self._probing = False
        if reopen:
            self._opened_at = self._clock()
            log.warning(
                "%s failed %d times in a row: circuit open for %.0f s", self._service, self._failures, self._reset_after
            )

    def release_probe(self) -> None:
        """The probe ended without telling anything about the provider (cancelled): let another try."""
        self._probing = False
