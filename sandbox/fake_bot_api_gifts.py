"""Real Telegram gifts in the fake Bot API: getAvailableGifts, sendGift and getMyStarBalance, and the state behind
them (the bot's Star balance, a small catalogue with a limited gift).

Parameters are checked from the official description (`sandbox.fake_bot_api_spec`; sendGift's text "0-128
characters", STARGIFT_MESSAGE_TOO_LONG past it, and user_id or chat_id, in `sandbox.fake_bot_api_methods`).
getAvailableGifts -> Gifts {gifts: Array of Gift {id: String, sticker: Sticker, star_count: Integer,
upgrade_star_count, total_count, remaining_count: Integer, ...}}; sendGift {user_id: Integer, chat_id: Integer or
String, gift_id: String (required), pay_for_upgrade: Boolean, text: String "0-128 characters", text_parse_mode:
String, text_entities: Array of MessageEntity} -> True; getMyStarBalance -> StarAmount {amount: Integer,
nanostar_amount: Integer}. What a sent gift leaves follows the Bot API server (telegram-bot-api Client.cpp): a
service message in the receiver's chat with the bot carrying `gift` (GiftInfo: gift, text, entities,
can_be_upgraded), and an outgoing StarTransaction whose receiver is a TransactionPartnerUser with transaction_type
"gift_purchase", the user and the gift.

The balance is the bot's: it grows with every Stars payment booked (`record_star_payment`), shrinks with refunds and
gifts, and a test sets it outright (`set_star_balance`, as buying Stars for the bot or withdrawing them would).
Errors are Telegram's MTProto names: BALANCE_TOO_LOW, STARGIFT_INVALID (no such gift), STARGIFT_USAGE_LIMITED (a
limited gift sold out), STARGIFT_MESSAGE_TOO_LONG; a user_id of nobody Telegram knows is "user not found". Kinder
than Telegram: gifts to channels are accepted without a channel to show them in."""

from __future__ import annotations

import copy
import secrets
import threading
from typing import Any

from sandbox.fake_bot_api_spec import BadRequestError

JSONDict = dict[str, Any]


def _sticker(emoji: str, unique: str) -> JSONDict:
    """The Sticker a gift is drawn with: an animated 512x512 regular sticker, as Telegram's gifts are."""
    return {
        "file_id": f"CAACAgIAAxUAAWf{unique}",
        "file_unique_id": f"AgAD{unique}",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": True,
        "is_video": False,
        "emoji": emoji,
    }


def _gift(gift_id: str, emoji: str, stars: int, **extra: Any) -> JSONDict:
    return {"id": gift_id, "sticker": _sticker(emoji, gift_id[-6:]), "star_count": stars, **extra}


# A small catalogue like Telegram's own: two 15-Star gifts, one of 25, one of 50 (upgradable) and a limited one of
# 100 that can sell out. Ids are 64-bit numbers as Telegram's are.
GIFT_CATALOGUE: tuple[JSONDict, ...] = (
    _gift("5170145012310081615", "💝", 15),
    _gift("5170233102089322756", "🧸", 15),
    _gift("5168103777563050263", "🌹", 25),
    _gift("5170144170496491616", "🎂", 50, upgrade_star_count=25),
    _gift("5170521118301225164", "💎", 100, total_count=10000, remaining_count=250),
)


class GiftShop:
    """The fake's gift state and its three methods, mixed into `FakeBotApi`, which provides the lock, the business
    clock (`_now`), users (`_user`), chats (`_new_message`) and the Stars ledger (`_transactions`)."""

    _lock: threading.Lock
    _transactions: list[JSONDict]
    _messages: dict[int | str, list[JSONDict]]

    def _reset_gift_state(self) -> None:
        self._star_balance = 0
        self._gift_stock: dict[str, JSONDict] = {gift["id"]: copy.deepcopy(gift) for gift in GIFT_CATALOGUE}
        self._unknown_users: set[int] = set()

    # --- control and inspection ------------------------------------------------------------------

    @property
    def star_balance(self) -> int:
        """The bot's Star balance, as getMyStarBalance answers it."""
        with self._lock:
            return self._star_balance

    def set_star_balance(self, amount: int) -> None:
        """Set the bot's balance outright, as buying Stars for the bot or withdrawing them would."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValueError("a balance is a number of Stars, 0 or more")
        with self._lock:
            self._star_balance = amount

    def user_unknown(self, user_id: int) -> None:
        """Telegram no longer knows this user (a deleted account): sendGift to them is "user not found"."""
        with self._lock:
            self._unknown_users.add(user_id)

    def gifts_received(self, user_id: int) -> list[JSONDict]:
        """The GiftInfo of every gift the bot sent this user, oldest first."""
        with self._lock:
            return [copy.deepcopy(m["gift"]) for m in self._messages.get(user_id, []) if "gift" in m]

    def _credit_stars(self, amount: int) -> None:
        """A Stars payment reached the bot (called under the lock)."""
        self._star_balance += amount

    def _debit_stars(self, amount: int) -> None:
        """A refund left the bot's balance (called under the lock); Telegram takes it even into the negative."""
        self._star_balance -= amount

    # --- methods -----------------------------------------------------------------------------------

    def _do_getAvailableGifts(self, params: JSONDict) -> JSONDict:
        return {"gifts": [copy.deepcopy(gift) for gift in self._gift_stock.values()]}

    def _do_getMyStarBalance(self, params: JSONDict) -> JSONDict:
        return {"amount": self._star_balance}

    def _do_sendGift(self, params: JSONDict) -> bool:
        target = params["user_id"] if params.get("user_id") is not None else params["chat_id"]
        if target in self._unknown_users or (params.get("user_id") is not None and target <= 0):
            raise BadRequestError("user not found")
        gift = self._gift_stock.get(params["gift_id"])
        if gift is None:
            raise BadRequestError("STARGIFT_INVALID")
        if gift.get("remaining_count") == 0:
            raise BadRequestError("STARGIFT_USAGE_LIMITED")
        upgrade = gift.get("upgrade_star_count", 0) if params.get("pay_for_upgrade") else 0
        cost = gift["star_count"] + upgrade
        if self._star_balance < cost:
            raise BadRequestError("BALANCE_TOO_LOW")
        self._star_balance -= cost
        if "remaining_count" in gift:
            gift["remaining_count"] -= 1
        public = copy.deepcopy(gift)
        info: JSONDict = {"gift": public}
        text, entities = params.get("text") or "", params.get("text_entities")
        if text:
            info["text"] = text
            if entities:
                info["entities"] = entities
        if "upgrade_star_count" in gift:
            info["can_be_upgraded"] = True
        if upgrade:
            info["prepaid_upgrade_star_count"] = upgrade
        if isinstance(target, int) and target > 0:  # the receiver's chat with the bot shows the gift arriving
            self._new_message({"chat_id": target}, gift=info)
        self._transactions.append(
            {
                "id": "gft" + secrets.token_urlsafe(24),
                "amount": cost,
                "date": self._now(),
                "receiver": {
                    "type": "user",
                    "transaction_type": "gift_purchase",
                    "user": self._user(target) if isinstance(target, int) else {"id": 0},
                    "gift": copy.deepcopy(public),
                },
            }
        )
        return True
