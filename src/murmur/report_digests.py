"""An admin's report digest, written when the cron delivers it: how many reports came since the last one, how
many still wait for a decision, and the oldest of those with their actions. Read from the reports themselves
(the review index) at that moment, like an owner's announcement is read from the inbox."""

from __future__ import annotations

from murmur import notices
from murmur.notices import Notice
from murmur.store.repositories import Repositories

# Reports shown in one digest, each with its own row of buttons; the rest wait for the next one.
SHOWN_PER_DIGEST = 5


class ReportDigests:
    """Composes an admin's digest (`murmur.delivery.ComposeDigest`)."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    def compose(self, admin_id: int, new_reports: int) -> Notice | None:
        """None when there is nothing to ask: no new report, or every report decided already."""
        if new_reports <= 0:
            return None
        oldest = self.repos.messages.to_review(SHOWN_PER_DIGEST)
        if not oldest:
            return None
        waiting = self.repos.messages.count_to_review()
        admin = self.repos.users.get(admin_id)
        language = admin.language_code if admin is not None else "en"
        return notices.report_digest(admin_id, language, new_reports, max(waiting, len(oldest)), oldest)
