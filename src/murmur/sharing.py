"""Sharing an owner's link into any chat: the cards offered by inline mode (`@bot` in a chat) and the message the
Mini App prepares for `WebApp.shareMessage`. Each card is a question and the owner's own deep link that answers
it; only ever the asking person's own link, and nothing about anyone who wrote to them."""

from __future__ import annotations

from murmur import cards, links, texts
from murmur.errors import NotFoundError
from murmur.models import User
from murmur.ports import PreparedMessage, PreparedMessages, ShareCard
from murmur.store.repositories import Repositories

LINK = "link"  # the plain invitation, without a question
MAX_QUERY_CHARS = 64  # what an inline query is matched on; Telegram sends up to 256


def _matches(query: str, *fields: str) -> bool:
    words = query.casefold().split()
    haystack = " ".join(fields).casefold()
    return all(word in haystack for word in words)


def share_card(user: User, card_id: str, bot_username: str, own_question: str | None = None) -> ShareCard:
    """One card of this owner, in their language: LINK, a catalog card, or their own question (`cards.OWN`, when
    they wrote one). CardNotFoundError otherwise."""
    language = user.language_code
    button = texts.text("write", language)
    description = texts.text("share_description", language)
    if card_id == LINK:
        return ShareCard(
            LINK,
            texts.text("share_link_title", language),
            description,
            texts.text("share_link_message", language, name=user.first_name),
            button,
            links.personal_link(bot_username, user.link_code),
        )
    if card_id == cards.OWN and not own_question:
        raise cards.CardNotFoundError()
    question = own_question if card_id == cards.OWN else cards.prompt(card_id, language)
    emoji = cards.emoji_of(card_id)
    return ShareCard(
        card_id,
        f"{emoji} {question}",
        description,
        texts.text("share_card_message", language, emoji=emoji, question=question),
        button,
        links.card_link(bot_username, user.link_code, card_id),
    )


class Sharing:
    def __init__(self, repos: Repositories, bot_username: str, bot: PreparedMessages) -> None:
        self.repos = repos
        self.bot_username = bot_username
        self.bot = bot

    def owner(self, user_id: int) -> User | None:
        """The person as an owner with a link to share, or None (no account yet, or one being erased)."""
        user = self.repos.users.get(user_id)
        if user is None or user.erasing or not user.link_code:
            return None
        return user

    def own_question(self, user: User) -> str | None:
        """The owner's own question card, kept on their link."""
        link = self.repos.links.owner_of(user.link_code)
        return link.question if link else None

    def inline_cards(self, user_id: int, query: str) -> list[ShareCard] | None:
        """What `@bot <query>` offers this person: their plain link, their own question if they wrote one, and
        every card whose question matches the query's words (all of them for an empty query), in their language;
        None without an account."""
        user = self.owner(user_id)
        if user is None:
            return None
        query = query[:MAX_QUERY_CHARS]
        own = self.own_question(user)
        ids = [LINK, *([cards.OWN] if own else []), *(card.id for card in cards.CARDS)]
        offered = [share_card(user, card_id, self.bot_username, own) for card_id in ids]
        return [card for card in offered if _matches(query, card.title, card.id)]

    def prepare(self, user_id: int, card_id: str) -> PreparedMessage:
        """A message this person can send to any chat from the Mini App (`WebApp.shareMessage`): one of their own
        cards with a button to its deep link. 404 for an unknown card or a person without an account; nothing is
        stored here (Telegram keeps the prepared message)."""
        user = self.owner(user_id)
        if user is None:
            raise NotFoundError("no link to share yet")
        own = self.own_question(user) if card_id == cards.OWN else None
        return self.bot.save_prepared_message(user.user_id, share_card(user, card_id, self.bot_username, own))
