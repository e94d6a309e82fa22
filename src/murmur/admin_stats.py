"""What /stats tells the admins: Stars revenue by product (net of refunds) and affiliate commissions, from
Telegram's ledger as the cron last reconciled it (`murmur.reconciliation`), and the invite credits earned, spent
and refused (exact, `murmur.invite_credits`). Both are read in one consistent BatchGetItem."""

from __future__ import annotations

from dataclasses import dataclass

from murmur.invite_credits import CreditTotals, credit_totals
from murmur.store.repositories import Repositories


@dataclass(frozen=True, slots=True)
class StatsTotals:
    revenue: dict[str, int]  # `stars_<product>`, `count_<product>`, `gift_spend_*`, `affiliate_*`
    invites: CreditTotals


class AdminStats:
    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    def totals(self) -> StatsTotals:
        """The revenue summary and the invite tallies' shards, in one round trip."""
        revenue, *shards = self.repos.batch.get(
            [self.repos.state.revenue_ref(), *self.repos.invite_tallies.refs()], consistent=True
        )
        return StatsTotals(revenue or {}, credit_totals(shards))
