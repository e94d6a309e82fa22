"""Domain errors. Each names what went wrong in the product's words; `api.errors` maps them to HTTP."""

from __future__ import annotations


class MurmurError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()


class UnauthorizedError(MurmurError):
    """Missing or invalid Telegram initData."""

    code = "unauthorized"


class InvalidInputError(MurmurError):
    """The request is not valid."""

    code = "invalid_input"


class NotFoundError(MurmurError):
    """No such thing, or not yours."""

    code = "not_found"


class ForbiddenError(MurmurError):
    """You may not do that."""

    code = "forbidden"


class ConflictError(MurmurError):
    """That is not possible in the current state."""

    code = "conflict"


class RateLimitedError(MurmurError):
    """Too many requests; try again later."""

    code = "rate_limited"

    def __init__(self, message: str = "", retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SlowModeError(RateLimitedError):
    """This inbox is in slow mode: one message per person per interval the owner chose."""

    code = "slow_mode"


class DailyCapReachedError(RateLimitedError):
    """This inbox has taken as many messages today as its owner allows."""

    code = "daily_cap"


class BannedError(ForbiddenError):
    """This account is banned."""

    code = "banned"


class NotAcceptingMessagesError(ForbiddenError):
    """This inbox does not accept messages right now."""

    code = "not_accepting"


class BlockedError(ForbiddenError):
    """The recipient does not accept messages from you."""

    code = "blocked"


class ErasingError(ConflictError):
    """This account's data is being erased; that finishes within minutes."""

    code = "erasing"


# One answer for every reason a reply cannot reach its sender (they erased their account, blocked the bot, ...):
# which reason it is would tell the owner something about the sender.
class ReplyUndeliverableError(ConflictError):
    """This sender cannot receive replies."""

    code = "reply_undeliverable"


class StorageUnavailableError(MurmurError):
    """Storage failed; the operation can be retried."""

    code = "storage_unavailable"


class TelegramRefusedError(MurmurError):
    """Telegram refused the call; retrying the same call will not help."""

    code = "telegram_refused"

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status


class TelegramUnavailableError(MurmurError):
    """Telegram could not be reached or failed; the operation can be retried."""

    code = "telegram_unavailable"


class TelegramRateLimitedError(TelegramUnavailableError):
    """Telegram's flood control: the same call may be made again after `retry_after` seconds."""

    code = "telegram_rate_limited"

    def __init__(self, retry_after: int, message: str = "") -> None:
        super().__init__(message)
        self.retry_after = retry_after
