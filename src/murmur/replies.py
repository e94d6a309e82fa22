"""The owner's replies to a message: the bot takes each to the anonymous sender, and the message keeps the latest
few, so the owner sees what they answered under it. Only the owner's own words are kept: nothing of the sender."""

from __future__ import annotations

import logging

from murmur import notices
from murmur.clock import Clock
from murmur.delivery import Delivery, NoticeDelivery
from murmur.errors import ConflictError, MurmurError, ReplyUndeliverableError
from murmur.inbox import Inbox
from murmur.models import Message, OwnerReply
from murmur.store.repositories import Repositories

log = logging.getLogger(__name__)
KEPT = 5  # replies kept on a message, the latest; each at most `Limits.reply_chars` (1000): a few KB an item


class Replies:
    def __init__(self, repos: Repositories, clock: Clock, inbox: Inbox, delivery: NoticeDelivery) -> None:
        self.repos = repos
        self.clock = clock
        self.inbox = inbox
        self.delivery = delivery

    def send(self, owner_id: int, message_id: str, raw_text: str) -> None:
        """`POST /api/messages/<id>/reply`: the owner's answer goes to the anonymous sender through the bot, in the
        sender's language, and is kept under the message. Telegram busy or failing: the reply is owed (the outbox
        sends it later), which is success all the same. Refused for good (the sender blocked the bot): no reply can
        reach them, ReplyUndeliverableError, what the owner hears for a sender who erased their account
        (`Inbox.reply_target`): never which of the two."""
        message, text = self.inbox.reply_target(owner_id, message_id, raw_text)
        sender = self.repos.users.get(message.sender_id)
        notice = notices.reply(sender.language_code if sender else None, message, text)
        if self.delivery.deliver(notice) is Delivery.REFUSED:
            raise ReplyUndeliverableError()
        try:
            self.keep(message, text)
        except MurmurError as exc:  # on its way all the same: an error now would make the retry send it twice
            log.warning("reply sent but not kept on the message: %s", exc.code)

    def keep(self, message: Message, text: str) -> Message:
        """Add `text` to the replies kept on `message` (the latest KEPT), written only over the replies it was
        computed from: two replies at once both land, read again and retried. Returns the message as written."""
        for _ in range(3):
            kept = [*message.replies, OwnerReply(text, int(self.clock.now()))][-KEPT:]
            count = message.reply_count + 1
            try:
                self.repos.tx.write_one(
                    self.repos.messages.replies_op(message.recipient_id, message.message_id, kept, count)
                )
            except ConflictError:
                fresh = self.repos.messages.get(message.recipient_id, message.message_id, consistent=True)
                if fresh is None:
                    return message  # erased meanwhile: nothing to keep it on
                message = fresh
                continue
            message.replies, message.reply_count = kept, count
            return message
        raise ConflictError("the replies kept changing; the reply was sent")
