"""Reading a webhook's raw body with a size cap, for the endpoints outside services call."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

__all__ = ["BodyTooLarge", "problem", "read_capped"]


class BodyTooLarge(Exception):
    """The request declared or sent more than the endpoint takes."""


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The raw body (signatures are computed over these exact bytes), refusing more than ``max_bytes``.

    Both the declared length and what actually arrives are checked: a chunked body has no length.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise BodyTooLarge
    return bytes(body)


def problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"status": status, "detail": detail}, status_code=status)
