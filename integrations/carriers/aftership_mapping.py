"""AfterShip Tracking (API 2026-07) tags and subtags, read into our ``Shipment``.

The tables are reference/carriers-orders-loyalty.md §2.1 fitted to our smaller model: there is no
LABEL_CREATED, RETURNING, RETURNED or CANCELLED status, so those become PENDING or an EXCEPTION with
the matching ``ExceptionReason``. AfterShip adds tags and subtags between versions: a value missing
from a table reads as UNKNOWN (or OTHER for an exception), never as an error.

Only a tracking without its identity (number, courier slug, tag) is unreadable; every other field is
optional, and an ill-typed optional field is ignored rather than trusted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, Final

from integrations.models import Checkpoint, ExceptionReason, Shipment, ShipmentStatus

__all__ = [
    "SUBTAG_REASON",
    "SUBTAG_STATUS",
    "TAG_STATUS",
    "TrackingPayloadError",
    "estimated_delivery",
    "parse_time",
    "shipment_from_aftership",
    "status_of",
]

_S = ShipmentStatus
_R = ExceptionReason

TAG_STATUS: Final[Mapping[str, ShipmentStatus]] = MappingProxyType(
    {
        "Pending": _S.UNKNOWN,  # added to AfterShip, no word from the carrier yet
        "InfoReceived": _S.PENDING,  # label created: the carrier knows of it but does not hold it
        "InTransit": _S.IN_TRANSIT,
        "OutForDelivery": _S.OUT_FOR_DELIVERY,  # also "ready to pick up" in AfterShip's words; see subtags
        "AttemptFail": _S.DELIVERY_ATTEMPTED,  # the carrier will try again
        "Delivered": _S.DELIVERED,
        "AvailableForPickup": _S.AVAILABLE_FOR_PICKUP,
        "Exception": _S.EXCEPTION,  # customs hold, undelivered, returned, lost...: the reason is in the subtag
        "Expired": _S.EXPIRED,  # no news for 30 days: AfterShip stopped asking the carrier
    }
)

# Subtags that say something other than their tag.
SUBTAG_STATUS: Final[Mapping[str, ShipmentStatus]] = MappingProxyType(
    {
        "OutForDelivery_002": _S.AVAILABLE_FOR_PICKUP,  # older lists: "available for pickup", not on a van
    }
)

# Why a parcel is held up. Read for EXCEPTION and DELIVERY_ATTEMPTED only; an exception subtag missing
# here (Exception_001 generic, _014/_015 undocumented, any newer one) is OTHER.
SUBTAG_REASON: Final[Mapping[str, ExceptionReason]] = MappingProxyType(
    {
        "AttemptFail_002": _R.RECIPIENT_UNAVAILABLE,  # addressee not available
        "AttemptFail_003": _R.RECIPIENT_UNAVAILABLE,  # business closed
        "Exception_002": _R.RECIPIENT_UNAVAILABLE,  # customer moved: our model has no RECIPIENT_MOVED
        "Exception_003": _R.REFUSED,  # customer refused delivery
        "Exception_004": _R.CUSTOMS_HOLD,  # delayed by customs clearance
        "Exception_005": _R.CARRIER_DELAY,  # delayed by external factors
        "Exception_006": _R.PAYMENT_DUE,  # held for payment: duties, taxes, cash on delivery
        "Exception_007": _R.ADDRESS_ISSUE,  # incorrect address
        "Exception_008": _R.NOT_COLLECTED,  # pick-up missed
        "Exception_009": _R.REJECTED_BY_CARRIER,  # did not comply with the carrier's rules
        "Exception_010": _R.RETURNING,  # on its way back to the sender
        "Exception_011": _R.RETURNED,  # back with the sender
        "Exception_012": _R.DAMAGED,
        "Exception_013": _R.LOST,
        "Exception_016": _R.CARRIER_DELAY,  # processing issue: misroute, sorting, vehicle
        "Exception_017": _R.WEATHER_DELAY,  # extreme weather
        "Exception_018": _R.DOCUMENTS_REQUIRED,  # incorrect or missing documents (a regulatory hold)
        "Exception_019": _R.CARRIER_DELAY,  # late flight
        "Exception_020": _R.CANCELLED,  # shipment cancelled
        "Exception_021": _R.DESTROYED,  # disposed of or destroyed
    }
)

_HANDED_TO_CUSTOMS: Final = "InTransit_006"
_CLEARED_CUSTOMS: Final = "InTransit_005"

# Estimated delivery, best source first; each names its (upper bound of a range, single date) fields.
_ETA_SOURCES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("latest_estimated_delivery", ("datetime_max", "datetime")),  # AfterShip's pick, revised as news comes
    ("courier_estimated_delivery_date", ("estimated_delivery_date_max", "estimated_delivery_date")),
    ("aftership_estimated_delivery_date", ("estimated_delivery_date_max", "estimated_delivery_date")),
    ("custom_estimated_delivery_date", ("datetime_max", "datetime")),  # what the shop itself told AfterShip
)


class TrackingPayloadError(ValueError):
    """The tracking object lacks what identifies it; ``path`` names the field ("tracking_number", "" the
    whole object) and the message says what is wrong with it."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


