"""Render the flow's customer-facing texts in the conversation's language.

Variants are picked by the most specific thing we know: the assessed situation, then the customer's
stated concern, then ``default``. Placeholders were checked when the flow was loaded; a value we do not
have renders as an empty string rather than leaking ``{braces}`` to a customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flows.schema import FlowDocument

EMPTY = ""


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return EMPTY


class TextBook:
    def __init__(self, document: FlowDocument) -> None:
        self._texts: dict[str, dict[str, dict[str, str]]] = {
            key: {
                variant: {str(k): v for k, v in localized.items()}
                for variant, localized in entry.all_localized().items()
            }
            for key, entry in document.texts.items()
        }
        self.default_language = document.default_language
        self.shop = document.shop

    def render(
        self, key: str, *, language: str, values: Mapping[str, str], variant_keys: tuple[str | None, ...] = ()
    ) -> str:
        variants = self._texts[key]
        localized = variants["default"]
        for variant in variant_keys:
            if variant is not None and variant in variants:
                localized = variants[variant]
                break
        template = localized.get(language) or localized[self.default_language]
        # A mapping that supplies missing values itself (worked out on demand) is used as it is.
        lenient = values if hasattr(type(values), "__missing__") else _Values(values)
        return template.format_map(lenient)

    def join(self, items: list[str], *, conjunction: str, language: str) -> str:
        separator = self.render(conjunction, language=language, values={})
        return separator.join(items)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(value: date | str | None, language: str) -> str:
    if value is None:
        return EMPTY
    day = value if isinstance(value, date) else date.fromisoformat(value)
    if language == "zh":
        return f"{day.month}月{day.day}日"
    return f"{_MONTHS[day.month - 1]} {day.day}"  # not strftime: it follows the process locale


def format_money(amount: Decimal | str | Any, currency: str) -> str:
    return f"{Decimal(str(amount)).quantize(Decimal('0.01'))} {currency}"
