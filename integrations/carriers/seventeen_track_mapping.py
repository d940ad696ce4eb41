"""17TRACK v2.2 ``gettrackinfo`` items mapped onto our ``Shipment`` (reference §1.2 and §2.1).

17TRACK reports a main status (9 values) and a sub-status named ``<Main>_<Detail>`` (30 values). The
main status picks our ``ShipmentStatus``; a few sub-statuses refine it (customs, the reason of a failed
delivery or an exception). Both tables are data, so a new 17TRACK value is one line here.

Nothing in a provider payload is trusted to have the documented shape: a missing field, a wrong type
or a value added after v2.2 never raises; it maps to "not known" (None, or ``ShipmentStatus.UNKNOWN``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from integrations.models import Checkpoint, ExceptionReason, Shipment, ShipmentStatus

__all__ = ["shipment_from_17track"]

NOT_FOUND: Final = "NotFound"


@dataclass(frozen=True, slots=True)
class _Row:
    status: ShipmentStatus
    exception: ExceptionReason | None = None
    in_customs: bool = False


# Main status -> what we say when the sub-status adds nothing. NotFound is absent on purpose: the
# carrier does not know the number (yet), which the TrackingService Protocol answers with None.
_MAIN: Final[Mapping[str, _Row]] = {
    "InfoReceived": _Row(ShipmentStatus.PENDING),  # label printed, not yet handed to the carrier
    "InTransit": _Row(ShipmentStatus.IN_TRANSIT),
    "Expired": _Row(ShipmentStatus.EXPIRED),  # no news for a long time: 17TRACK stopped tracking
    "AvailableForPickup": _Row(ShipmentStatus.AVAILABLE_FOR_PICKUP),
    "OutForDelivery": _Row(ShipmentStatus.OUT_FOR_DELIVERY),
    # A failed attempt or an exception always carries a reason, OTHER when 17TRACK gives none we know.
    "DeliveryFailure": _Row(ShipmentStatus.DELIVERY_ATTEMPTED, ExceptionReason.OTHER),
    "Delivered": _Row(ShipmentStatus.DELIVERED),
    "Exception": _Row(ShipmentStatus.EXCEPTION, ExceptionReason.OTHER),
}

_ATTEMPTED: Final = ShipmentStatus.DELIVERY_ATTEMPTED
_EXCEPTION: Final = ShipmentStatus.EXCEPTION

# Sub-statuses that say more than their main status. Any other sub-status keeps the main status's row.
_SUB: Final[Mapping[str, _Row]] = {
    # Customs is informational while the parcel moves; it becomes a problem only when papers are missing.
    "InTransit_CustomsProcessing": _Row(ShipmentStatus.IN_TRANSIT, in_customs=True),
    "InTransit_CustomsReleased": _Row(ShipmentStatus.IN_TRANSIT, in_customs=False),
    # Still held by customs, and the customer must act: an exception, not a parcel on its way.
    "InTransit_CustomsRequiringInformation": _Row(_EXCEPTION, ExceptionReason.DOCUMENTS_REQUIRED, in_customs=True),
    "DeliveryFailure_NoBody": _Row(_ATTEMPTED, ExceptionReason.RECIPIENT_UNAVAILABLE),  # nobody at home
    "DeliveryFailure_Security": _Row(_ATTEMPTED, ExceptionReason.CUSTOMS_HOLD),  # security, customs or fees
    "DeliveryFailure_Rejected": _Row(_ATTEMPTED, ExceptionReason.REFUSED),  # the recipient refused it
    "DeliveryFailure_InvalidAddress": _Row(_ATTEMPTED, ExceptionReason.ADDRESS_ISSUE),
    "DeliveryFailure_Other": _Row(_ATTEMPTED, ExceptionReason.OTHER),
    "Exception_Returning": _Row(_EXCEPTION, ExceptionReason.RETURNING),  # on its way back to the shop
    "Exception_Returned": _Row(_EXCEPTION, ExceptionReason.RETURNED),
    "Exception_NoBody": _Row(_EXCEPTION, ExceptionReason.RECIPIENT_UNAVAILABLE),
    "Exception_Security": _Row(_EXCEPTION, ExceptionReason.CUSTOMS_HOLD),
    "Exception_Damage": _Row(_EXCEPTION, ExceptionReason.DAMAGED),
    "Exception_Rejected": _Row(_EXCEPTION, ExceptionReason.REFUSED),
    "Exception_Delayed": _Row(_EXCEPTION, ExceptionReason.CARRIER_DELAY),
    "Exception_Lost": _Row(_EXCEPTION, ExceptionReason.LOST),
    "Exception_Destroyed": _Row(_EXCEPTION, ExceptionReason.DESTROYED),  # e.g. by customs
    "Exception_Cancel": _Row(_EXCEPTION, ExceptionReason.CANCELLED),
    "Exception_Other": _Row(_EXCEPTION, ExceptionReason.OTHER),
}

_UNKNOWN: Final = _Row(ShipmentStatus.UNKNOWN)


def shipment_from_17track(item: Mapping[str, Any], *, carrier: str | None = None) -> Shipment | None:
    """One ``data.accepted[i]`` of ``gettrackinfo`` as a Shipment; None when 17TRACK has nothing on it.

    Args:
        item: the accepted object as 17TRACK sent it (v2.2 shape).
        carrier: our name for the carrier ("ups"); without it, the name of 17TRACK's first provider.
    """
    track_info = _mapping(item.get("track_info"))
    latest_status = _mapping(track_info.get("latest_status"))
    status = _text(latest_status.get("status"))
    if status is None or status == NOT_FOUND:
        return None  # nothing tracked yet: right after registering, or a number no carrier knows
    sub_status = _text(latest_status.get("sub_status"))
    row = _classify(status, sub_status)
    latest_event = _mapping(track_info.get("latest_event"))
    checkpoints = tuple(_checkpoints(track_info))
    return Shipment(
        carrier=carrier or _provider_name(track_info) or _text(item.get("carrier")) or "17track",
        tracking_number=_text(item.get("number")) or "",
        status=row.status,
        exception=row.exception,
        estimated_delivery=_estimated_delivery(track_info),
        delivered_on=_delivered_on(track_info) if row.status is ShipmentStatus.DELIVERED else None,
        last_event=_text(latest_event.get("description")) or (checkpoints[-1].message if checkpoints else None),
        in_customs=row.in_customs,
        checkpoints=checkpoints,
        raw_status=sub_status or status,
    )


def _classify(status: str, sub_status: str | None) -> _Row:
    """The table's row for a status pair; a sub-status of another main status is ignored (inconsistent data)."""
    main = _MAIN.get(status)
    if main is None:
        return _UNKNOWN
    if sub_status is not None and sub_status.startswith(status + "_"):
        return _SUB.get(sub_status, main)
    return main


