"""The owner's "new messages" notice, written when the cron delivers it: the exact unread count and the
newest preview, read from the inbox at that moment (the inbox is the source of truth, not the notice)."""

from __future__ import annotations

from murmur import notices
from murmur.inbox import Inbox
from murmur.notices import Notice


class Announcements:
    """Composes an owner's coalesced announcement (`murmur.delivery.Compose`)."""

    def __init__(self, inbox: Inbox, webapp_url: str) -> None:
        self.inbox = inbox
        self.webapp_url = webapp_url

    def compose(self, owner_id: int) -> Notice | None:
        """None when there is nothing to tell: every message read, or the owner gone, banned (their messages wait,
        hidden: docs/anonymity.md) or being erased."""
        owner = self.inbox.repos.users.get(owner_id)
        if owner is None or owner.banned or owner.erasing:
            return None
        unread = self.inbox.counts(owner).unread
        newest = self.inbox.newest(owner_id)
        if unread <= 0 or newest is None:
            return None
        return notices.new_messages(self.webapp_url, owner_id, owner.language_code, unread, newest)
