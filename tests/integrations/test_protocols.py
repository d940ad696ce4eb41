"""One contract test class per Protocol, run against every implementation listed in conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.errors import PermanentIntegrationError
from integrations.models import Coupon, DispatchKind
from tests.integrations.conftest import (
    DM_CHANNELS,
    LOYALTY_SERVICES,
    ORDER_SYSTEMS,
    TRACKING_SERVICES,
    ChannelUnderTest,
    LoyaltyUnderTest,
    OrdersUnderTest,
    TrackingUnderTest,
)


@pytest.mark.parametrize("order_system", ORDER_SYSTEMS, indirect=True)
class TestOrderSystem:
    async def test_finds_an_order_with_its_value_owner_and_tier(self, order_system: OrdersUnderTest) -> None:
        order = await order_system.system.find_order(order_system.order_number)

        assert order is not None
        assert order.number == order_system.order_number
        assert order.value == order_system.order_value
        assert order.owner_x_user_id == order_system.owner_x_user_id
        assert order.customer_tier is order_system.owner_tier
        assert order.shipments, "the order's parcels are needed to track it"

    @pytest.mark.parametrize("typed", ["#{n}", " {n} ", "# {n}"])
    async def test_finds_an_order_as_customers_type_it(self, order_system: OrdersUnderTest, typed: str) -> None:
        order = await order_system.system.find_order(typed.format(n=order_system.order_number))

        assert order is not None
        assert order.number == order_system.order_number

    async def test_unknown_order_is_none(self, order_system: OrdersUnderTest) -> None:
        assert await order_system.system.find_order(order_system.unknown_order_number) is None

    async def test_refund_twice_with_one_key_refunds_once(self, order_system: OrdersUnderTest) -> None:
        first = await order_system.system.refund(
            order_number=order_system.order_number, amount=Decimal("10.00"), idempotency_key="refund-1"
        )
        again = await order_system.system.refund(
            order_number=order_system.order_number, amount=Decimal("10.00"), idempotency_key="refund-1"
        )

        assert again == first
        assert first.amount == Decimal("10.00")
        assert order_system.effects() == 1

    async def test_refunds_with_different_keys_are_different_refunds(self, order_system: OrdersUnderTest) -> None:
        first = await order_system.system.refund(
            order_number=order_system.order_number, amount=Decimal("1.00"), idempotency_key="refund-a"
        )
        second = await order_system.system.refund(
            order_number=order_system.order_number, amount=Decimal("1.00"), idempotency_key="refund-b"
        )

        assert first.refund_id != second.refund_id
        assert order_system.effects() == 2

    async def test_refund_of_the_whole_value_is_allowed(self, order_system: OrdersUnderTest) -> None:
        refund = await order_system.system.refund(
            order_number=order_system.order_number, amount=order_system.order_value, idempotency_key="full"
        )

        assert refund.amount == order_system.order_value

    @pytest.mark.parametrize("excess", [Decimal("0.01"), Decimal("100")])
    async def test_refund_above_the_order_value_is_rejected(
        self, order_system: OrdersUnderTest, excess: Decimal
    ) -> None:
        with pytest.raises(PermanentIntegrationError, match="exceeds"):
            await order_system.system.refund(
                order_number=order_system.order_number,
                amount=order_system.order_value + excess,
                idempotency_key="too-much",
            )
        assert order_system.effects() == 0

    @pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5")])
    async def test_refund_that_is_not_positive_is_rejected(
        self, order_system: OrdersUnderTest, amount: Decimal
    ) -> None:
        with pytest.raises(PermanentIntegrationError):
            await order_system.system.refund(
                order_number=order_system.order_number, amount=amount, idempotency_key="nothing"
            )
        assert order_system.effects() == 0

    async def test_refund_of_an_unknown_order_is_rejected(self, order_system: OrdersUnderTest) -> None:
        with pytest.raises(PermanentIntegrationError):
            await order_system.system.refund(
                order_number=order_system.unknown_order_number, amount=Decimal("1"), idempotency_key="ghost"
            )
        assert order_system.effects() == 0

    @pytest.mark.parametrize("kind", list(DispatchKind))
    async def test_dispatch_twice_with_one_key_ships_once(
        self, order_system: OrdersUnderTest, kind: DispatchKind
    ) -> None:
        first = await order_system.system.dispatch(
            order_number=order_system.order_number, kind=kind, idempotency_key="ship-1"
        )
        again = await order_system.system.dispatch(
            order_number=order_system.order_number, kind=kind, idempotency_key="ship-1"
        )

        assert again == first
        assert first.kind is kind
        assert order_system.effects() == 1

    async def test_dispatch_gives_a_new_tracking_number(self, order_system: OrdersUnderTest) -> None:
        order = await order_system.system.find_order(order_system.order_number)
        assert order is not None
        first = await order_system.system.dispatch(
            order_number=order.number, kind=DispatchKind.RESHIP, idempotency_key="ship-a"
        )
        second = await order_system.system.dispatch(
            order_number=order.number, kind=DispatchKind.RESHIP, idempotency_key="ship-b"
        )

        existing = {s.tracking_number for s in order.shipments}
        assert first.tracking_number not in existing
        assert second.tracking_number not in existing | {first.tracking_number}

    async def test_dispatch_of_an_unknown_order_is_rejected(self, order_system: OrdersUnderTest) -> None:
        with pytest.raises(PermanentIntegrationError):
            await order_system.system.dispatch(
                order_number=order_system.unknown_order_number,
                kind=DispatchKind.RESHIP,
                idempotency_key="ghost",
            )
        assert order_system.effects() == 0


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


@pytest.mark.parametrize("loyalty_service", LOYALTY_SERVICES, indirect=True)
class TestLoyaltyService:
    async def test_award_twice_with_one_key_awards_once(self, loyalty_service: LoyaltyUnderTest) -> None:
        first = await loyalty_service.service.award_points(
            customer_id=loyalty_service.customer_id, points=200, reason="late parcel", idempotency_key="pts-1"
        )
        again = await loyalty_service.service.award_points(
            customer_id=loyalty_service.customer_id, points=200, reason="late parcel", idempotency_key="pts-1"
        )

        assert again == first
        assert first.points == 200
        assert loyalty_service.effects() == 1

    async def test_awards_with_different_keys_are_different_awards(self, loyalty_service: LoyaltyUnderTest) -> None:
        first = await loyalty_service.service.award_points(
            customer_id=loyalty_service.customer_id, points=50, reason="a", idempotency_key="pts-a"
        )
        second = await loyalty_service.service.award_points(
            customer_id=loyalty_service.customer_id, points=50, reason="b", idempotency_key="pts-b"
        )

        assert first.transaction_id != second.transaction_id
        assert loyalty_service.effects() == 2

    async def test_award_to_an_unknown_customer_is_rejected(self, loyalty_service: LoyaltyUnderTest) -> None:
        with pytest.raises(PermanentIntegrationError):
            await loyalty_service.service.award_points(
                customer_id=loyalty_service.unknown_customer_id, points=50, reason="x", idempotency_key="k"
            )
        assert loyalty_service.effects() == 0

    async def test_coupon_twice_with_one_key_is_one_coupon(self, loyalty_service: LoyaltyUnderTest) -> None:
        expires = loyalty_service.today + timedelta(days=30)

        async def issue() -> Coupon:
            return await loyalty_service.service.create_coupon(
                customer_id=loyalty_service.customer_id,
                percent_off=15,
                free_shipping=False,
                amount_off=None,
                expires_on=expires,
                idempotency_key="coupon-1",
            )

        first = await issue()
        again = await issue()

        assert again == first
        assert (first.percent_off, first.expires_on) == (15, expires)
        assert loyalty_service.effects() == 1

    async def test_coupons_with_different_keys_have_different_codes(self, loyalty_service: LoyaltyUnderTest) -> None:
        codes = {
            (
                await loyalty_service.service.create_coupon(
                    customer_id=loyalty_service.customer_id,
                    percent_off=None,
                    free_shipping=True,
                    amount_off=None,
                    expires_on=loyalty_service.today + timedelta(days=7),
                    idempotency_key=key,
                )
            ).code
            for key in ("coupon-a", "coupon-b")
        }

        assert len(codes) == 2
        assert loyalty_service.effects() == 2

    @pytest.mark.parametrize("percent_off", [0, 101, -10])
    async def test_coupon_percentage_outside_1_to_100_is_rejected(
        self, loyalty_service: LoyaltyUnderTest, percent_off: int
    ) -> None:
        with pytest.raises(PermanentIntegrationError):
            await loyalty_service.service.create_coupon(
                customer_id=loyalty_service.customer_id,
                percent_off=percent_off,
                free_shipping=False,
                amount_off=None,
                expires_on=loyalty_service.today + timedelta(days=30),
                idempotency_key="bad-percent",
            )
        assert loyalty_service.effects() == 0

    @pytest.mark.parametrize("percent_off", [1, 100])
    async def test_coupon_percentage_bounds_are_allowed(
        self, loyalty_service: LoyaltyUnderTest, percent_off: int
    ) -> None:
        coupon = await loyalty_service.service.create_coupon(
            customer_id=loyalty_service.customer_id,
            percent_off=percent_off,
            free_shipping=False,
            amount_off=None,
            expires_on=loyalty_service.today + timedelta(days=30),
            idempotency_key=f"percent-{percent_off}",
        )

        assert coupon.percent_off == percent_off


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
