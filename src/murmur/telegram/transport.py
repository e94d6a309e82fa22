"""python-telegram-bot's HTTP transport over the container's one urllib3 pool.

PTB's default transport builds two httpx clients per Application (one for getUpdates, which a webhook never
calls), each with its own TLS context and its own connection to api.telegram.org. Here PTB posts through the
same keep-alive pool as `HttpGateway` (see `BotApiPool`): one TLS context and one connection per container,
and no httpx client to build on the cold start (measured in bench/: about 55 ms of the webhook's first
request). `BaseRequest` is PTB's documented extension point for this. See docs/decisions/0004.

The call blocks the event loop for its duration. That is what a Lambda container wants: it handles one
update at a time and has nothing else to run meanwhile."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import urllib3
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from murmur.telegram.gateway import JSON_HEADERS

if TYPE_CHECKING:
    from murmur.telegram.gateway import BotApiPool


def _given(value: object, default: float) -> float | None:
    """A timeout as the caller set it (seconds, or None for none), or the pool's own when not set: PTB passes
    `BaseRequest.DEFAULT_NONE` then, and documents the check as `parameter is BaseRequest.DEFAULT_NONE`.

    Typed `object`, not PTB's `ODVInput[float]`: that alias (and `DefaultValue`) live in PTB's private
    `telegram._utils`; the wider type still overrides `BaseRequest.do_request` soundly."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    return value if value is None or isinstance(value, (int, float)) else default


class PooledRequest(BaseRequest):
    __slots__ = ("_pool",)

    def __init__(self, pool: BotApiPool) -> None:
        self._pool = pool

    @property
    def read_timeout(self) -> float | None:
        return self._pool.read_timeout

    async def initialize(self) -> None:
        """Nothing to open: the pool connects on first use."""

    async def shutdown(self) -> None:
        """Nothing to close here: the pool belongs to the container (`Services.close`)."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            # The bot sends text and buttons only; an upload would need multipart encoding.
            raise NetworkError("file uploads are not supported by this transport")
        timeout = urllib3.Timeout(
            connect=_given(connect_timeout, self._pool.connect_timeout),
            read=_given(read_timeout, self._pool.read_timeout),
        )
        # Native JSON (nested objects as objects), as HttpGateway sends it; PTB's own json_payload would
        # send every value as a JSON-encoded string.
        body = json.dumps(request_data.parameters).encode() if request_data is not None else None
        headers = {"User-Agent": self.USER_AGENT, **(JSON_HEADERS if body is not None else {})}
        try:
            response = self._pool.http.request(method, url, body=body, headers=headers, timeout=timeout)
        except urllib3.exceptions.NewConnectionError as exc:  # urllib3 files it under ConnectTimeoutError too
            raise NetworkError(f"urllib3.{type(exc).__name__}: {exc}") from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise TimedOut from exc
        except urllib3.exceptions.HTTPError as exc:
            raise NetworkError(f"urllib3.{type(exc).__name__}: {exc}") from exc
        return response.status, response.data
