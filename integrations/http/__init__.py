"""What every provider adapter needs from HTTP: timeouts, retries, a circuit breaker, a cache.

One ``ProviderHttp`` per provider (AfterShip, 17TRACK, Shopify, Smile, ...). Adapters say whether a
request may be repeated; the client retries only what is safe, translates what is not into
``OutcomeUnknownError`` so the caller reconciles first, and never logs a key, a header or a body.
"""

from integrations.http.breaker import CircuitBreaker, ProviderUnavailableError
from integrations.http.cache import CoalescingCache
from integrations.http.client import ProviderHttp, ProviderResponse
from integrations.http.pacing import RequestPacer
from integrations.http.retry import RetryPolicy, wait_from_headers

__all__ = [
    "CircuitBreaker",
    "CoalescingCache",
    "ProviderHttp",
    "ProviderResponse",
    "ProviderUnavailableError",
    "RequestPacer",
    "RetryPolicy",
    "wait_from_headers",
]
