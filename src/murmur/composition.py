"""Builds the application's objects once per container, from Settings; each Lambda's app.py uses it.

Each object is built on first use (a cold start builds only what its first request touches); the modules are
imported here, at the top, like everywhere else (ADR 0015)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from murmur.abuse import Moderation
from murmur.admin_stats import AdminStats
from murmur.announcements import Announcements
from murmur.clock import Clock, SystemClock
from murmur.config import Settings
from murmur.delivery import NoticeDelivery
from murmur.gift_delivery import GiftDeliveries
from murmur.inbox import Inbox
from murmur.link_pages import LinkPages
from murmur.observability import BusinessMetrics
from murmur.orders import Orders
from murmur.ports import BotGateway
from murmur.privacy import Erasures
from murmur.real_gifts import RealGifts
from murmur.refunds import AutomaticRefunds
from murmur.replies import Replies
from murmur.report_digests import ReportDigests
from murmur.sharing import Sharing
from murmur.store.dynamo import make_client
from murmur.store.parameters import read_parameters
from murmur.store.repositories import Repositories
from murmur.stories import Stories
from murmur.telegram.gateway import BotApiPool, HttpGateway


class Services:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        client: Any = None,
        gateway: BotGateway | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Any = clock or SystemClock()
        self._client = client
        self._gateway = gateway

    def _configured(self, value: str | None, param: str | None, what: str) -> str:
        if value:
            return value
        if param:
            return self.parameters[param]
        raise RuntimeError(f"{what} is not configured")

    @cached_property
    def parameters(self) -> dict[str, str]:
        """Every SSM parameter this function is configured with, read together on the first need."""
        s = self.settings
        names = {s.bot_token_param, s.webhook_secret_param, s.pseudonym_secret_param, s.webapp_url_param}
        wanted = sorted(name for name in names if name)
        if not wanted:
            return {}
        # The site URL may not exist yet (see webapp_url); a missing secret is an error at once.
        return read_parameters(wanted, s.region, optional=[s.webapp_url_param] if s.webapp_url_param else [])

    @cached_property
    def client(self) -> Any:
        return self._client or make_client(self.settings.region, self.settings.dynamodb_endpoint)

    @cached_property
    def repos(self) -> Repositories:
        s = self.settings
        return Repositories.over(
            self.client,
            users=s.users_table,
            links=s.links_table,
            messages=s.messages_table,
            orders=s.orders_table,
            payments=s.payments_table,
            state=s.state_table,
        )

    @cached_property
    def bot_token(self) -> str:
        return self._configured(self.settings.bot_token, self.settings.bot_token_param, "the bot token")

    @cached_property
    def webhook_secret(self) -> str:
        return self._configured(self.settings.webhook_secret, self.settings.webhook_secret_param, "the webhook secret")

    @property
    def webapp_url(self) -> str:
        """Where web_app buttons open the Mini App: set directly locally, published by the stack on AWS.

        On AWS the stack writes the parameter once its CloudFront distribution exists, minutes into the first
        deploy, while the schedule may already run the cron: until then this is "" (no user can exist before
        `make setup-bot`, which needs the finished stack, so nothing is due that would show it) and every access
        asks SSM again; once found, the value is kept for the container's life."""
        s = self.settings
        if s.webapp_url or not s.webapp_url_param:
            return self._configured(s.webapp_url, s.webapp_url_param, "the Mini App URL")
        if s.webapp_url_param not in self.parameters:
            self.parameters.update(read_parameters([s.webapp_url_param], s.region, optional=[s.webapp_url_param]))
        return self.parameters.get(s.webapp_url_param, "")

    @cached_property
    def pseudonym_secret(self) -> bytes:
        """One key for every function: blocks, nicknames and ban records written by one are found by the others.
        No stand-in when it is not configured (a key derived per function would not find them)."""
        s = self.settings
        return self._configured(s.pseudonym_secret, s.pseudonym_secret_param, "the pseudonym secret").encode()

    @cached_property
    def bot_api_pool(self) -> BotApiPool:
        """One connection pool to the Bot API per container: the gateway's and, in the webhook, PTB's."""
        return BotApiPool()

    @cached_property
    def gateway(self) -> BotGateway:
        return self._gateway or HttpGateway(self.bot_token, self.settings.telegram_api_url, self.bot_api_pool)

    @cached_property
    def delivery(self) -> NoticeDelivery:
        """Every notice goes through it: sent now, or owed in the outbox while Telegram cannot take it."""
        return NoticeDelivery(
            self.gateway,
            self.repos.outbox,
            self.clock,
            compose=self._compose_announcement,
            refund=self._refund_owed,
            compose_digest=self._compose_report_digest,
            deliver_gift=self._deliver_gift_owed,
        )

    def _refund_owed(self, buyer_id: int, charge_id: str) -> None:
        """An automatic refund the outbox holds (lazy: only a payment that granted nothing needs it)."""
        AutomaticRefunds(self.repos, self.orders, self.gateway).refund(buyer_id, charge_id)

    def _deliver_gift_owed(self, held: Any) -> Any:
        """A paid real Telegram gift the outbox holds (lazy: only a gift's payment needs it)."""
        return GiftDeliveries(self.repos, self.gateway, self.clock, self._refund_owed, self.delivery.deliver).deliver(
            held
        )

    def _compose_announcement(self, owner_id: int) -> Any:
        """An owner's "new messages" notice, written when the cron delivers it (lazy: only the cron needs it)."""
        return Announcements(self.inbox, self.webapp_url).compose(owner_id)

    def _compose_report_digest(self, admin_id: int, new_reports: int) -> Any:
        """An admin's report digest, written when the cron delivers it (lazy: only the cron needs it)."""
        return ReportDigests(self.repos).compose(admin_id, new_reports)

    @cached_property
    def inbox(self) -> Inbox:
        return Inbox(self.repos, self.clock, self.settings.limits, self.pseudonym_secret)

    @cached_property
    def replies(self) -> Replies:
        return Replies(self.repos, self.clock, self.inbox, self.delivery)

    @cached_property
    def link_pages(self) -> LinkPages:
        return LinkPages(self.repos, self.inbox)

    @cached_property
    def erasures(self) -> Erasures:
        return Erasures(self.repos, self.clock, self.orders.stop_renewals)

    @cached_property
    def admin_stats(self) -> AdminStats:
        return AdminStats(self.repos)

    @cached_property
    def metrics(self) -> BusinessMetrics:
        return BusinessMetrics(self.settings.metrics_namespace, self.settings.service_name)

    @cached_property
    def orders(self) -> Orders:
        return Orders(self.repos, self.inbox, self.clock, self.gateway, self.settings.order_ttl_seconds)

    @cached_property
    def sharing(self) -> Sharing:
        return Sharing(self.repos, self.settings.bot_username, self.gateway)

    @cached_property
    def stories(self) -> Stories:
        return Stories(self.repos, self.clock)

    @cached_property
    def real_gifts(self) -> RealGifts:
        return RealGifts(self.repos, self.gateway, self.clock, self.settings.order_ttl_seconds)

    @cached_property
    def moderation(self) -> Moderation:
        return Moderation(self.repos, self.inbox, self.settings.admin_ids)

    def close(self) -> None:
        """For the local stack: close what this container opened (the Bot API connection pool)."""
        pool = self.__dict__.get("bot_api_pool")
        if pool is not None:
            pool.close()
