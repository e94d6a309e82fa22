"""Who may write to whom: pseudonyms, nicknames, rate-limit windows, blocks, reports and bans."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from murmur.delivery import KEEP_SECONDS
from murmur.errors import ConflictError, NotFoundError, RateLimitedError
from murmur.standing import usable
from murmur.store.links import MAX_BLOCKS
from murmur.user_text import clean_text, shows_nothing, without_bidi_controls

if TYPE_CHECKING:
    from murmur.inbox import Inbox
    from murmur.models import Message, Person
    from murmur.notices import Notice
    from murmur.store.repositories import Repositories

# 128 adjectives x 128 animals x a five-digit number: NICKNAME_SPACE names (see `nickname`). English only: the
# nickname is stored on the message when it is sent, and the owner sees it as written.
_ADJECTIVES = (
    "Quiet", "Bright", "Gentle", "Swift", "Curious", "Brave", "Calm", "Clever", "Silver", "Golden",
    "Hidden", "Lucky", "Misty", "Polar", "Rapid", "Secret", "Shy", "Sunny", "Wild", "Velvet",
    "Amber", "Azure", "Bold", "Breezy", "Bubbly", "Candid", "Cheerful", "Cosmic", "Cozy", "Crimson",
    "Crystal", "Dapper", "Dashing", "Dreamy", "Eager", "Electric", "Emerald", "Fancy", "Fearless", "Festive",
    "Fluffy", "Friendly", "Frosty", "Fuzzy", "Glowing", "Graceful", "Happy", "Hazel", "Honest", "Humble",
    "Icy", "Indigo", "Jade", "Jolly", "Jovial", "Kind", "Lively", "Lunar", "Magic", "Mellow",
    "Merry", "Mighty", "Modest", "Nimble", "Noble", "Patient", "Peaceful", "Plucky", "Playful", "Proud",
    "Quick", "Radiant", "Rosy", "Royal", "Ruby", "Rustic", "Sandy", "Sapphire", "Scarlet", "Serene",
    "Silent", "Sleek", "Sleepy", "Smooth", "Snowy", "Solar", "Sparkly", "Speedy", "Spry", "Starry",
    "Steady", "Stellar", "Stormy", "Sturdy", "Sweet", "Tidy", "Tiny", "Tranquil", "Upbeat", "Vivid",
    "Warm", "Whimsical", "Windy", "Wise", "Witty", "Zesty", "Zippy", "Coral", "Dusky", "Foggy",
    "Mossy", "Cloudy", "Chilly", "Daring", "Dainty", "Gleeful", "Hopeful", "Joyful", "Lucid", "Mystic",
    "Nifty", "Oaken", "Pearly", "Rainy", "Sincere", "Snug", "Tender", "Thoughtful",
)  # fmt: skip
_ANIMALS = (
    "Fox", "Owl", "Otter", "Lynx", "Panda", "Heron", "Koala", "Raven", "Tiger", "Whale",
    "Falcon", "Badger", "Dolphin", "Hedgehog", "Moth", "Wolf", "Sparrow", "Seal", "Gecko", "Bison",
    "Alpaca", "Antelope", "Armadillo", "Beaver", "Beetle", "Bear", "Bee", "Butterfly", "Camel", "Canary",
    "Capybara", "Cat", "Cheetah", "Chipmunk", "Crane", "Cricket", "Deer", "Dove", "Duck", "Eagle",
    "Elk", "Emu", "Ferret", "Finch", "Flamingo", "Frog", "Gazelle", "Giraffe", "Goose", "Gorilla",
    "Hamster", "Hare", "Hawk", "Hippo", "Hummingbird", "Ibis", "Iguana", "Jaguar", "Jay", "Kangaroo",
    "Kingfisher", "Kitten", "Kiwi", "Ladybug", "Lark", "Lemur", "Leopard", "Lion", "Llama", "Lobster",
    "Magpie", "Mallard", "Manatee", "Marmot", "Meerkat", "Mink", "Mole", "Mongoose", "Moose", "Narwhal",
    "Newt", "Ocelot", "Octopus", "Orca", "Oriole", "Osprey", "Ostrich", "Panther", "Parrot", "Peacock",
    "Pelican", "Penguin", "Pheasant", "Pigeon", "Platypus", "Pony", "Puffin", "Puma", "Quail", "Rabbit",
    "Raccoon", "Reindeer", "Robin", "Salmon", "Seahorse", "Sloth", "Snail", "Squirrel", "Starling", "Stork",
    "Swan", "Tapir", "Toucan", "Turtle", "Walrus", "Weasel", "Wombat", "Wren", "Yak", "Zebra",
    "Pika", "Quokka", "Dingo", "Orangutan", "Cockatoo", "Bobcat", "Coyote", "Dragonfly",
)  # fmt: skip
_NUMBERS = 90_000  # 10000 ... 99999: always five digits
NICKNAME_SPACE = len(_ADJECTIVES) * len(_ANIMALS) * _NUMBERS  # 1,474,560,000


def nickname_collision_chance(senders: int, space: int = NICKNAME_SPACE) -> float:
    """The chance that two of `senders` to one inbox share a nickname (the birthday problem, exact product)."""
    distinct = 1.0
    for i in range(senders):
        distinct *= (space - i) / space
    return 1.0 - distinct


def pseudonym(secret: bytes, recipient_id: int, sender_id: int) -> str:
    """Stable per (recipient, sender), unlinkable across recipients, and reveals nothing without the secret."""
    return hmac.new(secret, f"{recipient_id}:{sender_id}".encode(), hashlib.sha256).hexdigest()[:24]


def nickname(pseudo: str) -> str:
    """A readable name derived from the pseudonym: the same sender gets the same one in one inbox.

    Two senders to one inbox must not share one. The name takes 64 bits of the pseudonym (an HMAC, so
    uniform) and spends them on 128 adjectives x 128 animals x 90,000 numbers: N = 1.47e9 names. The chance
    that some two of n senders to one inbox collide is 1 - prod(1 - i/N) ~ n^2 / 2N: 3.4e-6 for 100 senders,
    3.4e-4 for 1,000 (the target: below 1e-3), 1.4e-3 for 2,000. The old 20 x 20 x 90 = 36,000 names gave
    13 % for 100 senders and near-certainty for 1,000. Across inboxes the same name means nothing: the
    pseudonym, and so the name, differs per recipient.
    """
    value = int(pseudo[:16], 16)
    adjective = _ADJECTIVES[value % len(_ADJECTIVES)]
    animal = _ANIMALS[(value // len(_ADJECTIVES)) % len(_ANIMALS)]
    number = value // (len(_ADJECTIVES) * len(_ANIMALS)) % _NUMBERS + 10_000
    return f"{adjective} {animal} {number}"


class AlreadyReportedError(ConflictError):
    """This message was reported before (caught inside `Moderation.report`: no error for the reporter)."""


class OwnMessageError(ConflictError):
    """This message is from you: there is nobody to report."""

    code = "own_message"


class ReportsLimitedError(RateLimitedError):
    """You have sent many reports; wait before reporting again."""

    code = "reports_limited"


@dataclass(frozen=True, slots=True)
class Window:
    """A fixed rate-limit window: its key suffix and when it ends."""

    start: int
    end: int

    @classmethod
    def at(cls, now: float, seconds: int) -> Window:
        start = int(now) // seconds * seconds
        return cls(start, start + seconds)

    def retry_after(self, now: float) -> int:
        return max(1, self.end - int(now))


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
            self.repos.messages.report_op(owner_id, message_id, reason, int(now), AlreadyReportedError),
            self.repos.state.window_op(
                f"report#{owner_id}#{hour.start}", limits.reports_per_hour, hour.end + 60, hourly
            ),
            self.repos.state.window_op(
                f"report-day#{owner_id}#{day.start}", limits.reports_per_day, day.end + 60, daily
            ),
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

    def support_request(self, person: Person, text: str) -> list[Notice]:
        """A /paysupport request for every admin, with the person's recent payments."""
        from murmur import notices
        from murmur.inbox import clean_text

        body = clean_text(text, 1000, "request")
        payments = self.repos.payments.of_user(person.id, limit=5)
        return [
            notices.support_request(admin, person.id, person.language_code or "?", body, payments)
            for admin in sorted(self.admin_ids)
        ]

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids
