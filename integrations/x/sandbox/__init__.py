"""The X sandbox: X's v2 DM API on the wire, its webhooks, and demo customers chatting in a browser.

``make run`` without X credentials mounts ``XSandbox.app`` and points the bot's tweepy client at it;
people write as the configured customers at ``<mount>/chat``. Tests run the same app under uvicorn and
drive it with tweepy's real HTTP path, bending it with ``XSandbox.faults``.

Modules, one concept each: ``config`` (what it is set up with), ``store``/``journal``/``events``/
``snowflake`` (the DM events), ``limits`` (rate windows), ``api`` (the ``/2/...`` routes), ``paging``,
``problems`` (error bodies), ``payloads``/``delivery`` (webhooks), ``faults``, ``chat`` (the page),
``app`` (the ASGI app), ``sandbox`` (``XSandbox``, tying them together).
"""

from __future__ import annotations

from integrations.x.sandbox.config import RateWindow, SandboxCustomer, XSandboxConfig
from integrations.x.sandbox.delivery import Delivery, DeliveryAttempt
from integrations.x.sandbox.errors import InvalidMessageError, UnknownCustomerError
from integrations.x.sandbox.faults import SandboxFaults
from integrations.x.sandbox.journal import JournalCorruptError
from integrations.x.sandbox.sandbox import XSandbox

__all__ = [
    "Delivery",
    "DeliveryAttempt",
    "InvalidMessageError",
    "JournalCorruptError",
    "RateWindow",
    "SandboxCustomer",
    "SandboxFaults",
    "UnknownCustomerError",
    "XSandbox",
    "XSandboxConfig",
]
