"""The ``dmcare`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

from bot.runtime.inbox import NewEvent
from bot.runtime.trace import trace_line
from bot.settings import Settings
from flows.loader import FlowDefinitionError, load_default_flow, load_flow_file
from flows.vocabulary import ACTIONS, EVENTS, FACTS
from integrations.models import SentMessage
from integrations.sandbox import DemoDataError, LedgerCorruptError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dmcare", description="Customer care for X direct messages.")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="play a customer from the terminal against the sandbox shop")
    chat.add_argument("--data", type=Path, help="demo data YAML (default: the bundled demo shop)")
    chat.add_argument("--as", dest="handle", help="the demo customer's handle to play (default: the first)")
    chat.add_argument("--trace", action="store_true", help="print every transition and command as JSON on stderr")
    chat.add_argument("--db", help="database URL (default: DMCARE_DATABASE_URL or sqlite:///dmcare.db)")
    chat.add_argument("--flow", type=Path, help="flow YAML (default: the bundled default flow)")

    serve = commands.add_parser(
        "serve", help="run the bot on X with its web server (the X sandbox and its chat page without credentials)"
    )
    serve.add_argument("--host", help="address to listen on (default: DMCARE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: DMCARE_PORT or 8000)")
    serve.add_argument("--data", type=Path, help="demo data YAML (default: the bundled demo shop)")
    serve.add_argument("--db", help="database URL (default: DMCARE_DATABASE_URL or sqlite:///dmcare.db)")
    serve.add_argument("--flow", type=Path, help="flow YAML (default: the bundled default flow)")

    flows = commands.add_parser("flows", help="inspect and check flow documents")
    flow_commands = flows.add_subparsers(dest="flow_command", required=True)
    for name, text in (
        ("diagram", "print the flow as a Mermaid state diagram"),
        ("validate", "check a flow file"),
    ):
        sub = flow_commands.add_parser(name, help=text)
        sub.add_argument("file", nargs="?", type=Path, help="flow YAML (default: the bundled default flow)")
    flow_commands.add_parser("vocabulary", help="list the events, facts and actions a flow may use")

    database = commands.add_parser("db", help="database maintenance")
    database.add_argument("action", choices=["upgrade"])
    database.add_argument("--db", help="database URL")

    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if arguments.command == "chat":
        return asyncio.run(_chat(arguments))
    if arguments.command == "serve":
        return asyncio.run(_serve(arguments))
    if arguments.command == "flows":
        return _flows(arguments)
    return _db(arguments)


def _settings(arguments: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(arguments, "db", None):
        overrides["database_url"] = arguments.db
    if getattr(arguments, "data", None):
        overrides["demo_data"] = arguments.data
    if getattr(arguments, "flow", None):
        overrides["flow_file"] = arguments.flow
    if getattr(arguments, "host", None):
        overrides["host"] = arguments.host
    if getattr(arguments, "port", None) is not None:
        overrides["port"] = arguments.port
    return Settings(**overrides)


async def _serve(arguments: argparse.Namespace) -> int:
    from bot.service import build_service

    logging.getLogger("bot").setLevel(logging.INFO)
    try:
        settings = _settings(arguments)
        service = await build_service(settings)
    except (FlowDefinitionError, DemoDataError, LedgerCorruptError, ValueError) as error:
        print(f"dmcare: {error}", file=sys.stderr)
        return 2
    where = settings.base_url()
    if service.sandbox is not None:
        print(f"dmcare is up with the X sandbox: chat as a customer at {where}/", flush=True)
    else:
        print(f"dmcare is up on X; webhook at {where}/webhooks/x", flush=True)
    await service.serve()
    return 0


def _flows(arguments: argparse.Namespace) -> int:
    if arguments.flow_command == "vocabulary":
        for title, table in (("events", EVENTS), ("facts", FACTS), ("actions", ACTIONS)):
            print(f"{title}:")
            for name, meaning in table.items():
                print(f"  {name:22} {meaning}")
        return 0
    try:
        loaded = load_flow_file(arguments.file) if arguments.file else load_default_flow()
        from flows.compiler import compile_flow

        compiled = compile_flow(loaded)
    except FlowDefinitionError as error:
        print(error, file=sys.stderr)
        return 2
    except OSError as error:
        print(f"dmcare: cannot read {arguments.file}: {error.strerror}", file=sys.stderr)
        return 2
    if arguments.flow_command == "diagram":
        print(compiled.mermaid())
    else:
        document = loaded.document
        languages = ", ".join(document.languages)
        print(
            f"ok: flow {document.flow!r} v{document.version}, {len(document.states)} states, "
            f"{len(document.transitions)} transitions, {len(document.texts)} texts in {languages}"
        )
    return 0


def _db(arguments: argparse.Namespace) -> int:
    from bot.storage.database import create_database_engine, upgrade

    upgrade(create_database_engine(_settings(arguments).database_url))
    print("database is at the newest schema")
    return 0


async def _chat(arguments: argparse.Namespace) -> int:
    from bot.app import build_app

    out = sys.stdout

    def show(message: SentMessage) -> None:
        out.write(f"shop> {message.text}\n")
        out.flush()

    def trace(record: dict[str, Any]) -> None:
        sys.stderr.write(trace_line(record) + "\n")
        sys.stderr.flush()

    try:
        app = build_app(_settings(arguments), trace=trace if arguments.trace else None, on_delivered=show)
    except (FlowDefinitionError, DemoDataError, LedgerCorruptError) as error:
        print(error, file=sys.stderr)
        return 2
    customers = list(app.sandbox.data.customers.values())
    if not customers:
        print(f"dmcare: the demo data {app.sandbox.data.source} has no customers to play", file=sys.stderr)
        return 2
    wanted = (arguments.handle or "").removeprefix("@")
    customer = next((c for c in customers if c.handle == wanted), None) if wanted else customers[0]
    if customer is None:
        known = ", ".join(c.handle for c in customers)
        print(f"dmcare: no demo customer @{arguments.handle}; known: {known}", file=sys.stderr)
        return 2
    interactive = sys.stdin.isatty()
    if interactive:
        _banner(app, customer.handle, out)
    runtime = app.runtime
    try:
        await runtime.drain()  # finish whatever a previous run left half done before listening
        for line in _lines(sys.stdin, interactive):
            text = line.rstrip("\n")
            if not text.strip():
                continue
            if text.startswith("/as "):
                # Switch the customer being played, to try another demo case without restarting.
                handle = text.removeprefix("/as ").strip().removeprefix("@")
                chosen = next((c for c in customers if c.handle == handle), None)
                if chosen is None:
                    out.write(f"(no demo customer @{handle}; known: {', '.join(c.handle for c in customers)})\n")
                else:
                    customer = chosen
                    out.write(f"(you are now @{customer.handle})\n")
                continue
            event_id = f"chat:{uuid.uuid4()}"
            runtime.inbox.accept(
                [NewEvent(event_id=event_id, kind="message", customer_id=customer.x_user_id,
                          payload={"text": text, "sender_id": customer.x_user_id, "message_id": event_id})]
            )  # fmt: skip
            await runtime.drain()
    finally:
        await app.aclose()
    return 0


def _lines(stream: TextIO, interactive: bool) -> Any:
    while True:
        if interactive:
            sys.stdout.write("you> ")
            sys.stdout.flush()
        line = stream.readline()
        if not line:
            return
        yield line


def _banner(app: Any, handle: str, out: TextIO) -> None:
    out.write(f"dmcare chat: you are @{handle} writing to {app.runtime.flows.active_core()[1].document.shop}.\n")
    out.write("Orders in the demo shop, by owner (type /as HANDLE to write as another customer):\n")
    owners = {c.customer_id: c.handle for c in app.sandbox.data.customers.values()}
    for order in app.sandbox.data.orders.values():
        owner = owners.get(order.customer_id, "?")
        mine = "  <- yours" if owner == handle else ""
        out.write(f"  #{order.number:6} @{owner:18} {order.value} {order.currency}{mine}\n")
    out.write("Type your message; Ctrl-D to leave.\n")


if __name__ == "__main__":
    raise SystemExit(main())
