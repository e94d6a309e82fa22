"""Links, messages, previews, and who may read what."""

from __future__ import annotations

import contextlib
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
    InvalidInputError,
    NotAcceptingMessagesError,
    NotFoundError,
    RateLimitedError,
)
from murmur.models import Message, Person, User
from murmur.store.dynamo import Op
from murmur.store.links import LinkOwner
from murmur.store.repositories import Repositories

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 12
CODE_RE = re.compile(r"^[A-Za-z0-9]{12}$")
MESSAGE_ID_RE = re.compile(r"^\d{13}[0-9a-f]{8}$")
PREVIEW_WORDS = 3
PREVIEW_MAX_CHARS = 48


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
        """Store an anonymous message in two round trips: one batch read (the link with its blocks, and the
        sender's ban flag), then one transaction (the message, the recipient's counters on condition that
        they accept messages and are not banned, and both rate windows)."""
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

        expires = window.end + 60
        ops: list[Op] = [
            self.repos.messages.put_op(message),
            self.repos.users.receive_op(owner.user_id, NotAcceptingMessagesError),
            self.repos.state.window_op(
                f"send#{sender.id}#{window.start}", self.limits.sender_per_window, expires, limited
            ),
            self.repos.state.window_op(
                f"recv#{owner.user_id}#{window.start}", self.limits.recipient_per_window, expires, limited
            ),
        ]
        self.repos.tx.write(ops)
        return message, owner

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
                        self.repos.users.read_one_op(owner_id),
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
