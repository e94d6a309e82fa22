"""The rules the fake Bot API checks each call against, per method, as the real Bot API states them.

Kept apart from the HTTP server so the rules read like the Bot API reference: one `MethodSpec` per
method with its parameters (type, required, lengths, enums) and, where parameters depend on each
other (Stars invoices, webhooks, message text after entity parsing), one cross-parameter rule.
Nothing here does I/O or keeps state; state-dependent checks (unknown charge, message to edit not
found) live with the state in `sandbox.fake_bot_api`.

Values arrive either typed (a JSON body) or as strings (query string, urlencoded and multipart
forms, where object parameters are JSON-encoded). Like Telegram, an Integer may come as "42" and an
object as its JSON text; unlike Telegram, which reads any unknown Boolean as false, a Boolean must
be true/false/1/0, so a test catches a client that sends garbage.
"""

from __future__ import annotations

import html.parser
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

STARS_CURRENCY = "XTR"
# Native Stars subscriptions exist for 30 days only, and cost at most 10000 Stars a period.
SUBSCRIPTION_PERIOD_SECONDS = 2592000
MAX_SUBSCRIPTION_STARS = 10000
MAX_MESSAGE_TEXT = 4096

UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
        "business_message", "edited_business_message", "deleted_business_messages",
        "message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result",
        "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
        "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
        # Bot API 10.2 (July 14, 2026): Update.subscription, a BotSubscriptionUpdated {user: User,
        # invoice_payload: String, state: String, one of "canceled" (the user cancelled the subscription),
        # "active" (the user re-enabled a previously cancelled one), "failed" (its payment failed)}.
        "subscription",
    }
)  # fmt: skip
# Bot API 10.2: the values of BotSubscriptionUpdated.state.
SUBSCRIPTION_STATES = ("canceled", "active", "failed")
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold",
        "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote",
        "code", "pre", "text_link", "text_mention", "custom_emoji", "date_time",
    }
)  # fmt: skip
COMMAND_SCOPES = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}
# The one-of fields of an InlineKeyboardButton: exactly one must be set.
INLINE_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_EMPTY_MEANS_ABSENT = ("url", "callback_data")

_INTEGER = re.compile(r"-?\d{1,19}")
_FLOAT = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")


class BadRequestError(Exception):
    """A call Telegram would answer with 400; `description` is the text after "Bad Request: "."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, e.g. setWebhook's `certificate`."""

    filename: str
    content_type: str
    data: bytes


# --- scalar types --------------------------------------------------------------------------------


def as_integer(name: str, value: Any) -> int:
    """An Integer parameter: a JSON number without fraction, or its decimal text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    raise BadRequestError(f'parameter "{name}" must be an Integer')


def as_float(name: str, value: Any) -> float:
    """A Float parameter."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)
    raise BadRequestError(f'parameter "{name}" must be a Float')


def as_string(name: str, value: Any) -> str:
    """A String parameter; a JSON number is read as its text, as Telegram does."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    raise BadRequestError(f'parameter "{name}" must be a String')


def as_boolean(name: str, value: Any) -> bool:
    """A Boolean parameter: JSON true/false, or "true"/"false"/"1"/"0" in a form."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise BadRequestError(f'parameter "{name}" must be a Boolean')


def as_chat_id(name: str, value: Any) -> int | str:
    """`Integer or String`: a chat id, or "@channelusername"."""
    if isinstance(value, str) and value.startswith("@") and len(value) > 1:
        return value
    try:
        return as_integer(name, value)
    except BadRequestError:
        if value == "" or value is None:
            raise BadRequestError(f"{name} is empty") from None
        raise BadRequestError("chat not found") from None


def as_input_file_or_string(name: str, value: Any) -> UploadedFile | str:
    """`InputFile or String`: an uploaded part, a file_id or a URL."""
    if isinstance(value, UploadedFile):
        return value
    return as_string(name, value)


# --- parameters ----------------------------------------------------------------------------------

