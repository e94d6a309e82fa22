"""Question cards: ready prompts an owner shares ("Rate me 1-10 and tell me why"), and the owner's own question.

Cards are data: one row each in `CARDS`, with its prompt in every language Murmur speaks (`texts.LANGUAGES`);
adding a card is adding a row, retiring one is removing it (its old links then open the plain send page). A card
travels in its own deep link, `t.me/<bot>?startapp=<link code>-<card id>` (`deep_link_param`), the Mini App sends
its id with the message, and the message keeps the id; for the owner's own question (card `own`) it keeps the
question's text as it read when sent, so changing the question later does not change what old messages answer.
Nothing here is read from DynamoDB: a send validates its card against this table, and the owner's own question
is on their link item, which the send reads anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from murmur import texts
from murmur.errors import NotFoundError
from murmur.user_text import clean_text

OWN = "own"  # the owner's own question: its text lives on their link (`LinksRepository.set_question`)
OWN_EMOJI = "💭"
CARD_ID = r"^[a-z0-9_]{1,24}$"  # a card id; `-` separates it from the link code in a deep link
CARD_ID_RE = re.compile(CARD_ID)
QUESTION_MAX_CHARS = 120  # the owner's own question: one line a sender reads above the text box


class CardNotFoundError(NotFoundError):
    """This question card does not exist (any more)."""

    code = "card_not_found"


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    emoji: str
    prompt: Mapping[str, str]  # language -> the question


CARDS: tuple[Card, ...] = (
    Card("opinion", "🤔", {
        "en": "What do you think about me?",
        "ru": "Что ты обо мне думаешь?",
        "es": "¿Qué piensas de mí?",
    }),
    Card("rate", "🔟", {
        "en": "Rate me 1–10 and tell me why",
        "ru": "Оцени меня от 1 до 10 и объясни почему",
        "es": "Puntúame del 1 al 10 y dime por qué",
    }),
    Card("compliment", "💐", {
        "en": "Give me an anonymous compliment",
        "ru": "Сделай мне анонимный комплимент",
        "es": "Hazme un cumplido anónimo",
    }),
    Card("ask", "❓", {
        "en": "Ask me anything",
        "ru": "Спроси меня о чём угодно",
        "es": "Pregúntame lo que quieras",
    }),
    Card("secret", "🤫", {
        "en": "Tell me a secret",
        "ru": "Расскажи мне секрет",
        "es": "Cuéntame un secreto",
    }),
    Card("first_impression", "👀", {
        "en": "What was your first impression of me?",
        "ru": "Какое у тебя было первое впечатление обо мне?",
        "es": "¿Qué primera impresión te di?",
    }),
    Card("confess", "🙊", {
        "en": "Confess something",
        "ru": "Признайся в чём-нибудь",
        "es": "Confiesa algo",
    }),
    Card("change", "🔧", {
        "en": "What should I change about myself?",
        "ru": "Что мне стоит в себе изменить?",
        "es": "¿Qué debería cambiar de mí?",
    }),
    Card("song", "🎵", {
        "en": "Which song reminds you of me?",
        "ru": "Какая песня напоминает тебе обо мне?",
        "es": "¿Qué canción te recuerda a mí?",
    }),
    Card("never_dared", "💬", {
        "en": "Say something you never dared to say",
        "ru": "Скажи то, на что раньше не хватало смелости",
        "es": "Dime algo que nunca te atreviste a decir",
    }),
    Card("three_words", "✨", {
        "en": "Describe me in three words",
        "ru": "Опиши меня тремя словами",
        "es": "Descríbeme en tres palabras",
    }),
    Card("memory", "📸", {
        "en": "What is your favourite memory of us?",
        "ru": "Какое твоё любимое воспоминание о нас?",
        "es": "¿Cuál es tu recuerdo favorito de nosotros?",
    }),
)  # fmt: skip

BY_ID: dict[str, Card] = {card.id: card for card in CARDS}


def card(card_id: str) -> Card:
    """A card of the catalog (not `own`)."""
    found = BY_ID.get(card_id)
    if found is None:
        raise CardNotFoundError()
    return found


def prompt(card_id: str, language_code: str | None) -> str:
    """A catalog card's question in the reader's language (English when theirs is not spoken here)."""
    return card(card_id).prompt[texts.lang_of(language_code)]


def clean_question(raw: str) -> str:
    """The owner's own question as it is stored: cleaned like a message (no controls, no bidi tricks, something
    visible), on one line, at most QUESTION_MAX_CHARS."""
    return " ".join(clean_text(raw, QUESTION_MAX_CHARS, "question").split())


@dataclass(frozen=True, slots=True)
class Answered:
    """What a message answers: a catalog card's id, or `own` with the owner's question as it read then."""

    card: str
    question: str | None = None


def answering(card_id: str | None, own_question: str | None) -> Answered | None:
    """The card a send answers, checked against the catalog and the owner's question (read with their link).
    A card that does not exist, or `own` when the owner has no question (any more), is CardNotFoundError."""
    if card_id is None:
        return None
    if card_id == OWN:
        if not own_question:
            raise CardNotFoundError()
        return Answered(OWN, own_question)
    return Answered(card(card_id).id)


def emoji_of(card_id: str) -> str:
    return OWN_EMOJI if card_id == OWN else card(card_id).emoji


def question_of(card_id: str | None, snapshot: str | None, language_code: str | None) -> str | None:
    """The question a message answers, as its owner reads it: the snapshot of their own question, or the catalog
    card's prompt in their language (None for a card retired since)."""
    if card_id is None:
        return None
    if card_id == OWN:
        return snapshot
    found = BY_ID.get(card_id)
    return found.prompt[texts.lang_of(language_code)] if found else None


def deep_link_param(link_code: str, card_id: str) -> str:
    """The `startapp` value of a card's link: the 12-character link code stays first and recognisable."""
    return f"{link_code}-{card_id}"
