"""The demo-data file: its loader, and the resolved shop the sandbox serves.

The file format is documented for users in ``demo.yaml`` (the bundled example) and ``README.md``; the
schema is in ``demo_schema``. Loading happens in three passes so that one run reports every problem at once:

1. YAML is parsed with dates and numbers left as written (PyYAML would otherwise crash on
   ``2026-02-30`` before we can say which field it was, and turn 48.50 into a float);
2. each section and each list item is validated on its own by a pydantic model, so one bad customer does
   not hide the problems of the next;
3. cross-references (unknown customer, duplicate order or tracking numbers) are checked on the items
   that passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from integrations.models import Customer, Order, Shipment, ShipmentRef
from integrations.sandbox.demo_schema import CustomerSpec, OrderSpec, ShopSpec
from integrations.sandbox.matching import order_key, tracking_key

__all__ = ["DemoData", "DemoDataError", "Shop", "load_demo_data"]

_SECTIONS = ("shop", "customers", "orders")
SpecT = TypeVar("SpecT", bound=BaseModel)


class DemoDataError(ValueError):
    """The demo-data file cannot be used; ``problems`` lists every one found, each naming its field."""

    def __init__(self, source: Path, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


# -- the resolved data ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Shop:
    name: str
    currency: str
    timezone: str


@dataclass(frozen=True, kw_only=True)
class DemoData:
    """A validated demo shop with every relative date resolved against ``today``.

    The mappings are keyed by ``customer_id``, ``matching.order_key`` and ``matching.tracking_key``,
    and keep the file's order.
    """

    source: Path
    today: date
    shop: Shop
    customers: Mapping[str, Customer]
    orders: Mapping[str, Order]
    shipments: Mapping[str, Shipment]

    def order(self, number: str) -> Order | None:
        return self.orders.get(order_key(number))

    def shipment(self, tracking_number: str) -> Shipment | None:
        return self.shipments.get(tracking_key(tracking_number))

    def customer_by_x_user_id(self, x_user_id: str) -> Customer | None:
        return next((c for c in self.customers.values() if c.x_user_id == x_user_id), None)


# -- loading -------------------------------------------------------------------------------------------


class _DemoLoader(yaml.SafeLoader):
    """A SafeLoader that leaves dates and numbers as written.

    Dates stay text so that a bad one is reported with its field path; numbers stay text so that
    ``value: 48.50`` becomes Decimal("48.50") rather than the float 48.5, and a tracking number such as
    ``01234567`` is not read as an octal integer.
    """


_AS_WRITTEN = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:float", "tag:yaml.org,2002:int"}
_DemoLoader.yaml_implicit_resolvers = {
    first_char: [(tag, regex) for tag, regex in resolvers if tag not in _AS_WRITTEN]
    for first_char, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_demo_data(path: Path, *, today: date) -> DemoData:
    """Read and validate a demo-data YAML file, resolving relative dates against ``today``.

    Raises:
        DemoDataError: the file is unreadable or invalid; the message lists every problem found, one per
            line, as ``FILE: field.path: what is wrong``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DemoDataError(path, [f"cannot read the file ({error})"]) from error
    try:
        document: object = yaml.load(text, Loader=_DemoLoader)
    except yaml.YAMLError as error:
        raise DemoDataError(path, [f"not valid YAML: {error}"]) from error
    return _DocumentReader(path=path, today=today).read(document)


