"""Understanding customer DMs: pure text in, typed facts out.

No I/O and no models: language, tracking and order numbers, ratings, intents and concerns are read with
phrase lists, patterns and check digits, in English and Chinese.
"""

from __future__ import annotations

from bot.understanding.concerns import Concern, detect_concern
from bot.understanding.intents import Intent, classify_intents
from bot.understanding.language import Language, detect_language
from bot.understanding.order_numbers import OrderNumberRules, extract_order_number
from bot.understanding.ratings import extract_rating
from bot.understanding.tracking_numbers import (
    Carrier,
    TrackingNumber,
    find_tracking_numbers,
    parse_tracking_number,
)

__all__ = [
    "Carrier",
    "Concern",
    "Intent",
    "Language",
    "OrderNumberRules",
    "TrackingNumber",
    "classify_intents",
    "detect_concern",
    "detect_language",
    "extract_order_number",
    "extract_rating",
    "find_tracking_numbers",
    "parse_tracking_number",
]