Converter = Callable[[str, Any], Any]
ObjectCheck = Callable[[Any], None]


@dataclass(frozen=True)
class Param:
    """One parameter of a method, with the limits the Bot API documents for it.

    `error` is Telegram's own description for a value out of limits, where it has one.
    """

    name: str
    convert: Converter
    required: bool = False
    length: tuple[int, int] | None = None
    byte_length: tuple[int, int] | None = None
    value_range: tuple[int, int] | None = None
    choices: frozenset[str] | None = None
    error: str | None = None

    def check(self, raw: Any) -> Any:
        """The typed value of `raw`, or BadRequestError."""
        value = self.convert(self.name, raw)
        if self.length is not None and not self.length[0] <= len(value) <= self.length[1]:
            low, high = self.length
            raise BadRequestError(self.error or f'parameter "{self.name}" must be {low}-{high} characters')
        if self.byte_length is not None and not (self.byte_length[0] <= len(value.encode()) <= self.byte_length[1]):
            low, high = self.byte_length
            raise BadRequestError(self.error or f'parameter "{self.name}" must be {low}-{high} bytes')
        if self.value_range is not None and not self.value_range[0] <= value <= self.value_range[1]:
            low, high = self.value_range
            raise BadRequestError(self.error or f'parameter "{self.name}" must be between {low} and {high}')
        if self.choices is not None and value not in self.choices:
            raise BadRequestError(self.error or f'unsupported {self.name} "{value}"')
        return value


def string_param(name: str, *, required: bool = False, **limits: Any) -> Param:
    """A String parameter."""
    return Param(name, as_string, required, **limits)


def integer_param(name: str, *, required: bool = False, **limits: Any) -> Param:
    """An Integer parameter."""
    return Param(name, as_integer, required, **limits)


def boolean_param(name: str, *, required: bool = False) -> Param:
    """A Boolean parameter."""
    return Param(name, as_boolean, required)


def chat_param(name: str = "chat_id", *, required: bool = True) -> Param:
    """An `Integer or String` chat identifier."""
    return Param(name, as_chat_id, required)


