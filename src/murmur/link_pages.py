"""The send page of a personal link (`GET /api/links/<code>`): whose link it is, whether and how it takes messages,
what a hint may reveal about the person looking, the question card the link carries and the gifts on offer.

Two round trips: the link (GetItem), then its owner's controls and Telegram's cached gift catalogue together
(BatchGetItem)."""

from __future__ import annotations

from dataclasses import dataclass

from murmur import cards, catalog
from murmur.clues import clues_of, describe_clue
from murmur.inbox import Inbox
from murmur.models import Person
from murmur.real_gifts import OfferedGift, offered
from murmur.store.repositories import Repositories


@dataclass(frozen=True, slots=True)
class ShownCard:
    """The question card a link carries, as the person answering reads it."""

    id: str
    emoji: str
    text: str


@dataclass(frozen=True, slots=True)
class LinkPage:
    owner_name: str
    # The owner's own switch only: a ban must not show here (it would unmask whom a report got banned), and a banned
    # owner's link takes messages as any other does (docs/anonymity.md, "Bans").
    accepts_messages: bool
    slow_mode_seconds: int
    daily_cap: int
    is_self: bool
    hint_ladder: list[str]  # what each hint would reveal about the viewer, in their language
    gifts: dict[str, int]  # the in-app gifts and their prices in Stars
    card: ShownCard | None
    telegram_gifts: list[OfferedGift]  # none before the cron first cached Telegram's catalogue


class LinkPages:
    def __init__(self, repos: Repositories, inbox: Inbox) -> None:
        self.repos = repos
        self.inbox = inbox

    def show(self, code: str, viewer: Person, card_id: str | None) -> LinkPage:
        """NotFoundError for a link that does not exist, CardNotFoundError for a card it does not carry."""
        owner = self.inbox.link_owner(code)
        answered = cards.answering(card_id, owner.question)
        settings, catalogue = self.repos.batch.get(
            [self.repos.users.ref(owner.user_id), self.repos.gift_catalogue.ref()]
        )
        return LinkPage(
            owner_name=owner.first_name,
            accepts_messages=bool(settings and settings.accepts_messages),
            slow_mode_seconds=settings.slow_mode_seconds if settings else 0,
            daily_cap=settings.daily_cap if settings else 0,
            is_self=owner.user_id == viewer.id,
            hint_ladder=[describe_clue(clue, viewer.language_code) for clue in clues_of(viewer)],
            gifts={kind: product.stars for kind, product in catalog.GIFTS.items() if kind},
            card=ShownCard(
                answered.card,
                cards.emoji_of(answered.card),
                answered.question or cards.prompt(answered.card, viewer.language_code),
            )
            if answered
            else None,
            telegram_gifts=offered(catalogue.gifts) if catalogue is not None else [],
        )
