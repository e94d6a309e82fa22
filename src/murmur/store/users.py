"""Users table: one item per Telegram user, plus the sparse attributes that feed the plan indexes."""

from __future__ import annotations

import time
from typing import Any

from murmur.models import InviteCredits, PlanKind, User
from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, b, get_b, get_n, get_s, n, s

EXPIRY_INDEX = "plan-expiry"
REMIND_INDEX = "plan-remind"
# Sparse: only a user whose erasure has begun and not finished carries `erase_pending`; the cron finishes them.
ERASING_INDEX = "erasing"
ERASE_PENDING = "pending"
_INDEX_KEYS = {EXPIRY_INDEX: ("expiry_bucket", "plan_expires_at"), REMIND_INDEX: ("remind_bucket", "remind_at")}


def day_bucket(epoch: float) -> str:
    """The partition of the sparse plan indexes: one per UTC day, so a query reads only what is due."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _to_credits(item: Item) -> InviteCredits:
    return InviteCredits(
        expiries=tuple(int(v["N"]) for v in item.get("credit_expiries", {"L": []})["L"]),
        week=get_n(item, "credit_week", 0) or 0,
        earned_in_week=get_n(item, "credit_week_earned", 0) or 0,
        version=get_n(item, "credit_version", 0) or 0,
    )


def _to_user(item: Item) -> User:
    return User(
        user_id=int(item["user_id"]["N"]),
        first_name=get_s(item, "first_name", "") or "",
        language_code=get_s(item, "language_code", "en") or "en",
        link_code=get_s(item, "link_code", "") or "",
        accepts_messages=get_b(item, "accepts_messages", True),
        plan=PlanKind(get_s(item, "plan", "free") or "free"),
        plan_expires_at=get_n(item, "plan_expires_at"),
        pro_charge_id=get_s(item, "pro_charge_id"),
        pro_cancelled=get_b(item, "pro_cancelled"),
        pro_failed=get_b(item, "pro_failed"),
        banned=get_b(item, "banned"),
        referrals=get_n(item, "referrals", 0) or 0,
        created_at=get_n(item, "created_at", 0) or 0,
        received=get_n(item, "received", 0) or 0,
        unread=get_n(item, "unread", 0) or 0,
        slow_mode_seconds=get_n(item, "slow_mode_seconds", 0) or 0,
        daily_cap=get_n(item, "daily_cap", 0) or 0,
        erasing="erase_pending" in item,
        invite_credits=_to_credits(item),
    )


class UsersRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def key(self, user_id: int) -> Item:
        return {"user_id": n(user_id)}

    def ref(self, user_id: int) -> Ref[User]:
        return Ref(self.table, self.key(user_id), _to_user)

    def get(self, user_id: int, consistent: bool = False) -> User | None:
        item = self.client.get_item(TableName=self.table, Key=self.key(user_id), ConsistentRead=consistent).get("Item")
        return _to_user(item) if item else None

    def create_op(self, user: User) -> Op:
        item: Item = {
            "user_id": n(user.user_id),
            "first_name": s(user.first_name),
            "language_code": s(user.language_code),
            "link_code": s(user.link_code),
            "accepts_messages": b(user.accepts_messages),
            "plan": s(user.plan.value),
            "created_at": n(user.created_at),
            "received": n(0),
            "unread": n(0),
        }
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(user_id)",
                }
            }
        )

    def update_profile(self, user_id: int, first_name: str, language_code: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self.key(user_id),
            UpdateExpression="SET first_name = :f, language_code = :l",
            ConditionExpression="attribute_exists(user_id)",
            ExpressionAttributeValues={":f": s(first_name), ":l": s(language_code)},
        )

    def set_flag(self, user_id: int, name: str, value: bool) -> None:
        """accepts_messages (a ban is `banned_op`, written with the person's record)."""
        assert name == "accepts_messages"
        self.client.update_item(
            TableName=self.table,
            Key=self.key(user_id),
            UpdateExpression="SET #f = :v",
            ExpressionAttributeNames={"#f": name},
            ExpressionAttributeValues={":v": b(value)},
        )

    def set_inbox_limits(self, user_id: int, slow_mode_seconds: int, daily_cap: int) -> None:
        """The owner's own limits on their inbox (0: off). Sends read them; no send writes this item."""
        self.client.update_item(
            TableName=self.table,
            Key=self.key(user_id),
            UpdateExpression="SET slow_mode_seconds = :s, daily_cap = :c",
            ConditionExpression="attribute_exists(user_id)",
            ExpressionAttributeValues={":s": n(slow_mode_seconds), ":c": n(daily_cap)},
        )

    def banned_op(self, user_id: int, banned: bool) -> Op:
        """The ban on the account's own row, beside the person's record: only if the row exists (a ban never
        creates one), so reads of the row (a reply, an order, the inbox, the cron's announcements) see it."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(user_id),
                    "UpdateExpression": "SET banned = :v",
                    "ConditionExpression": "attribute_exists(user_id)",
                    "ExpressionAttributeValues": {":v": b(banned)},
                }
            }
        )

    def absent_op(self, user_id: int) -> Op:
        """A condition that no row exists (a ban of someone without an account writes the record alone)."""
        return Op(
            {
                "ConditionCheck": {
                    "TableName": self.table,
                    "Key": self.key(user_id),
                    "ConditionExpression": "attribute_not_exists(user_id)",
                }
            }
        )

    def add_referral_op(self, referrer_id: int) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(referrer_id),
                    "UpdateExpression": "ADD referrals :one",
                    "ConditionExpression": "attribute_exists(user_id)",
                    "ExpressionAttributeValues": {":one": n(1)},
                }
            }
        )

    def set_credits_op(self, user_id: int, before: InviteCredits, after: InviteCredits) -> Op:
        """The invite credits `after`, on condition they are still `before` (its version) and the account is not
        being erased: two writers that read the same credits cannot both write."""
        return Op({"Update": self._credits_update(user_id, before, after)})

    def referral_with_credit_op(self, referrer_id: int, before: InviteCredits, after: InviteCredits) -> Op:
        """`add_referral_op` with the credit it earned: one update of the inviter's row (a transaction may touch
        an item once)."""
        update = self._credits_update(referrer_id, before, after)
        update["UpdateExpression"] += " ADD referrals :one"
        update["ExpressionAttributeValues"][":one"] = n(1)
        return Op({"Update": update})

    def _credits_update(self, user_id: int, before: InviteCredits, after: InviteCredits) -> dict[str, Any]:
        values: Item = {
            ":x": {"L": [n(expiry) for expiry in after.expiries]},
            ":w": n(after.week),
            ":we": n(after.earned_in_week),
            ":v": n(after.version),
        }
        if before.version:
            version = "credit_version = :before"
            values[":before"] = n(before.version)
        else:
            version = "attribute_not_exists(credit_version)"
        return {
            "TableName": self.table,
            "Key": self.key(user_id),
            "UpdateExpression": "SET credit_expiries = :x, credit_week = :w, credit_week_earned = :we, "
            "credit_version = :v",
            "ConditionExpression": f"attribute_exists(user_id) AND attribute_not_exists(erase_pending) AND {version}",
            "ExpressionAttributeValues": values,
        }

    # ------------------------------------------------------------------ plans
    def set_plan_op(
        self,
        user_id: int,
        *,
        plan: PlanKind,
        expires_at: int | None,
        previous_expires_at: int | None,
        remind_at: int | None,
        pro_charge_id: str | None = None,
        pro_cancelled: bool = False,
        pro_failed: bool = False,
        sweep_at: int | None = None,
    ) -> Op:
        """Write a plan, guarded by the expiry it was computed from (optimistic: stacking stays exact).

        Plus passes carry the sparse index attributes the cron reads; Pro is renewed by Telegram and
        expired by its own subscription date, so it carries only the expiry index too (to drop Plus access
        if Telegram stops renewing). `sweep_at` (default `expires_at`) is when the access really ends, which
        names the index's day bucket: for a Pro awaiting its renewal, the end of the grace."""
        names = {"#p": "plan"}
        values: Item = {":p": s(plan.value)}
        sets = ["#p = :p"]
        removes: list[str] = []
        if expires_at is None:
            removes += ["plan_expires_at", "expiry_bucket", "remind_bucket", "remind_at"]
        else:
            sets += ["plan_expires_at = :e", "expiry_bucket = :eb"]
            values[":e"] = n(expires_at)
            values[":eb"] = s(day_bucket(sweep_at or expires_at))
            if remind_at is None:
                removes += ["remind_bucket", "remind_at"]
            else:
                sets += ["remind_at = :r", "remind_bucket = :rb"]
                values[":r"] = n(remind_at)
                values[":rb"] = s(day_bucket(remind_at))
        if pro_charge_id is None:
            removes += ["pro_charge_id"]
        else:
            sets.append("pro_charge_id = :c")
            values[":c"] = s(pro_charge_id)
        sets += ["pro_cancelled = :pc", "pro_failed = :pf"]
        values[":pc"] = b(pro_cancelled)
        values[":pf"] = b(pro_failed)
        if previous_expires_at is None:
            condition = "attribute_exists(user_id) AND attribute_not_exists(plan_expires_at)"
        else:
            condition = "plan_expires_at = :prev"
            values[":prev"] = n(previous_expires_at)
        expr = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(user_id),
                    "UpdateExpression": expr,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )

    def set_pro_renewal_op(
        self, user_id: int, charge_id: str, *, expires_at: int, cancelled: bool, failed: bool, sweep_at: int
    ) -> Op:
        """Whether the Pro subscription `charge_id` still renews, and the day the cron looks at it (`sweep_at`).
        Fails if the plan moved (another subscription, a renewal) or the state is there already (a redelivery)."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(user_id),
                    "UpdateExpression": "SET pro_cancelled = :pc, pro_failed = :pf, expiry_bucket = :eb",
                    "ConditionExpression": "pro_charge_id = :c AND plan_expires_at = :e "
                    "AND NOT (pro_cancelled = :pc AND pro_failed = :pf)",
                    "ExpressionAttributeValues": {
                        ":pc": b(cancelled),
                        ":pf": b(failed),
                        ":eb": s(day_bucket(sweep_at)),
                        ":c": s(charge_id),
                        ":e": n(expires_at),
                    },
                }
            }
        )

    def due(
        self, index: str, bucket: str, before: int, limit: int, start: Item | None
    ) -> tuple[list[int], Item | None]:
        """User ids in one day bucket of a sparse plan index whose time is before `before`."""
        hash_name, range_name = _INDEX_KEYS[index]
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#h = :b AND #r <= :t",
            "ExpressionAttributeNames": {"#h": hash_name, "#r": range_name},
            "ExpressionAttributeValues": {":b": s(bucket), ":t": n(before)},
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self.client.query(**kwargs)
        return [int(i["user_id"]["N"]) for i in page.get("Items", [])], page.get("LastEvaluatedKey")

    def clear_reminder(self, user_id: int, remind_at: int) -> bool:
        """Drop the user from the reminder index, once. False if someone else did or the plan changed."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self.key(user_id),
                UpdateExpression="REMOVE remind_bucket, remind_at",
                ConditionExpression="remind_at = :r",
                ExpressionAttributeValues={":r": n(remind_at)},
            )
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    # ------------------------------------------------------------------ erasure
    def mark_erasing_op(self, user_id: int, now: int) -> Op:
        """Erasure has begun: the account is unusable from here on, and the row (a bare one if there was none)
        joins the sparse `erasing` index until its erasure ends. It leaves the plan indexes: no expiry or
        reminder for an account being erased."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(user_id),
                    "UpdateExpression": "SET erase_pending = :p, erase_started_at = if_not_exists(erase_started_at, :t)"
                    " REMOVE expiry_bucket, remind_bucket",
                    "ExpressionAttributeValues": {":p": s(ERASE_PENDING), ":t": n(now)},
                }
            }
        )

    def erasing(self, limit: int) -> list[int]:
        """Users whose erasure is unfinished, the longest-waiting first (the sparse `erasing` index)."""
        page = self.client.query(
            TableName=self.table,
            IndexName=ERASING_INDEX,
            KeyConditionExpression="erase_pending = :p",
            ExpressionAttributeValues={":p": s(ERASE_PENDING)},
            Limit=limit,
        )
        return [int(i["user_id"]["N"]) for i in page.get("Items", [])]

    def delete(self, user_id: int) -> None:
        """The last step of an erasure: the row, and with it the mark in the `erasing` index."""
        self.client.delete_item(TableName=self.table, Key=self.key(user_id))
