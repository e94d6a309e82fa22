"""Inline mode in the fake Bot API: answerInlineQuery and savePreparedInlineMessage, and the state behind them
(queries awaiting an answer, the answers, prepared messages).

Their parameters are checked from the Bot API description (`sandbox.fake_bot_api_spec`: answerInlineQuery
{inline_query_id, results: Array of InlineQueryResult, cache_time, is_personal, next_offset, button}; savePrepared-
InlineMessage {user_id, result: InlineQueryResult, allow_*_chats} -> PreparedInlineMessage {id, expiration_date}),
and by the rules Telegram adds (`sandbox.fake_bot_api_methods`: at most 50 results with unique ids, no web_app button
in a message that may go to any chat, the results button's one target, which result types are emulated).
"""

from __future__ import annotations

import copy
import secrets
import threading
from typing import Any

from sandbox.fake_bot_api_methods import CHAT_TYPE_FLAGS

JSONDict = dict[str, Any]

# No number is documented for how long an inline query may wait for its answer; like answerCallbackQuery
# (`CALLBACK_ANSWER_SECONDS`), 15 s is our estimate, not Telegram's word.
INLINE_ANSWER_SECONDS = 15.0
# How long a prepared message stays usable: Telegram sets `expiration_date` itself and documents no number;
# the fake gives a day.
PREPARED_MESSAGE_SECONDS = 86400


class InlineMode:
    """The fake's inline-mode state and its two methods, mixed into `FakeBotApi`, which provides the lock, the
    business clock (`_now`) and the query deadlines (`_query_sent`, `_answer_query`) that callback and
    pre-checkout queries use too."""

    _lock: threading.Lock

    def _reset_inline_state(self) -> None:
        self._inline_queries: dict[str, float] = {}  # query id -> when it went to the bot (monotonic)
        self._inline_answers: dict[str, JSONDict] = {}  # query id -> answerInlineQuery's parameters
        self._prepared: dict[str, JSONDict] = {}  # prepared message id -> what savePreparedInlineMessage stored

    # --- control and inspection ------------------------------------------------------------------

    def inline_query_sent(self, query_id: str) -> None:
        """Note that an inline_query with this id went to the bot now: answerInlineQuery is accepted for it
        once, within INLINE_ANSWER_SECONDS."""
        with self._lock:
            self._query_sent(self._inline_queries, query_id, INLINE_ANSWER_SECONDS)

    def inline_answer(self, query_id: str) -> JSONDict | None:
        """The bot's answerInlineQuery parameters for a query, once it answered."""
        with self._lock:
            answer = self._inline_answers.get(str(query_id))
            return copy.deepcopy(answer) if answer is not None else None

    def prepared_message(self, prepared_id: str) -> JSONDict:
        """A prepared message by id: user_id, result, chat_types (what the share sheet may offer), expiration_date."""
        with self._lock:
            if prepared_id not in self._prepared:
                raise KeyError(f"no prepared message {prepared_id!r}")
            return copy.deepcopy(self._prepared[prepared_id])

    # --- methods -----------------------------------------------------------------------------------

    def _do_answerInlineQuery(self, params: JSONDict) -> bool:
        query_id = params["inline_query_id"]
        self._answer_query(self._inline_queries, query_id, INLINE_ANSWER_SECONDS)  # once, in time
        self._inline_answers[query_id] = copy.deepcopy(params)
        return True

    def _do_savePreparedInlineMessage(self, params: JSONDict) -> JSONDict:
        prepared_id = secrets.token_urlsafe(12)
        expires = self._now() + PREPARED_MESSAGE_SECONDS
        self._prepared[prepared_id] = {
            "user_id": params["user_id"],
            "result": copy.deepcopy(params["result"]),
            "chat_types": [kind for kind, flag in CHAT_TYPE_FLAGS.items() if params.get(flag)],
            "expiration_date": expires,
        }
        return {"id": prepared_id, "expiration_date": expires}
