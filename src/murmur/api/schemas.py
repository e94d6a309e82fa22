"""Request and response bodies: strict, closed pydantic models; the OpenAPI document is built from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from murmur.cards import CARD_ID, QUESTION_MAX_CHARS
from murmur.config import Limits
from murmur.stories import MAX_STORY_BYTES
from murmur.user_text import VISIBLE_CHARACTER

MESSAGE_ID = r"^\d{13}[0-9a-f]{8}$"
LINK_CODE = r"^[A-Za-z0-9]{12}$"
ORDER_ID = r"^o_[A-Za-z0-9_-]{24}$"
# A client's key for one composed message (`Idempotency-Key`): a UUID fits; URL-safe characters only.
IDEMPOTENCY_KEY = r"^[A-Za-z0-9_-]{8,64}$"
# What `user_text.clean_text` accepts, said in the schema so clients (and fuzzers) know it: no control
# characters but newline and tab, and at least one character that shows something (not only whitespace,
# zero-width or format characters, fillers): an invisible-only text is refused like an empty one.
_NO_CONTROL = r"[^\x00-\x08\x0b-\x1f\x7f-\x9f]"
TEXT = rf"^{_NO_CONTROL}*{VISIBLE_CHARACTER}{_NO_CONTROL}*$"
OPTIONAL_TEXT = rf"^{_NO_CONTROL}*$"
STORY_IMAGE_BASE64_CHARS = -(-MAX_STORY_BYTES // 3) * 4
GiftKind = Literal["heart", "fire", "crown"]
TELEGRAM_GIFT_ID = r"^[0-9]{1,20}$"  # Gift.id: Telegram's gift ids are 64-bit numbers, as a String
ProductId = Literal["unlock", "hint", "plus_week", "pro_month", "gift_heart", "gift_fire", "gift_crown"]
# The lengths the domain enforces (`clean_text` with these limits), said in the schema: one number each.
LIMITS = Limits()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ------------------------------------------------------------------ requests
class SendMessageIn(Strict):
    # One gift at most: the document says so (`not` both fields), so a client and a fuzzer know before sending.
    model_config = ConfigDict(json_schema_extra={"not": {"required": ["gift", "telegram_gift"]}})

    text: str = Field(min_length=1, max_length=LIMITS.message_chars, pattern=TEXT)
    gift: GiftKind | None = None
    show_nickname: bool = False
    # The question card the message answers (`GET /api/cards`; `own`: the owner's own question).
    card: str | None = Field(default=None, pattern=CARD_ID)
    # A real Telegram gift instead of an in-app one: its id, as the send page lists it (`telegram_gifts`).
    telegram_gift: str | None = Field(default=None, pattern=TELEGRAM_GIFT_ID)

    @model_validator(mode="after")
    def _one_gift(self) -> SendMessageIn:
        if {"gift", "telegram_gift"} <= self.model_fields_set:
            raise ValueError("choose one gift: an in-app gift or a Telegram gift")
        return self


class QuestionIn(Strict):
    """The owner's own question card."""

    text: str = Field(min_length=1, max_length=QUESTION_MAX_CHARS, pattern=TEXT)


