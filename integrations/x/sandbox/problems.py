"""X's error bodies: RFC 7807 Problems for v2, and the v1.1 ``errors[]`` form some 429s use."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final, Literal

import orjson
from starlette.responses import Response

__all__ = [
    "INVALID_REQUEST",
    "invalid_request",
    "json_response",
    "problem",
    "too_many_requests",
]

INVALID_REQUEST: Final = "https://api.twitter.com/2/problems/invalid-request"


def json_response(
    status: int, body: Any, *, headers: Mapping[str, str] | None = None, media_type: str = "application/json"
) -> Response:
    return Response(content=orjson.dumps(body), status_code=status, headers=headers, media_type=media_type)


def problem(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body: dict[str, Any] = {**(extra or {}), "title": title or phrase, "type": type_, "status": status}
    body["detail"] = detail or phrase
    return json_response(status, body, headers=headers, media_type="application/problem+json")


def invalid_request(
    message: str, *, parameters: Mapping[str, list[str]] | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """400 as X writes it: a Problem whose ``errors[]`` says which parameter and why."""
    error: dict[str, Any] = {"message": message}
    if parameters:
        error = {"parameters": dict(parameters), "message": message}
    return problem(
        400,
        title="Invalid Request",
        detail="One or more parameters to your request was invalid.",
        type_=INVALID_REQUEST,
        headers=headers,
        extra={"errors": [error]},
    )


def too_many_requests(style: Literal["problem", "v1"], *, headers: Mapping[str, str]) -> Response:
    if style == "v1":
        return json_response(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, headers=headers)
    return json_response(
        429,
        {"title": "Too Many Requests", "type": "about:blank", "status": 429, "detail": "Too Many Requests"},
        headers=headers,
        media_type="application/problem+json",
    )
