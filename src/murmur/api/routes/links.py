"""Personal links: the send page and sending an anonymous message (optionally with a gift)."""

from __future__ import annotations

import logging
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from murmur import cards
from murmur.api.auth import person_of
from murmur.api.routes.orders import invoice_out
from murmur.api.schemas import (
    IDEMPOTENCY_KEY,
    LINK_CODE,
    CardPageOut,
    LinkPageOut,
    SendMessageIn,
    SentOut,
    TelegramGiftOut,
    success,
)
from murmur.composition import Services

log = logging.getLogger(__name__)
Code = Annotated[str, Path(pattern=LINK_CODE, description="a personal link code")]
CardId = Annotated[str | None, Query(pattern=cards.CARD_ID, description="the question card the link carries")]
# A plain string with "" for "none sent" (not `str | None`): the OpenAPI document then offers no null, which a
# header cannot carry.
IdempotencyKey = Annotated[
    str,
    Header(
        alias="idempotency-key",
        pattern=IDEMPOTENCY_KEY,
        description="one per composed message, reused when retrying it: a retry answers with the first result",
    ),
]


def build(services: Services) -> APIGatewayHttpRouter:
    router = APIGatewayHttpRouter()

    @router.get(
        "/api/links/<code>",
        summary="Who a link belongs to, and what a hint may reveal about me",
        responses=success(LinkPageOut),
    )
    def get_link(code: Code, card: CardId = None) -> LinkPageOut:
        page = services.link_pages.show(code, person_of(router.context["init"]), card)
        return LinkPageOut(
            code=code,
            display_name=page.owner_name,
            accepts_messages=page.accepts_messages,
            slow_mode_seconds=page.slow_mode_seconds,
            daily_cap=page.daily_cap,
            is_self=page.is_self,
            hint_ladder=page.hint_ladder,
            gifts=page.gifts,
            card=CardPageOut(id=page.card.id, emoji=page.card.emoji, text=page.card.text) if page.card else None,
            telegram_gifts=[
                TelegramGiftOut(id=offer.gift.gift_id, emoji=offer.gift.emoji, stars=offer.stars)
                for offer in page.telegram_gifts
            ],
        )

    @router.post(
        "/api/links/<code>/messages",
        summary="Send an anonymous message",
        responses=success(SentOut, 201, "stored; the owner is told by the next announcement"),
    )
    def send(code: Code, body: SendMessageIn, idempotency_key: IdempotencyKey = "") -> Response[SentOut]:
        init = router.context["init"]
        sender = person_of(init)
        gift = services.orders.gift(sender, body.gift) if body.gift else None
        if body.telegram_gift:  # made only if the bot can afford it now (409 otherwise, nothing stored)
            gift = services.real_gifts.offer(sender, body.telegram_gift)
        sent = services.inbox.send_once(
            sender, code, body.text, body.show_nickname, key=idempotency_key or None, gift=gift, card=body.card
        )
        if sent.stored and not sent.replayed:  # a message waiting for its gift's payment is announced when paid
            services.metrics.count("MessagesSent")  # the one waiting is counted when its payment stores it
            try:
                # No Telegram call here: the cron tells the owner, with every message since, in one notice.
                services.delivery.announce(sent.owner.user_id)
            except Exception as exc:  # the message is stored and counted; the next send's announcement covers it
                log.warning("new-message announcement failed: %s", type(exc).__name__)
        # After the message's transaction: if Telegram fails here, the retry with the key finds the order.
        gift_invoice = invoice_out(services.orders.invoice(sent.order, sender.language_code)) if sent.order else None
        return Response(
            status_code=201,
            content_type="application/json",
            body=SentOut(message_id=sent.message_id, gift_invoice=gift_invoice),
            headers={"Idempotent-Replayed": "true"} if sent.replayed else None,
        )

    return router
