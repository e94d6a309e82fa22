"""Delivering what the bot tells people: now, or later from the outbox; never lost to a busy Telegram.

One rule for every notice, wherever it is sent (the Mini App API, the webhook's callbacks, the cron): sent
now if Telegram takes it; kept in the outbox if Telegram is busy (429: due again after its `retry_after`) or
failing (5xx, network: due again after a backoff); dropped if Telegram refuses it for good (403: the user
blocked the bot; 400: no such chat), which a retry would not change. The cron delivers what is due, paced to
Telegram's limits, each notice on its own: one that fails again waits again, and the others go on. The notice of
an automatic refund is sent only once its refund is done (`RefundOwed`), which is retried the same way."""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from murmur.clock import Clock
from murmur.errors import MurmurError, TelegramRateLimitedError, TelegramRefusedError, TelegramUnavailableError
from murmur.models import OwedNotice
from murmur.ports import Button, Messenger

if TYPE_CHECKING:
    from murmur.notices import Notice

log = logging.getLogger(__name__)

KEEP_SECONDS = 7 * 86400  # an owed notice is dropped a week after it was first owed, delivered or not
MAX_ATTEMPTS = 24  # and after this many tries (Telegram failing all along: over a day of backoff)
LEASE_SECONDS = 120  # a run's hold on the notice it is sending: far longer than one send may take
FIRST_BACKOFF_SECONDS = 30  # after a 5xx or a network failure, doubling per attempt...
LONGEST_BACKOFF_SECONDS = 3600  # ...up to an hour
# At most one "new messages" notice per owner in this long (Telegram allows one message a second to a chat;
# an owner in a flood gets a running count, not a message per message).
ANNOUNCE_INTERVAL_SECONDS = 30
# At most one report digest per admin in this long: reports arriving meanwhile wait for the next one, counted.
REPORT_DIGEST_INTERVAL_SECONDS = 600


class Delivery(StrEnum):
    """What became of one notice."""

    SENT = "sent"
    OWED = "owed"  # in the outbox: a later cron run sends it
    REFUSED = "refused"  # refused for good by Telegram (blocked, no such chat): not retried
    DROPPED = "dropped"  # owed too long or tried too often: given up
    TAKEN = "taken"  # another cron run had already taken it from the outbox
    CURRENT = "current"  # an announcement with nothing left to say: the owner has read everything
    LATER = "later"  # left in the outbox for the next run (its chat is held, or this run is out of time)
    FAILED = "failed"  # storage failed on it; counted, and the run reports a failure


class NoticeOutbox(Protocol):
    """Where owed notices wait: `murmur.store.outbox.OutboxRepository`."""

    def keep(self, chat_id: int, text: str, buttons: str, *, due_at: int, attempts: int, expires_at: int) -> None: ...

    def due(self, now: int, limit: int) -> list[OwedNotice]: ...

    def claim(self, owed: OwedNotice, lease_until: int) -> OwedNotice | None: ...

    def postpone(self, owed: OwedNotice, due_at: int) -> None: ...

    def settle(self, owed: OwedNotice, now: int) -> None: ...

    def announce(self, owner_id: int, now: int, expires_at: int) -> None: ...

    def settle_announcement(self, owed: OwedNotice, quiet_until: int) -> bool: ...

    def settle_report_digest(self, owed: OwedNotice, quiet_until: int) -> None: ...


# What an owner's announcement says when it is delivered (`murmur.announcements`): None if nothing is unread.
Compose = Callable[[int], "Notice | None"]
# Gives a buyer (first argument) back the Stars of a charge (second) that granted nothing, before the notice that
# says so is sent (`murmur.refunds.AutomaticRefunds.refund`): idempotent; TelegramUnavailableError when a later
# try may succeed, TelegramRefusedError when none will.
RefundOwed = Callable[[int, str], None]
# Delivers a paid real Telegram gift the outbox owes, which the caller holds (`murmur.gift_delivery`): sent, confirmed
# or refunded, once; what became of it.
DeliverGift = Callable[[OwedNotice], Delivery]
# What an admin's report digest says when it is delivered (`murmur.report_digests`), given the admin and how many
# reports came since the last one: None when none of them is still waiting for a decision.
ComposeDigest = Callable[[int, int], "Notice | None"]


