"""Question cards: each card's question in my language with its own deep link, and my own question."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from murmur import cards, links
from murmur.api.auth import person_of
from murmur.api.schemas import CardOut, CardsOut, QuestionIn, success
from murmur.composition import Services
from murmur.models import User


def cards_out(user: User, own_question: str | None, services: Services) -> CardsOut:
    bot = services.settings.bot_username

    def card_out(card_id: str, text: str) -> CardOut:
        url = links.card_link(bot, user.link_code, card_id)
        return CardOut(
            id=card_id, emoji=cards.emoji_of(card_id), text=text, url=url, share_url=links.share_url(url, text)
        )

    out = [card_out(card.id, cards.prompt(card.id, user.language_code)) for card in cards.CARDS]
    if own_question:
        out.append(card_out(cards.OWN, own_question))
    return CardsOut(cards=out, own_question=own_question)


def build(services: Services) -> APIGatewayHttpRouter:
    router = APIGatewayHttpRouter()

    def me() -> User:
        return services.inbox.ensure_user(person_of(router.context["init"]))

    @router.get("/api/cards", summary="Question cards to share, each with its own link", responses=success(CardsOut))
    def get_cards() -> CardsOut:
        user = me()
        return cards_out(user, services.inbox.link_owner(user.link_code).question, services)

    @router.put("/api/me/question", summary="Set my own question card", responses=success(CardsOut))
    def set_question(body: QuestionIn) -> CardsOut:
        user = me()
        return cards_out(user, services.inbox.set_question(user, body.text), services)

    @router.delete("/api/me/question", summary="Remove my own question card", responses=success(CardsOut))
    def clear_question() -> CardsOut:
        user = me()
        return cards_out(user, services.inbox.set_question(user, None), services)

    return router
