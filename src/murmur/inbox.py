"""Links, messages, previews, and who may read what."""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from murmur import cards, texts
from murmur.clock import Clock
from murmur.clues import clues_of, describe_clue
from murmur.config import Limits
from murmur.errors import (
    BannedError,
    BlockedError,
    ConflictError,
    DailyCapReachedError,
    ErasingError,
    InvalidInputError,
    NotAcceptingMessagesError,
    NotFoundError,
    RateLimitedError,
    ReplyUndeliverableError,
    SlowModeError,
    StorageUnavailableError,
)
from murmur.ids import CODE_RE, MESSAGE_ID_RE, new_link_code, new_message_id
from murmur.invite_credits import AlreadyReadableError, InviteCreditsMovedError, Invites, spent
from murmur.models import HeldMessage, Message, Order, OrderStatus, OwnerReply, Person, User
from murmur.pseudonyms import nickname, pseudonym
from murmur.rate_windows import Window
from murmur.standing import Standings, usable
from murmur.store.batch import Ref
from murmur.store.dynamo import Op
from murmur.store.links import LinkOwner
from murmur.store.receipts import SendReceipt
from murmur.store.repositories import Repositories
from murmur.store.tallies import SHARDS, Tally
from murmur.user_text import clean_text, preview, preview_is_whole

DAY_SECONDS = 86400
SLOW_MODE_CHOICES = (0, 60, 600, 3600, 86400)  # what an owner may choose: off, a minute ... a day
MAX_DAILY_CAP = 100_000
# A client's idempotency key for one composed message (a UUID fits), and how long it answers with the first
# result: far longer than a client retries, short enough that the receipts stay few.
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
RECEIPT_SECONDS = 86400


class IdempotencyKeyReusedError(ConflictError):
    """This idempotency key was used for a different message; a new message needs a new key."""

    code = "idempotency_key_reused"


class KeyTakenError(ConflictError):
    """A concurrent send with the same idempotency key was stored first (caught inside `Inbox.send_once`)."""

    code = "idempotency_key_taken"


@dataclass(frozen=True, slots=True)
class Gift:
    """A gift sent with a message: its kind, and its pending order for the message being stored (priced by
    `Orders.gift`), written in the message's own transaction."""

    kind: str
    order_for: Callable[[Message], Order]


@dataclass(frozen=True, slots=True)
class Sent:
    """What a send stored or, for a retried idempotency key, what the first send with that key stored."""

    message_id: str
    owner: LinkOwner
    order: Order | None
    replayed: bool
    # False while the message waits in its gift's order for the payment (ADR 0011): nothing to announce yet.
    stored: bool = True


