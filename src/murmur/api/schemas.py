"""Request and response bodies: strict, closed pydantic models; the OpenAPI document is built from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
GiftKind = Literal["heart", "fire", "crown"]
ProductId = Literal["unlock", "hint", "plus_week", "pro_month", "gift_heart", "gift_fire", "gift_crown"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ------------------------------------------------------------------ requests
class SendMessageIn(Strict):
    text: str = Field(min_length=1, max_length=1000, pattern=TEXT)
    gift: GiftKind | None = None
    show_nickname: bool = False


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


class ReplyIn(Strict):
    text: str = Field(min_length=1, max_length=1000, pattern=TEXT)


class ReportIn(Strict):
    reason: str = Field(default="", max_length=300, pattern=OPTIONAL_TEXT)


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


class LinkPageOut(Strict):
    code: str
    display_name: str
    accepts_messages: bool
    slow_mode_seconds: int
    daily_cap: int
    is_self: bool
    hint_ladder: list[str]
    gifts: dict[str, int]


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
