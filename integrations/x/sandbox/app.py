"""The sandbox's ASGI app: X's ``/2/...`` routes and the chat page, with errors answered as JSON.

tweepy parses the body of every non-2xx answer as JSON, so even an unknown path or a wrong method gets
a Problem body, never Starlette's plain-text default.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from integrations.x.sandbox.api import DmApi
from integrations.x.sandbox.chat import ChatPage
from integrations.x.sandbox.problems import problem

__all__ = ["build_app"]


def build_app(*, api: DmApi, chat: ChatPage) -> Starlette:
    return Starlette(routes=[*api.routes(), *chat.routes()], exception_handlers={HTTPException: _http_error})


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    detail = "Sorry, that page does not exist" if error.status_code == 404 else None
    return problem(error.status_code, detail=detail, headers=error.headers)
