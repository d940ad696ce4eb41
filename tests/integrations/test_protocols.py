"""One contract test class per Protocol, run against every implementation listed in conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.errors import PermanentIntegrationError
from integrations.models import Coupon, DispatchKind, NoSuchOrder, Order
from tests.integrations.conftest import (
    COUPON_ISSUERS,
    DISPATCH_SERVICES,
    DM_CHANNELS,
    ORDER_SYSTEMS,
    POINTS_PROGRAMS,
    REFUND_SERVICES,
    TRACKING_SERVICES,
    ChannelUnderTest,
    CouponsUnderTest,
    DispatchesUnderTest,
    OrdersUnderTest,
    PointsUnderTest,
    RefundsUnderTest,
    TrackingUnderTest,
)


@pytest.mark.parametrize("order_system", ORDER_SYSTEMS, indirect=True)
class TestOrderSystem:
    async def test_finds_an_order_with_its_value_owner_and_tier(self, order_system: OrdersUnderTest) -> None:
        order = await order_system.system.find_order(order_system.order_number)

        assert isinstance(order, Order)
        assert order.number == order_system.order_number
        assert order.value == order_system.order_value
        assert order.owner_x_user_id == order_system.owner_x_user_id
        assert order.customer_tier is order_system.owner_tier
        assert order.shipments, "the order's parcels are needed to track it"

    @pytest.mark.parametrize("typed", ["#{n}", " {n} ", "# {n}"])
    async def test_finds_an_order_as_customers_type_it(self, order_system: OrdersUnderTest, typed: str) -> None:
        order = await order_system.system.find_order(typed.format(n=order_system.order_number))

        assert isinstance(order, Order)
        assert order.number == order_system.order_number

    async def test_an_unknown_order_is_no_such_order(self, order_system: OrdersUnderTest) -> None:
        absent = await order_system.system.find_order(order_system.unknown_order_number)

        assert isinstance(absent, NoSuchOrder)
        assert absent.number == order_system.unknown_order_number

    async def test_the_order_belongs_only_to_its_owner(self, order_system: OrdersUnderTest) -> None:
        order = await order_system.system.find_order(order_system.order_number)

        assert isinstance(order, Order)
        assert order.belongs_to(order_system.owner_x_user_id)
        assert not order.belongs_to("1" + order_system.owner_x_user_id)


@pytest.mark.parametrize("refund_service", REFUND_SERVICES, indirect=True)
class TestRefundService:
    async def test_refund_twice_with_one_key_refunds_once(self, refund_service: RefundsUnderTest) -> None:
        first = await refund_service.service.refund(
            order_number=refund_service.order_number, amount=Decimal("10.00"), idempotency_key="refund-1"
        )
        again = await refund_service.service.refund(
            order_number=refund_service.order_number, amount=Decimal("10.00"), idempotency_key="refund-1"
        )

        assert again == first
        assert first.amount == Decimal("10.00")
        assert refund_service.effects() == 1

    async def test_refunds_with_different_keys_are_different_refunds(self, refund_service: RefundsUnderTest) -> None:
        first = await refund_service.service.refund(
            order_number=refund_service.order_number, amount=Decimal("1.00"), idempotency_key="refund-a"
        )
        second = await refund_service.service.refund(
            order_number=refund_service.order_number, amount=Decimal("1.00"), idempotency_key="refund-b"
        )

        assert first.refund_id != second.refund_id
        assert refund_service.effects() == 2

    async def test_refund_of_the_whole_value_is_allowed(self, refund_service: RefundsUnderTest) -> None:
        refund = await refund_service.service.refund(
            order_number=refund_service.order_number, amount=refund_service.order_value, idempotency_key="full"
        )

        assert refund.amount == refund_service.order_value

    @pytest.mark.parametrize("excess", [Decimal("0.01"), Decimal("100")])
    async def test_refund_above_the_order_value_is_rejected(
        self, refund_service: RefundsUnderTest, excess: Decimal
    ) -> None:
        with pytest.raises(PermanentIntegrationError, match="exceeds"):
            await refund_service.service.refund(
                order_number=refund_service.order_number,
                amount=refund_service.order_value + excess,
                idempotency_key="too-much",
            )
        assert refund_service.effects() == 0

    @pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5")])
    async def test_refund_that_is_not_positive_is_rejected(
        self, refund_service: RefundsUnderTest, amount: Decimal
    ) -> None:
        with pytest.raises(PermanentIntegrationError):
            await refund_service.service.refund(
                order_number=refund_service.order_number, amount=amount, idempotency_key="nothing"
            )
        assert refund_service.effects() == 0

    async def test_refund_of_an_unknown_order_is_rejected(self, refund_service: RefundsUnderTest) -> None:
        with pytest.raises(PermanentIntegrationError):
            await refund_service.service.refund(
                order_number=refund_service.unknown_order_number, amount=Decimal("1"), idempotency_key="ghost"
            )
        assert refund_service.effects() == 0



@pytest.mark.parametrize("dispatch_service", DISPATCH_SERVICES, indirect=True)
class TestDispatchService:
    @pytest.mark.parametrize("kind", list(DispatchKind))
    async def test_dispatch_twice_with_one_key_ships_once(
        self, dispatch_service: DispatchesUnderTest, kind: DispatchKind
    ) -> None:
        first = await dispatch_service.service.dispatch(
            order_number=dispatch_service.order_number, kind=kind, idempotency_key="ship-1"
        )
        again = await dispatch_service.service.dispatch(
            order_number=dispatch_service.order_number, kind=kind, idempotency_key="ship-1"
        )

        assert again == first
        assert first.kind is kind
        assert dispatch_service.effects() == 1

    async def test_dispatch_gives_a_new_tracking_number(self, dispatch_service: DispatchesUnderTest) -> None:
        first = await dispatch_service.service.dispatch(
            order_number=dispatch_service.order_number, kind=DispatchKind.RESHIP, idempotency_key="ship-a"
        )
        second = await dispatch_service.service.dispatch(
            order_number=dispatch_service.order_number, kind=DispatchKind.RESHIP, idempotency_key="ship-b"
        )

        existing = set(dispatch_service.known_tracking_numbers)
        assert first.tracking_number not in existing
        assert second.tracking_number not in existing | {first.tracking_number}

    async def test_dispatch_of_an_unknown_order_is_rejected(self, dispatch_service: DispatchesUnderTest) -> None:
        with pytest.raises(PermanentIntegrationError):
            await dispatch_service.service.dispatch(
                order_number=dispatch_service.unknown_order_number,
                kind=DispatchKind.RESHIP,
                idempotency_key="ghost",
            )
        assert dispatch_service.effects() == 0


@pytest.mark.parametrize("tracking_service", TRACKING_SERVICES, indirect=True)
class TestTrackingService:
    async def test_tracks_a_known_parcel(self, tracking_service: TrackingUnderTest) -> None:
        shipment = await tracking_service.service.track(
            carrier=tracking_service.carrier, tracking_number=tracking_service.tracking_number
        )

        assert shipment is not None
        assert shipment.tracking_number == tracking_service.tracking_number
        assert shipment.status is tracking_service.status
        assert shipment.estimated_delivery == tracking_service.estimated_delivery

    async def test_unknown_parcel_is_none(self, tracking_service: TrackingUnderTest) -> None:
        shipment = await tracking_service.service.track(
            carrier=tracking_service.carrier, tracking_number=tracking_service.unknown_tracking_number
        )

        assert shipment is None


@pytest.mark.parametrize("points_program", POINTS_PROGRAMS, indirect=True)
class TestPointsProgram:
    async def test_award_twice_with_one_key_awards_once(self, points_program: PointsUnderTest) -> None:
        first = await points_program.service.award_points(
            customer_id=points_program.customer_id, points=200, reason="late parcel", idempotency_key="pts-1"
        )
        again = await points_program.service.award_points(
            customer_id=points_program.customer_id, points=200, reason="late parcel", idempotency_key="pts-1"
        )

        assert again == first
        assert first.points == 200
        assert points_program.effects() == 1

    async def test_awards_with_different_keys_are_different_awards(self, points_program: PointsUnderTest) -> None:
        first = await points_program.service.award_points(
            customer_id=points_program.customer_id, points=50, reason="a", idempotency_key="pts-a"
        )
        second = await points_program.service.award_points(
            customer_id=points_program.customer_id, points=50, reason="b", idempotency_key="pts-b"
        )

        assert first.transaction_id != second.transaction_id
        assert points_program.effects() == 2

    async def test_award_to_an_unknown_customer_is_rejected(self, points_program: PointsUnderTest) -> None:
        with pytest.raises(PermanentIntegrationError):
            await points_program.service.award_points(
                customer_id=points_program.unknown_customer_id, points=50, reason="x", idempotency_key="k"
            )
        assert points_program.effects() == 0


@pytest.mark.parametrize("coupon_issuer", COUPON_ISSUERS, indirect=True)
class TestCouponIssuer:
    async def test_coupon_twice_with_one_key_is_one_coupon(self, coupon_issuer: CouponsUnderTest) -> None:
        expires = coupon_issuer.today + timedelta(days=30)

        async def issue() -> Coupon:
            return await coupon_issuer.service.create_coupon(
                customer_id=coupon_issuer.customer_id,
                percent_off=15,
                free_shipping=False,
                amount_off=None,
                expires_on=expires,
                minimum_spend=None,
                idempotency_key="coupon-1",
            )

        first = await issue()
        again = await issue()

        assert again == first
        assert (first.percent_off, first.expires_on) == (15, expires)
        assert coupon_issuer.effects() == 1

    async def test_coupons_with_different_keys_have_different_codes(self, coupon_issuer: CouponsUnderTest) -> None:
        codes = {
            (
                await coupon_issuer.service.create_coupon(
                    customer_id=coupon_issuer.customer_id,
                    percent_off=None,
                    free_shipping=True,
                    amount_off=None,
                    expires_on=coupon_issuer.today + timedelta(days=7),
                    minimum_spend=None,
                    idempotency_key=key,
                )
            ).code
            for key in ("coupon-a", "coupon-b")
        }

        assert len(codes) == 2
        assert coupon_issuer.effects() == 2

    @pytest.mark.parametrize("percent_off", [0, 101, -10])
    async def test_coupon_percentage_outside_1_to_100_is_rejected(
        self, coupon_issuer: CouponsUnderTest, percent_off: int
    ) -> None:
        with pytest.raises(PermanentIntegrationError):
            await coupon_issuer.service.create_coupon(
                customer_id=coupon_issuer.customer_id,
                percent_off=percent_off,
                free_shipping=False,
                amount_off=None,
                expires_on=coupon_issuer.today + timedelta(days=30),
                minimum_spend=None,
                idempotency_key="bad-percent",
            )
        assert coupon_issuer.effects() == 0

    @pytest.mark.parametrize("percent_off", [1, 100])
    async def test_coupon_percentage_bounds_are_allowed(
        self, coupon_issuer: CouponsUnderTest, percent_off: int
    ) -> None:
        coupon = await coupon_issuer.service.create_coupon(
            customer_id=coupon_issuer.customer_id,
            percent_off=percent_off,
            free_shipping=False,
            amount_off=None,
            expires_on=coupon_issuer.today + timedelta(days=30),
            minimum_spend=None,
            idempotency_key=f"percent-{percent_off}",
        )

        assert coupon.percent_off == percent_off

    @pytest.mark.parametrize("free_shipping", [False, True])
    async def test_a_coupon_made_with_a_minimum_spend_needs_it(
        self, coupon_issuer: CouponsUnderTest, free_shipping: bool
    ) -> None:
        async def issue() -> Coupon:
            return await coupon_issuer.service.create_coupon(
                customer_id=coupon_issuer.customer_id,
                percent_off=None if free_shipping else 10,
                free_shipping=free_shipping,
                amount_off=None,
                expires_on=coupon_issuer.today + timedelta(days=30),
                minimum_spend=Decimal("25.00"),
                idempotency_key="with-minimum",
            )

        coupon = await issue()
        again = await issue()  # replayed from the provider's record of the first

        assert coupon.minimum_spend == again.minimum_spend == Decimal("25.00")
        assert coupon_issuer.minimum_held(coupon.code) == Decimal("25.00")

    @pytest.mark.parametrize("minimum_spend", [None, Decimal("0")], ids=["none", "zero"])
    async def test_a_coupon_made_without_a_minimum_spend_has_none(
        self, coupon_issuer: CouponsUnderTest, minimum_spend: Decimal | None
    ) -> None:
        coupon = await coupon_issuer.service.create_coupon(
            customer_id=coupon_issuer.customer_id,
            percent_off=10,
            free_shipping=False,
            amount_off=None,
            expires_on=coupon_issuer.today + timedelta(days=30),
            minimum_spend=minimum_spend,
            idempotency_key="without-minimum",
        )

        assert coupon.minimum_spend is None
        assert coupon_issuer.minimum_held(coupon.code) is None

    @pytest.mark.parametrize("minimum_spend", ["-0.01", "NaN", "Infinity"])
    async def test_a_negative_or_endless_minimum_spend_is_rejected(
        self, coupon_issuer: CouponsUnderTest, minimum_spend: str
    ) -> None:
        with pytest.raises(PermanentIntegrationError, match="minimum_spend"):
            await coupon_issuer.service.create_coupon(
                customer_id=coupon_issuer.customer_id,
                percent_off=10,
                free_shipping=False,
                amount_off=None,
                expires_on=coupon_issuer.today + timedelta(days=30),
                minimum_spend=Decimal(minimum_spend),
                idempotency_key="bad-minimum",
            )
        assert coupon_issuer.effects() == 0


@pytest.mark.parametrize("dm_channel", DM_CHANNELS, indirect=True)
class TestDirectMessageChannel:
    """What recipients see is compared by (message id, recipient, text): the outside world's view."""

    async def test_send_delivers_the_text_to_the_recipient(self, dm_channel: ChannelUnderTest) -> None:
        sent = await dm_channel.channel.send(
            recipient_id=dm_channel.recipient_id, text="Sorry, your parcel is late.", idempotency_key="dm-1"
        )

        assert (sent.recipient_id, sent.text, sent.idempotency_key) == (
            dm_channel.recipient_id,
            "Sorry, your parcel is late.",
            "dm-1",
        )
        assert seen(dm_channel) == [(sent.message_id, dm_channel.recipient_id, "Sorry, your parcel is late.")]

    async def test_send_twice_with_one_key_delivers_once(self, dm_channel: ChannelUnderTest) -> None:
        first = await dm_channel.channel.send(recipient_id=dm_channel.recipient_id, text="Hi", idempotency_key="k")
        again = await dm_channel.channel.send(recipient_id=dm_channel.recipient_id, text="Hi", idempotency_key="k")

        assert again == first
        assert len(seen(dm_channel)) == 1

    async def test_sends_with_different_keys_deliver_each(self, dm_channel: ChannelUnderTest) -> None:
        first = await dm_channel.channel.send(recipient_id=dm_channel.recipient_id, text="1", idempotency_key="a")
        second = await dm_channel.channel.send(recipient_id=dm_channel.recipient_id, text="2", idempotency_key="b")

        assert first.message_id != second.message_id
        assert [text for _, _, text in seen(dm_channel)] == ["1", "2"]

    async def test_empty_text_is_rejected(self, dm_channel: ChannelUnderTest) -> None:
        with pytest.raises(PermanentIntegrationError):
            await dm_channel.channel.send(recipient_id=dm_channel.recipient_id, text="  ", idempotency_key="e")
        assert seen(dm_channel) == []

    async def test_a_sent_dm_can_be_found_by_its_words(self, dm_channel: ChannelUnderTest) -> None:
        since = datetime(2020, 1, 1, tzinfo=UTC)
        sent = await dm_channel.channel.send(
            recipient_id=dm_channel.recipient_id, text="Your reship is on its way.", idempotency_key="f"
        )
        found = await dm_channel.channel.find_sent(
            recipient_id=dm_channel.recipient_id, text="Your reship is on its way.", since=since
        )
        assert found is not None and found.message_id == sent.message_id

    async def test_a_dm_never_sent_is_not_found(self, dm_channel: ChannelUnderTest) -> None:
        since = datetime(2020, 1, 1, tzinfo=UTC)
        sent = await dm_channel.channel.send(recipient_id=dm_channel.recipient_id, text="one", idempotency_key="g")
        assert (
            await dm_channel.channel.find_sent(recipient_id=dm_channel.recipient_id, text="another", since=since)
            is None
        )
        # A DM already accounted for is not mistaken for a second one with the same words.
        assert (
            await dm_channel.channel.find_sent(
                recipient_id=dm_channel.recipient_id, text="one", since=since, exclude=frozenset({sent.message_id})
            )
            is None
        )


def seen(harness: ChannelUnderTest) -> list[tuple[str, str, str]]:
    return [(message.message_id, message.recipient_id, message.text) for message in harness.deliveries()]