class _DocumentReader:
    """One load of one file: collects problems instead of stopping at the first."""

    def __init__(self, *, path: Path, today: date) -> None:
        self._path = path
        self._today = today
        self._problems: list[str] = []

    def read(self, document: object) -> DemoData:
        if not isinstance(document, dict):
            expected = ", ".join(_SECTIONS)
            raise DemoDataError(self._path, [f"the file must be a mapping with the sections {expected}"])
        for section in document:
            if section not in _SECTIONS:
                self._problems.append(f"{section}: unknown section (expected {', '.join(_SECTIONS)})")

        shop = None
        if "shop" in document:
            shop = self._validate(ShopSpec, document["shop"], "shop")
        else:
            self._problems.append("shop: is required")
        customers = self._validate_list(CustomerSpec, document, "customers")
        orders = self._validate_list(OrderSpec, document, "orders")

        self._check_customers(customers)
        self._check_orders(orders, customers, document, shop)
        if self._problems or shop is None:
            raise DemoDataError(self._path, self._problems)
        return self._resolve(shop, customers, orders)

    # validation passes --------------------------------------------------------------------------------

    def _validate(self, spec: type[SpecT], raw: object, where: str) -> SpecT | None:
        try:
            return spec.model_validate(raw, context={"today": self._today})
        except ValidationError as error:
            self._problems.extend(_describe(where, detail) for detail in error.errors())
            return None

    def _validate_list(
        self, spec: type[SpecT], document: Mapping[str, object], section: str
    ) -> list[tuple[str, SpecT]]:
        raw = document.get(section)
        if raw is None:
            if section == "customers":  # orders may be empty, customers are needed to own them
                self._problems.append(f"{section}: is required (a list)")
            return []
        if not isinstance(raw, list):
            self._problems.append(f"{section}: must be a list, got {type(raw).__name__}")
            return []
        valid: list[tuple[str, SpecT]] = []
        for index, item in enumerate(raw):
            where = f"{section}[{index}]"
            spec_item = self._validate(spec, item, where)
            if spec_item is not None:
                valid.append((where, spec_item))
        return valid

    def _check_customers(self, customers: list[tuple[str, CustomerSpec]]) -> None:
        self._reject_duplicates([(f"{where}.id", c.id) for where, c in customers], "customer id")
        self._reject_duplicates([(f"{where}.x_user_id", c.x_user_id) for where, c in customers], "x_user_id")
        self._reject_duplicates([(f"{where}.handle", c.handle.lower()) for where, c in customers], "handle")

    def _check_orders(
        self,
        orders: list[tuple[str, OrderSpec]],
        customers: list[tuple[str, CustomerSpec]],
        document: Mapping[str, object],
        shop: ShopSpec | None,
    ) -> None:
        # A customer that failed validation still exists in the file: do not also call its orders orphans.
        known = {c.id for _, c in customers} | _raw_ids(document.get("customers"))
        for where, order in orders:
            if order.customer not in known:
                self._problems.append(f"{where}.customer: unknown customer {order.customer!r}")
            if shop is not None and order.currency not in (None, shop.currency):
                self._problems.append(
                    f"{where}.currency: {order.currency!r} differs from the shop currency "
                    f"{shop.currency!r} (amounts are kept in the shop's currency)"
                )
        self._reject_duplicates(
            [(f"{where}.number", order_key(order.number)) for where, order in orders], "order number"
        )
        self._reject_duplicates(
            [
                (f"{where}.shipments[{index}].tracking_number", shipment.tracking_number)
                for where, order in orders
                for index, shipment in enumerate(order.shipments)
            ],
            "tracking number",
        )

    def _reject_duplicates(self, located_values: list[tuple[str, str]], what: str) -> None:
        first_seen: dict[str, str] = {}
        for where, value in located_values:
            if value in first_seen:
                self._problems.append(f"{where}: duplicate {what} {value!r} (first at {first_seen[value]})")
            else:
                first_seen[value] = where

    # resolution ---------------------------------------------------------------------------------------

    def _resolve(
        self, shop: ShopSpec, customers: list[tuple[str, CustomerSpec]], orders: list[tuple[str, OrderSpec]]
    ) -> DemoData:
        by_id = {
            c.id: Customer(customer_id=c.id, x_user_id=c.x_user_id, handle=c.handle, name=c.name, tier=c.tier)
            for _, c in customers
        }
        resolved_orders: dict[str, Order] = {}
        shipments: dict[str, Shipment] = {}
        for _, spec in orders:
            owner = by_id[spec.customer]
            resolved_orders[order_key(spec.number)] = Order(
                number=spec.number,
                value=spec.value,
                currency=spec.currency or shop.currency,
                customer_id=owner.customer_id,
                owner_x_user_id=owner.x_user_id,
                customer_tier=owner.tier,
                placed_on=spec.placed,
                promised_on=spec.promised,
                shipments=tuple(
                    ShipmentRef(carrier=s.carrier, tracking_number=s.tracking_number) for s in spec.shipments
                ),
            )
            for s in spec.shipments:
                shipments[s.tracking_number] = Shipment(
                    carrier=s.carrier,
                    tracking_number=s.tracking_number,
                    status=s.status,
                    exception=s.exception,
                    estimated_delivery=s.estimated_delivery,
                    delivered_on=s.delivered,
                    last_event=s.last_event,
                )
        return DemoData(
            source=self._path,
            today=self._today,
            shop=Shop(name=shop.name, currency=shop.currency, timezone=shop.timezone),
            customers=by_id,
            orders=resolved_orders,
            shipments=shipments,
        )


def _raw_ids(raw_customers: object) -> set[str]:
    if not isinstance(raw_customers, list):
        return set()
    return {str(item["id"]) for item in raw_customers if isinstance(item, dict) and "id" in item}


_PLAIN_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
}


def _describe(where: str, detail: ErrorDetails) -> str:
    """One pydantic error as ``path: message``, in the words a person editing YAML needs."""
    path = where + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"])
    kind = detail["type"]
    if kind in _PLAIN_MESSAGES:
        return f"{path}: {_PLAIN_MESSAGES[kind]}"
    if kind == "value_error":
        # Our validators already quote the offending value; drop pydantic's "Value error, " prefix.
        context: dict[str, Any] = dict(detail.get("ctx") or {})
        return f"{path}: {context.get('error', detail['msg'])}"
    given = detail.get("input")
    suffix = f", got {given!r}" if isinstance(given, str | int | float | bool) or given is None else ""
    return f"{path}: {detail['msg']}{suffix}"
