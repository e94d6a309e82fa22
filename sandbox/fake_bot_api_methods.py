"""What the Bot API's description does not say, for the methods the product calls.

Types, required parameters and documented lengths come from the description itself (`sandbox.fake_bot_api_spec`);
this module adds what Telegram's servers do on top, in their own words: error names for values out of limits
(INVOICE_PAYLOAD_INVALID, BUTTON_DATA_INVALID...), rules that tie parameters together (a Stars invoice, a message's
target), and checks of values (URL schemes, webhook ports, command names). Nothing here does I/O or keeps state;
checks that need state (an unknown charge, a message to edit) live with the state in `sandbox.fake_bot_api`.

No parse modes: the product sends plain text, so `parse_mode` and `text_parse_mode` are refused as not emulated (a
product change that starts using one fails here, until someone adds the parser Telegram has).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.fake_bot_api_spec import BadRequestError, BotApiSpec, Rules

SPEC = BotApiSpec.load()

# The methods the fake carries out (`_do_<name>` in `sandbox.fake_bot_api` and its mixins): those the product calls
# (src/murmur: its PTB handlers, `HttpGateway`, `murmur.telegram.setup`), and editMessageText beside
# editMessageReplyMarkup. Every other method of the description is checked, then refused as not implemented.
IMPLEMENTED = frozenset(
    {
        "getMe", "sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery",
        "answerPreCheckoutQuery", "createInvoiceLink", "refundStarPayment", "getStarTransactions",
        "editUserStarSubscription", "setWebhook", "setMyCommands", "setMyDescription", "setMyShortDescription",
        "setChatMenuButton", "answerInlineQuery", "savePreparedInlineMessage", "getAvailableGifts", "sendGift",
        "getMyStarBalance",
    }
)  # fmt: skip

STARS_CURRENCY = "XTR"
# Native Stars subscriptions exist for 30 days only, and cost at most 10000 Stars a period.
SUBSCRIPTION_PERIOD_SECONDS = 2592000
MAX_SUBSCRIPTION_STARS = 10000
# Bot API 10.2 (bot_api_spec_10_2.json): the values of BotSubscriptionUpdated.state.
SUBSCRIPTION_STATES: tuple[str, ...] = SPEC.types["BotSubscriptionUpdated"].fields["state"].values or ()
# The Bot API reference, answerInlineQuery: "No more than 50 results per query are allowed".
MAX_INLINE_RESULTS = 50
# Murmur shares question cards as articles and story answers as photos; other result types are not emulated.
EMULATED_RESULT_TYPES = ("article", "photo")
# What `WebApp.shareMessage`'s chat picker offers, by the savePreparedInlineMessage flag that allows it.
CHAT_TYPE_FLAGS = {
    "users": "allow_user_chats",
    "bots": "allow_bot_chats",
    "groups": "allow_group_chats",
    "channels": "allow_channel_chats",
}
# The one-of fields of an InlineKeyboardButton: exactly one must be set.
INLINE_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_EMPTY_MEANS_ABSENT = ("url", "callback_data")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")


# Telegram's description of a problem with a parameter or field, "<method or type>.<name>:<problem>": from the Bot
# API server (telegram-bot-api Client.cpp) where it shows them, else Telegram's error names.
WORDS: dict[str, str] = {
    "*.chat_id:missing": "chat_id is empty",
    "*.reply_markup:json": "can't parse reply keyboard markup JSON object",
    "sendMessage.text:missing": "message text is empty",
    "sendMessage.text:short": "message text is empty",
    "sendMessage.text:long": "message is too long",
    "editMessageText.text:short": "message text is empty",
    "editMessageText.text:long": "message is too long",
    "answerCallbackQuery.text:long": "MESSAGE_TOO_LONG",
    "setMyDescription.description:long": "BOT_DESCRIPTION_INVALID",
    "setMyShortDescription.short_description:long": "BOT_ABOUT_INVALID",
    "setMyCommands.commands:long": "too many commands specified",
    "answerInlineQuery.results:type": "Expected an Array of inline query results",
    "answerInlineQuery.next_offset:long": "NEXT_OFFSET_INVALID",
    "sendGift.text:long": "STARGIFT_MESSAGE_TOO_LONG",
    "InputTextMessageContent.message_text:short": "MESSAGE_EMPTY",
    "InputTextMessageContent.message_text:long": "MESSAGE_TOO_LONG",
    **{
        f"{owner}.{name}:{problem}": words
        for owner, name, words in (
            ("createInvoiceLink", "title", "INVOICE_TITLE_INVALID"),
            ("createInvoiceLink", "description", "INVOICE_DESCRIPTION_INVALID"),
            ("createInvoiceLink", "payload", "INVOICE_PAYLOAD_INVALID"),
            ("InlineKeyboardButton", "callback_data", "BUTTON_DATA_INVALID"),
            ("CopyTextButton", "text", "COPY_TEXT_INVALID"),
            ("BotCommand", "command", "BOT_COMMAND_INVALID"),
            ("BotCommand", "description", "command description must be non-empty and at most 256 characters"),
            ("InlineQueryResult", "id", "RESULT_ID_INVALID"),
            ("InlineQueryResultsButton", "start_parameter", "START_PARAM_INVALID"),
        )
        for problem in ("short", "long")
    },
}
# How the Bot API server names a type in "can't parse <label>: ...".
LABELS = {
    "InlineKeyboardMarkup": "inline keyboard markup",
    "InlineKeyboardButton": "inline keyboard button",
    "InlineQueryResult": "inline query result",
    "InputMessageContent": "input message content",
    "InputTextMessageContent": "input message content",
    "InlineQueryResultsButton": "inline query results button",
    "LabeledPrice": "labeled price",
    "MenuButton": "menu button",
}


def _not_emulated(params: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if params.get(name):
            raise BadRequestError(
                f'{name} "{params[name]}" is not emulated by the fake Bot API: Murmur sends plain text '
                "(sandbox/fake_bot_api_methods.py)"
            )


def https_url(url: Any) -> bool:
    """https, as production requires; plain http only on loopback, as Telegram's test environment allows for Mini
    Apps (the local stack serves the Mini App on 127.0.0.1)."""
    if not isinstance(url, str):
        return False
    if re.match(r"http://(127\.0\.0\.1|localhost)(:\d+)?(/|$)", url):
        return True
    return url.startswith("https://") and len(url) > len("https://")


# --- objects -------------------------------------------------------------------------------------------------------


def _is_action(button: Mapping[str, Any], field: str) -> bool:
    """Whether an action field is set: the Bot API server reads an empty `url` or `callback_data` as absent
    (telegram-bot-api Client.cpp, get_inline_keyboard_button_type)."""
    value = button.get(field)
    return value is not None and not (field in _EMPTY_MEANS_ABSENT and value == "")


def check_inline_button(button: Mapping[str, Any]) -> None:
    """InlineKeyboardButton: exactly one action field, and Telegram's checks of its value.

    A button whose text is empty passes here and is dropped from the keyboard (see `visible_markup`); a text of only
    whitespace is refused by Telegram's servers with BUTTON_TEXT_INVALID (the wording of MTProto's error list; the
    open-source Bot API server and TDLib do not show this check)."""
    if button["text"] and not button["text"].strip():
        raise BadRequestError("BUTTON_TEXT_INVALID")
    actions = [field for field in INLINE_BUTTON_ACTIONS if _is_action(button, field)]
    if not actions:
        raise BadRequestError("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise BadRequestError("can't parse inline keyboard button: exactly one of the optional fields must be used")
    if actions[0] == "url":
        _check_button_url(button["url"])
    if actions[0] == "web_app" and not https_url(button["web_app"]["url"]):
        url = button["web_app"]["url"]
        raise BadRequestError(f"inline keyboard button Web App URL '{url}' is invalid: Only HTTPS links are allowed")
    if actions[0] == "login_url" and not https_url(button["login_url"]["url"]):
        raise BadRequestError("BUTTON_URL_INVALID")


def _check_button_url(url: str) -> None:
    """A `url` button: an http(s) or tg:// link. TDLib refuses another scheme with its own wording
    (LinkManager::check_link over parse_url); anything else not a link Telegram answers BUTTON_URL_INVALID.
    Stricter than Telegram for a scheme-less "example.com", which TDLib would read as http."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme is not None and scheme.group(1).lower() not in ("http", "https", "tg", "ton", "tonsite"):
        raise BadRequestError(f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol")
    if not re.match(r"(?i)(https?|tg)://[^\s/?#]+\S*$", url):
        raise BadRequestError("BUTTON_URL_INVALID")


def visible_markup(markup: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The keyboard a message ends up with: TDLib silently drops buttons whose text is empty, then rows left empty,
    and a keyboard left without buttons is no keyboard (td ReplyMarkup.cpp)."""
    if markup is None:
        return None
    for key in ("inline_keyboard", "keyboard"):
        if isinstance(markup.get(key), list):
            rows = [
                [button for button in row if (button if isinstance(button, str) else button.get("text"))]
                for row in markup[key]
            ]
            rows = [row for row in rows if row]
            return {**markup, key: rows} if rows else None
    return dict(markup)


def _check_menu_button(button: Mapping[str, Any]) -> None:
    if not button["text"]:
        raise BadRequestError('can\'t parse menu button: Field "text" must be non-empty')
    url = button["web_app"]["url"]
    if not https_url(url):
        raise BadRequestError(f"menu button Web App URL '{url}' is invalid: Only HTTPS links are allowed")


def _check_bot_command(command: Mapping[str, Any]) -> None:
    """BotCommand: 1-32 of a-z, 0-9 and _; a description that is not blank."""
    if not _COMMAND.fullmatch(command["command"]):
        raise BadRequestError("BOT_COMMAND_INVALID")
    if not command["description"].strip():
        raise BadRequestError("command description must be non-empty and at most 256 characters")


def _check_text_content(content: Mapping[str, Any]) -> None:
    """InputTextMessageContent: text that is not blank, without a parse mode."""
    _not_emulated(content, "parse_mode")
    if not content["message_text"].strip():
        raise BadRequestError("MESSAGE_EMPTY")


def _check_inline_result(result: Mapping[str, Any]) -> None:
    """An InlineQueryResult of a kind the fake emulates; no web_app button, which the Bot API allows "only in private
    chats between a user and the bot" while an inline or prepared message goes to any chat (BUTTON_TYPE_INVALID)."""
    kind = str(result["type"]).lower()
    if kind not in EMULATED_RESULT_TYPES:
        raise BadRequestError(f'type "{kind}" is not emulated by the fake (only {", ".join(EMULATED_RESULT_TYPES)})')
    content = result.get("input_message_content")
    if content is not None and "message_text" not in content:
        raise BadRequestError("only InputTextMessageContent (message_text) is emulated by the fake")
    if kind == "photo":
        if not https_url(result["photo_url"]):
            raise BadRequestError("PHOTO_INVALID")
        if not https_url(result["thumbnail_url"]):
            raise BadRequestError("PHOTO_THUMB_URL_INVALID")
    for row in (result.get("reply_markup") or {}).get("inline_keyboard", []):
        if any(button.get("web_app") is not None for button in row):
            raise BadRequestError("BUTTON_TYPE_INVALID")


def _check_results_button(button: Mapping[str, Any]) -> None:
    """InlineQueryResultsButton: a text, and exactly one of web_app (an HTTPS URL) or start_parameter."""
    if not button["text"].strip():
        raise BadRequestError('Can\'t parse inline query results button: Field "text" must be a non-empty String')
    kinds = [field for field in ("web_app", "start_parameter") if button.get(field) is not None]
    if len(kinds) != 1:
        raise BadRequestError(
            "Can't parse inline query results button: InlineQueryResultsButton must have exactly one optional field"
        )
    if kinds[0] == "start_parameter" and not _START_PARAMETER.fullmatch(button["start_parameter"]):
        raise BadRequestError("START_PARAM_INVALID")
    if kinds[0] == "web_app" and not https_url(button["web_app"]["url"]):
        raise BadRequestError("Can't parse inline query results button: Only HTTPS links are allowed")


# --- calls ---------------------------------------------------------------------------------------------------------


def _check_chat_id(params: Mapping[str, Any]) -> None:
    """`Integer or String`: a chat id, or "@username"; another String names no chat."""
    chat_id = params.get("chat_id")
    if isinstance(chat_id, str) and not (chat_id.startswith("@") and len(chat_id) > 1):
        raise BadRequestError("chat not found")


def _message_text(params: Mapping[str, Any]) -> None:
    _check_chat_id(params)
    _not_emulated(params, "parse_mode")
    if params.get("text") is None or not params["text"].strip():
        raise BadRequestError("message text is empty")


def _message_target(params: Mapping[str, Any]) -> None:
    """edit*: either chat_id with message_id, or inline_message_id."""
    _check_chat_id(params)
    if params.get("inline_message_id") is None:
        if params.get("chat_id") is None:
            raise BadRequestError("chat_id is empty")
        if params.get("message_id") is None:
            raise BadRequestError("message identifier is not specified")


def _edit_text(params: Mapping[str, Any]) -> None:
    _not_emulated(params, "rich_message")
    _message_target(params)
    _message_text(params)


def _invoice(params: Mapping[str, Any]) -> None:
    """Stars invoices: no provider token, exactly one positive price, no tips; subscriptions XTR-only."""
    currency, prices = params["currency"], params["prices"]
    total = sum(price["amount"] for price in prices)
    if currency == STARS_CURRENCY:
        if params.get("provider_token") or len(prices) != 1 or prices[0]["amount"] <= 0:
            raise BadRequestError("STARS_INVOICE_INVALID")
        if params.get("max_tip_amount") or params.get("suggested_tip_amounts"):
            raise BadRequestError("STARS_INVOICE_INVALID")
    else:
        if not _CURRENCY.fullmatch(currency):
            raise BadRequestError("CURRENCY_INVALID")
        if not params.get("provider_token"):
            raise BadRequestError("PAYMENT_PROVIDER_INVALID")
        if total <= 0:
            raise BadRequestError("CURRENCY_TOTAL_AMOUNT_INVALID")
    period = params.get("subscription_period")
    if period is not None:
        if currency != STARS_CURRENCY or period != SUBSCRIPTION_PERIOD_SECONDS:
            raise BadRequestError("SUBSCRIPTION_PERIOD_INVALID")
        if total > MAX_SUBSCRIPTION_STARS:
            raise BadRequestError("SUBSCRIPTION_PRICE_INVALID")


def _pre_checkout(params: Mapping[str, Any]) -> None:
    if not params["ok"] and not (params.get("error_message") or "").strip():
        raise BadRequestError("ERROR_MESSAGE_EMPTY: error_message is required if ok is False")


def _webhook(params: Mapping[str, Any]) -> None:
    url = params["url"]
    if url and not url.startswith("https://"):
        raise BadRequestError("bad webhook: An HTTPS URL must be provided for webhook")
    if url:
        port = re.match(r"https://[^/:?#]+(?::(\d+))?", url)
        if port is None:
            raise BadRequestError("bad webhook: Failed to resolve host: Name or service not known")
        if port.group(1) not in (None, "443", "80", "88", "8443"):
            raise BadRequestError("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    secret = params.get("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise BadRequestError("secret token contains unallowed characters")
    for update in params.get("allowed_updates") or ():
        if update not in SPEC.update_types():
            raise BadRequestError(f'unknown update type "{update}" in allowed_updates')


def _language(params: Mapping[str, Any]) -> None:
    code = params.get("language_code")
    if code and not _LANGUAGE_CODE.fullmatch(code):
        raise BadRequestError("invalid language code specified")


def _inline_answer(params: Mapping[str, Any]) -> None:
    results = params["results"]
    if len(results) > MAX_INLINE_RESULTS:
        raise BadRequestError("Too many inline query results specified")
    ids = [result["id"] for result in results]
    if len(set(ids)) != len(ids):
        raise BadRequestError("RESULT_ID_DUPLICATE")


def _prepared_message(params: Mapping[str, Any]) -> None:
    """A prepared message must be sendable somewhere (the fake's wording: the Bot API server passes the flags on and
    Telegram refuses a message that no chat may receive)."""
    if not any(params.get(flag) for flag in CHAT_TYPE_FLAGS.values()):
        raise BadRequestError(
            "at least one of allow_user_chats, allow_bot_chats, allow_group_chats and allow_channel_chats must be true"
        )


def _gift(params: Mapping[str, Any]) -> None:
    if params.get("user_id") is None and params.get("chat_id") is None:
        raise BadRequestError("user_id or chat_id must be specified")  # neither: whom to send it to
    _check_chat_id(params)
    _not_emulated(params, "text_parse_mode")


RULES = Rules(
    words=WORDS,
    labels=LABELS,
    objects={
        "InlineKeyboardButton": check_inline_button,
        "MenuButtonWebApp": _check_menu_button,
        "BotCommand": _check_bot_command,
        "InputTextMessageContent": _check_text_content,
        "InlineQueryResult": _check_inline_result,
        "InlineQueryResultsButton": _check_results_button,
    },
    methods={
        "sendMessage": _message_text,
        "editMessageText": _edit_text,
        "editMessageReplyMarkup": _message_target,
        "createInvoiceLink": _invoice,
        "answerPreCheckoutQuery": _pre_checkout,
        "setWebhook": _webhook,
        "setMyCommands": _language,
        "setMyDescription": _language,
        "setMyShortDescription": _language,
        "answerInlineQuery": _inline_answer,
        "savePreparedInlineMessage": _prepared_message,
        "sendGift": _gift,
    },
)
