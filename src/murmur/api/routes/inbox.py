"""The owner's inbox: pages of previews, reading, replying, blocking, reporting."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from murmur.api.schemas import (
    MESSAGE_ID,
    CreditUnlockOut,
    DoneOut,
    InboxOut,
    MessageOut,
    ReplyIn,
    ReplyOut,
    ReportIn,
    success,
)
from murmur.composition import Services
from murmur.inbox import MessageView
from murmur.models import TELEGRAM_GIFT_BADGE

MessageId = Annotated[str, Path(pattern=MESSAGE_ID, description="a message id")]
Cursor = Annotated[str | None, Query(pattern=MESSAGE_ID, description="next_cursor of the previous page")]


def message_out(v: MessageView) -> MessageOut:
    return MessageOut(
        id=v.message_id,
        preview=v.preview,
        text=v.text,
        locked=v.locked,
        unread=v.unread,
        created_at=v.created_at,
        gifts=[gift for gift in v.gifts if not gift.startswith(TELEGRAM_GIFT_BADGE)],
        hints=v.hints,
        hints_left=v.hints_left,
        nickname=v.nickname,
        card=v.card,
        question=v.question,
        replies=[ReplyOut(text=r.text, sent_at=r.sent_at) for r in v.replies],
        telegram_gifts=[g.removeprefix(TELEGRAM_GIFT_BADGE) for g in v.gifts if g.startswith(TELEGRAM_GIFT_BADGE)],
    )


def build(services: Services) -> APIGatewayHttpRouter:
    router = APIGatewayHttpRouter()

    def me() -> int:
        return int(router.context["init"].user.id)

    @router.get("/api/inbox", summary="My messages, newest first", responses=success(InboxOut))
    def inbox(cursor: Cursor = None) -> InboxOut:
        views, next_cursor, _ = services.inbox.page(me(), cursor)
        return InboxOut(messages=[message_out(v) for v in views], next_cursor=next_cursor)

    @router.get(
        "/api/messages/<message_id>",
        summary="One of my messages (full text when readable)",
        responses=success(MessageOut),
    )
    def read(message_id: MessageId) -> MessageOut:
        return message_out(services.inbox.read(me(), message_id))

    @router.post(
        "/api/messages/<message_id>/unlock-with-credit",
        summary="Read a locked message with an invite credit instead of Stars",
        responses=success(CreditUnlockOut),
    )
    def unlock_with_credit(message_id: MessageId) -> CreditUnlockOut:
        view, left = services.inbox.unlock_with_credit(me(), message_id)
        return CreditUnlockOut(message=message_out(view), invite_credits=left)

    @router.post(
        "/api/messages/<message_id>/reply",
        summary="Answer the anonymous sender through the bot",
        responses=success(DoneOut, 202, "sent to the sender"),
    )
    def reply(message_id: MessageId, body: ReplyIn) -> Response[DoneOut]:
        # 202 also when Telegram is busy: the reply is owed, and the outbox sends it later (`Replies.send`).
        services.replies.send(me(), message_id, body.text)
        return Response(status_code=202, content_type="application/json", body=DoneOut(ok=True))

    @router.post(
        "/api/messages/<message_id>/block",
        summary="Refuse every later message from this sender",
        responses=success(DoneOut),
    )
    def block(message_id: MessageId) -> DoneOut:
        services.moderation.block(me(), message_id)
        return DoneOut(ok=True)

    @router.post(
        "/api/messages/<message_id>/report",
        summary="Report this message to the moderators",
        responses=success(DoneOut, 202, "reported"),
    )
    def report(message_id: MessageId, body: ReportIn) -> Response[DoneOut]:
        # Recorded for review; the admins hear of it in their next digest (the cron, within a minute or two).
        services.moderation.report(me(), message_id, body.reason)
        return Response(status_code=202, content_type="application/json", body=DoneOut(ok=True))

    return router
