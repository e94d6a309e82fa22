"""Invite credits: a free unlock an owner earns when someone they invited joins Murmur for the first time.

When a credit is earned (ADR 0012): in the very transaction that counts the referral (`Inbox._register`), so it
happens exactly once per invited person, ever. The sign-up must be a Telegram account Murmur has never seen: its
person record (`murmur.standing`, kept under a keyed hash, through erasure) holds neither `joined` nor
`referred`, so an erased account coming back, through this link or any other, earns nothing; the invitee is
never the inviter (`Inbox._referrer`). An owner's second Telegram account cannot be told apart from a friend's,
so the limits below bound what farming can earn:
- at most MAX_PER_WEEK credits earned per owner in a calendar week (UTC, epoch weeks);
- at most MAX_HELD held at once;
- each credit lapses CREDIT_SECONDS after it was earned.
A referral past a limit still counts as a referral; it earns no credit (counted as `refused` in /stats).

Spending (`Inbox.unlock_with_credit`) is one transaction: the credits' conditional change (on the version read)
and the message's unlock (on it being locked), so two taps at once unlock once and spend one.
"""

from __future__ import annotations

from dataclasses import dataclass

from murmur.errors import ConflictError
from murmur.models import InviteCredits, User
from murmur.store.dynamo import Op
from murmur.store.repositories import Repositories

WEEK_SECONDS = 7 * 86400
CREDIT_SECONDS = 30 * 86400
MAX_PER_WEEK = 3
MAX_HELD = 5


class NoInviteCreditError(ConflictError):
    """You have no invite credit left: invite a friend to earn one."""

    code = "no_invite_credit"


class AlreadyReadableError(ConflictError):
    """You can already read this message: nothing to unlock."""

    code = "already_readable"


class InviteCreditsMovedError(ConflictError):
    """The credits changed between reading and writing them (another spend or earning landed); read again."""

    code = "invite_credits_moved"


def _week(now: float) -> int:
    return int(now) // WEEK_SECONDS


def earned(credits: InviteCredits, now: float) -> InviteCredits | None:
    """The credits with one more earned now, lapsed ones dropped; None when a limit refuses it."""
    held = tuple(expiry for expiry in credits.expiries if expiry > now)
    this_week = credits.earned_in_week if credits.week == _week(now) else 0
    if this_week >= MAX_PER_WEEK or len(held) >= MAX_HELD:
        return None
    return InviteCredits(
        expiries=(*held, int(now) + CREDIT_SECONDS),
        week=_week(now),
        earned_in_week=this_week + 1,
        version=credits.version + 1,
    )


def spent(credits: InviteCredits, now: float) -> InviteCredits:
    """The credits with the one that lapses soonest spent; NoInviteCreditError when none is held."""
    held = sorted(expiry for expiry in credits.expiries if expiry > now)
    if not held:
        raise NoInviteCreditError()
    return InviteCredits(
        expiries=tuple(held[1:]),
        week=credits.week,
        earned_in_week=credits.earned_in_week,
        version=credits.version + 1,
    )


@dataclass(frozen=True, slots=True)
class CreditTotals:
    """For /stats: credits earned, spent, and referrals a limit kept from earning one, over all owners."""

    earned: int = 0
    spent: int = 0
    refused: int = 0


def credit_totals(shards: list[dict[str, int] | None]) -> CreditTotals:
    """The sums over the tally shards as read (None: a shard nothing was counted on yet)."""
    found = [shard for shard in shards if shard]
    return CreditTotals(*(sum(shard.get(name, 0) for shard in found) for name in ("earned", "spent", "refused")))


class Invites:
    """The writes that earn and spend credits, for the transactions of a sign-up and of an unlock."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    def referral_ops(self, inviter_id: int, inviter: User | None, new_person: bool, now: float) -> list[Op]:
        """The referral counted on the inviter's row, with a credit when the invitee is new to Murmur and the
        limits allow it (on condition the credits are still the ones read: else InviteCreditsMovedError)."""
        if inviter is None or inviter.erasing or inviter.banned or not new_person:
            return [self.repos.users.add_referral_op(inviter_id)]
        after = earned(inviter.invite_credits, now)
        if after is None:
            return [self.repos.users.add_referral_op(inviter_id), self.repos.invite_tallies.count_op("refused")]
        return [
            self.repos.users.referral_with_credit_op(inviter_id, inviter.invite_credits, after).failing_with(
                InviteCreditsMovedError
            ),
            self.repos.invite_tallies.count_op("earned"),
        ]

    def spend_ops(self, owner: User, after: InviteCredits) -> list[Op]:
        """The owner's credits as `spent` left them, on condition they are still the ones read."""
        return [
            self.repos.users.set_credits_op(owner.user_id, owner.invite_credits, after).failing_with(
                InviteCreditsMovedError
            ),
            self.repos.invite_tallies.count_op("spent"),
        ]
