"""The owner's inbox: pages of previews, reading, replying, blocking, reporting."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from murmur import notices
from murmur.api.schemas import MESSAGE_ID, DoneOut, InboxOut, MessageOut, ReplyIn, ReportIn, success
from murmur.composition import Services
from murmur.delivery import Delivery
from murmur.errors import ReplyUndeliverableError
from murmur.inbox import MessageView

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
        gifts=v.gifts,
        hints=v.hints,
        hints_left=v.hints_left,
        nickname=v.nickname,
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
        "/api/messages/<message_id>/reply",
        summary="Answer the anonymous sender through the bot",
        responses=success(DoneOut, 202, "sent to the sender"),
    )
    def reply(message_id: MessageId, body: ReplyIn) -> Response[DoneOut]:
        message, text = services.inbox.reply_target(me(), message_id, body.text)
        sender = services.repos.users.get(message.sender_id)
        notice = notices.reply(sender.language_code if sender else None, message, text)
        # Telegram busy or failing: the reply is owed (the outbox sends it later) and this answers 202 all
        # the same. Refused for good (the sender blocked the bot): no reply can reach them, and the owner hears
        # what they hear for a sender who erased their account (`Inbox.reply_target`): never which of the two.
        if services.delivery.deliver(notice) is Delivery.REFUSED:
            raise ReplyUndeliverableError()
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
