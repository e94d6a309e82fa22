"""All repositories over one client: what the composition root hands to the domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.store.batch import BatchReader
from murmur.store.dynamo import Transactions
from murmur.store.gift_catalogue import GiftCatalogueRepository
from murmur.store.gift_outbox import GiftOutboxRepository
from murmur.store.invite_tallies import InviteTalliesRepository
from murmur.store.links import LinksRepository
from murmur.store.messages import MessagesRepository
from murmur.store.orders import OrdersRepository
from murmur.store.outbox import OutboxRepository
from murmur.store.payments import PaymentsRepository
from murmur.store.people import PeopleRepository
from murmur.store.receipts import ReceiptsRepository
from murmur.store.refund_payers import RefundPayersRepository
from murmur.store.state import StateRepository
from murmur.store.stories import StoryImagesRepository
from murmur.store.tallies import TalliesRepository
from murmur.store.users import UsersRepository


@dataclass(frozen=True, slots=True)
class Repositories:
    users: UsersRepository
    links: LinksRepository
    messages: MessagesRepository
    orders: OrdersRepository
    payments: PaymentsRepository
    state: StateRepository
    outbox: OutboxRepository
    tallies: TalliesRepository
    receipts: ReceiptsRepository
    people: PeopleRepository
    refund_payers: RefundPayersRepository
    gift_outbox: GiftOutboxRepository
    gift_catalogue: GiftCatalogueRepository
    invite_tallies: InviteTalliesRepository
    stories: StoryImagesRepository
    tx: Transactions
    batch: BatchReader

    @classmethod
    def over(
        cls,
        client: Any,
        *,
        users: str,
        links: str,
        messages: str,
        orders: str,
        payments: str,
        state: str,
    ) -> Repositories:
        return cls(
            users=UsersRepository(client, users),
            links=LinksRepository(client, links),
            messages=MessagesRepository(client, messages),
            orders=OrdersRepository(client, orders),
            payments=PaymentsRepository(client, payments),
            state=StateRepository(client, state),
            outbox=OutboxRepository(client, state),
            tallies=TalliesRepository(client, state),
            receipts=ReceiptsRepository(client, state),
            people=PeopleRepository(client, state),
            refund_payers=RefundPayersRepository(client, state),
            gift_outbox=GiftOutboxRepository(client, state),
            gift_catalogue=GiftCatalogueRepository(client, state),
            invite_tallies=InviteTalliesRepository(client, state),
            stories=StoryImagesRepository(client, state),
            tx=Transactions(client),
            batch=BatchReader(client),
        )
