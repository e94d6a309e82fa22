"""Users table: one item per Telegram user, plus the sparse attributes that feed the plan indexes."""

from __future__ import annotations

import time
from typing import Any

from murmur.models import PlanKind, User
from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, b, get_b, get_n, get_s, n, s

EXPIRY_INDEX = "plan-expiry"
REMIND_INDEX = "plan-remind"
_INDEX_KEYS = {EXPIRY_INDEX: ("expiry_bucket", "plan_expires_at"), REMIND_INDEX: ("remind_bucket", "remind_at")}


def day_bucket(epoch: float) -> str:
    """The partition of the sparse plan indexes: one per UTC day, so a query reads only what is due."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


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
        banned=get_b(item, "banned"),
        referrals=get_n(item, "referrals", 0) or 0,
        created_at=get_n(item, "created_at", 0) or 0,
        received=get_n(item, "received", 0) or 0,
        unread=get_n(item, "unread", 0) or 0,
        slow_mode_seconds=get_n(item, "slow_mode_seconds", 0) or 0,
        daily_cap=get_n(item, "daily_cap", 0) or 0,
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
        """accepts_messages or banned."""
        assert name in ("accepts_messages", "banned")
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
    ) -> Op:
        """Write a plan, guarded by the expiry it was computed from (optimistic: stacking stays exact).

        Plus passes carry the sparse index attributes the cron reads; Pro is renewed by Telegram and
        expired by its own subscription date, so it carries only the expiry index too (to drop Plus access
        if Telegram stops renewing)."""
        names = {"#p": "plan"}
        values: Item = {":p": s(plan.value)}
        sets = ["#p = :p"]
        removes: list[str] = []
        if expires_at is None:
            removes += ["plan_expires_at", "expiry_bucket", "remind_bucket", "remind_at"]
        else:
            sets += ["plan_expires_at = :e", "expiry_bucket = :eb"]
            values[":e"] = n(expires_at)
            values[":eb"] = s(day_bucket(expires_at))
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
        sets.append("pro_cancelled = :pc")
        values[":pc"] = b(pro_cancelled)
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

    def set_pro_cancelled(self, user_id: int, charge_id: str, cancelled: bool) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self.key(user_id),
            UpdateExpression="SET pro_cancelled = :v",
            ConditionExpression="pro_charge_id = :c",
            ExpressionAttributeValues={":v": b(cancelled), ":c": s(charge_id)},
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

    def delete(self, user_id: int) -> None:
        self.client.delete_item(TableName=self.table, Key=self.key(user_id))
