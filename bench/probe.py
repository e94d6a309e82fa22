"""Instrumentation: what one request costs in DynamoDB calls, capacity units and Bot API calls, and how
long the handler waited on each, so its own time can be measured with the waits taken out.

It wraps three library seams (nothing of ours): botocore's `BaseClient._make_api_call` (one call per
DynamoDB operation, retries included), botocore's `Endpoint._send` (the HTTP exchange only, so
botocore's own serialising and parsing stay in "own time"), and httpx's transports (PTB's Bot API
requests). Only the thread that opened a window is recorded: the moto server, the fake Bot API and
load-test threads run elsewhere."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client
import botocore.endpoint
import httpx
import urllib3

from bench.capacity import item_size, read_units, write_units

_WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"})


@dataclass
class Tally:
    """Everything recorded during one window (usually one request)."""

    capacity: bool = False
    dynamo_ops: Counter[str] = field(default_factory=Counter)
    dynamo_http: int = 0  # HTTP exchanges, retries included
    dynamo_wait_s: float = 0.0  # time in Endpoint._send
    botocore_s: float = 0.0  # time in _make_api_call (wait + botocore's own work)
    items_read: int = 0
    rru: float = 0.0
    wru: float = 0.0
    bot_calls: Counter[str] = field(default_factory=Counter)
    bot_wait_s: float = 0.0
    longest_query_s: float = 0.0  # the longest single Query wait

    @property
    def dynamo_calls(self) -> int:
        return sum(self.dynamo_ops.values())

    @property
    def waits_s(self) -> float:
        return self.dynamo_wait_s + self.bot_wait_s


class Probe:
    """Install once per process; then `with probe.window() as tally:` around what to measure."""

    def __init__(self) -> None:
        self._tally: Tally | None = None
        self._thread: int | None = None
        self._local = threading.local()
        self._side: Any = None
        self._keys: dict[str, list[str]] = {}
        self._installed = False

    # ------------------------------------------------------------------ recording scope
    def current(self) -> Tally | None:
        if self._tally is None or threading.get_ident() != self._thread or getattr(self._local, "off", False):
            return None
        return self._tally

    @contextmanager
    def window(self, *, capacity: bool = False) -> Iterator[Tally]:
        if self._tally is not None:
            raise RuntimeError("probe windows do not nest")
        tally = Tally(capacity=capacity)
        self._tally, self._thread = tally, threading.get_ident()
        try:
            yield tally
        finally:
            self._tally, self._thread = None, None

    @contextmanager
    def _off(self) -> Iterator[None]:
        self._local.off = True
        try:
            yield
        finally:
            self._local.off = False

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None
        self._keys.clear()

    # ------------------------------------------------------------------ the seams
    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        probe = self
        make_api_call = botocore.client.BaseClient._make_api_call
        send = botocore.endpoint.Endpoint._send
        async_transport = httpx.AsyncHTTPTransport.handle_async_request
        sync_transport = httpx.HTTPTransport.handle_request
        pool_request = urllib3.PoolManager.request

        def _make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            tally = probe.current()
            if tally is None or client.meta.service_model.service_name != "dynamodb":
                return make_api_call(client, operation, params)
            tally.dynamo_ops[operation] += 1
            before = probe._before(operation, params) if tally.capacity else None
            started = time.perf_counter()
            response: Any = None
            try:
                response = make_api_call(client, operation, params)
                return response
            finally:
                tally.botocore_s += time.perf_counter() - started
                probe._count_reads(tally, operation, response)
                if tally.capacity:
                    probe._account(tally, operation, params, before, response)

        def _send(endpoint: Any, request: Any) -> Any:
            tally = probe.current()
            if tally is None:
                return send(endpoint, request)
            started = time.perf_counter()
            try:
                return send(endpoint, request)
            finally:
                target = request.headers.get("X-Amz-Target") or b""
                if b"Query" in (target.encode() if isinstance(target, str) else target):
                    tally.longest_query_s = max(tally.longest_query_s, time.perf_counter() - started)
                tally.dynamo_http += 1
                tally.dynamo_wait_s += time.perf_counter() - started

        async def _handle_async(transport: Any, request: httpx.Request) -> httpx.Response:
            tally = probe.current()
            if tally is None:
                return await async_transport(transport, request)
            started = time.perf_counter()
            try:
                return await async_transport(transport, request)
            finally:
                tally.bot_calls[request.url.path.rsplit("/", 1)[-1]] += 1
                tally.bot_wait_s += time.perf_counter() - started

        def _handle_sync(transport: Any, request: httpx.Request) -> httpx.Response:
            tally = probe.current()
            if tally is None:
                return sync_transport(transport, request)
            started = time.perf_counter()
            try:
                return sync_transport(transport, request)
            finally:
                tally.bot_calls[request.url.path.rsplit("/", 1)[-1]] += 1
                tally.bot_wait_s += time.perf_counter() - started

        def _pool_request(manager: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            # The Mini App API and the cron speak to the Bot API through urllib3 (murmur.telegram.gateway).
            tally = probe.current()
            if tally is None or "/bot" not in url:
                return pool_request(manager, method, url, *args, **kwargs)
            started = time.perf_counter()
            try:
                return pool_request(manager, method, url, *args, **kwargs)
            finally:
                tally.bot_calls[url.rsplit("/", 1)[-1]] += 1
                tally.bot_wait_s += time.perf_counter() - started

        urllib3.PoolManager.request = _pool_request  # type: ignore[method-assign]
        botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
        botocore.endpoint.Endpoint._send = _send  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = _handle_async  # type: ignore[method-assign,assignment]
        httpx.HTTPTransport.handle_request = _handle_sync  # type: ignore[method-assign,assignment]

    # ------------------------------------------------------------------ items and capacity
    @staticmethod
    def _count_reads(tally: Tally, operation: str, response: Any) -> None:
        if not isinstance(response, dict):
            return
        if operation == "GetItem":
            tally.items_read += 1 if response.get("Item") else 0
        elif operation in ("Query", "Scan"):
            tally.items_read += int(response.get("ScannedCount", len(response.get("Items", []))))
        elif operation == "TransactGetItems":
            tally.items_read += sum(1 for r in response.get("Responses", []) if r.get("Item"))

    def _client(self) -> Any:
        if self._side is None:
            import boto3

            self._side = boto3.client(
                "dynamodb",
                endpoint_url=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"),
                region_name=os.environ.get("AWS_REGION", "us-east-1"),
            )
        return self._side

    def _key_names(self, table: str) -> list[str]:
        if table not in self._keys:
            with self._off():
                schema = self._client().describe_table(TableName=table)["Table"]["KeySchema"]
            self._keys[table] = [k["AttributeName"] for k in schema]
        return self._keys[table]

    def _stored(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        with self._off():
            return self._client().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """(action, table, key) of every item a write touches."""
        if operation == "TransactWriteItems":
            found = []
            for element in params.get("TransactItems", []):
                ((action, body),) = element.items()
                found.append((action, *self._table_key(body)))
            return found
        action = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[operation]
        return [(action, *self._table_key(params))]

    def _table_key(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        table = body["TableName"]
        if "Key" in body:
            return table, body["Key"]
        return table, {name: body["Item"][name] for name in self._key_names(table)}

    def _before(self, operation: str, params: dict[str, Any]) -> list[int] | None:
        if operation not in _WRITE_OPS:
            return None
        return [item_size(self._stored(table, key)) for _, table, key in self._targets(operation, params)]

    def _account(
        self, tally: Tally, operation: str, params: dict[str, Any], before: list[int] | None, response: Any
    ) -> None:
        if operation in _WRITE_OPS and before is not None:
            transactional = operation == "TransactWriteItems"
            for (action, table, key), old in zip(self._targets(operation, params), before, strict=True):
                new = 0 if action in ("Delete", "ConditionCheck") else item_size(self._stored(table, key))
                tally.wru += write_units(max(old, new), transactional=transactional)
        elif operation == "GetItem" and isinstance(response, dict):
            item = response.get("Item")
            if item and ("ProjectionExpression" in params or "AttributesToGet" in params):
                item = self._stored(params["TableName"], params["Key"])  # billed on the whole item
            tally.rru += read_units(item_size(item), consistent=bool(params.get("ConsistentRead")))
        elif operation == "Query" and isinstance(response, dict):
            size = sum(item_size(i) for i in response.get("Items", []))
            tally.rru += read_units(size, consistent=bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem" and isinstance(response, dict):
            # Each key is billed like its own GetItem, rounded up per item, and a key with no item still
            # costs the minimum read (as a GetItem that finds nothing does). Unprocessed keys are billed
            # in the call that retries them.
            for table, request in params.get("RequestItems", {}).items():
                consistent = bool(request.get("ConsistentRead"))
                items = response.get("Responses", {}).get(table, [])
                unprocessed = len((response.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", []))
                for item in items:
                    tally.rru += read_units(item_size(item), consistent=consistent)
                absent = len(request.get("Keys", [])) - len(items) - unprocessed
                tally.rru += absent * read_units(0, consistent=consistent)
        elif operation == "TransactGetItems" and isinstance(response, dict):
            for r in response.get("Responses", []):
                tally.rru += read_units(item_size(r.get("Item")), transactional=True)


PROBE = Probe()
