"""The DynamoDB client, attribute-value codecs and the transaction runner shared by the repositories."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from murmur.errors import ConflictError, MurmurError, StorageUnavailableError
from murmur.store.botocore_session import botocore_session

Item = dict[str, Any]
# What a write raises when its condition does not hold: a domain error class, or a function that builds one (with
# the retry_after of a rate window, say).
ConditionFailed = Callable[[], MurmurError]


def make_client(region: str, endpoint_url: str | None = None) -> Any:
    """One low-level client per container. Short timeouts: a Lambda must not hang on a slow call.

    botocore, not boto3: boto3's import also loads s3transfer (tens of milliseconds of every cold start,
    measured in bench/) for resources and S3 helpers we do not use."""
    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
        tcp_keepalive=True,
        # Our requests are built in one place and tested against moto; re-validating every parameter
        # against the service model costs CPU on every call (measured in bench/).
        parameter_validation=False,
        **_without_account_id_endpoints(),
    )
    return botocore_session().create_client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=config)


def _without_account_id_endpoints() -> dict[str, str]:
    """Account-based endpoints need the account id, which Lambda's credentials do not carry: resolving it on
    every call only to fall back to the regional endpoint costs CPU each time (bench/). The option exists
    since botocore 1.37 (2025), and the botocore on Lambda is the runtime's, not the one we pin: an older
    one refuses an unknown option (TypeError) and has no account-based endpoints to turn off."""
    if "account_id_endpoint_mode" in Config.OPTION_DEFAULTS:
        return {"account_id_endpoint_mode": "disabled"}
    return {}


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


# ----------------------------------------------------------------------- codecs
def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int | float) -> dict[str, str]:
    return {"N": str(int(value))}


def b(value: bool) -> dict[str, bool]:
    return {"BOOL": value}


def ss_list(values: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    return {"L": [{"S": v} for v in values]}


def get_s(item: Item, name: str, default: str | None = None) -> str | None:
    value = item.get(name)
    return value["S"] if value is not None else default


def get_n(item: Item, name: str, default: int | None = None) -> int | None:
    value = item.get(name)
    return int(value["N"]) if value is not None else default


def get_b(item: Item, name: str, default: bool = False) -> bool:
    value = item.get(name)
    return bool(value["BOOL"]) if value is not None else default


def get_list(item: Item, name: str) -> list[str]:
    return [v["S"] for v in item.get(name, {"L": []})["L"]]


def get_map(item: Item, name: str) -> dict[str, str]:
    return {k: v["S"] for k, v in item.get(name, {"M": {}})["M"].items()}


# ----------------------------------------------------------------------- transactions
@dataclass(frozen=True, slots=True)
class Op:
    """One write (an element of TransactWriteItems, or a single conditional write) and the domain error to raise if
    its condition fails: a ConflictError unless the caller says which (`failing_with`)."""

    request: dict[str, Any]
    on_condition_failed: ConditionFailed | None = None

    def failing_with(self, error: ConditionFailed) -> Op:
        """This write, raising `error()` when its condition does not hold."""
        return replace(self, on_condition_failed=error)

    def condition_failed(self) -> MurmurError:
        """The error to raise when this op's condition did not hold."""
        if self.on_condition_failed is None:
            return ConflictError("the state changed; nothing was written")
        return self.on_condition_failed()


CONFLICT_RETRY_SECONDS = 3.0  # how long a write keeps retrying conflicts: well inside a function's Timeout


def _back_off(attempt: int) -> None:
    """Full jitter, doubling from 20 ms up to half a second: conflicting writers spread out instead of
    colliding again, and many of them at once (a popular inbox) still get through one after another."""
    time.sleep(random.uniform(0, min(0.5, 0.02 * 2**attempt)))


class Transactions:
    """Runs TransactWriteItems; maps a failed condition to the error of the op that failed."""

    def __init__(self, client: Any, conflict_retry_seconds: float = CONFLICT_RETRY_SECONDS) -> None:
        self.client = client
        self.conflict_retry_seconds = conflict_retry_seconds

    def _attempts(self) -> Iterator[bool]:
        """One flag per attempt: whether another may follow (until the conflict budget is spent)."""
        deadline = time.monotonic() + self.conflict_retry_seconds
        while True:
            yield time.monotonic() < deadline

    def write(self, ops: Sequence[Op], token: str | None = None) -> None:
        self.write_each_try(lambda: ops, token)

    def write_each_try(self, build: Callable[[], Sequence[Op]], token: str | None = None) -> None:
        """The transaction `build` makes, made afresh for each try: after a TransactionConflict, a write that may
        go to any of several items (a tally shard picked at random) picks again instead of waiting its turn at
        the one it collided on."""
        for attempt, may_retry in enumerate(self._attempts()):
            ops = build()
            kwargs: dict[str, Any] = {"TransactItems": [op.request for op in ops]}
            if token:
                kwargs["ClientRequestToken"] = token
            try:
                self.client.transact_write_items(**kwargs)
                return
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise StorageUnavailableError(f"transaction failed: {error_code(exc)}") from exc
                reasons = exc.response.get("CancellationReasons") or []
                codes = [r.get("Code", "None") for r in reasons]
                for op, code in zip(ops, codes, strict=False):
                    if code == "ConditionalCheckFailed":
                        raise op.condition_failed() from exc
                if "TransactionConflict" in codes and may_retry:
                    # Another transaction touched the same item (e.g. a busy rate window): back off, retry.
                    _back_off(attempt)
                    continue
                raise StorageUnavailableError(f"transaction cancelled: {codes}") from exc
            except BotoCoreError as exc:
                raise StorageUnavailableError("storage unreachable") from exc

    def write_one(self, op: Op) -> None:
        """One conditional Put / Update / Delete as a plain request: half the write units of a one-item
        transaction, and no copy of the transaction machinery. Not for the money paths: a plain write that
        botocore retries after a timeout carries no idempotency token, so if the first attempt landed the
        retry reads as a failed condition (a transaction's retry reuses its ClientRequestToken)."""
        ((action, body),) = op.request.items()
        calls = {"Put": self.client.put_item, "Update": self.client.update_item, "Delete": self.client.delete_item}
        for attempt, may_retry in enumerate(self._attempts()):
            try:
                calls[action](**body)
                return
            except ClientError as exc:
                code = error_code(exc)
                if code == "ConditionalCheckFailedException":
                    raise op.condition_failed() from exc
                # A transaction holds the item right now; botocore does not retry this one by itself.
                if code == "TransactionConflictException" and may_retry:
                    _back_off(attempt)
                    continue
                raise StorageUnavailableError(f"write failed: {code}") from exc
            except BotoCoreError as exc:
                raise StorageUnavailableError("storage unreachable") from exc


def storage_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the storage failed", for callers that must answer 5xx."""
    return (ClientError, BotoCoreError, StorageUnavailableError)
