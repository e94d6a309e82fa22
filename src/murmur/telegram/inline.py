"""Inline mode: `@<bot> <words>` in any chat offers the person's own cards, each a message with a button to their
own deep link. Answered personally (`is_personal`) and cached briefly, so a card someone just shared is never
served to anyone else, and a new card shows within seconds. Registered in `murmur.telegram.bot`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.ext import ContextTypes

from murmur import texts
from murmur.ports import ShareCard

if TYPE_CHECKING:
    from murmur.composition import Services

# Seconds Telegram may reuse an answer for the same person and words (is_personal): short, since a person's cards
# change when they change their question or their link.
CACHE_SECONDS = 10
# /start's parameter from the button shown to someone without an account yet (not a link code: a plain welcome).
START_PARAMETER = "inline"


def article(card: ShareCard) -> InlineQueryResultArticle:
    """The same article `murmur.telegram.gateway.article_json` sends for a prepared message."""
    return InlineQueryResultArticle(
        id=card.id,
        title=card.title,
        description=card.description,
        input_message_content=InputTextMessageContent(
            card.message_text, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(card.button_text, url=card.url)]]),
    )


async def answer_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot in any chat: the person's own cards matching the words typed; without an account, a button to the
    bot that makes one."""
    query = update.inline_query
    assert query
    services: Services = context.bot_data["services"]
    offered = services.sharing.inline_cards(query.from_user.id, query.query)
    if offered is None:
        button = InlineQueryResultsButton(
            texts.text("inline_get_link", query.from_user.language_code), start_parameter=START_PARAMETER
        )
        await query.answer([], cache_time=CACHE_SECONDS, is_personal=True, button=button)
        return
    await query.answer([article(card) for card in offered], cache_time=CACHE_SECONDS, is_personal=True)
