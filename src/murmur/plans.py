"""Plus / Pro entitlements: what a purchase or a refund does to a user's plan, and expiry."""

from __future__ import annotations

from murmur.catalog import PLUS_PASS_SECONDS, SUBSCRIPTION_PERIOD
from murmur.models import RENEWAL_GRACE_SECONDS, PlanKind, User
from murmur.store.dynamo import Op
from murmur.store.users import UsersRepository

REMIND_BEFORE = 86400  # tell a Plus holder a day before their pass ends


def _sweep_at(plan: PlanKind, expires: int, cancelled: bool) -> int:
    """When the cron should look at a plan ending at `expires`: a Pro awaiting its renewal ends after the grace."""
    return expires + RENEWAL_GRACE_SECONDS if plan is PlanKind.PRO and not cancelled else expires


def plus_grant(users: UsersRepository, user: User, now: float) -> tuple[Op, int]:
    """A week more: renewals stack on what is left. On an active Pro, the days are added to its end."""
    active = user.plan_active(now)
    start = user.plan_expires_at if active and user.plan_expires_at else int(now)
    expires = start + PLUS_PASS_SECONDS
    keep_pro = active and user.plan is PlanKind.PRO
    op = users.set_plan_op(
        user.user_id,
        plan=PlanKind.PRO if keep_pro else PlanKind.PLUS,
        expires_at=expires,
        previous_expires_at=user.plan_expires_at,
        remind_at=None if keep_pro else expires - REMIND_BEFORE,
        pro_charge_id=user.pro_charge_id if keep_pro else None,
        pro_cancelled=user.pro_cancelled if keep_pro else False,
        pro_failed=user.pro_failed if keep_pro else False,
        sweep_at=_sweep_at(PlanKind.PRO, expires, user.pro_cancelled) if keep_pro else expires,
    )
    return op, expires


def pro_grant(
    users: UsersRepository, user: User, now: float, charge_id: str, subscription_expires: int | None
) -> tuple[Op, int]:
    """Pro until Telegram's subscription_expiration_date; renewals move it on by themselves. `charge_id` names the
    subscription: its first payment's charge, whatever renewal this is (editUserStarSubscription wants it). A
    payment means the subscription is alive: it renews again, whatever was cancelled or failed before."""
    expires = subscription_expires or int(now) + SUBSCRIPTION_PERIOD
    if user.plan_active(now) and user.plan is PlanKind.PLUS and user.plan_expires_at:
        expires = max(expires, user.plan_expires_at)  # never shorten a pass someone already paid for
    op = users.set_plan_op(
        user.user_id,
        plan=PlanKind.PRO,
        expires_at=expires,
        previous_expires_at=user.plan_expires_at,
        remind_at=None,
        pro_charge_id=charge_id,
        pro_cancelled=False,
        pro_failed=False,
        sweep_at=_sweep_at(PlanKind.PRO, expires, False),
    )
    return op, expires


def pro_renewal(users: UsersRepository, user: User, *, cancelled: bool, failed: bool) -> Op:
    """Pro stops or starts expecting Telegram's renewal (cancelled or resumed by the user, or its payment failed):
    its paid end stays; the grace past it, and the day the cron looks at it, follow."""
    assert user.pro_charge_id and user.plan_expires_at
    return users.set_pro_renewal_op(
        user.user_id,
        user.pro_charge_id,
        expires_at=user.plan_expires_at,
        cancelled=cancelled,
        failed=failed,
        sweep_at=_sweep_at(PlanKind.PRO, user.plan_expires_at, cancelled),
    )


def plus_revoke(users: UsersRepository, user: User, now: float) -> Op | None:
    """A refunded week comes off the end; what is left of the plan stays."""
    if user.plan_expires_at is None:
        return None
    expires = user.plan_expires_at - PLUS_PASS_SECONDS
    if expires <= now:
        return expire(users, user)
    keep_pro = user.plan is PlanKind.PRO
    return users.set_plan_op(
        user.user_id,
        plan=user.plan,
        expires_at=expires,
        previous_expires_at=user.plan_expires_at,
        remind_at=None if keep_pro else max(int(now), expires - REMIND_BEFORE),
        pro_charge_id=user.pro_charge_id,
        pro_cancelled=user.pro_cancelled,
        pro_failed=user.pro_failed,
        sweep_at=_sweep_at(user.plan, expires, user.pro_cancelled),
    )


def expire(users: UsersRepository, user: User) -> Op:
    """Back to free, guarded by the expiry we saw (a renewal that lands meanwhile wins)."""
    return users.set_plan_op(
        user.user_id,
        plan=PlanKind.FREE,
        expires_at=None,
        previous_expires_at=user.plan_expires_at,
        remind_at=None,
    )
