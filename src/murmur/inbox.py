"""Links, messages, previews, and who may read what."""

from __future__ import annotations

import contextlib
import random
import re
import secrets
import string
import unicodedata
from dataclasses import dataclass

from murmur import abuse, texts
from murmur.clock import Clock
from murmur.config import Limits
from murmur.errors import (
    BannedError,
    BlockedError,
    ConflictError,
    DailyCapReachedError,
    InvalidInputError,
    NotAcceptingMessagesError,
    NotFoundError,
    RateLimitedError,
    SlowModeError,
)
from murmur.models import Message, Person, User
from murmur.store.dynamo import Op
from murmur.store.links import LinkOwner
from murmur.store.repositories import Repositories
from murmur.store.tallies import SHARDS, Tally

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 12
CODE_RE = re.compile(r"^[A-Za-z0-9]{12}$")
MESSAGE_ID_RE = re.compile(r"^\d{13}[0-9a-f]{8}$")
PREVIEW_WORDS = 3
PREVIEW_MAX_CHARS = 48
DAY_SECONDS = 86400
SLOW_MODE_CHOICES = (0, 60, 600, 3600, 86400)  # what an owner may choose: off, a minute ... a day
MAX_DAILY_CAP = 100_000


def new_link_code() -> str:
    """Unguessable and unrelated to the Telegram id (62^12 ≈ 3·10^21)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_message_id(now: float) -> str:
    """Sorts by time (milliseconds) and is unique (random suffix)."""
    return f"{int(now * 1000):013d}{secrets.token_hex(4)}"


def preview(text: str) -> str:
    """The free part of a message: its first three words, capped so one long word cannot reveal it all."""
    words = text.split()
    head = " ".join(words[:PREVIEW_WORDS])
    if len(head) > PREVIEW_MAX_CHARS:
        head = head[:PREVIEW_MAX_CHARS]
    return head + ("…" if len(words) > PREVIEW_WORDS or len(head) < len(" ".join(words)) else "")


def clean_text(raw: str, max_chars: int, what: str = "text") -> str:
    """Trimmed, non-empty, within the limit, and free of control characters other than newlines and tabs."""
    if not isinstance(raw, str):
        raise InvalidInputError(f"{what} must be a string")
    value = raw.strip()
    if not value:
        raise InvalidInputError(f"{what} is empty")
    if len(value) > max_chars:
        raise InvalidInputError(f"{what} is longer than {max_chars} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise InvalidInputError(f"{what} contains control characters")
    return value


def clues_of(sender: Person) -> list[str]:
    """The hint ladder, in the order hints reveal it. The sender sees this list before sending."""
    clues = []
    if sender.language_code:
        clues.append(f"language:{sender.language_code.split('-')[0].lower()[:8]}")
    initial = sender.first_name.strip()[:1].upper()
    if initial:
        clues.append(f"initial:{initial}")
    clues.append(f"premium:{'yes' if sender.is_premium else 'no'}")
    return clues


def describe_clue(clue: str, language_code: str | None) -> str:
    kind, _, value = clue.partition(":")
    if kind == "language":
        return texts.text("clue_language", language_code, value=texts.LANGUAGE_NAMES.get(value, value))
    if kind == "initial":
        return texts.text("clue_initial", language_code, value=value)
    return texts.text("clue_premium_yes" if value == "yes" else "clue_premium_no", language_code)


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


class Inbox:
    def __init__(self, repos: Repositories, clock: Clock, limits: Limits, pseudonym_secret: bytes) -> None:
        self.repos = repos
        self.clock = clock
        self.limits = limits
        self.pseudonym_secret = pseudonym_secret

    # ------------------------------------------------------------------ accounts
    def ensure_user(self, person: Person, start_param: str | None = None) -> User:
        """The user's record, created on first sight with a fresh personal link (and referral, once)."""
        existing = self.repos.users.get(person.id)
        if existing is not None:
            lang = texts.lang_of(person.language_code)
            if (existing.first_name, existing.language_code) != (person.first_name, lang):
                self.repos.users.update_profile(person.id, person.first_name, lang)
                self.repos.links.update_owner_profile(existing.link_code, person.first_name, lang)
                existing.first_name, existing.language_code = person.first_name, lang
            return existing
        return self._register(person, start_param)

    def _register(self, person: Person, start_param: str | None) -> User:
        now = int(self.clock.now())
        referrer = self._referrer(start_param, person.id)
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
            ]
            if referrer is not None:
                ops.append(self.repos.users.add_referral_op(referrer))
            try:
                self.repos.tx.write(ops)
                return user
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
        """Store an anonymous message. Reads first: the link with its blocks and the sender's ban flag, then the
        owner's settings (accepting, banned, slow mode, daily cap) — items no send writes. Then one transaction
        of items no other sender's send writes, except by chance: the message, the sender's own rate window,
        one of the owner's tally shards (picked at random) and, in slow mode, the sender's turn in this inbox.
        A popular inbox takes many sends at once without their transactions conflicting on one item."""
        text = clean_text(raw_text, self.limits.message_chars, "message")
        if not CODE_RE.match(code):
            raise NotFoundError("no such link")
        owner, sender_user = self.repos.batch.get(
            [self.repos.links.ref(code), self.repos.users.ref(sender.id)], consistent=True
        )
        if owner is None:
            raise NotFoundError("no such link")
        if sender_user is not None and sender_user.banned:
            raise BannedError()
        pseudo = abuse.pseudonym(self.pseudonym_secret, owner.user_id, sender.id)
        if pseudo in owner.blocked:
            raise BlockedError()
        settings = self.repos.users.get(owner.user_id, consistent=True)
        if settings is None or not settings.accepts_messages or settings.banned:
            raise NotAcceptingMessagesError()
        now = self.clock.now()
        message = Message(
            recipient_id=owner.user_id,
            message_id=new_message_id(now),
            sender_id=sender.id,
            pseudonym=pseudo,
            text=text,
            created_at=int(now),
            clues=clues_of(sender),
            nickname=abuse.nickname(pseudo) if show_nickname else None,
        )
        window = abuse.Window.at(now, self.limits.window_seconds)

        def limited() -> RateLimitedError:
            return RateLimitedError("too many messages; try again later", window.retry_after(now))

        def slow() -> RateLimitedError:
            return SlowModeError("this inbox is in slow mode", settings.slow_mode_seconds)

        def capped() -> RateLimitedError:
            return DailyCapReachedError("this inbox is full for today", DAY_SECONDS - int(now) % DAY_SECONDS)

        ops: list[Op] = [
            self.repos.messages.put_op(message),
            self.repos.state.window_op(
                f"send#{sender.id}#{window.start}", self.limits.sender_per_window, window.end + 60, limited
            ),
        ]
        if settings.slow_mode_seconds:
            until = int(now) + settings.slow_mode_seconds
            ops.append(self.repos.state.slow_mode_op(owner.user_id, pseudo, int(now), until, slow))
        day = int(now) // DAY_SECONDS
        if not settings.daily_cap:
            shard = random.randrange(SHARDS)
            self.repos.tx.write([*ops, self.repos.tallies.count_op(owner.user_id, shard, day, None, capped)])
            return message, owner
        # A daily cap: each shard takes its share of it; a full shard sends the message to another, and only
        # when every share is taken is the inbox full for today (exact: the shares add up to the cap).
        # The shards are read first (eventually consistent: a stale count only costs a refused try), so a full
        # inbox refuses without writing, and a filling one sends each message to a shard with room.
        quotas = daily_quotas(settings.daily_cap)
        tallies: list[Tally | None] = self.repos.batch.get(self.repos.tallies.refs(owner.user_id, day))
        taken = [tally.today if tally else 0 for tally in tallies]
        shards = [shard for shard in range(SHARDS) if taken[shard] < quotas[shard]]
        random.shuffle(shards)
        for shard in shards:
            try:
                self.repos.tx.write(
                    [*ops, self.repos.tallies.count_op(owner.user_id, shard, day, quotas[shard], capped)]
                )
                return message, owner
            except DailyCapReachedError:
                continue
        raise capped()

    # ------------------------------------------------------------------ reading
    def view(self, message: Message, owner: User) -> MessageView:
        readable = message.unlocked or owner.plan_active(self.clock.now())
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
        )

    def page(self, owner_id: int, cursor: str | None) -> tuple[list[MessageView], str | None, User | None]:
        if cursor is not None and not MESSAGE_ID_RE.match(cursor):
            raise InvalidInputError("invalid cursor")
        owner = self.repos.users.get(owner_id)
        if owner is None:
            return [], None, None
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
        view = self.view(message, owner)
        if not message.read:
            with contextlib.suppress(ConflictError):  # read concurrently: counted once already
                self.repos.tx.write(
                    [
                        self.repos.messages.mark_read_op(owner_id, message_id),
                        self.repos.tallies.read_one_op(owner_id, random.randrange(SHARDS)),
                    ]
                )
        return view

    # ------------------------------------------------------------------ replies
    def reply_target(self, owner_id: int, message_id: str, raw_text: str) -> tuple[Message, str]:
        """Check that the owner may reply to this message; returns it and the clean reply text."""
        text = clean_text(raw_text, self.limits.reply_chars, "reply")
        owner = self.repos.users.get(owner_id)
        if owner is None:
            raise NotFoundError("no such message")
        if owner.banned:
            raise BannedError()
        message = self.own_message(owner_id, message_id)
        if not message.sender_id:
            raise ConflictError("the sender erased their account")
        now = self.clock.now()
        window = abuse.Window.at(now, self.limits.window_seconds)

        def limited() -> RateLimitedError:
            return RateLimitedError("too many replies; try again later", window.retry_after(now))

        self.repos.tx.write_one(
            self.repos.state.window_op(
                f"reply#{owner_id}#{window.start}", self.limits.sender_per_window, window.end + 60, limited
            )
        )
        return message, text
