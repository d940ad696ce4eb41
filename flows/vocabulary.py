"""The words a flow document may use: events, facts (guard names) and actions.

A flow is data an admin edits, so it may only refer to names the runtime knows how to evaluate or
carry out. The schema checks every reference against these tables and names the offending field.
"""

from __future__ import annotations

from typing import Final

# Events the engine feeds to a conversation. Customer and agent events come from outside; the others
# are results of commands coming back.
EVENTS: Final[dict[str, str]] = {
    "message": "the customer wrote a DM",
    "order_found": "the order system answered a lookup with an order",
    "order_not_found": "the order system has no order with that reference",
    "tracking_found": "the carrier answered with the parcel's status",
    "lookup_failed": "an order or tracking lookup failed for good",
    "compensation_issued": "points, coupon or refund were issued",
    "compensation_failed": "issuing the compensation failed for good",
    "compensation_held": "a limit (customer cap, daily budget) was reached when paying: nothing was paid",
    "dispatched": "a reship or expedite was booked and has a tracking number",
    "dispatch_failed": "booking the reship or expedite failed for good",
    "timeout": "the state's timeout elapsed with no customer reply",
    "agent_reply": "an agent wrote to the customer from the console",
    "agent_handback": "an agent handed the conversation back to the bot",
    "agent_close": "an agent closed the conversation",
    "shipment_update": "a carrier pushed news about a parcel this conversation follows (ignored where unhandled)",
}

# Events that bring news rather than ask for an answer. Where the flow has no transition for one, it is
# ignored instead of being a flow error; and one that leaves the conversation in its state keeps the state's
# timer running, since a timeout waits for the customer, and the news was not the customer answering.
NEWS_EVENTS: Final[frozenset[str]] = frozenset({"shipment_update"})

# Boolean facts a guard (`when:`) may combine with and / or / not.
FACTS: Final[dict[str, str]] = {
    "has_order_number": "the message contains an order reference",
    "wants_human": "the customer asks for a person",
    "angry": "the message reads as angry (escalation.anger: insults, profanity, shouting, sarcasm, repeats, threats)",
    "threatens": "the message threatens to go public, to a consumer body (12315, BBB...), a chargeback or a lawyer",
    "is_vip": "the order's customer is a VIP (for rules that hand VIPs to a person)",
    "said_yes": "the customer agrees",
    "said_no": "the customer declines",
    "wants_refund": "the customer asks for a refund instead",
    "wants_more": "the customer pushes back on the offer for more (the bot never raises it)",
    "pushed_back": "the customer already pushed back on this offer once",
    "chose_alternative": "the message accepts the offer or names one of its alternatives",
    "has_rating": "the message carries a 1-5 rating",
    "low_rating": "the rating is at or below settings.low_rating",
    "order_attempts_left": "another failed attempt at the order number is still allowed",
    "unclear_replies_left": "another unclear reply is still allowed before a person steps in",
    "order_owned": "the order belongs to the customer writing",
    "high_value": "the order value is at or above settings.high_value_threshold",
    "already_compensated": "this order was already compensated for this situation (in this or another conversation)",
    "has_shipment": "the order has a parcel the carrier can be asked about",
    "delivered": "the carrier says the parcel was delivered",
    "is_late": "the parcel is or will be later than promised",
    "parcel_problem": "the carrier reports a problem a person must act on (address issue, returned)",
    "has_offer": "the policy grants compensation for this situation",
    "needs_approval": "an alternative of the offer is worth more than policy.bot_approval_limit",
    "over_customer_cap": "the customer already had policy.limits.customer_cap compensations in its window",
    "over_daily_budget": "today's compensations plus the most this offer can cost exceed policy.limits.daily_budget",
    "refund_allowed": "the offer lets the customer take a refund",
    "needs_dispatch": "the chosen remedy needs a reship or expedite",
    "order_search_conclusive": "the order system could see every order, so 'not found' means no such order",
    "order_search_retried": "the order system already could not see an order in this conversation (asked once more)",
    "news_first_scan": "pushed news: the parcel got its first carrier scan (it is moving)",
    "news_out_for_delivery": "pushed news: the parcel is out for delivery",
    "news_delivered": "pushed news: the parcel was delivered (the first update under Delivered only)",
    "news_problem": "pushed news: a problem (lost, damaged, returned, address, ...) new to this conversation",
    "news_on_replacement": "pushed news is about the replacement parcel the bot booked",
}

# Actions a transition may carry out, with the shape of their argument.
ACTIONS: Final[dict[str, str]] = {
    "say": "text key: reply with this text (variants picked by the customer's concern or situation)",
    "remember_order": "none: keep the order reference from the message",
    "lookup_order": "none: ask the order system about the remembered order",
    "lookup_tracking": "none: ask the carrier about the order's parcel",
    "make_offer": "none: state the best offer the policy allows, with its value and expiry",
    "issue_compensation": "none: issue the alternative the customer chose (or the refund they asked for)",
    "dispatch": "none: book the reship or expedite the situation needs",
    "escalate": "mapping {reason, priority}: hand the conversation to a person",
    "count": "counter name: add one to order_attempts, unclear_replies or pushbacks",
    "reset": "counter name: set order_attempts, unclear_replies or pushbacks back to 0",
    "record_rating": "none: keep the customer's rating",
    "relay_agent_text": "none: send the agent's words to the customer",
}

COUNTERS: Final[frozenset[str]] = frozenset({"order_attempts", "unclear_replies", "pushbacks"})
PRIORITIES: Final[tuple[str, ...]] = ("urgent", "high", "normal", "low")
