"""Real local servers for tests: any ASGI app under uvicorn, and tweepy pointed at it.

``serve(app)`` runs uvicorn on 127.0.0.1 (a free port) as a task of the test's own event loop, so the
app, its background tasks and the client share one loop, and yields the base URL. ``tweepy_client``
builds tweepy's real ``AsyncClient`` whose requests to ``https://api.twitter.com`` go to that base URL
instead (reference/x-dm-api.md §3.8): every byte still crosses a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import threading
from collections.abc import AsyncIterator, Coroutine, Generator, Iterator
from typing import Any, Literal, TypeVar

import aiohttp
import tweepy.asynchronous
import uvicorn
import yarl
from starlette.types import ASGIApp

__all__ = ["RewritingSession", "ThreadedServer", "serve", "serve_in_thread", "tweepy_client"]

X_API_HOST = "https://api.twitter.com"
T = TypeVar("T")


class _TestServer(uvicorn.Server):
    """uvicorn for tests: no SIGINT/SIGTERM handlers (Ctrl-C must still stop pytest), and a stop in
    milliseconds instead of uvicorn's fixed 0.1 s ticks (a suite starts and stops dozens of servers).
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            await asyncio.sleep(0.01)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                while self.server_state.connections or self.server_state.tasks:
                    await asyncio.sleep(0.005)
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel(msg="test server stopping")
        await self.lifespan.shutdown()


@contextlib.asynccontextmanager
async def serve(
    app: ASGIApp, *, root_path: str = "", lifespan: Literal["auto", "on", "off"] = "off"
) -> AsyncIterator[str]:
    """Serve ``app`` on a fresh port until the block ends; yields ``http://127.0.0.1:<port>``.

    ``root_path`` is what a reverse proxy's prefix would be; ``lifespan="on"`` runs the app's start-up
    and shut-down (off by default: the sandbox has none).
    """
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then; without it each answer waits ~40 ms
    # for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        log_level="warning",
        access_log=False,
        root_path=root_path,
        timeout_graceful_shutdown=2,
    )
    server = _TestServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn:{port}")
    try:
        while not server.started:
            if task.done():
                task.result()  # startup failed: raise its error
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class ThreadedServer:
    """A server running in its own thread and event loop, for synchronous tests (e.g. a browser)."""

    def __init__(self, *, base_url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.base_url = base_url
        self._loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T], *, timeout: float = 10) -> T:
        """Run a coroutine in the server's loop (where the app's objects live) and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, **options: Any) -> Iterator[ThreadedServer]:
    """``serve(app)`` in a background thread, for tests that cannot await (Selenium drives a browser)."""
    started: queue.Queue[ThreadedServer | BaseException] = queue.Queue()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        try:
            async with serve(app, **options) as base_url:
                started.put(ThreadedServer(base_url=base_url, loop=asyncio.get_running_loop()))
                await stop.wait()
        except BaseException as error:
            started.put(error)
            raise

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="test-server", daemon=True)
    thread.start()
    outcome = started.get(timeout=10)
    if isinstance(outcome, BaseException):
        thread.join(5)
        loop.close()
        raise outcome
    try:
        yield outcome
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


class RewritingSession:
    """What tweepy's ``AsyncClient.session`` needs, sending its api.twitter.com requests to ``base_url``."""

    def __init__(self, *, real: aiohttp.ClientSession, base_url: str) -> None:
        self.real = real
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        # With user_auth=True tweepy passes a yarl.URL whose query is already signed and encoded;
        # str() keeps that encoding, and encoded=True stops aiohttp from encoding it twice.
        rewritten = str(url).replace(X_API_HOST, self.base_url, 1)
        return self.real.request(method, yarl.URL(rewritten, encoded=True), **kwargs)

    async def close(self) -> None:
        await self.real.close()


@contextlib.asynccontextmanager
async def tweepy_client(
    base_url: str, *, oauth1: bool = True, timeout: float | None = None, **client_options: Any
) -> AsyncIterator[tweepy.asynchronous.AsyncClient]:
    """tweepy's AsyncClient against ``base_url``: OAuth 1.0a dummy keys, or a bearer user token.

    With ``oauth1=False`` the client holds an OAuth 2.0 user token; pass ``user_auth=False`` to its DM
    methods, as a real bot with such a token must.
    """
    if oauth1:
        credentials: dict[str, Any] = {
            "consumer_key": "sandbox-consumer-key",
            "consumer_secret": "sandbox-consumer-secret",
            "access_token": "1600000000000000001-sandboxaccesstoken",
            "access_token_secret": "sandbox-access-token-secret",
        }
    else:
        credentials = {"bearer_token": "sandbox-oauth2-user-token"}
    client = tweepy.asynchronous.AsyncClient(**credentials, **client_options)
    real = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
    client.session = RewritingSession(real=real, base_url=base_url)
    try:
        yield client
    finally:
        await real.close()
