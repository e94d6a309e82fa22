"""t.me links: the personal link opens the Mini App straight on the send page."""

from __future__ import annotations

from urllib.parse import quote

from murmur import cards


def personal_link(bot_username: str, code: str) -> str:
    """Opens the bot's main Mini App with `start_param` = the code (Telegram's `startapp`)."""
    return f"https://t.me/{bot_username}?startapp={code}"


def card_link(bot_username: str, code: str, card_id: str) -> str:
    """A question card's own link: the Mini App's send page for `code`, showing that card's question."""
    return personal_link(bot_username, cards.deep_link_param(code, card_id))


def referral_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start=ref_{code}"


def share_url(link: str, text: str) -> str:
    return f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(text, safe='')}"
