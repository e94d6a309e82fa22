"""A person's standing beyond their account: whether an admin's ban stands, and whether a sign-up of theirs was
already counted as a referral. Kept under a keyed hash of the Telegram id (`store.people`), so it survives
erasure without keeping the id.

The key is derived from the pseudonym secret with a label of its own (HMAC(secret, label)): one secret to keep,
two keys that cannot be confused: a person hash is never a pseudonym, and knowing one says nothing of the other.
"""

from __future__ import annotations

import hashlib
import hmac

from murmur.errors import BannedError, ConflictError, ErasingError
from murmur.models import User
from murmur.store.batch import Ref
from murmur.store.dynamo import Op
from murmur.store.people import PersonRecord
from murmur.store.repositories import Repositories

KEY_LABEL = b"murmur/person-record/v1"


def person_key(secret: bytes) -> bytes:
    """The person-record key, separated from the pseudonym key (the secret itself) by its label."""
    return hmac.new(secret, KEY_LABEL, hashlib.sha256).digest()


def person_hash(key: bytes, user_id: int) -> str:
    """128 bits of HMAC-SHA256 of the Telegram id: stable for one person, meaningless without the key."""
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:32]


def usable(user: User) -> User:
    """An account may use Murmur unless it is being erased or banned (its messages then wait, hidden). The row's
    copy of the ban is enough here: it is written with the record, and a banned person never gets a new row."""
    if user.erasing:
        raise ErasingError()
    if user.banned:
        raise BannedError()
    return user


class Standings:
    def __init__(self, repos: Repositories, secret: bytes) -> None:
        self.repos = repos
        self._key = person_key(secret)

    def _of(self, user_id: int) -> str:
        return person_hash(self._key, user_id)

    def ref(self, user_id: int) -> Ref[PersonRecord]:
        """For a BatchGetItem with other items a request reads anyway (None there: no record, so no ban)."""
        return self.repos.people.ref(self._of(user_id))

    def of(self, user_id: int) -> PersonRecord:
        return self.repos.people.get(self._of(user_id))

    def registration_op(self, user_id: int, referred: bool) -> Op:
        """For the sign-up's transaction: refuses a banned person; marks a sign-up counted as a referral."""
        return self.repos.people.registration_op(self._of(user_id), referred).failing_with(BannedError)

    def set_banned(self, user_id: int, banned: bool) -> None:
        """The record, and the account's row if there is one, in one transaction: a sign-up or an erasure
        running meanwhile cannot leave a row that disagrees with the record (the row's condition fails, and
        the next attempt sees what changed). Banning someone the app never saw creates no account."""
        for _ in range(3):
            row = self.repos.users.get(user_id, consistent=True)
            users = self.repos.users
            on_row = users.banned_op(user_id, banned) if row is not None else users.absent_op(user_id)
            try:
                self.repos.tx.write([self.repos.people.ban_op(self._of(user_id), banned), on_row])
                return
            except ConflictError:
                continue
        raise ConflictError("the account kept changing; try again")