def request_fingerprint(code: str, text: str, gift: str | None, show_nickname: bool, card: str | None = None) -> str:
    """What makes two sends the same send; a digest, so the receipt holds no second copy of the text. (A send
    without a card digests as it did before cards existed.)"""
    raw = json.dumps([code, text, gift, show_nickname, *([card] if card else [])], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class InboxCounts:
    received: int
    unread: int
    today: int


def daily_quotas(cap: int) -> list[int]:
    """A daily cap split over the tally shards, exactly: the shares add up to `cap`."""
    return [cap // SHARDS + (1 if shard < cap % SHARDS else 0) for shard in range(SHARDS)]


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message as its recipient may see it: never the sender's identity."""

    message_id: str
    preview: str
    text: str | None
    locked: bool
    unread: bool
    created_at: int
    gifts: list[str]
    hints: list[str]
    hints_left: int
    nickname: str | None
    card: str | None = None  # the question card it answers (`murmur.cards`), and that question as the owner reads it
    question: str | None = None
    replies: list[OwnerReply] = field(default_factory=list)  # what the owner answered, the latest, oldest first


class Inbox:
    def __init__(self, repos: Repositories, clock: Clock, limits: Limits, pseudonym_secret: bytes) -> None:
        self.repos = repos
        self.clock = clock
        self.limits = limits
        self.pseudonym_secret = pseudonym_secret
        self.standings = Standings(repos, pseudonym_secret)
        self.invites = Invites(repos)

    # ------------------------------------------------------------------ accounts
    def ensure_user(self, person: Person, start_param: str | None = None) -> User:
        """The user's record, created on first sight with a fresh personal link (and referral, once)."""
        existing = self.repos.users.get(person.id)
        if existing is not None:
            usable(existing)
            lang = texts.lang_of(person.language_code)
            if (existing.first_name, existing.language_code) != (person.first_name, lang):
                self.repos.users.update_profile(person.id, person.first_name, lang)
                self.repos.links.update_owner_profile(existing.link_code, person.first_name, lang)
                existing.first_name, existing.language_code = person.first_name, lang
            return existing
        return self._register(person, start_param)

    def _register(self, person: Person, start_param: str | None) -> User:
        """A banned person gets no account, even after erasing the one they had (their record stays); a person
        counted as a referral once is never counted again, through any link."""
        now = int(self.clock.now())
        record = self.standings.of(person.id)
        if record.banned:
            raise BannedError()
        referrer = None if record.referred else self._referrer(start_param, person.id)
        # A credit for the inviter only if this Telegram account never had one here (ADR 0012).
        new_person = not record.joined and not record.referred
        inviter = self.repos.users.get(referrer, consistent=True) if referrer is not None and new_person else None
        for _ in range(3):
            user = User(
                user_id=person.id,
                first_name=person.first_name,
                language_code=texts.lang_of(person.language_code),
                link_code=new_link_code(),
                created_at=now,
            )
            ops = [
                self.repos.users.create_op(user),
                self.repos.links.claim_op(
                    user.link_code, LinkOwner(user.user_id, user.first_name, user.language_code), now
                ),
                self.standings.registration_op(person.id, referred=referrer is not None),  # BannedError if banned
            ]
            if referrer is not None:
                ops += self.invites.referral_ops(referrer, inviter, new_person, now)
            try:
                self.repos.tx.write(ops)
                return user
            except InviteCreditsMovedError:
                # Another invitee of the same inviter signed up at the same moment: their credit landed first.
                inviter = self.repos.users.get(referrer, consistent=True) if referrer is not None else None
            except ConflictError:
                # Either a concurrent first request created the user, or the code was taken.
                again = self.repos.users.get(person.id, consistent=True)
                if again is not None:
                    return again
        raise ConflictError("could not allocate a personal link")

    def _referrer(self, start_param: str | None, user_id: int) -> int | None:
        """`ref_<code>` attributes a sign-up to the link's owner. Telegram's own `_tgr_` affiliate
        parameters are attributed by Telegram itself and are simply not ours to parse."""
        if not start_param or not start_param.startswith("ref_"):
            return None
        code = start_param[4:]
        if not CODE_RE.match(code):
            return None
        owner = self.repos.links.owner_of(code)
        return owner.user_id if owner and owner.user_id != user_id else None

    def set_accepting(self, user_id: int, accepting: bool) -> None:
        self.repos.users.set_flag(user_id, "accepts_messages", accepting)

    def set_limits(self, user: User, slow_mode_seconds: int | None, daily_cap: int | None) -> None:
        """The owner's own protection for a popular link: slow mode (per sender) and a daily cap (in all)."""
        slow = user.slow_mode_seconds if slow_mode_seconds is None else slow_mode_seconds
        cap = user.daily_cap if daily_cap is None else daily_cap
        if slow not in SLOW_MODE_CHOICES:
            raise InvalidInputError(f"slow mode must be one of {SLOW_MODE_CHOICES} seconds")
        if not 0 <= cap <= MAX_DAILY_CAP:
            raise InvalidInputError(f"the daily cap must be between 0 (none) and {MAX_DAILY_CAP}")
        self.repos.users.set_inbox_limits(user.user_id, slow, cap)
        user.slow_mode_seconds, user.daily_cap = slow, cap

    # ------------------------------------------------------------------ counts
    def counts(self, owner: User) -> InboxCounts:
        """Received, unread and today's messages: the shards' sums over the user item's older counters."""
        day = int(self.clock.now()) // DAY_SECONDS
        shards: list[Tally | None] = self.repos.batch.get(self.repos.tallies.refs(owner.user_id, day), consistent=True)
        found = [shard for shard in shards if shard is not None]
        return InboxCounts(
            received=owner.received + sum(shard.received for shard in found),
            unread=max(0, owner.unread + sum(shard.unread for shard in found)),
            today=sum(shard.today for shard in found),
        )

    def newest(self, owner_id: int) -> Message | None:
        messages, _ = self.repos.messages.page(owner_id, 1, None)
        return messages[0] if messages else None

    # ------------------------------------------------------------------ links
    def link_owner(self, code: str) -> LinkOwner:
        if not CODE_RE.match(code):
            raise NotFoundError("no such link")
        owner = self.repos.links.owner_of(code)
        if owner is None:
            raise NotFoundError("no such link")
        return owner

    # ------------------------------------------------------------------ sending
    def send(self, sender: Person, code: str, raw_text: str, show_nickname: bool = False) -> tuple[Message, LinkOwner]:
        """Store an anonymous message; every call stores a new one (`send_once` takes a client's retries)."""
        text = clean_text(raw_text, self.limits.message_chars, "message")
        owner, pseudo, _ = self._admit(sender, code, None)
        message = self._message(sender, owner, pseudo, text, show_nickname)
        self._store(message, [])
        return message, owner

    def send_once(
        self,
        sender: Person,
        code: str,
        raw_text: str,
        show_nickname: bool = False,
        *,
        key: str | None = None,
        gift: Gift | None = None,
        card: str | None = None,
    ) -> Sent:
        """Store an anonymous message and its gift's pending order, exactly once per idempotency key: the
        message, the order and the key's receipt are one transaction, so a failure leaves nothing or all
        of it, and a retry with the key (read in the send's first read) gets the first send's result back
        without a second message, count, rate-window step or announcement. A banned or blocked sender is
        refused first, on a retry too. Without a key, every call is a new message. `card` names the question card
        the message answers: checked against the catalog, or for `own` against the owner's question on the link
        the send reads anyway (no read of its own)."""
        text = clean_text(raw_text, self.limits.message_chars, "message")
        if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
            raise InvalidInputError("the idempotency key must be 8 to 64 letters, digits, '-' or '_'")
        if card is not None and not cards.CARD_ID_RE.match(card):
            raise InvalidInputError("a card id is 1 to 24 lowercase letters, digits or '_'")
        fingerprint = request_fingerprint(code, text, gift.kind if gift else None, show_nickname, card)
        owner, pseudo, receipt = self._admit(sender, code, key)
        if receipt is not None:
            return self._replay(receipt, fingerprint, owner)
        answered = cards.answering(card, owner.question)
        message = self._message(sender, owner, pseudo, text, show_nickname, answered)
        order = gift.order_for(message) if gift else None
        if order is not None:
            # Stored once the gift is paid, or sent without it if the sender says so (ADR 0011): until then nobody
            # sees it, and a sender who goes back to editing leaves nothing behind.
            order.held = HeldMessage(code, message)
        ops: list[Op] = []
        if key is not None:
            now = int(self.clock.now())
            first = SendReceipt(
                fingerprint,
                owner.user_id,
                message.message_id,
                order.order_id if order else None,
                now + RECEIPT_SECONDS,
            )
            ops.append(self.repos.receipts.put_op(sender.id, key, first, now).failing_with(KeyTakenError))
        if order is not None:
            ops.append(self.repos.orders.put_op(order))
        try:
            if order is not None:
                self._hold(message, ops)
            else:
                self._store(message, ops)
        except KeyTakenError:
            # The same send in flight twice (a client retrying before its first answer): the first one's result.
            taken = self.repos.receipts.get(sender.id, key) if key else None
            if taken is None:
                raise StorageUnavailableError("the send could not be matched to its first attempt; retry") from None
            return self._replay(taken, fingerprint, owner)
        return Sent(message.message_id, owner, order, replayed=False, stored=order is None)

    def _hold(self, message: Message, ops: list[Op]) -> None:
        """A message with a gift: its order (holding it) and the key's receipt, once the owner's inbox is found to
        take messages (the rest of a send's checks run when the payment stores it: `store_held`)."""
        settings = self.repos.users.get(message.recipient_id, consistent=True)
        if settings is None or settings.erasing:
            raise NotFoundError("no such link")
        if not settings.accepts_messages:
            raise NotAcceptingMessagesError()
        self.repos.tx.write(ops)

    def admit_held(self, held: HeldMessage) -> None:
        """Would the inbox take this held message now? Raises what a send would be told (no such link, banned,
        blocked, erasing, not accepting); the sender's rate, slow mode and the daily cap are counted when it is
        stored."""
        owner, _ = self.admit(Person(held.message.sender_id, ""), held.code)
        settings = self.repos.users.get(owner.user_id, consistent=True)
        if settings is None or settings.erasing:
            raise NotFoundError("no such link")
        if not settings.accepts_messages:
            raise NotAcceptingMessagesError()

    def store_held(self, held: HeldMessage, first_ops: list[Op]) -> None:
        """Store a message that waited for its gift's payment, as a send stores it (admitted again, counted in the
        sender's rate, slow mode and the daily cap), with `first_ops` (the payment's) in its transaction."""
        self.admit(Person(held.message.sender_id, ""), held.code)
        self._store(held.message, first_ops)

    def admit(self, sender: Person, code: str) -> tuple[LinkOwner, str]:
        """May `sender` write to link `code`, or buy a gift for a message they sent there? The owner and the
        sender's pseudonym in that inbox, or the very refusal a send gets (no such link, banned, blocked)."""
        owner, pseudo, _ = self._admit(sender, code, None)
        return owner, pseudo

    def _admit(self, sender: Person, code: str, key: str | None) -> tuple[LinkOwner, str, SendReceipt | None]:
        """The link with its blocks, the sender's account and ban record and, for a keyed send, the key's live
        receipt: one consistent BatchGetItem of items no send writes (the receipt only its own sender's). Refuses a
        banned or blocked sender; returns the owner, the sender's pseudonym in this inbox and the receipt."""
        if not CODE_RE.match(code):
            raise NotFoundError("no such link")
        refs: list[Ref[Any]] = [
            self.repos.links.ref(code),
            self.repos.users.ref(sender.id),
            self.standings.ref(sender.id),  # the ban outlives the account: a sender may have none
        ]
        if key is not None:
            refs.append(self.repos.receipts.ref(sender.id, key))
        owner, sender_user, record, *receipts = self.repos.batch.get(refs, consistent=True)
        if owner is None:
            raise NotFoundError("no such link")
        if record is not None and record.banned:
            raise BannedError()
        if sender_user is not None and sender_user.erasing:
            raise ErasingError()
        pseudo = pseudonym(self.pseudonym_secret, owner.user_id, sender.id)
        if pseudo in owner.blocked:
            raise BlockedError()
        receipt = receipts[0] if receipts else None
        live = receipt if receipt is not None and receipt.expires_at > self.clock.now() else None
        return owner, pseudo, live

    def _replay(self, receipt: SendReceipt, fingerprint: str, owner: LinkOwner) -> Sent:
        """The first result of a send retried with its key; the key of another send is refused."""
        if receipt.fingerprint != fingerprint or receipt.recipient_id != owner.user_id:
            raise IdempotencyKeyReusedError()
        order = self.repos.orders.get(receipt.order_id, consistent=True) if receipt.order_id else None
        if receipt.order_id and order is None:
            raise IdempotencyKeyReusedError()  # its gift's order was cancelled, and the message with it: a new send
        stored = order is None or order.status is not OrderStatus.PENDING
        return Sent(receipt.message_id, owner, order, replayed=True, stored=stored)

    def _message(
        self,
        sender: Person,
        owner: LinkOwner,
        pseudo: str,
        text: str,
        show_nickname: bool,
        answered: cards.Answered | None = None,
    ) -> Message:
        now = self.clock.now()
        return Message(
            recipient_id=owner.user_id,
            message_id=new_message_id(now),
            sender_id=sender.id,
            pseudonym=pseudo,
            text=text,
            created_at=int(now),
            clues=clues_of(sender),
            nickname=nickname(pseudo) if show_nickname else None,
            card=answered.card if answered else None,
            question=answered.question if answered else None,
        )

    def _store(self, message: Message, first_ops: list[Op]) -> None:
        """The owner's settings (accepting, slow mode, daily cap) are read, an item no send writes; not a ban: a
        banned owner's link takes messages as any other does (docs/anonymity.md, "Bans"). Then
        one transaction of items no other sender's send writes, except by chance: `first_ops` (a receipt first:
        its failed condition must win over a full rate window), the message, the sender's own rate window, one
        of the owner's tally shards (picked at random) and, in slow mode, the sender's turn in this inbox.
        A popular inbox takes many sends at once without their transactions conflicting on one item."""
        settings = self.repos.users.get(message.recipient_id, consistent=True)
        if settings is not None and settings.erasing:
            raise NotFoundError("no such link")  # its erasure began after the link was read
        if settings is None or not settings.accepts_messages:
            raise NotAcceptingMessagesError()
        now = self.clock.now()
        window = Window.at(now, self.limits.window_seconds)

        def limited() -> RateLimitedError:
            return RateLimitedError("too many messages; try again later", window.retry_after(now))

        def slow() -> RateLimitedError:
            return SlowModeError("this inbox is in slow mode", settings.slow_mode_seconds)

        def capped() -> RateLimitedError:
            return DailyCapReachedError("this inbox is full for today", DAY_SECONDS - int(now) % DAY_SECONDS)

        ops: list[Op] = [
            *first_ops,
            self.repos.messages.put_op(message),
            self.repos.state.window_op(
                f"send#{message.sender_id}#{window.start}", self.limits.sender_per_window, window.end + 60
            ).failing_with(limited),
        ]
        owner_id = message.recipient_id
        if settings.slow_mode_seconds:
            until = int(now) + settings.slow_mode_seconds
            ops.append(self.repos.state.slow_mode_op(owner_id, message.pseudonym, int(now), until).failing_with(slow))
        day = int(now) // DAY_SECONDS
        if not settings.daily_cap:
            # A shard picked at random for each try: a conflict on one (another send counted there at that very
            # moment) sends the retry to another, so a popular inbox's sends spread out instead of queueing.
            self.repos.tx.write_each_try(
                lambda: [
                    *ops,
                    self.repos.tallies.count_op(owner_id, random.randrange(SHARDS), day, None).failing_with(capped),
                ]
            )
            return
        # A daily cap: each shard takes its share of it; a full shard sends the message to another, and only
        # when every share is taken is the inbox full for today (exact: the shares add up to the cap).
        # The shards are read first (eventually consistent: a stale count only costs a refused try), so a full
        # inbox refuses without writing, and a filling one sends each message to a shard with room.
        quotas = daily_quotas(settings.daily_cap)
        tallies: list[Tally | None] = self.repos.batch.get(self.repos.tallies.refs(owner_id, day))
        taken = [tally.today if tally else 0 for tally in tallies]
        shards = [shard for shard in range(SHARDS) if taken[shard] < quotas[shard]]
        random.shuffle(shards)
        for shard in shards:
            try:
                self.repos.tx.write(
                    [*ops, self.repos.tallies.count_op(owner_id, shard, day, quotas[shard]).failing_with(capped)]
                )
                return
            except DailyCapReachedError:
                continue
        raise capped()

    # ------------------------------------------------------------------ reading
    def view(self, message: Message, owner: User) -> MessageView:
        readable = message.unlocked or owner.plan_active(self.clock.now()) or preview_is_whole(message.text)
        revealed = message.clues[: message.hints_revealed]
        return MessageView(
            message_id=message.message_id,
            preview=preview(message.text),
            text=message.text if readable else None,
            locked=not readable,
            unread=not message.read,
            created_at=message.created_at,
            gifts=sorted(message.gifts.values()),
            hints=[describe_clue(c, owner.language_code) for c in revealed],
            hints_left=len(message.clues) - len(revealed),
            nickname=message.nickname,
            card=message.card,
            question=cards.question_of(message.card, message.question, owner.language_code),
            replies=list(message.replies),
        )

    def page(self, owner_id: int, cursor: str | None) -> tuple[list[MessageView], str | None, User | None]:
        if cursor is not None and not MESSAGE_ID_RE.match(cursor):
            raise InvalidInputError("invalid cursor")
        owner = self.repos.users.get(owner_id)
        if owner is None:
            return [], None, None
        usable(owner)
        messages, next_cursor = self.repos.messages.page(owner_id, self.limits.inbox_page, cursor)
        return [self.view(m, owner) for m in messages], next_cursor, owner

    def own_message(self, owner_id: int, message_id: str, consistent: bool = False) -> Message:
        """The message if it is in this user's inbox; the same 404 for "absent" and "someone else's"."""
        if not MESSAGE_ID_RE.match(message_id):
            raise NotFoundError("no such message")
        message = self.repos.messages.get(owner_id, message_id, consistent)
        if message is None:
            raise NotFoundError("no such message")
        return message

    def read(self, owner_id: int, message_id: str) -> MessageView:
        """The message and its owner's plan in one BatchGetItem; the first read also marks it read."""
        if not MESSAGE_ID_RE.match(message_id):
            raise NotFoundError("no such message")
        message, owner = self.repos.batch.get(
            [self.repos.messages.ref(owner_id, message_id), self.repos.users.ref(owner_id)]
        )
        if message is None or owner is None:
            raise NotFoundError("no such message")
        view = self.view(message, usable(owner))
        if not message.read:
            with contextlib.suppress(ConflictError):  # read concurrently: counted once already
                self.repos.tx.write(
                    [
                        self.repos.messages.mark_read_op(owner_id, message_id),
                        self.repos.tallies.read_one_op(owner_id, random.randrange(SHARDS)),
                    ]
                )
        return view

    def unlock_with_credit(self, owner_id: int, message_id: str) -> tuple[MessageView, int]:
        """Read a locked message with an invite credit instead of Stars: the credit's conditional spend and the
        message's unlock are one transaction, so two taps at once unlock it once and spend one credit (the
        second finds it unlocked). Returns the readable message and the credits left."""
        if not MESSAGE_ID_RE.match(message_id):
            raise NotFoundError("no such message")
        for _ in range(3):
            message, owner = self.repos.batch.get(
                [self.repos.messages.ref(owner_id, message_id), self.repos.users.ref(owner_id)], consistent=True
            )
            if message is None or owner is None:
                raise NotFoundError("no such message")
            usable(owner)
            now = self.clock.now()
            if not self.view(message, owner).locked:
                raise AlreadyReadableError()
            left = spent(owner.invite_credits, now)  # NoInviteCreditError when none is held
            ops = [
                # First: its refusal wins.
                self.repos.messages.unlock_op(owner_id, message_id).failing_with(AlreadyReadableError),
                *self.invites.spend_ops(owner, left),
            ]
            try:
                self.repos.tx.write(ops)
            except InviteCreditsMovedError:
                continue  # another spend (on another message) or an earning landed first: read again
            message.unlocked = True
            return self.view(message, owner), left.held(now)
        raise ConflictError("your credits kept changing; try again")

    def set_question(self, owner: User, raw: str | None) -> str | None:
        """The owner's own question card (cleaned like message text, one line, bounded), or none; on their link."""
        question = None if raw is None else cards.clean_question(raw)
        self.repos.links.set_question(owner.link_code, question)
        return question

    # ------------------------------------------------------------------ replies
    def reply_target(self, owner_id: int, message_id: str, raw_text: str) -> tuple[Message, str]:
        """Check that the owner may reply to this message; returns it and the clean reply text."""
        text = clean_text(raw_text, self.limits.reply_chars, "reply")
        owner = self.repos.users.get(owner_id)
        if owner is None:
            raise NotFoundError("no such message")
        usable(owner)
        message = self.own_message(owner_id, message_id)
        now = self.clock.now()
        window = Window.at(now, self.limits.window_seconds)

        def limited() -> RateLimitedError:
            return RateLimitedError("too many replies; try again later", window.retry_after(now))

        self.repos.tx.write_one(
            self.repos.state.window_op(
                f"reply#{owner_id}#{window.start}", self.limits.sender_per_window, window.end + 60
            ).failing_with(limited)
        )
        if not message.sender_id:
            # The sender erased their account. Counted in the window and answered as a sender who blocked the
            # bot is (the reply route): the owner cannot tell the two apart.
            raise ReplyUndeliverableError()
        return message, text
