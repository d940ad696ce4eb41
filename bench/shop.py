"""The benchmarks' demo shop: one customer with one 2-days-late order each."""

from __future__ import annotations

from pathlib import Path

from integrations.sandbox.tracking_numbers import usps_check_digit


def write_shop(path: Path, customers: int, *, first_x_user_id: int) -> None:
    """Customer ``i`` has X user id ``first_x_user_id + i`` and order ``100000 + i``, in transit."""
    lines = ["shop: {name: Bench Shop, currency: USD}", "customers:"]
    for index in range(customers):
        lines.append(
            f'  - {{id: c{index}, x_user_id: "{first_x_user_id + index}", handle: b{index}, name: B, tier: regular}}'
        )
    lines.append("orders:")
    for index in range(customers):
        body = f"9400{index:017d}"
        tracking = body + str(usps_check_digit(body))
        lines.append(
            f'  - {{number: "{100_000 + index}", customer: c{index}, value: 80, placed: today-12, promised: today-2,'
            f" shipments: [{{carrier: usps, tracking_number: '{tracking}', status: in_transit,"
            " estimated_delivery: today}]}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
