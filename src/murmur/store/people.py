"""Person records, in the State table: what Murmur keeps about a person beyond their account.

`person#<hash>`, where the hash is a keyed hash of the Telegram id (`murmur.standing`), never the id itself:
`banned` while an admin's ban stands, `referred` once a sign-up of this person was counted as someone's
referral, `joined` once they signed up at all. Erasure does not touch it, so erasing and coming back neither
lifts a ban, nor counts a referral again, nor passes for a new person who earns an inviter a credit
(docs/anonymity.md says what it keeps and why)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, b, get_b, s


@dataclass(frozen=True, slots=True)
class PersonRecord:
    banned: bool = False
    referred: bool = False
    joined: bool = False  # had an account once: a sign-up after erasure is no new person (invite credits)


def _to_record(item: Item) -> PersonRecord:
    return PersonRecord(banned=get_b(item, "banned"), referred=get_b(item, "referred"), joined=get_b(item, "joined"))


NOT_BANNED = "attribute_not_exists(banned) OR banned = :no"


class PeopleRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def key(person: str) -> Item:
        return {"pk": s(f"person#{person}")}

    def ref(self, person: str) -> Ref[PersonRecord]:
        return Ref(self.table, self.key(person), _to_record)

    def get(self, person: str) -> PersonRecord:
        item = self.client.get_item(TableName=self.table, Key=self.key(person), ConsistentRead=True).get("Item")
        return _to_record(item) if item else PersonRecord()

    def ban_op(self, person: str, banned: bool) -> Op:
        """Ban (SET) or lift the ban (REMOVE: an unbanned person's record keeps nothing of it)."""
        update: dict[str, Any] = {"TableName": self.table, "Key": self.key(person)}
        if banned:
            update.update(UpdateExpression="SET banned = :yes", ExpressionAttributeValues={":yes": b(True)})
        else:
            update["UpdateExpression"] = "REMOVE banned"
        return Op({"Update": update})

    def registration_op(self, person: str, referred: bool) -> Op:
        """In the sign-up's transaction: the person is not banned (checked again where it is written, so a ban
        landing meanwhile refuses the sign-up), that they joined (so coming back after erasure is not a new
        person's sign-up), and, when the sign-up counts as a referral, that it did."""
        values: Item = {":no": b(False)}
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(person),
                    "UpdateExpression": "SET joined = :yes" + (", referred = :yes" if referred else ""),
                    "ConditionExpression": NOT_BANNED,
                    "ExpressionAttributeValues": {**values, ":yes": b(True)},
                }
            }
        )
