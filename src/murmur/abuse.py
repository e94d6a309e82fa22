"""Moderation: blocks (by pseudonym, per recipient), reports (once per message, to admins) and bans."""

from __future__ import annotations

import contextlib

from murmur import notices
from murmur.delivery import KEEP_SECONDS
from murmur.errors import ConflictError, NotFoundError, RateLimitedError
from murmur.inbox import Inbox
from murmur.models import Message, Person
from murmur.rate_windows import Window
from murmur.standing import usable
from murmur.store.links import MAX_BLOCKS
from murmur.store.repositories import Repositories
from murmur.user_text import clean_text, shows_nothing, without_bidi_controls


class AlreadyReportedError(ConflictError):
    """This message was reported before (caught inside `Moderation.report`: no error for the reporter)."""


class OwnMessageError(ConflictError):
    """This message is from you: there is nobody to report."""

    code = "own_message"


class ReportsLimitedError(RateLimitedError):
    """You have sent many reports; wait before reporting again."""

    code = "reports_limited"


class Moderation:
    """Blocks (by pseudonym, per recipient), reports (once per message, to admins) and bans (everywhere)."""

    def __init__(self, repos: Repositories, inbox: Inbox, admin_ids: frozenset[int]) -> None:
        self.repos = repos
        self.inbox = inbox
        self.admin_ids = admin_ids

    def block(self, owner_id: int, message_id: str) -> None:
        """Every later message from this message's sender to this owner is refused."""
        message = self.inbox.own_message(owner_id, message_id)
        self._block(message, by_owner=True)

    def _block(self, message: Message, by_owner: bool = False) -> None:
        """On the recipient's link, which every send reads (`store.links`). The owner's own block needs a usable
        account (not banned, not being erased); an admin's, from a report, does not."""
        owner = self.repos.users.get(message.recipient_id)
        if owner is None or not owner.link_code:
            raise NotFoundError("no such message")
        if by_owner:
            usable(owner)
        if not self.repos.links.block(owner.link_code, message.pseudonym):
            raise ConflictError(f"you have blocked {MAX_BLOCKS} senders; turn off new messages instead")

    def report(self, owner_id: int, message_id: str, reason: str) -> None:
        """Flag a message in the owner's inbox for the admins' review, once, and count it into every admin's
        digest (`murmur.report_digests`: at most one notice per admin per interval, however many reports come).

        One transaction: the flag, the reporter's hourly and daily windows and the admins' digests, so a report
        past a limit (429) or of a message already reported writes nothing. A message the owner sent to their
        own inbox cannot be reported (409): a report asks the admins to act against its sender, who here is the
        reporter; it would only be a way to send notices to every admin."""
        limits = self.inbox.limits
        reason = (
            "" if shows_nothing(without_bidi_controls(reason)) else clean_text(reason, limits.report_chars, "reason")
        )
        message = self.inbox.own_message(owner_id, message_id)
        if message.sender_id == owner_id:
            raise OwnMessageError("you sent this message to yourself: there is nobody to report")
        now = self.inbox.clock.now()
        hour, day = Window.at(now, 3600), Window.at(now, 86400)

        def hourly() -> RateLimitedError:
            return ReportsLimitedError("too many reports this hour; try again later", hour.retry_after(now))

        def daily() -> RateLimitedError:
            return ReportsLimitedError("too many reports today; try again tomorrow", day.retry_after(now))

        ops = [
            # First: a message reported already fails here, and nothing else is counted.
            self.repos.messages.report_op(owner_id, message_id, reason, int(now)).failing_with(AlreadyReportedError),
            self.repos.state.window_op(
                f"report#{owner_id}#{hour.start}", limits.reports_per_hour, hour.end + 60
            ).failing_with(hourly),
            self.repos.state.window_op(
                f"report-day#{owner_id}#{day.start}", limits.reports_per_day, day.end + 60
            ).failing_with(daily),
            *(
                self.repos.outbox.report_digest_op(admin, int(now), int(now) + KEEP_SECONDS)
                for admin in sorted(self.admin_ids)
            ),
        ]
        with contextlib.suppress(AlreadyReportedError):  # reported before: the admins know already
            self.repos.tx.write(ops)

    def reviewed(self, key: str) -> None:
        """An admin decided on a report (banned, blocked or dismissed): it leaves the review queue."""
        message = self.reported_message(key)
        self.repos.messages.reviewed(message.recipient_id, message.message_id)

    def reported_message(self, key: str) -> Message:
        recipient, _, message_id = key.partition(":")
        if not recipient.isdigit():
            raise NotFoundError("no such message")
        return self.inbox.own_message(int(recipient), message_id)

    def ban(self, user_id: int, banned: bool = True) -> None:
        """An admin's ban (or its end): the person can no longer use Murmur, as a sender or an owner, and
        erasing their account does not lift it (`murmur.standing`). Someone the app never saw gets no account."""
        self.inbox.standings.set_banned(user_id, banned)

    def ban_sender_of(self, key: str) -> None:
        """An admin action from a report: the sender can no longer send, reply or buy."""
        message = self.reported_message(key)
        if message.sender_id:
            self.ban(message.sender_id)

    def block_for_recipient(self, key: str) -> None:
        self._block(self.reported_message(key))

    def support_request(self, person: Person, text: str) -> list[notices.Notice]:
        """A /paysupport request for every admin, with the person's recent payments."""
        body = clean_text(text, 1000, "request")
        payments = self.repos.payments.of_user(person.id, limit=5)
        return [
            notices.support_request(admin, person.id, person.language_code or "?", body, payments)
            for admin in sorted(self.admin_ids)
        ]

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids
