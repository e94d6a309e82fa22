"""Inline mode in the fake Bot API: answerInlineQuery and savePreparedInlineMessage, checked as the Bot API
(10.1) describes them, and the state behind them (queries awaiting an answer, the answers, prepared messages).

Kept beside `sandbox.fake_bot_api_methods` (whose building blocks it uses) so the inline rules read in one
place. Parameter names and types follow the official description (`api.json` of the Bot API spec mirror):
answerInlineQuery {inline_query_id: String, results: Array of InlineQueryResult, cache_time: Integer,
is_personal: Boolean, next_offset: String, button: InlineQueryResultsButton}; savePreparedInlineMessage
{user_id: Integer, result: InlineQueryResult, allow_user_chats, allow_bot_chats, allow_group_chats,
allow_channel_chats: Boolean} -> PreparedInlineMessage {id: String, expiration_date: Integer}.

Error texts are the Bot API server's where its source shows them (telegram-bot-api Client.cpp:
"Too many inline query results specified", "Can't parse inline query result: ...", "Can't parse inline query
results button: ..."), else Telegram's MTProto error names (RESULT_ID_DUPLICATE, MESSAGE_EMPTY,
MESSAGE_TOO_LONG, BUTTON_TYPE_INVALID, START_PARAM_INVALID). Stricter than Telegram: only the result types
Murmur sends are emulated (article, photo); another type is refused as not emulated.
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from sandbox.fake_bot_api_methods import (
    MAX_MESSAGE_TEXT,
    BadRequestError,
    MethodSpec,
    _https_url,
    _object,
    boolean_param,
    check_inline_keyboard_markup,
    integer_param,
    object_param,
    string_param,
    visible_text,
)

JSONDict = dict[str, Any]

# The Bot API reference: "No more than 50 results per query are allowed" (Client.cpp: MAX_INLINE_QUERY_RESULT_COUNT).
MAX_INLINE_RESULTS = 50
# No number is documented for how long an inline query may wait for its answer; like answerCallbackQuery
# (`CALLBACK_ANSWER_SECONDS`), 15 s is our estimate, not Telegram's word.
INLINE_ANSWER_SECONDS = 15.0
# How long a prepared message stays usable: Telegram sets `expiration_date` itself and documents no number;
# the fake gives a day.
PREPARED_MESSAGE_SECONDS = 86400
EMULATED_RESULT_TYPES = ("article", "photo")
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _unparsable_result(detail: str) -> BadRequestError:
    return BadRequestError(f"Can't parse inline query result: {detail}")


def _required_string(result: Mapping[str, Any], field: str) -> str:
    value = result.get(field)
    if value is None:
        raise _unparsable_result(f'Can\'t find field "{field}"')
    if not isinstance(value, str):
        raise _unparsable_result(f'Field "{field}" must be of type String')
    return value


def _optional_string(result: Mapping[str, Any], field: str) -> str | None:
    value = result.get(field)
    if value is not None and not isinstance(value, str):
        raise _unparsable_result(f'Field "{field}" must be of type String')
    return value


def _check_result_markup(result: Mapping[str, Any]) -> None:
    """An InlineKeyboardMarkup, without web_app buttons: the Bot API allows those "only in private chats between
    a user and the bot", and an inline or prepared message goes to any chat (Telegram answers BUTTON_TYPE_INVALID)."""
    markup = result.get("reply_markup")
    if markup is None:
        return
    check_inline_keyboard_markup(markup)
    for row in markup["inline_keyboard"]:
        for button in row:
            if button.get("web_app") is not None:
                raise BadRequestError("BUTTON_TYPE_INVALID")


def _check_text_content(content: Any, *, required: bool) -> None:
    """InputTextMessageContent {message_text 1-4096 after entities parsing, parse_mode, entities, ...}."""
    if content is None:
        if required:
            raise _unparsable_result('Can\'t find field "input_message_content"')
        return
    content = _object(content, "input message content")
    if "message_text" not in content:
        raise BadRequestError("only InputTextMessageContent (message_text) is emulated by the fake")
    text = content["message_text"]
    if not isinstance(text, str):
        raise _unparsable_result('Field "message_text" must be of type String')
    visible, _ = visible_text(content, "message_text")
    if not visible.strip():
        raise BadRequestError("MESSAGE_EMPTY")
    if len(visible) > MAX_MESSAGE_TEXT:
        raise BadRequestError("MESSAGE_TOO_LONG")


def check_inline_query_result(value: Any) -> None:
    """One InlineQueryResult: a known `type`, an `id` of 1-64 bytes, and that type's required fields."""
    result = _object(value, "inline query result")
    kind = _required_string(result, "type").lower()
    result_id = _required_string(result, "id")
    if not 1 <= len(result_id.encode()) <= 64:
        raise BadRequestError("RESULT_ID_INVALID")
    if kind not in EMULATED_RESULT_TYPES:
        raise BadRequestError(f'type "{kind}" is not emulated by the fake (only {", ".join(EMULATED_RESULT_TYPES)})')
    for field in ("title", "description", "url", "thumbnail_url", "caption", "parse_mode"):
        _optional_string(result, field)
    if kind == "article":
        _required_string(result, "title")
        _check_text_content(result.get("input_message_content"), required=True)
    else:
        for field in ("photo_url", "thumbnail_url"):  # both required by the Bot API reference
            if not _https_url(_required_string(result, field)):
                raise BadRequestError("PHOTO_INVALID" if field == "photo_url" else "PHOTO_THUMB_URL_INVALID")
        _check_text_content(result.get("input_message_content"), required=False)
    for field in ("thumbnail_width", "thumbnail_height", "photo_width", "photo_height"):
        size = result.get(field)
        if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
            raise _unparsable_result(f'Field "{field}" must be of type Number')
    _check_result_markup(result)


def check_inline_query_results(value: Any) -> None:
    """Array of InlineQueryResult: at most 50, ids unique within the answer."""
    if not isinstance(value, list):
        raise BadRequestError("Expected an Array of inline query results")
    if len(value) > MAX_INLINE_RESULTS:
        raise BadRequestError("Too many inline query results specified")
    ids: set[str] = set()
    for result in value:
        check_inline_query_result(result)
        if result["id"] in ids:
            raise BadRequestError("RESULT_ID_DUPLICATE")
        ids.add(result["id"])


def check_results_button(value: Any) -> None:
    """InlineQueryResultsButton {text, and exactly one of web_app (an HTTPS URL) or start_parameter}."""
    button = _object(value, "inline query results button")
    if not isinstance(button.get("text"), str) or not button["text"].strip():
        raise BadRequestError('Can\'t parse inline query results button: Field "text" must be a non-empty String')
    kinds = [field for field in ("web_app", "start_parameter") if button.get(field) is not None]
    if len(kinds) != 1:
        raise BadRequestError(
            "Can't parse inline query results button: InlineQueryResultsButton must have exactly one optional field"
        )
    if kinds[0] == "start_parameter":
        if not (isinstance(button["start_parameter"], str) and _START_PARAMETER.fullmatch(button["start_parameter"])):
            raise BadRequestError("START_PARAM_INVALID")
    elif not _https_url(_object(button["web_app"], "web_app").get("url")):
        raise BadRequestError("Can't parse inline query results button: Only HTTPS links are allowed")


def _prepared_rule(params: Mapping[str, Any]) -> None:
    """A prepared message must be sendable somewhere (the fake's wording: the Bot API server passes the flags
    on and Telegram refuses a message that no chat may receive)."""
    if not any(params.get(flag) for flag in CHAT_TYPE_FLAGS.values()):
        raise BadRequestError(
            "at least one of allow_user_chats, allow_bot_chats, allow_group_chats and allow_channel_chats must be true"
        )


# What `WebApp.shareMessage`'s chat picker offers, by the flag that allows it.
CHAT_TYPE_FLAGS = {
    "users": "allow_user_chats",
    "bots": "allow_bot_chats",
    "groups": "allow_group_chats",
    "channels": "allow_channel_chats",
}

INLINE_METHODS: dict[str, MethodSpec] = {
    spec.name.lower(): spec
    for spec in (
        MethodSpec(
            "answerInlineQuery",
            (
                string_param("inline_query_id", required=True),
                object_param("results", "inline query results", check_inline_query_results, required=True),
                # The Bot API server clamps cache_time into 0..86400 (Client.cpp, get_integer_arg).
                integer_param("cache_time"),
                boolean_param("is_personal"),
                string_param("next_offset", byte_length=(0, 64), error="NEXT_OFFSET_INVALID"),
                object_param("button", "inline query results button", check_results_button),
            ),
        ),
        MethodSpec(
            "savePreparedInlineMessage",
            (
                integer_param("user_id", required=True),
                object_param("result", "inline query result", check_inline_query_result, required=True),
                *(boolean_param(flag) for flag in CHAT_TYPE_FLAGS.values()),
            ),
            _prepared_rule,
        ),
    )
}


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
