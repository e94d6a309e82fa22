"""The owner's replies to a message: the bot takes each to the anonymous sender, and the message keeps the latest
few, so the owner sees what they answered under it. Only the owner's own words are kept: nothing of the sender."""

from __future__ import annotations

from murmur.clock import Clock
from murmur.errors import ConflictError
from murmur.models import Message, OwnerReply
from murmur.store.repositories import Repositories

KEPT = 5  # replies kept on a message, the latest; each at most `Limits.reply_chars` (1000): a few KB an item


class Replies:
    def __init__(self, repos: Repositories, clock: Clock) -> None:
        self.repos = repos
        self.clock = clock

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