def buttons_json(buttons: list[list[Button]]) -> str:
    rows = [[{name: value for name, value in asdict(button).items() if value} for button in row] for row in buttons]
    return json.dumps(rows, ensure_ascii=False) if rows else ""


def buttons_of(raw: str) -> list[list[Button]]:
    return [[Button(**button) for button in row] for row in json.loads(raw)] if raw else []


def retry_delay(failure: TelegramUnavailableError, attempts: int) -> int:
    """Seconds until a notice Telegram did not take may be tried again."""
    if isinstance(failure, TelegramRateLimitedError):
        return max(1, failure.retry_after)
    return min(FIRST_BACKOFF_SECONDS * 2 ** max(0, attempts - 1), LONGEST_BACKOFF_SECONDS)


class Pacer:
    """Telegram's broadcast limits within one cron run (Bots FAQ: about one message a second to a chat, about
    30 a second in all): one message a second per chat and 25 a second in all, no send started after
    `budget_seconds` (the run must end well inside its timeout), and no wait longer than `longest_wait`
    (a chat Telegram told us to leave alone for longer waits for a later run). When Telegram refuses three
    sends in a row, it is busy with the whole bot: every send waits, which usually ends the run's sending."""

    def __init__(
        self,
        per_second: float = 25.0,
        per_chat_seconds: float = 1.0,
        budget_seconds: float = 30.0,
        longest_wait: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_second = per_second
        self.per_chat_seconds = per_chat_seconds
        self.longest_wait = longest_wait
        self._monotonic = monotonic
        self._sleep = sleep
        self.deadline = monotonic() + budget_seconds
        self._next_any = 0.0
        self._next_in: dict[int, float] = {}
        self._refused_in_a_row = 0

    def wait(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` may go."""
        now = self._monotonic()
        return max(0.0, self._next_any - now, self._next_in.get(chat_id, 0.0) - now)

    def take_turn(self, chat_id: int) -> bool:
        """Wait for the turn of `chat_id` and book it; False, without waiting, if it is too far off."""
        now = self._monotonic()
        at = now + self.wait(chat_id)
        if at - now > self.longest_wait or at >= self.deadline:
            return False
        if at > now:
            self._sleep(at - now)
        self._next_any = at + 1 / self.per_second
        self._next_in[chat_id] = at + self.per_chat_seconds
        return True

    def out_of_time(self) -> bool:
        return self._monotonic() >= self.deadline

    def capacity(self) -> int:
        """How many sends the rest of the budget allows."""
        return max(0, math.ceil((self.deadline - self._monotonic()) * self.per_second))

    def sent(self) -> None:
        self._refused_in_a_row = 0

    def not_taken(self, chat_id: int, failure: TelegramUnavailableError) -> None:
        """Telegram did not take a message to `chat_id`: honour its retry_after for that chat."""
        now = self._monotonic()
        hold = float(retry_delay(failure, 1))
        self._next_in[chat_id] = max(self._next_in.get(chat_id, 0.0), now + hold)
        self._refused_in_a_row += 1
        if self._refused_in_a_row >= 3:
            self._next_any = max(self._next_any, now + hold)


class NoticeDelivery:
    """Sends notices through the gateway and owes them in the outbox; the only place that decides which."""

    def __init__(
        self,
        gateway: Messenger,
        outbox: NoticeOutbox,
        clock: Clock,
        compose: Compose | None = None,
        refund: RefundOwed | None = None,
        compose_digest: ComposeDigest | None = None,
        deliver_gift: DeliverGift | None = None,
    ) -> None:
        self.gateway = gateway
        self.outbox = outbox
        self.clock = clock
        self.compose = compose
        self.refund = refund
        self.compose_digest = compose_digest
        self.deliver_gift = deliver_gift

    # ------------------------------------------------------------ new messages, coalesced (the send path)
    def announce(self, owner_id: int) -> None:
        """A message was stored for `owner_id`: the next cron run tells them, with every other one since, in
        one notice. No call to Telegram here: the sender's request never waits for it."""
        now = int(self.clock.now())
        self.outbox.announce(owner_id, now, now + KEEP_SECONDS)

    # ------------------------------------------------------------ one notice, now (request paths)
    def deliver(self, notice: Notice) -> Delivery:
        """Send now; owe it if Telegram cannot take it now. The caller's action succeeded either way."""
        try:
            sent = self.gateway.send_message(notice.chat_id, notice.text, notice.buttons)
        except TelegramUnavailableError as exc:
            return self.undelivered(notice, exc)
        return Delivery.SENT if sent else Delivery.REFUSED

    def undelivered(self, notice: Notice, failure: MurmurError) -> Delivery:
        """The rule for a notice Telegram did not take (`failure`, as the domain names it): owed when a retry
        can help, else dropped. Storage failing here raises: the notice would be lost, so the caller fails."""
        if not isinstance(failure, TelegramUnavailableError):
            log.info("notice not delivered: %s", failure.code)
            return Delivery.REFUSED
        self._owe(notice, int(self.clock.now()) + retry_delay(failure, 1), attempts=1)
        log.info("notice owed: %s", failure.code)
        return Delivery.OWED

    def _owe(self, notice: Notice, due_at: int, attempts: int) -> None:
        now = int(self.clock.now())
        self.outbox.keep(
            notice.chat_id,
            notice.text,
            buttons_json(notice.buttons),
            due_at=due_at,
            attempts=attempts,
            expires_at=now + KEEP_SECONDS,
        )

    # ------------------------------------------------------------ many notices, paced (the cron)
    def deliver_paced(self, notices: Iterable[Notice], pacer: Pacer) -> Counter[Delivery]:
        """Each notice now if the pacer allows, else owed for a later run; one failing never stops the rest."""
        outcomes: Counter[Delivery] = Counter()
        for notice in notices:
            try:
                outcomes[self._deliver_paced(notice, pacer)] += 1
            except Exception as exc:  # this notice only: the others and the rest of the run go on
                log.error("notice lost: %s", type(exc).__name__)
                outcomes[Delivery.FAILED] += 1
        return outcomes

    def _deliver_paced(self, notice: Notice, pacer: Pacer) -> Delivery:
        if not pacer.take_turn(notice.chat_id):
            self._owe(notice, int(self.clock.now()) + math.ceil(pacer.wait(notice.chat_id)), attempts=0)
            return Delivery.OWED
        try:
            sent = self.gateway.send_message(notice.chat_id, notice.text, notice.buttons)
        except TelegramUnavailableError as exc:
            pacer.not_taken(notice.chat_id, exc)
            return self.undelivered(notice, exc)
        pacer.sent()
        return Delivery.SENT if sent else Delivery.REFUSED

    def deliver_due(self, pacer: Pacer) -> Counter[Delivery]:
        """What the outbox owes by now, the longest-owed first, as far as the pacer's budget goes."""
        outcomes: Counter[Delivery] = Counter()
        limit = pacer.capacity()
        if not limit:
            return outcomes
        for owed in self.outbox.due(int(self.clock.now()), limit):
            if pacer.out_of_time():
                break
            if not pacer.take_turn(owed.chat_id):
                outcomes[Delivery.LATER] += 1
                continue
            try:
                outcomes[self._deliver_owed(owed, pacer)] += 1
            except Exception as exc:  # it stays in the outbox (a lease runs out); the others go on
                log.error("owed notice not delivered: %s", type(exc).__name__)
                outcomes[Delivery.FAILED] += 1
        return outcomes

    def _deliver_owed(self, owed: OwedNotice, pacer: Pacer) -> Delivery:
        now = int(self.clock.now())
        held = self.outbox.claim(owed, now + LEASE_SECONDS)
        if held is None:
            return Delivery.TAKEN
        return self.deliver_held(held, pacer)

    def deliver_held(self, held: OwedNotice, pacer: Pacer | None = None) -> Delivery:
        """An owed notice this caller holds (claimed from the outbox, or written with the caller's own hold, as an
        automatic refund is): its refund first if it has one, then the notice; given back to the outbox, due again
        after a backoff, when Telegram cannot take it now."""
        pacer = pacer or Pacer()
        now = int(self.clock.now())
        if held.is_announcement:
            return self._deliver_announcement(held, pacer)
        if held.is_report_digest:
            return self._deliver_report_digest(held, pacer)
        if held.gift_charge_id:  # a paid gift is never given up: sent, or its Stars go back (its own rules)
            if self.deliver_gift is None:
                raise RuntimeError("a gift is owed, but this delivery cannot deliver gifts")
            return self.deliver_gift(held)
        if held.expires_at <= now or held.attempts > MAX_ATTEMPTS:
            if held.refund_charge_id:
                log.error("automatic refund given up after %d attempts", held.attempts)
            self.outbox.settle(held, now)
            return Delivery.DROPPED
        if held.refund_charge_id:
            not_refunded = self._refund(held, held.refund_charge_id, now)
            if not_refunded is not None:
                return not_refunded
        try:
            sent = self.gateway.send_message(held.chat_id, held.text, buttons_of(held.buttons))
        except TelegramUnavailableError as exc:
            pacer.not_taken(held.chat_id, exc)
            self.outbox.postpone(held, int(self.clock.now()) + retry_delay(exc, held.attempts))
            return Delivery.OWED
        pacer.sent()
        self.outbox.settle(held, int(self.clock.now()))
        return Delivery.SENT if sent else Delivery.REFUSED

    def _refund(self, held: OwedNotice, charge_id: str, now: int) -> Delivery | None:
        """The refund a notice waits for; None once it is done, else what became of the notice."""
        if self.refund is None:
            raise RuntimeError("an automatic refund is owed, but this delivery cannot refund")
        try:
            self.refund(held.chat_id, charge_id)
        except TelegramUnavailableError as exc:
            self.outbox.postpone(held, now + retry_delay(exc, max(1, held.attempts)))
            return Delivery.OWED
        except TelegramRefusedError as exc:  # a retry would be refused too: the flagged payment is support's now
            log.error("automatic refund refused by Telegram: %s", exc.message)
            self.outbox.settle(held, now)
            return Delivery.REFUSED
        return None

    def _deliver_announcement(self, held: OwedNotice, pacer: Pacer) -> Delivery:
        """An owner's coalesced "new messages" notice, written now from the inbox (the count is exact at this
        moment); never sooner than ANNOUNCE_INTERVAL_SECONDS after the last one. Telegram busy: due again after
        its retry_after. Messages that arrived meanwhile (`seq` moved): announced again after the interval."""
        now = int(self.clock.now())
        if now < held.quiet_until:
            self.outbox.postpone(held, held.quiet_until)
            return Delivery.LATER
        notice = self.compose(held.chat_id) if self.compose else None
        if notice is None:  # read already, or the owner is gone: nothing to say
            if not self.outbox.settle_announcement(held, now):
                self.outbox.postpone(held, now)
            return Delivery.CURRENT
        sent = self._send_held(held, notice, pacer)
        if sent is None:
            return Delivery.OWED
        quiet_until = int(self.clock.now()) + ANNOUNCE_INTERVAL_SECONDS
        if not self.outbox.settle_announcement(held, quiet_until):
            self.outbox.postpone(held, quiet_until)  # newer messages: the follow-up comes after the interval
        return Delivery.SENT if sent else Delivery.REFUSED

    def _send_held(self, held: OwedNotice, notice: Notice, pacer: Pacer) -> bool | None:
        """Send a held item's notice (an announcement, a digest) now: whether Telegram took it, or None when it
        could not take it now (the item is due again after its retry_after, and the pacer honours it)."""
        try:
            sent = self.gateway.send_message(notice.chat_id, notice.text, notice.buttons)
        except TelegramUnavailableError as exc:
            pacer.not_taken(held.chat_id, exc)
            self.outbox.postpone(held, int(self.clock.now()) + retry_delay(exc, held.attempts))
            return None
        pacer.sent()
        return bool(sent)

    def _deliver_report_digest(self, held: OwedNotice, pacer: Pacer) -> Delivery:
        """An admin's digest of the reports since the last one (`held.seq` of them), written now; never sooner
        than REPORT_DIGEST_INTERVAL_SECONDS after the last one, however many reports come meanwhile."""
        now = int(self.clock.now())
        if now < held.quiet_until:
            self.outbox.postpone(held, held.quiet_until)
            return Delivery.LATER
        notice = self.compose_digest(held.chat_id, held.seq) if self.compose_digest else None
        if notice is None:  # every one of them decided already: nothing to ask the admin
            self.outbox.settle_report_digest(held, now)
            return Delivery.CURRENT
        sent = self._send_held(held, notice, pacer)
        if sent is None:
            return Delivery.OWED
        self.outbox.settle_report_digest(held, int(self.clock.now()) + REPORT_DIGEST_INTERVAL_SECONDS)
        return Delivery.SENT if sent else Delivery.REFUSED