def shipment_from_aftership(tracking: Mapping[str, Any]) -> Shipment:
    """Our view of one AfterShip Tracking object (``data`` of GET /trackings/{id}, ``msg`` of a webhook)."""
    if not isinstance(tracking, Mapping):
        raise TrackingPayloadError("not an object", path="")
    tag = _required_text(tracking, "tag")
    subtag = _text(tracking.get("subtag"))
    status = status_of(tag, subtag)
    checkpoints = _checkpoints(tracking.get("checkpoints"))
    return Shipment(
        carrier=_required_text(tracking, "slug"),
        tracking_number=_required_text(tracking, "tracking_number"),
        status=status,
        exception=_reason(status, subtag),
        estimated_delivery=estimated_delivery(tracking),
        delivered_on=_delivered_on(tracking, status, checkpoints),
        last_event=checkpoints[-1].message if checkpoints else None,
        in_customs=_in_customs(tag, subtag, checkpoints),
        checkpoints=checkpoints,
        raw_status=subtag or tag,
    )


def status_of(tag: str | None, subtag: str | None) -> ShipmentStatus:
    """The status for an AfterShip tag and subtag; UNKNOWN for a tag this table has never heard of."""
    if subtag is not None and subtag in SUBTAG_STATUS:
        return SUBTAG_STATUS[subtag]
    if tag is None:
        return _S.UNKNOWN
    return TAG_STATUS.get(tag, _S.UNKNOWN)


def estimated_delivery(tracking: Mapping[str, Any]) -> date | None:
    """The expected delivery date from the best source that has one; a range counts as its last day."""
    for source, fields in _ETA_SOURCES:
        estimate = tracking.get(source)
        if not isinstance(estimate, Mapping):
            continue
        for name in fields:
            moment = parse_time(estimate.get(name))
            if moment is not None:
                # The date as AfterShip wrote it: its estimates are already in the recipient's time zone.
                return moment.date()
    return None


def parse_time(value: object) -> datetime | None:
    """A carrier's time as AfterShip relays it: ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:mm:ss``, with or without an
    offset (``Z``, ``-05:00``, ``+0800``). Aware when an offset is given; None when it is not a time at all.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _reason(status: ShipmentStatus, subtag: str | None) -> ExceptionReason | None:
    known = SUBTAG_REASON.get(subtag) if subtag is not None else None
    if status is _S.EXCEPTION:
        return known or _R.OTHER
    if status is _S.DELIVERY_ATTEMPTED:
        return known  # a plain failed attempt (AttemptFail_001) has no reason worth telling
    return None


def _in_customs(tag: str, subtag: str | None, checkpoints: Sequence[Checkpoint]) -> bool:
    """With customs right now: handed over (InTransit_006) and not yet cleared (InTransit_005).

    AfterShip's own subtag decides when it says either; otherwise the latest scan does, because a
    later generic "in transit" subtag on the tracking can hide that the last scan was a customs one.
    """
    if tag != "InTransit" or subtag == _CLEARED_CUSTOMS:
        return False
    if subtag == _HANDED_TO_CUSTOMS:
        return True
    return bool(checkpoints) and checkpoints[-1].raw_code == _HANDED_TO_CUSTOMS


def _delivered_on(
    tracking: Mapping[str, Any], status: ShipmentStatus, checkpoints: Sequence[Checkpoint]
) -> date | None:
    if status is not _S.DELIVERED:
        return None
    moment = parse_time(tracking.get("shipment_delivery_date"))
    if moment is not None:
        return moment.date()
    for checkpoint in reversed(checkpoints):
        if checkpoint.status is _S.DELIVERED and checkpoint.time is not None:
            return checkpoint.time.date()
    return None


def _checkpoints(value: object) -> tuple[Checkpoint, ...]:
    """Oldest first. AfterShip does not promise an order, so they are sorted by their own times."""
    if not isinstance(value, list):
        return ()
    read = [_checkpoint(item) for item in value if isinstance(item, Mapping)]
    return tuple(sorted(read, key=_chronological))


def _checkpoint(item: Mapping[str, Any]) -> Checkpoint:
    subtag = _text(item.get("subtag"))
    # Some couriers' scans carry only a subtag; its prefix is the tag ("InTransit_003" -> "InTransit").
    tag = _text(item.get("tag")) or (subtag.partition("_")[0] if subtag else None)
    return Checkpoint(
        time=parse_time(item.get("checkpoint_time")),
        message=_text(item.get("message")) or _text(item.get("subtag_message")) or "",
        location=_location(item),
        status=status_of(tag, subtag) if tag or subtag else None,
        raw_code=subtag,
    )


def _location(item: Mapping[str, Any]) -> str | None:
    written = _text(item.get("location"))
    if written:
        return written
    parts = [_text(item.get(name)) for name in ("city", "state", "country_region_name")]
    return ", ".join(part for part in parts if part) or None


def _chronological(checkpoint: Checkpoint) -> tuple[int, datetime]:
    """Undated scans first (they cannot be the latest news); times without an offset are taken as UTC,
    the best guess for comparing them with the ones that have one."""
    moment = checkpoint.time
    if moment is None:
        return (0, datetime.min)
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # year 1 or 9999 pushed past the calendar's edge by its offset
            moment = moment.replace(tzinfo=None)
    return (1, moment)


def _required_text(tracking: Mapping[str, Any], name: str) -> str:
    value = _text(tracking.get(name))
    if not value:
        raise TrackingPayloadError("missing, empty or not a string", path=name)
    return value


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None