def _checkpoints(track_info: Mapping[str, Any]) -> Iterator[Checkpoint]:
    """Every provider's events, oldest first.

    17TRACK lists each provider's events newest first, and a parcel handed from one carrier to another
    (China Post, then USPS) has one provider each, so the lists are merged by time. An event without a
    usable time cannot be placed: it goes first, as the least informative.
    """
    events: list[Checkpoint] = []
    for provider in _list(_mapping(track_info.get("tracking")).get("providers")):
        for event in reversed(_list(_mapping(provider).get("events"))):
            checkpoint = _checkpoint(_mapping(event))
            if checkpoint is not None:
                events.append(checkpoint)
    yield from sorted(events, key=_when)


def _checkpoint(event: Mapping[str, Any]) -> Checkpoint | None:
    message = _text(event.get("description"))
    if message is None:
        return None  # an event with nothing to say tells the customer nothing
    sub_status = _text(event.get("sub_status"))
    status = None
    if sub_status is not None:
        main = sub_status.partition("_")[0]
        status = _classify(main, sub_status).status if main in _MAIN else None
    return Checkpoint(
        time=_time(event),
        message=message,
        location=_text(event.get("location")),
        status=status,
        raw_code=sub_status,
    )


def _when(checkpoint: Checkpoint) -> datetime:
    """A sort key that compares carrier-local (naive) times with aware ones, reading naive as UTC."""
    if checkpoint.time is None:
        return datetime.min.replace(tzinfo=UTC)
    return checkpoint.time if checkpoint.time.tzinfo else checkpoint.time.replace(tzinfo=UTC)


def _estimated_delivery(track_info: Mapping[str, Any]) -> date | None:
    """The end of 17TRACK's estimated window (the promise a customer can hold us to), else its start."""
    window = _mapping(_mapping(track_info.get("time_metrics")).get("estimated_delivery_date"))
    return _date(window.get("to")) or _date(window.get("from"))


def _delivered_on(track_info: Mapping[str, Any]) -> date | None:
    """The day of the latest event (the delivery scan), else of the Delivered milestone."""
    latest = _time(_mapping(track_info.get("latest_event")))
    if latest is not None:
        return latest.date()
    for milestone in _list(track_info.get("milestone")):
        stage = _mapping(milestone)
        if stage.get("key_stage") == "Delivered":
            reached = _time(stage)
            if reached is not None:
                return reached.date()
    return None


def _provider_name(track_info: Mapping[str, Any]) -> str | None:
    providers = _list(_mapping(track_info.get("tracking")).get("providers"))
    if not providers:
        return None
    return _text(_mapping(_mapping(providers[0]).get("provider")).get("name"))


def _time(holder: Mapping[str, Any]) -> datetime | None:
    """``time_iso`` (carrier-local with its offset, so the date is the recipient's), else ``time_utc``."""
    for name in ("time_iso", "time_utc"):
        text = _text(holder.get(name))
        if text is None:
            continue
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            continue
    return None


def _date(value: Any) -> date | None:
    """A date from "2026-03-11" or "2026-03-11T00:00:00+08:00": the calendar day as 17TRACK wrote it."""
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