class SettingsIn(Strict):
    accepts_messages: bool | None = None
    # The owner's own limits for a popular link: per sender (slow mode) and in all (a daily cap); 0 turns off.
    slow_mode_seconds: Literal[0, 60, 600, 3600, 86400] | None = None

    @field_validator("slow_mode_seconds", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # False == 0 would otherwise match the Literal
            raise ValueError("slow_mode_seconds must be a number of seconds")
        return value

    daily_cap: int | None = Field(default=None, ge=0, le=100_000)

    @field_validator("daily_cap", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        """JSON has one number type: 10.0 is the integer 10 (as JSON Schema's `integer` says), 10.5 is not."""
        return int(value) if isinstance(value, float) and value.is_integer() else value


class ReplyIn(Strict):
    text: str = Field(min_length=1, max_length=LIMITS.reply_chars, pattern=TEXT)


class ReportIn(Strict):
    reason: str = Field(default="", max_length=LIMITS.report_chars, pattern=OPTIONAL_TEXT)


class OrderIn(Strict):
    product: ProductId
    message_id: str | None = Field(default=None, pattern=MESSAGE_ID)
    # For a gift on a message I sent: the link it went to (the message's key is the inbox and its id).
    link_code: str | None = Field(default=None, pattern=LINK_CODE)


# ------------------------------------------------------------------ responses
def success(model: type[BaseModel], status: int = 200, description: str = "done") -> dict[int, Any]:
    """The OpenAPI entry of a route's one success answer (the error answers are added to every route)."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


class ErrorBody(Strict):
    code: str
    message: str


class ErrorOut(Strict):
    error: ErrorBody


class LinkOut(Strict):
    code: str
    url: str
    referral_url: str
    share_url: str


class PlanOut(Strict):
    kind: Literal["free", "plus", "pro"]
    active: bool
    expires_at: int | None
    cancelled: bool


class InviteRulesOut(Strict):
    """What an invite earns: at most `per_week` credits a week, `max_held` at a time, each for `valid_days`."""

    per_week: int
    max_held: int
    valid_days: int


class MeOut(Strict):
    id: int
    first_name: str
    language: str
    is_admin: bool
    accepts_messages: bool
    link: LinkOut
    plan: PlanOut
    received: int
    unread: int
    today: int
    slow_mode_seconds: int
    daily_cap: int
    referrals: int
    invite_credits: int  # free unlocks earned by inviting people, held now
    invite_rules: InviteRulesOut


class CardOut(Strict):
    id: str
    emoji: str
    text: str  # the question, in the user's language (the owner's own question as they wrote it)
    url: str  # its deep link: t.me/<bot>?startapp=<link code>-<card id>
    share_url: str  # Telegram's share sheet for that link, with the question as its text


class CardsOut(Strict):
    cards: list[CardOut]  # the catalog's cards, then the owner's own question if they wrote one
    own_question: str | None


class CardPageOut(Strict):
    """The question a send page answers, in the sender's language."""

    id: str
    emoji: str
    text: str


class TelegramGiftOut(Strict):
    id: str
    emoji: str  # its sticker's emoji
    stars: int  # its price to the sender


class LinkPageOut(Strict):
    code: str
    display_name: str
    accepts_messages: bool
    slow_mode_seconds: int
    daily_cap: int
    is_self: bool
    hint_ladder: list[str]
    gifts: dict[str, int]
    card: CardPageOut | None = None
    # Real Telegram gifts the bot can send with the message, cheapest first; their text is the message's start.
    telegram_gifts: list[TelegramGiftOut] = Field(default_factory=list)


class ReplyOut(Strict):
    text: str
    sent_at: int


class MessageOut(Strict):
    id: str
    preview: str
    text: str | None
    locked: bool
    unread: bool
    created_at: int
    gifts: list[str]
    hints: list[str]
    hints_left: int
    nickname: str | None
    card: str | None = None  # the question card it answers, if any, and that question in the owner's words
    question: str | None = None
    replies: list[ReplyOut] = Field(default_factory=list)  # what I answered, the latest few, oldest first
    telegram_gifts: list[str] = Field(default_factory=list)  # real Telegram gifts delivered with it: their emoji


class CreditUnlockOut(Strict):
    message: MessageOut
    invite_credits: int  # left after this one


class InboxOut(Strict):
    messages: list[MessageOut]
    next_cursor: str | None


class InvoiceOut(Strict):
    order_id: str
    product: str
    amount: int
    currency: Literal["XTR"]
    invoice_link: str


class SentOut(Strict):
    message_id: str
    gift_invoice: InvoiceOut | None


class OrderStatusOut(Strict):
    order_id: str
    product: str
    status: Literal["pending", "paid", "refunded"]


class ProductOut(Strict):
    id: str
    stars: int
    title: str
    description: str
    payer: Literal["owner", "sender"]
    subscription: bool


class CatalogOut(Strict):
    products: list[ProductOut]


class DoneOut(Strict):
    ok: bool


class ErasureOut(Strict):
    ok: bool
    erased: bool  # false: under way, finished by the next call or within minutes by the service itself
    message: str  # what to tell the person, in their language


# ------------------------------------------------------------------ sharing (routes/sharing.py)
# Standard base64 with its padding (RFC 4648, section 4), as `base64.b64decode(validate=True)` reads it.
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
# A story image's file name: its token (`murmur.stories`, 32 URL-safe characters), then .jpg.
STORY_FILE = r"^[A-Za-z0-9_-]{32}\.jpg$"


class PreparedIn(Strict):
    # One of my cards (`GET /api/cards`), or "link" for the plain invitation.
    card: str = Field(pattern=CARD_ID)


class PreparedOut(Strict):
    id: str  # for Telegram.WebApp.shareMessage
    expiration_date: int


class StoryIn(Strict):
    # The card as the Mini App drew it: a 1080x1920 JPEG, base64 (murmur.stories.MAX_STORY_BYTES decoded).
    image: str = Field(min_length=4, max_length=STORY_IMAGE_BASE64_CHARS, pattern=BASE64)


class StoryOut(Strict):
    url: str  # for Telegram.WebApp.shareToStory: HTTPS on this origin, for an hour
    expires_at: int
