"""AfterShip's tags and subtags read into our Shipment: every row of the table, ETAs, checkpoints, dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from integrations.carriers.aftership_mapping import (
    SUBTAG_REASON,
    SUBTAG_STATUS,
    TAG_STATUS,
    TrackingPayloadError,
    parse_time,
    shipment_from_aftership,
)
from integrations.models import ExceptionReason, ShipmentStatus

S = ShipmentStatus
R = ExceptionReason


def tracking(tag: str = "InTransit", subtag: str | None = None, **fields: Any) -> dict[str, Any]:
    """A Tracking object as GET /trackings/{id} returns it, with only the fields a test cares about."""
    return {
        "id": "5b7a8ed5bd2f44b4a5ab0e66f0d38e35",
        "tracking_number": "RA123456785CN",
        "slug": "china-post",
        "tag": tag,
        "subtag": subtag if subtag is not None else f"{tag}_001",
        "checkpoints": [],
    } | fields


def checkpoint(time: str | None, subtag: str, message: str = "scan", **fields: Any) -> dict[str, Any]:
    return {"checkpoint_time": time, "tag": subtag.partition("_")[0], "subtag": subtag, "message": message} | fields


# (tag, subtag, status, exception reason): every row of reference §2.1 as fitted to our model.
ROWS = [
    ("Pending", "Pending_001", S.UNKNOWN, None),
    ("InfoReceived", "InfoReceived_001", S.PENDING, None),
    ("InTransit", "InTransit_001", S.IN_TRANSIT, None),
    ("InTransit", "InTransit_005", S.IN_TRANSIT, None),
    ("InTransit", "InTransit_006", S.IN_TRANSIT, None),
    ("OutForDelivery", "OutForDelivery_001", S.OUT_FOR_DELIVERY, None),
    ("OutForDelivery", "OutForDelivery_002", S.AVAILABLE_FOR_PICKUP, None),
    ("OutForDelivery", "OutForDelivery_003", S.OUT_FOR_DELIVERY, None),
    ("OutForDelivery", "OutForDelivery_004", S.OUT_FOR_DELIVERY, None),
    ("AttemptFail", "AttemptFail_001", S.DELIVERY_ATTEMPTED, None),
    ("AttemptFail", "AttemptFail_002", S.DELIVERY_ATTEMPTED, R.RECIPIENT_UNAVAILABLE),
    ("AttemptFail", "AttemptFail_003", S.DELIVERY_ATTEMPTED, R.RECIPIENT_UNAVAILABLE),
    ("Delivered", "Delivered_001", S.DELIVERED, None),
    ("Delivered", "Delivered_002", S.DELIVERED, None),
    ("Delivered", "Delivered_005", S.DELIVERED, None),
    ("AvailableForPickup", "AvailableForPickup_001", S.AVAILABLE_FOR_PICKUP, None),
    ("Exception", "Exception_001", S.EXCEPTION, R.OTHER),
    ("Exception", "Exception_002", S.EXCEPTION, R.RECIPIENT_UNAVAILABLE),
    ("Exception", "Exception_003", S.EXCEPTION, R.REFUSED),
    ("Exception", "Exception_004", S.EXCEPTION, R.CUSTOMS_HOLD),
    ("Exception", "Exception_005", S.EXCEPTION, R.CARRIER_DELAY),
    ("Exception", "Exception_006", S.EXCEPTION, R.PAYMENT_DUE),
    ("Exception", "Exception_007", S.EXCEPTION, R.ADDRESS_ISSUE),
    ("Exception", "Exception_008", S.EXCEPTION, R.NOT_COLLECTED),
    ("Exception", "Exception_009", S.EXCEPTION, R.REJECTED_BY_CARRIER),
    ("Exception", "Exception_010", S.EXCEPTION, R.RETURNING),
    ("Exception", "Exception_011", S.EXCEPTION, R.RETURNED),
    ("Exception", "Exception_012", S.EXCEPTION, R.DAMAGED),
    ("Exception", "Exception_013", S.EXCEPTION, R.LOST),
    ("Exception", "Exception_014", S.EXCEPTION, R.OTHER),
    ("Exception", "Exception_015", S.EXCEPTION, R.OTHER),
    ("Exception", "Exception_016", S.EXCEPTION, R.CARRIER_DELAY),
    ("Exception", "Exception_017", S.EXCEPTION, R.WEATHER_DELAY),
    ("Exception", "Exception_018", S.EXCEPTION, R.DOCUMENTS_REQUIRED),
    ("Exception", "Exception_019", S.EXCEPTION, R.CARRIER_DELAY),
    ("Exception", "Exception_020", S.EXCEPTION, R.CANCELLED),
    ("Exception", "Exception_021", S.EXCEPTION, R.DESTROYED),
    ("Exception", "Exception_099", S.EXCEPTION, R.OTHER),  # a subtag newer than this table
    ("Expired", "Expired_001", S.EXPIRED, None),
]


@pytest.mark.parametrize(("tag", "subtag", "status", "reason"), ROWS, ids=[row[1] for row in ROWS])
def test_each_tag_and_subtag_maps_to_our_status_and_reason(
    tag: str, subtag: str, status: ShipmentStatus, reason: ExceptionReason | None
) -> None:
    shipment = shipment_from_aftership(tracking(tag, subtag))

    assert (shipment.status, shipment.exception) == (status, reason)
    assert shipment.raw_status == subtag


def test_the_rows_above_cover_every_entry_of_the_tables() -> None:
    tested_tags = {row[0] for row in ROWS}
    tested_subtags = {row[1] for row in ROWS}

    assert set(TAG_STATUS) <= tested_tags
    assert set(SUBTAG_REASON) | set(SUBTAG_STATUS) <= tested_subtags


@pytest.mark.parametrize("tag", ["Teleported", "intransit", "EXCEPTION"])
def test_an_unknown_tag_is_unknown_not_an_error(tag: str) -> None:
    shipment = shipment_from_aftership(tracking(tag, "Teleported_001"))

    assert (shipment.status, shipment.exception, shipment.raw_status) == (S.UNKNOWN, None, "Teleported_001")


def test_identity_is_taken_from_the_tracking() -> None:
    shipment = shipment_from_aftership(tracking())

    assert (shipment.carrier, shipment.tracking_number) == ("china-post", "RA123456785CN")


def test_without_a_subtag_the_raw_status_is_the_tag() -> None:
    raw = tracking("Exception") | {"subtag": None}

    shipment = shipment_from_aftership(raw)

    assert (shipment.status, shipment.exception, shipment.raw_status) == (S.EXCEPTION, R.OTHER, "Exception")


# -- customs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtag", "scans", "in_customs"),
    [
        pytest.param("InTransit_006", [], True, id="handed-to-customs"),
        pytest.param("InTransit_005", [], False, id="cleared"),
        pytest.param("InTransit_001", [], False, id="plain-transit"),
        pytest.param("InTransit_001", ["InTransit_003", "InTransit_006"], True, id="latest-scan-at-customs"),
        pytest.param("InTransit_001", ["InTransit_006", "InTransit_005"], False, id="latest-scan-cleared"),
        pytest.param("InTransit_005", ["InTransit_006"], False, id="cleared-subtag-wins-over-scan"),
    ],
)
def test_in_customs_while_handed_to_customs_and_not_yet_cleared(
    subtag: str, scans: list[str], in_customs: bool
) -> None:
    checkpoints = [checkpoint(f"2026-03-0{i + 1}T10:00:00Z", scan) for i, scan in enumerate(scans)]

    shipment = shipment_from_aftership(tracking("InTransit", subtag, checkpoints=checkpoints))

    assert shipment.in_customs is in_customs


def test_a_customs_scan_does_not_make_a_delivered_parcel_in_customs() -> None:
    checkpoints = [checkpoint("2026-03-01T10:00:00Z", "InTransit_006")]

    shipment = shipment_from_aftership(tracking("Delivered", checkpoints=checkpoints))

    assert shipment.in_customs is False


# -- estimated delivery ----------------------------------------------------------------------------------

ALL_SOURCES: dict[str, Any] = {
    "latest_estimated_delivery": {"type": "specific", "datetime": "2026-03-11", "datetime_max": None},
    "courier_estimated_delivery_date": {"estimated_delivery_date": "2026-03-12"},
    "aftership_estimated_delivery_date": {"estimated_delivery_date": "2026-03-13", "confidence_code": 10001},
    "custom_estimated_delivery_date": {"type": "specific", "datetime": "2026-03-14"},
}


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        pytest.param((), date(2026, 3, 11), id="latest-first"),
        pytest.param(("latest_estimated_delivery",), date(2026, 3, 12), id="then-courier"),
        pytest.param(("latest_estimated_delivery", "courier_estimated_delivery_date"), date(2026, 3, 13), id="then-as"),
        pytest.param(tuple(ALL_SOURCES)[:3], date(2026, 3, 14), id="then-custom"),
        pytest.param(tuple(ALL_SOURCES), None, id="none"),
    ],
)
def test_estimated_delivery_comes_from_the_best_source_present(missing: tuple[str, ...], expected: date | None) -> None:
    sources = {name: value for name, value in ALL_SOURCES.items() if name not in missing}

    assert shipment_from_aftership(tracking(**sources)).estimated_delivery == expected


@pytest.mark.parametrize("empty", [None, {}, {"datetime": None}, {"datetime": "soon"}, "2026-03-01"])
def test_a_source_without_a_readable_date_is_skipped(empty: Any) -> None:
    raw = tracking(
        latest_estimated_delivery=empty, courier_estimated_delivery_date={"estimated_delivery_date": "2026-03-12"}
    )

    assert shipment_from_aftership(raw).estimated_delivery == date(2026, 3, 12)


@pytest.mark.parametrize(
    ("source", "estimate"),
    [
        (
            "latest_estimated_delivery",
            {"type": "range", "datetime": None, "datetime_min": "2026-03-10", "datetime_max": "2026-03-15"},
        ),
        (
            "courier_estimated_delivery_date",
            {
                "estimated_delivery_date": None,
                "estimated_delivery_date_min": "2026-03-10",
                "estimated_delivery_date_max": "2026-03-15",
            },
        ),
        (
            "aftership_estimated_delivery_date",
            {
                "estimated_delivery_date": "2026-03-12",
                "estimated_delivery_date_min": "2026-03-10",
                "estimated_delivery_date_max": "2026-03-15",
            },
        ),
        (
            "custom_estimated_delivery_date",
            {"type": "range", "datetime_min": "2026-03-10", "datetime_max": "2026-03-15"},
        ),
    ],
)
def test_a_range_counts_as_its_last_day(source: str, estimate: dict[str, Any]) -> None:
    assert shipment_from_aftership(tracking() | {source: estimate}).estimated_delivery == date(2026, 3, 15)


def test_an_estimate_with_a_time_keeps_the_date_it_was_written_in() -> None:
    # 23:00 in Los Angeles is already the next day in UTC; the recipient's date is the one that counts.
    raw = tracking(latest_estimated_delivery={"datetime": "2026-03-11T23:00:00-08:00"})

    assert shipment_from_aftership(raw).estimated_delivery == date(2026, 3, 11)


# -- delivery date ---------------------------------------------------------------------------------------


def test_delivered_on_comes_from_the_shipment_delivery_date() -> None:
    raw = tracking(
        "Delivered",
        shipment_delivery_date="2026-03-09T18:47:10-05:00",
        checkpoints=[checkpoint("2026-03-08T10:00:00-05:00", "Delivered_001")],
    )

    assert shipment_from_aftership(raw).delivered_on == date(2026, 3, 9)


def test_delivered_on_falls_back_to_the_latest_delivered_scan() -> None:
    raw = tracking(
        "Delivered",
        shipment_delivery_date=None,
        checkpoints=[
            checkpoint("2026-03-07T10:00:00", "InTransit_003"),
            checkpoint("2026-03-08T19:30:00+09:00", "Delivered_003"),
        ],
    )

    assert shipment_from_aftership(raw).delivered_on == date(2026, 3, 8)


def test_a_parcel_not_delivered_has_no_delivery_date() -> None:
    raw = tracking("Exception", "Exception_011", shipment_delivery_date="2026-03-09")

    assert shipment_from_aftership(raw).delivered_on is None


# -- checkpoints -----------------------------------------------------------------------------------------


def test_checkpoints_are_sorted_by_time_whatever_their_format() -> None:
    raw = tracking(
        checkpoints=[
            checkpoint("2026-03-09T01:00:00-0500", "InTransit_003", "e: 06:00 UTC on the 9th"),
            checkpoint("2026-03-08T09:10:00", "InTransit_002", "c: no offset, 09:10"),
            checkpoint("2026-03-08", "InfoReceived_001", "a: a date alone"),
            checkpoint("2026-03-08T10:00:00+08:00", "InTransit_001", "b: 02:00 UTC"),
            checkpoint("2026-03-08T09:30:00Z", "InTransit_007", "d: 09:30 UTC"),
        ]
    )

    shipment = shipment_from_aftership(raw)

    assert [c.message[0] for c in shipment.checkpoints] == ["a", "b", "c", "d", "e"]
    assert shipment.last_event == "e: 06:00 UTC on the 9th"


def test_checkpoint_times_keep_their_offset_when_given() -> None:
    raw = tracking(
        checkpoints=[
            checkpoint("2026-03-08T10:00:00+08:00", "InTransit_001"),
            checkpoint("2026-03-09", "InTransit_003"),
        ]
    )

    first, second = shipment_from_aftership(raw).checkpoints

    assert first.time == datetime(2026, 3, 8, 10, tzinfo=timezone(timedelta(hours=8)))
    assert first.time is not None and first.time.utcoffset() == timedelta(hours=8)
    assert second.time == datetime(2026, 3, 9) and second.time.tzinfo is None


def test_undated_checkpoints_come_first_and_are_never_the_last_event() -> None:
    raw = tracking(
        checkpoints=[
            checkpoint("2026-03-08T10:00:00Z", "InTransit_003", "dated"),
            checkpoint(None, "InTransit_001", "undated"),
            checkpoint("garbage", "InTransit_001", "unreadable"),
        ]
    )

    shipment = shipment_from_aftership(raw)

    assert [c.message for c in shipment.checkpoints] == ["undated", "unreadable", "dated"]
    assert shipment.last_event == "dated"


def test_a_checkpoint_carries_its_status_code_and_place() -> None:
    raw = tracking(
        checkpoints=[
            checkpoint("2026-03-08T10:00:00Z", "AttemptFail_002", "Nobody home", location="Leeds, GB"),
            checkpoint("2026-03-09T10:00:00Z", "OutForDelivery_001", city="York", state=None, country_region_name="UK"),
        ]
    )

    attempt, out = shipment_from_aftership(raw).checkpoints

    assert (attempt.status, attempt.raw_code, attempt.location) == (
        S.DELIVERY_ATTEMPTED,
        "AttemptFail_002",
        "Leeds, GB",
    )
    assert (out.status, out.location) == (S.OUT_FOR_DELIVERY, "York, UK")


def test_a_checkpoint_with_only_a_subtag_takes_its_tag_from_it() -> None:
    raw = tracking(checkpoints=[{"checkpoint_time": "2026-03-08T10:00:00Z", "subtag": "Delivered_001", "message": "x"}])

    (only,) = shipment_from_aftership(raw).checkpoints

    assert only.status is S.DELIVERED


def test_no_checkpoints_means_no_last_event() -> None:
    assert shipment_from_aftership(tracking()).last_event is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-08", datetime(2026, 3, 8)),
        ("2026-03-08T09:10:00", datetime(2026, 3, 8, 9, 10)),
        ("2026-03-08T09:10:00-05:00", datetime(2026, 3, 8, 9, 10, tzinfo=timezone(timedelta(hours=-5)))),
        ("2026-03-08T09:10:00+0800", datetime(2026, 3, 8, 9, 10, tzinfo=timezone(timedelta(hours=8)))),
        ("2026-03-08T09:10:00Z", datetime(2026, 3, 8, 9, 10, tzinfo=UTC)),
        ("2026-03-08T09:10:00.250+00:00", datetime(2026, 3, 8, 9, 10, 0, 250000, tzinfo=UTC)),
        ("2026-03-08 09:10:00", datetime(2026, 3, 8, 9, 10)),
        (" 2026-03-08T09:10 ", datetime(2026, 3, 8, 9, 10)),
        ("", None),
        ("yesterday", None),
        ("2026-13-40", None),
        (1741424400, None),
        (None, None),
    ],
)
def test_parse_time_reads_every_format_aftership_relays(text: object, expected: datetime | None) -> None:
    parsed = parse_time(text)

    assert parsed == expected
    assert parsed is None or expected is None or (parsed.tzinfo is None) == (expected.tzinfo is None)


# -- what cannot be read ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tracking_number", None),
        ("tracking_number", ""),
        ("slug", 42),
        ("slug", None),
        ("tag", ["InTransit"]),
        ("tag", "  "),  # blank is no tag at all, unlike one this table has not heard of
    ],
)
def test_a_tracking_without_its_identity_is_an_error_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(TrackingPayloadError) as raised:
        shipment_from_aftership(tracking() | {field: value})

    assert raised.value.path == field


def test_a_tracking_that_is_not_an_object_is_an_error() -> None:
    with pytest.raises(TrackingPayloadError):
        shipment_from_aftership(["not", "a", "tracking"])  # type: ignore[arg-type]


def test_ill_typed_optional_fields_are_ignored() -> None:
    raw = tracking() | dict(
        subtag=7,
        checkpoints=[
            "not a checkpoint",
            {"checkpoint_time": 1741424400, "message": ["x"], "subtag": 3, "location": {}},
            checkpoint("0001-01-01T00:00:00+05:00", "InTransit_001", "at the calendar's edge"),
        ],
        latest_estimated_delivery="tomorrow",
        courier_estimated_delivery_date={"estimated_delivery_date": 20260311},
        shipment_delivery_date=False,
    )

    shipment = shipment_from_aftership(raw)

    assert (shipment.status, shipment.estimated_delivery, len(shipment.checkpoints)) == (S.IN_TRANSIT, None, 2)
    assert shipment.raw_status == "InTransit"


def test_checkpoints_that_are_not_a_list_are_none() -> None:
    assert shipment_from_aftership(tracking(checkpoints={"0": "scan"})).checkpoints == ()