def object_param(name: str, label: str, check: ObjectCheck, *, required: bool = False) -> Param:
    """An object or array parameter, JSON-encoded in forms; `label` names it in Telegram's error."""

    def convert(param_name: str, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise BadRequestError(f"can't parse {label} JSON object") from None
        check(value)
        return value

    return Param(name, convert, required)


# --- objects -------------------------------------------------------------------------------------


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestError(f"{what} must be an Object")
    return value


def _array(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequestError(f"{what} must be an Array")
    return value


def _https_url(url: Any) -> bool:
    """https, as production requires; plain http only on loopback, as Telegram's test environment
    allows for Mini Apps (the local stack serves the Mini App on 127.0.0.1)."""
    if not isinstance(url, str):
        return False
    if re.match(r"http://(127\.0\.0\.1|localhost)(:\d+)?(/|$)", url):
        return True
    return url.startswith("https://") and len(url) > len("https://")


def check_any_object(value: Any) -> None:
    """Objects the fake stores but does not inspect (reply_parameters, link_preview_options)."""
    _object(value, "object")


def _is_action(button: Mapping[str, Any], field: str) -> bool:
    """Whether an action field is set: the Bot API server reads an empty `url` or `callback_data`
    as absent (telegram-bot-api Client.cpp, get_inline_keyboard_button_type)."""
    value = button.get(field)
    return value is not None and not (field in _EMPTY_MEANS_ABSENT and value == "")


def check_inline_button(button: Any) -> None:
    """InlineKeyboardButton: a text and exactly one action field, each within its limits.

    A button whose text is empty passes here and is dropped from the keyboard (see `visible_markup`);
    a text of only whitespace is refused by Telegram's servers with BUTTON_TEXT_INVALID (the wording
    of MTProto's error list and of bots that hit it; the open-source Bot API server and TDLib do not
    show this check, so it could not be verified from source).
    """
    button = _object(button, "inline keyboard button")
    text = button.get("text")
    if not isinstance(text, str):
        raise BadRequestError('can\'t parse inline keyboard button: Field "text" must be of type String')
    if text and not text.strip():
        raise BadRequestError("BUTTON_TEXT_INVALID")
    actions = [field for field in INLINE_BUTTON_ACTIONS if _is_action(button, field)]
    if not actions:
        raise BadRequestError("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise BadRequestError("can't parse inline keyboard button: exactly one of the optional fields must be used")
    action = actions[0]
    value = button[action]
    if action == "callback_data" and not (isinstance(value, str) and 1 <= len(value.encode()) <= 64):
        raise BadRequestError("BUTTON_DATA_INVALID")
    if action == "url":
        _check_button_url(value)
    if action == "web_app":
        url = _object(value, "web_app").get("url")
        if not _https_url(url):
            raise BadRequestError(
                f"inline keyboard button Web App URL '{url}' is invalid: Only HTTPS links are allowed"
            )
    if action == "login_url" and not _https_url(_object(value, "login_url").get("url")):
        raise BadRequestError("BUTTON_URL_INVALID")
    if action in ("switch_inline_query", "switch_inline_query_current_chat") and not isinstance(value, str):
        raise BadRequestError(f'can\'t parse inline keyboard button: Field "{action}" must be of type String')
    if action == "copy_text":
        text = _object(value, "copy_text").get("text")
        if not (isinstance(text, str) and 1 <= len(text) <= 256):
            raise BadRequestError("COPY_TEXT_INVALID")


def _check_button_url(url: Any) -> None:
    """A `url` button: an http(s) or tg:// link. TDLib refuses another scheme with its own wording
    (LinkManager::check_link over parse_url); anything else not a link Telegram answers BUTTON_URL_INVALID.
    Stricter than Telegram for a scheme-less "example.com", which TDLib would read as http."""
    if not isinstance(url, str):
        raise BadRequestError('can\'t parse inline keyboard button: Field "url" must be of type String')
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme is not None and scheme.group(1).lower() not in ("http", "https", "tg", "ton", "tonsite"):
        raise BadRequestError(f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol")
    if not re.match(r"(?i)(https?|tg)://[^\s/?#]+\S*$", url):
        raise BadRequestError("BUTTON_URL_INVALID")


def visible_markup(markup: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The keyboard a message ends up with: TDLib silently drops buttons whose text is empty, then
    rows left empty, and a keyboard left without buttons is no keyboard (td ReplyMarkup.cpp)."""
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


def check_inline_keyboard_markup(value: Any) -> None:
    """InlineKeyboardMarkup: an array of button rows."""
    markup = _object(value, "reply markup")
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        raise BadRequestError('can\'t parse inline keyboard markup: Field "inline_keyboard" must be an Array')
    for row in rows:
        if not isinstance(row, list):
            raise BadRequestError(
                'can\'t parse inline keyboard markup: Field "inline_keyboard" must be an Array of Arrays'
            )
        for button in row:
            check_inline_button(button)


def _check_keyboard_button(button: Any) -> None:
    if isinstance(button, str):
        return
    button = _object(button, "keyboard button")
    if not isinstance(button.get("text"), str):
        raise BadRequestError('can\'t parse keyboard button: Field "text" must be of type String')
    web_app = button.get("web_app")
    if web_app is not None and not _https_url(_object(web_app, "web_app").get("url")):
        raise BadRequestError("keyboard button Web App URL is invalid: Only HTTPS links are allowed")


def check_reply_markup(value: Any) -> None:
    """Any of InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove or ForceReply."""
    markup = _object(value, "reply markup")
    if "inline_keyboard" in markup:
        check_inline_keyboard_markup(markup)
    elif "keyboard" in markup:
        for row in _array(markup["keyboard"], "keyboard"):
            for button in _array(row, "keyboard row"):
                _check_keyboard_button(button)
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise BadRequestError("can't parse reply keyboard markup JSON object")


def check_labeled_prices(value: Any) -> None:
    """Array of LabeledPrice {label, amount}; amounts are Integers in the smallest units."""
    prices = _array(value, "prices")
    if not prices:
        raise BadRequestError("CURRENCY_TOTAL_AMOUNT_INVALID")
    for price in prices:
        price = _object(price, "LabeledPrice")
        if not isinstance(price.get("label"), str) or not price["label"]:
            raise BadRequestError("can't parse prices JSON object")
        amount = price.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise BadRequestError("can't parse prices JSON object")


def check_integer_array(value: Any) -> None:
    """Array of Integer (suggested_tip_amounts)."""
    for item in _array(value, "array"):
        if not isinstance(item, int) or isinstance(item, bool):
            raise BadRequestError("can't parse array of Integer")


def check_message_entities(value: Any) -> None:
    """Array of MessageEntity {type, offset, length, ...}."""
    for entity in _array(value, "entities"):
        entity = _object(entity, "MessageEntity")
        if entity.get("type") not in ENTITY_TYPES:
            raise _unparsable("unsupported entity type")
        for field in ("offset", "length"):
            if not isinstance(entity.get(field), int) or entity[field] < 0:
                raise BadRequestError(f'can\'t parse MessageEntity: Field "{field}" must be a non-negative Integer')


def check_allowed_updates(value: Any) -> None:
    """Array of String naming update types."""
    for item in _array(value, "allowed_updates"):
        if item not in UPDATE_TYPES:
            raise BadRequestError(f'unknown update type "{item}" in allowed_updates')


def check_bot_commands(value: Any) -> None:
    """Array of BotCommand: at most 100; command 1-32 of a-z 0-9 _; description 1-256."""
    commands = _array(value, "commands")
    if len(commands) > 100:
        raise BadRequestError("too many commands specified")
    for command in commands:
        command = _object(command, "BotCommand")
        if not (isinstance(command.get("command"), str) and _COMMAND.fullmatch(command["command"])):
            raise BadRequestError("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not (isinstance(description, str) and description.strip() and len(description) <= 256):
            raise BadRequestError("command description must be non-empty and at most 256 characters")


def check_command_scope(value: Any) -> None:
    """BotCommandScope: a known type plus the ids that type needs."""
    scope = _object(value, "BotCommandScope")
    needed = COMMAND_SCOPES.get(scope.get("type"))  # type: ignore[arg-type]
    if needed is None:
        raise BadRequestError("unsupported scope type")
    for field in needed:
        if scope.get(field) in (None, ""):
            raise BadRequestError(f'can\'t parse BotCommandScope: Field "{field}" must be present')


def check_menu_button(value: Any) -> None:
    """MenuButton: commands, default, or web_app with a text and an https URL."""
    button = _object(value, "MenuButton")
    kind = button.get("type")
    if kind in ("commands", "default"):
        return
    if kind != "web_app":
        raise BadRequestError("unsupported menu button type")
    if not isinstance(button.get("text"), str) or not button["text"]:
        raise BadRequestError('can\'t parse menu button: Field "text" must be non-empty')
    url = _object(button.get("web_app"), "web_app").get("url")
    if not _https_url(url):
        raise BadRequestError(f"menu button Web App URL '{url}' is invalid: Only HTTPS links are allowed")


# --- formatted text ------------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _PlainText:
    """The visible text being built while markup is parsed, with offsets in UTF-16 units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += _utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.offset > start:
            self.entities.append({"type": kind, "offset": start, "length": self.offset - start, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip


class _HtmlMarkup(html.parser.HTMLParser):
    """Telegram's HTML style: a closed set of tags, properly nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.plain = _PlainText()
        self.open: list[tuple[str, str | None, int, dict[str, Any]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind: str | None = _HTML_TAGS.get(tag)
        attributes = dict(attrs)
        if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise _unparsable(f'Unsupported start tag "{tag}"')
        extra: dict[str, Any] = {}
        if tag == "a":
            extra["url"] = attributes.get("href") or ""
        elif tag == "blockquote" and "expandable" in attributes:
            kind = "expandable_blockquote"
        elif tag == "tg-emoji":
            if not attributes.get("emoji-id"):
                raise _unparsable('Tag "tg-emoji" must have attribute "emoji-id"')
            extra["custom_emoji_id"] = attributes["emoji-id"]
        elif tag == "code" and self.open and self.open[-1][0] == "pre":
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self.open[-1][3]["language"] = language
            kind = None  # folded into the enclosing pre entity
        self.open.append((tag, kind, self.plain.offset, extra))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _unparsable(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise _unparsable(f'Unmatched end tag "{tag}"')
        _, kind, start, extra = self.open.pop()
        if kind is not None:
            self.plain.entity(kind, start, **extra)

    def handle_data(self, data: str) -> None:
        self.plain.add(data)


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _HtmlMarkup()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise _unparsable(f'Can\'t find end tag corresponding to start tag "{parser.open[-1][0]}"')
    return parser.plain.result()


def _unparsable(detail: str) -> BadRequestError:
    """Telegram's error for markup it cannot turn into entities."""
    return BadRequestError(f"can't parse entities: {detail}")


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_RESERVED_HELP = "is reserved and must be escaped with the preceding '\\'"
_MDV2_MARKERS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _until_unescaped(text: str, start: int, closer: str) -> tuple[str, int]:
    """The unescaped content from `start` to `closer`, and the index just past the closer."""
    out: list[str] = []
    i = start
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif text.startswith(closer, i):
            return "".join(out), i + len(closer)
        else:
            out.append(text[i])
            i += 1
    raise _unparsable(f"Can't find end of the entity starting at byte offset {_byte_offset(text, start)}")


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """MarkdownV2: every reserved character outside markup must be escaped with a backslash."""
    plain = _PlainText()
    open_marks: list[tuple[str, str, int, int]] = []
    quote_start: int | None = None
    last_newline = 0  # offset of the latest line break: where a blockquote ends
    i, line_start = 0, True
    while i < len(text):
        c = text[i]
        if line_start:
            line_start = False
            if c == ">":
                quote_start = plain.offset if quote_start is None else quote_start
                i += 1
                continue
            if quote_start is not None:
                plain.entities.append(
                    {"type": "blockquote", "offset": quote_start, "length": last_newline - quote_start}
                )
                quote_start = None
        if c == "\\" and i + 1 < len(text) and ord(text[i + 1]) < 127:
            plain.add(text[i + 1])
            i += 2
        elif text.startswith("```", i):
            body, i = _until_unescaped(text, i + 3, "```")
            language, newline, code = body.partition("\n")
            start = plain.offset
            plain.add(code if newline else body)
            plain.entity("pre", start, **({"language": language} if newline and language else {}))
        elif c == "`":
            code, i = _until_unescaped(text, i + 1, "`")
            start = plain.offset
            plain.add(code)
            plain.entity("code", start)
        elif c == "[":
            open_marks.append(("[", "text_link", plain.offset, i))
            i += 1
        elif c == "]" and open_marks and open_marks[-1][0] == "[":
            if not text.startswith("(", i + 1):
                raise _unparsable("Character ']' " + _RESERVED_HELP)
            url, i = _until_unescaped(text, i + 2, ")")
            plain.entity("text_link", open_marks.pop()[2], url=url)
        else:
            marker = next(((m, kind) for m, kind in _MDV2_MARKERS if text.startswith(m, i)), None)
            if marker is not None:
                mark, kind = marker
                if open_marks and open_marks[-1][0] == mark:
                    plain.entity(kind, open_marks.pop()[2])
                elif any(m == mark for m, *_ in open_marks):
                    raise _unparsable(f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}")
                else:
                    open_marks.append((mark, kind, plain.offset, i))
                i += len(mark)
            elif c in _MDV2_RESERVED:
                raise _unparsable(f"Character '{c}' " + _RESERVED_HELP)
            else:
                if c == "\n":
                    last_newline, line_start = plain.offset, True
                plain.add(c)
                i += 1
    if quote_start is not None:
        plain.entity("blockquote", quote_start)
    if open_marks:
        _, kind, _, index = open_marks[-1]
        raise _unparsable(f"Can't find end of {kind} entity at byte offset {_byte_offset(text, index)}")
    return plain.result()


def _parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    plain = _PlainText()
    i = 0
    while i < len(text):
        c = text[i]
        start = plain.offset
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            plain.add(text[i + 1])
            i += 2
        elif text.startswith("```", i):
            body, i = _until_unescaped(text, i + 3, "```")
            plain.add(body)
            plain.entity("pre", start)
        elif c in "*_`":
            body, i = _until_unescaped(text, i + 1, c)
            plain.add(body)
            plain.entity({"*": "bold", "_": "italic", "`": "code"}[c], start)
        elif c == "[":
            label, i = _until_unescaped(text, i + 1, "](")
            url, i = _until_unescaped(text, i, ")")
            plain.add(label)
            plain.entity("text_link", start, url=url)
        else:
            plain.add(c)
            i += 1
    return plain.result()


PARSE_MODES: dict[str, Callable[[str], tuple[str, list[dict[str, Any]]]]] = {
    "html": _parse_html,
    "markdownv2": _parse_markdown_v2,
    "markdown": _parse_markdown,
}


def parse_formatted_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and its entities, as Telegram derives them from `parse_mode` markup."""
    if not parse_mode:
        return text, []
    parser = PARSE_MODES.get(parse_mode.lower())
    if parser is None:
        raise BadRequestError(f"unsupported parse_mode {parse_mode!r}")
    return parser(text)


def visible_text(params: Mapping[str, Any], field: str = "text") -> tuple[str, list[dict[str, Any]]]:
    """The text a message shows and its entities: explicit `entities` win over `parse_mode`."""
    text = params[field]
    if params.get("entities") is not None:
        return text, list(params["entities"])
    return parse_formatted_text(text, params.get("parse_mode"))


# --- cross-parameter rules -----------------------------------------------------------------------


def _message_text_rule(params: Mapping[str, Any]) -> None:
    text, _ = visible_text(params)
    if not text.strip():
        raise BadRequestError("message text is empty")
    if len(text) > MAX_MESSAGE_TEXT:
        raise BadRequestError("message is too long")


def _message_target_rule(params: Mapping[str, Any]) -> None:
    """edit*: either chat_id with message_id, or inline_message_id."""
    if params.get("inline_message_id") is None:
        if params.get("chat_id") is None:
            raise BadRequestError("chat_id is empty")
        if params.get("message_id") is None:
            raise BadRequestError("message identifier is not specified")


def _edit_text_rule(params: Mapping[str, Any]) -> None:
    _message_target_rule(params)
    _message_text_rule(params)


def _invoice_rule(params: Mapping[str, Any]) -> None:
    """Stars invoices: no provider token, exactly one positive price, no tips; subscriptions XTR-only."""
    currency = params["currency"]
    prices = params["prices"]
    total = sum(price["amount"] for price in prices)
    if currency == STARS_CURRENCY:
        if params.get("provider_token"):
            raise BadRequestError("STARS_INVOICE_INVALID")
        if len(prices) != 1 or prices[0]["amount"] <= 0:
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


def _pre_checkout_rule(params: Mapping[str, Any]) -> None:
    if not params["ok"] and not (params.get("error_message") or "").strip():
        raise BadRequestError("ERROR_MESSAGE_EMPTY: error_message is required if ok is False")


def _webhook_rule(params: Mapping[str, Any]) -> None:
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


def _language_rule(params: Mapping[str, Any]) -> None:
    code = params.get("language_code")
    if code and not _LANGUAGE_CODE.fullmatch(code):
        raise BadRequestError("invalid language code specified")


# --- methods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodSpec:
    """A Bot API method: its parameters and the rule tying them together."""

    name: str
    params: tuple[Param, ...]
    rule: Callable[[Mapping[str, Any]], None] | None = None


_SENDING = (
    string_param("business_connection_id"),
    integer_param("message_thread_id"),
    integer_param("direct_messages_topic_id"),
    boolean_param("disable_notification"),
    boolean_param("protect_content"),
    boolean_param("allow_paid_broadcast"),
    string_param("message_effect_id"),
    object_param("suggested_post_parameters", "suggested post parameters", check_any_object),
    object_param("reply_parameters", "reply parameters", check_any_object),
    integer_param("reply_to_message_id"),
    boolean_param("allow_sending_without_reply"),
)
_TEXT = (
    string_param("text", required=True),
    string_param("parse_mode"),
    object_param("entities", "entities", check_message_entities),
    object_param("link_preview_options", "link preview options", check_any_object),
    boolean_param("disable_web_page_preview"),
)
_EDIT_TARGET = (
    string_param("business_connection_id"),
    chat_param(required=False),
    integer_param("message_id"),
    string_param("inline_message_id"),
)
_INLINE_MARKUP = object_param("reply_markup", "inline keyboard markup", check_inline_keyboard_markup)
_INVOICE = (
    string_param("title", required=True, length=(1, 32), error="INVOICE_TITLE_INVALID"),
    string_param("description", required=True, length=(1, 255), error="INVOICE_DESCRIPTION_INVALID"),
    string_param("payload", required=True, byte_length=(1, 128), error="INVOICE_PAYLOAD_INVALID"),
    string_param("provider_token"),
    string_param("currency", required=True),
    object_param("prices", "prices", check_labeled_prices, required=True),
    integer_param("max_tip_amount"),
    object_param("suggested_tip_amounts", "suggested tip amounts", check_integer_array),
    string_param("provider_data"),
    string_param("photo_url"),
    integer_param("photo_size"),
    integer_param("photo_width"),
    integer_param("photo_height"),
    *(
        boolean_param(name)
        for name in (
            "need_name", "need_phone_number", "need_email", "need_shipping_address",
            "send_phone_number_to_provider", "send_email_to_provider", "is_flexible",
        )
    ),
)  # fmt: skip
_LANGUAGE = string_param("language_code")
_SCOPE = object_param("scope", "BotCommandScope", check_command_scope)


def _specs(*specs: MethodSpec) -> dict[str, MethodSpec]:
    return {spec.name.lower(): spec for spec in specs}


# Keyed by the lower-cased name: Telegram matches method names case-insensitively.
METHODS: dict[str, MethodSpec] = _specs(
    MethodSpec("getMe", ()),
    MethodSpec(
        "sendMessage",
        (
            chat_param(),
            *_SENDING,
            *_TEXT,
            object_param("reply_markup", "reply keyboard markup", check_reply_markup),
        ),
        _message_text_rule,
    ),
    MethodSpec("editMessageText", (*_EDIT_TARGET, *_TEXT, _INLINE_MARKUP), _edit_text_rule),
    MethodSpec("editMessageReplyMarkup", (*_EDIT_TARGET, _INLINE_MARKUP), _message_target_rule),
    MethodSpec("deleteMessage", (chat_param(), integer_param("message_id", required=True))),
    MethodSpec(
        "answerCallbackQuery",
        (
            string_param("callback_query_id", required=True),
            string_param("text", length=(0, 200), error="MESSAGE_TOO_LONG"),
            boolean_param("show_alert"),
            string_param("url"),
            integer_param("cache_time", value_range=(0, 2**31 - 1)),
        ),
    ),
    MethodSpec(
        "createInvoiceLink",
        (
            string_param("business_connection_id"),
            *_INVOICE,
            integer_param("subscription_period"),
        ),
        _invoice_rule,
    ),
    MethodSpec(
        "sendInvoice",
        (chat_param(), *_SENDING, *_INVOICE, string_param("start_parameter"), _INLINE_MARKUP),
        _invoice_rule,
    ),
    MethodSpec(
        "answerPreCheckoutQuery",
        (
            string_param("pre_checkout_query_id", required=True),
            boolean_param("ok", required=True),
            string_param("error_message"),
        ),
        _pre_checkout_rule,
    ),
    MethodSpec(
        "refundStarPayment",
        (integer_param("user_id", required=True), string_param("telegram_payment_charge_id", required=True)),
    ),
    MethodSpec(
        "getStarTransactions",
        (integer_param("offset", value_range=(0, 2**31 - 1)), integer_param("limit", value_range=(1, 100))),
    ),
    MethodSpec(
        "editUserStarSubscription",
        (
            integer_param("user_id", required=True),
            string_param("telegram_payment_charge_id", required=True),
            boolean_param("is_canceled", required=True),
        ),
    ),
    MethodSpec(
        "setWebhook",
        (
            string_param("url", required=True),
            Param("certificate", as_input_file_or_string),
            string_param("ip_address"),
            integer_param("max_connections", value_range=(1, 100)),
            object_param("allowed_updates", "allowed updates", check_allowed_updates),
            boolean_param("drop_pending_updates"),
            string_param("secret_token"),
        ),
        _webhook_rule,
    ),
    MethodSpec("deleteWebhook", (boolean_param("drop_pending_updates"),)),
    MethodSpec("getWebhookInfo", ()),
    MethodSpec(
        "setChatMenuButton",
        (integer_param("chat_id"), object_param("menu_button", "menu button", check_menu_button)),
    ),
    MethodSpec("getChatMenuButton", (integer_param("chat_id"),)),
    MethodSpec(
        "setMyCommands",
        (object_param("commands", "commands", check_bot_commands, required=True), _SCOPE, _LANGUAGE),
        _language_rule,
    ),
    MethodSpec("getMyCommands", (_SCOPE, _LANGUAGE), _language_rule),
    MethodSpec("deleteMyCommands", (_SCOPE, _LANGUAGE), _language_rule),
    MethodSpec(
        "setMyDescription",
        (string_param("description", length=(0, 512), error="BOT_DESCRIPTION_INVALID"), _LANGUAGE),
        _language_rule,
    ),
    MethodSpec("getMyDescription", (_LANGUAGE,), _language_rule),
    MethodSpec(
        "setMyShortDescription",
        (string_param("short_description", length=(0, 120), error="BOT_ABOUT_INVALID"), _LANGUAGE),
        _language_rule,
    ),
    MethodSpec("getMyShortDescription", (_LANGUAGE,), _language_rule),
    MethodSpec(
        "setMyName",
        (string_param("name", length=(0, 64), error="BOT_TITLE_INVALID"), _LANGUAGE),
        _language_rule,
    ),
    MethodSpec("getMyName", (_LANGUAGE,), _language_rule),
    MethodSpec(
        "sendChatAction",
        (
            string_param("business_connection_id"),
            chat_param(),
            integer_param("message_thread_id"),
            string_param("action", required=True, choices=CHAT_ACTIONS, error="wrong parameter action in request"),
        ),
    ),
    MethodSpec("getChat", (chat_param(),)),
)


def validate_call(spec: MethodSpec, raw: Mapping[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
    """Check `raw` against `spec`, filling `typed` as parameters pass (kept even on failure).

    Parameters the method does not know are kept as sent: Telegram ignores them too.
    """
    for name, value in raw.items():
        typed.setdefault(name, value)
    for param in spec.params:
        value = raw.get(param.name)
        if value is None or (value == "" and param.convert is not as_string):
            typed.pop(param.name, None)
            if param.required:
                if param.convert is as_chat_id:
                    raise BadRequestError(f"{param.name} is empty")
                if param.name == "text":
                    raise BadRequestError("message text is empty")
                raise BadRequestError(f'parameter "{param.name}" is required')
            continue
        typed[param.name] = param.check(value)
    if spec.rule is not None:
        spec.rule(typed)
    return typed
