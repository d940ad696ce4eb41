"""17TRACK v2.2 ``gettrackinfo`` items onto our Shipment: the mapping table row by row, and the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from integrations.carriers.seventeen_track_mapping import shipment_from_17track
from integrations.models import ExceptionReason, ShipmentStatus

S = ShipmentStatus
R = ExceptionReason
_SHANGHAI = timezone(timedelta(hours=8))


def item(
    status: Any = "InTransit",
    sub_status: Any = None,
    *,
    providers: Any = None,
    latest_event: Any = None,
    time_metrics: Any = None,
    milestone: Any = None,
) -> dict[str, Any]:
    """An accepted item in the v2.2 shape, with only what a test sets."""
    return {
        "number": "RR123456789CN",
        "carrier": 3011,
        "track_info": {
            "latest_status": {"status": status, "sub_status": sub_status, "sub_status_descr": None},
            "latest_event": latest_event,
            "time_metrics": time_metrics,
            "milestone": milestone or [],
            "tracking": {"providers_hash": 1, "providers": providers or []},
        },
    }


def event(time_iso: str | None, description: str, sub_status: str | None = None, location: str | None = None) -> Any:
    return {"time_iso": time_iso, "description": description, "sub_status": sub_status, "location": location}


def provider(name: str, *events: Any) -> dict[str, Any]:
    return {"provider": {"key": 3011, "name": name}, "events": list(events)}


# (17TRACK status, sub_status) -> (our status, reason, in customs): every row of reference §2.1.
TABLE = [
    ("InfoReceived", "InfoReceived", S.PENDING, None, False),
    ("InTransit", "InTransit_PickedUp", S.IN_TRANSIT, None, False),
    ("InTransit", "InTransit_Other", S.IN_TRANSIT, None, False),
    ("InTransit", "InTransit_Departure", S.IN_TRANSIT, None, False),
    ("InTransit", "InTransit_Arrival", S.IN_TRANSIT, None, False),
    ("InTransit", "InTransit_CustomsProcessing", S.IN_TRANSIT, None, True),
    ("InTransit", "InTransit_CustomsReleased", S.IN_TRANSIT, None, False),
    ("InTransit", "InTransit_CustomsRequiringInformation", S.EXCEPTION, R.DOCUMENTS_REQUIRED, True),
    ("Expired", "Expired_Other", S.EXPIRED, None, False),
    ("AvailableForPickup", "AvailableForPickup_Other", S.AVAILABLE_FOR_PICKUP, None, False),
    ("OutForDelivery", "OutForDelivery_Other", S.OUT_FOR_DELIVERY, None, False),
    ("DeliveryFailure", "DeliveryFailure_NoBody", S.DELIVERY_ATTEMPTED, R.RECIPIENT_UNAVAILABLE, False),
    ("DeliveryFailure", "DeliveryFailure_Security", S.DELIVERY_ATTEMPTED, R.CUSTOMS_HOLD, False),
    ("DeliveryFailure", "DeliveryFailure_Rejected", S.DELIVERY_ATTEMPTED, R.REFUSED, False),
    ("DeliveryFailure", "DeliveryFailure_InvalidAddress", S.DELIVERY_ATTEMPTED, R.ADDRESS_ISSUE, False),
    ("DeliveryFailure", "DeliveryFailure_Other", S.DELIVERY_ATTEMPTED, R.OTHER, False),
    ("Delivered", "Delivered_Other", S.DELIVERED, None, False),
    ("Exception", "Exception_Returning", S.EXCEPTION, R.RETURNING, False),
    ("Exception", "Exception_Returned", S.EXCEPTION, R.RETURNED, False),
    ("Exception", "Exception_NoBody", S.EXCEPTION, R.RECIPIENT_UNAVAILABLE, False),
    ("Exception", "Exception_Security", S.EXCEPTION, R.CUSTOMS_HOLD, False),
    ("Exception", "Exception_Damage", S.EXCEPTION, R.DAMAGED, False),
    ("Exception", "Exception_Rejected", S.EXCEPTION, R.REFUSED, False),
    ("Exception", "Exception_Delayed", S.EXCEPTION, R.CARRIER_DELAY, False),
    ("Exception", "Exception_Lost", S.EXCEPTION, R.LOST, False),
    ("Exception", "Exception_Destroyed", S.EXCEPTION, R.DESTROYED, False),
    ("Exception", "Exception_Cancel", S.EXCEPTION, R.CANCELLED, False),
    ("Exception", "Exception_Other", S.EXCEPTION, R.OTHER, False),
]


@pytest.mark.parametrize(("status", "sub_status", "expected", "reason", "in_customs"), TABLE)
def test_every_row_of_the_table(
    status: str, sub_status: str, expected: ShipmentStatus, reason: ExceptionReason | None, in_customs: bool
) -> None:
    shipment = shipment_from_17track(item(status, sub_status))

    assert shipment is not None
    assert (shipment.status, shipment.exception, shipment.in_customs) == (expected, reason, in_customs)
    assert shipment.raw_status == sub_status


@pytest.mark.parametrize("sub_status", ["NotFound_Other", "NotFound_InvalidCode", None])
def test_not_found_is_none(sub_status: str | None) -> None:
    assert shipment_from_17track(item("NotFound", sub_status)) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"number": "RR123456789CN"},
        {"number": "RR123456789CN", "track_info": None},
        {"number": "RR123456789CN", "track_info": {"latest_status": None}},
        {"number": "RR123456789CN", "track_info": "garbage"},
        item(status=None),
        item(status=""),
    ],
)
def test_no_status_at_all_is_nothing_known(payload: dict[str, Any]) -> None:
    assert shipment_from_17track(payload) is None


@pytest.mark.parametrize(
    ("status", "sub_status", "expected", "reason"),
    [
        ("Teleported", "Teleported_Other", S.UNKNOWN, None),  # a main status added after v2.2
        (42, None, S.UNKNOWN, None),  # a wrong type
        ("InTransit", "InTransit_Hovering", S.IN_TRANSIT, None),  # a new sub-status keeps its main status
        ("Exception", "Exception_Abducted", S.EXCEPTION, R.OTHER),  # ... and an exception keeps a reason
        ("DeliveryFailure", "DeliveryFailure_Dog", S.DELIVERY_ATTEMPTED, R.OTHER),
        ("Exception", None, S.EXCEPTION, R.OTHER),
        ("Delivered", "Exception_Lost", S.DELIVERED, None),  # a sub-status of another status is ignored
        ("InTransit", ["not", "text"], S.IN_TRANSIT, None),
    ],
)
def test_unexpected_values_never_raise(
    status: Any, sub_status: Any, expected: ShipmentStatus, reason: ExceptionReason | None
) -> None:
    shipment = shipment_from_17track(item(status, sub_status))

    assert shipment is not None
    assert (shipment.status, shipment.exception) == (expected, reason)


def test_raw_status_falls_back_to_the_main_status() -> None:
    shipment = shipment_from_17track(item("OutForDelivery", None))

    assert shipment is not None and shipment.raw_status == "OutForDelivery"


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (
            {"source": "17TRACK", "from": "2026-03-09T00:00:00+08:00", "to": "2026-03-11T00:00:00+08:00"},
            date(2026, 3, 11),
        ),
        ({"from": "2026-03-09", "to": None}, date(2026, 3, 9)),  # no end: the start is all we have
        ({"from": None, "to": "2026-03-12"}, date(2026, 3, 12)),
        ({"from": None, "to": None}, None),
        ({"from": "soon", "to": "next week"}, None),
        ("garbage", None),
        (None, None),
    ],
)
def test_estimated_delivery_is_the_end_of_the_window(window: Any, expected: date | None) -> None:
    shipment = shipment_from_17track(item(time_metrics={"estimated_delivery_date": window}))

    assert shipment is not None and shipment.estimated_delivery == expected


def test_checkpoints_are_oldest_first_across_providers() -> None:
    # 17TRACK lists each provider's events newest first; the parcel went from China Post to USPS.
    usps = provider(
        "USPS",
        event("2026-03-09T08:00:00-05:00", "Out for delivery", "OutForDelivery_Other", "Austin, TX"),
        event("2026-03-08T10:00:00-05:00", "Arrived at USPS facility", "InTransit_Arrival"),
    )
    china_post = provider(
        "China Post",
        event("2026-03-05T21:00:00+08:00", "Customs clearance", "InTransit_CustomsProcessing", "Shanghai"),
        event("2026-03-03T09:00:00+08:00", "Posted", "InTransit_PickedUp", "Shenzhen"),
    )
    shipment = shipment_from_17track(item("OutForDelivery", "OutForDelivery_Other", providers=[usps, china_post]))

    assert shipment is not None
    assert [c.message for c in shipment.checkpoints] == [
        "Posted",
        "Customs clearance",
        "Arrived at USPS facility",
        "Out for delivery",
    ]
    first = shipment.checkpoints[0]
    assert first.time == datetime(2026, 3, 3, 9, 0, tzinfo=_SHANGHAI)
    assert (first.location, first.status, first.raw_code) == ("Shenzhen", S.IN_TRANSIT, "InTransit_PickedUp")
    assert shipment.checkpoints[-1].status is S.OUT_FOR_DELIVERY
    assert shipment.carrier == "USPS"  # no carrier named by the caller: 17TRACK's latest provider


def test_checkpoints_tolerate_missing_and_broken_fields() -> None:
    events = provider(
        "UPS",
        event("2026-03-09T08:00:00Z", "Delivered", "Delivered_Other"),
        {"time_iso": None, "time_utc": "2026-03-07T08:00:00Z", "description": "Departed"},  # UTC only
        event("yesterday", "Time unreadable", "Mystery_Status"),
        event("2026-03-06T08:00:00Z", "", "InTransit_Other"),  # nothing to say: dropped
        "not an event",
    )
    shipment = shipment_from_17track(item("Delivered", "Delivered_Other", providers=[events, "not a provider"]))

    assert shipment is not None
    assert [(c.message, c.status) for c in shipment.checkpoints] == [
        ("Time unreadable", None),  # a time that cannot be placed goes first
        ("Departed", None),
        ("Delivered", S.DELIVERED),
    ]
    assert shipment.checkpoints[0].time is None
    assert shipment.checkpoints[1].time == datetime(2026, 3, 7, 8, 0, tzinfo=UTC)


def test_naive_and_aware_times_sort_together() -> None:
    events = provider(
        "UPS", event("2026-03-08T10:00:00", "Local time, no offset"), event("2026-03-07T10:00:00+00:00", "Aware")
    )
    shipment = shipment_from_17track(item(providers=[events]))

    assert shipment is not None
    assert [c.message for c in shipment.checkpoints] == ["Aware", "Local time, no offset"]


def test_last_event_is_the_latest_event_description() -> None:
    shipment = shipment_from_17track(
        item(
            latest_event=event("2026-03-09T08:00:00Z", "Arrived at the sort centre"),
            providers=[provider("UPS", event("2026-03-08T08:00:00Z", "Older"))],
        )
    )

    assert shipment is not None and shipment.last_event == "Arrived at the sort centre"


def test_last_event_falls_back_to_the_newest_checkpoint() -> None:
    events = provider("UPS", event("2026-03-09T08:00:00Z", "Newest"), event("2026-03-08T08:00:00Z", "Older"))
    shipment = shipment_from_17track(item(providers=[events]))

    assert shipment is not None and shipment.last_event == "Newest"


def test_delivered_on_is_the_local_day_of_the_latest_event() -> None:
    # 23:30 in Los Angeles is already the next day in UTC: the customer's day counts.
    shipment = shipment_from_17track(
        item("Delivered", "Delivered_Other", latest_event=event("2026-03-09T23:30:00-08:00", "Delivered"))
    )

    assert shipment is not None and shipment.delivered_on == date(2026, 3, 9)


def test_delivered_on_falls_back_to_the_delivered_milestone() -> None:
    milestones = [
        {"key_stage": "PickedUp", "time_iso": "2026-03-02T10:00:00+08:00"},
        {"key_stage": "Delivered", "time_iso": "2026-03-10T10:00:00+08:00"},
    ]
    shipment = shipment_from_17track(item("Delivered", "Delivered_Other", latest_event=None, milestone=milestones))

    assert shipment is not None and shipment.delivered_on == date(2026, 3, 10)


def test_delivered_on_is_unknown_without_a_time() -> None:
    milestones = [{"key_stage": "Delivered", "time_iso": None}]
    shipment = shipment_from_17track(item("Delivered", "Delivered_Other", milestone=milestones))

    assert shipment is not None and shipment.delivered_on is None


def test_a_parcel_not_delivered_has_no_delivery_day() -> None:
    # The Delivered milestone of a parcel since reported lost is not a delivery.
    milestones = [{"key_stage": "Delivered", "time_iso": "2026-03-10T10:00:00+08:00"}]
    shipment = shipment_from_17track(
        item(
            "Exception", "Exception_Lost", latest_event=event("2026-03-11T10:00:00+08:00", "Lost"), milestone=milestones
        )
    )

    assert shipment is not None and shipment.delivered_on is None


def test_our_carrier_name_wins_over_the_provider_name() -> None:
    shipment = shipment_from_17track(item(providers=[provider("China Post")]), carrier="china-post")

    assert shipment is not None
    assert (shipment.carrier, shipment.tracking_number) == ("china-post", "RR123456789CN")


def test_without_any_provider_the_carrier_is_17tracks_key() -> None:
    shipment = shipment_from_17track(item())

    assert shipment is not None and shipment.carrier == "3011"
