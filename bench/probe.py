"""Instrumentation: what one invocation costs in DynamoDB calls, capacity units and Bot API calls, and how
long the handler waited on each, so its own time can be measured with the waits taken out.

It runs inside each emulated Lambda container (a process of its own, `sandbox.lambda_worker`), as the
container's invocation hook: the bench starts the stack with `probe_environment(...)` in every function's
environment (`SANDBOX_INVOCATION_HOOK=bench.probe:invocation_probe`), and the worker wraps every invocation
in `invocation_probe(event)`. The figures travel back in the invocation's REPORT (`report["probe"]`, plain
JSON); `Tally.from_report` turns them back into a `Tally` in the bench's process.

The seams are library ones (nothing of ours): botocore's `BaseClient._make_api_call` (one call per
DynamoDB operation, retries included), botocore's `Endpoint._send` (the HTTP exchange only, so botocore's
own serialising and parsing stay in "own time"), httpx's transports (PTB's Bot API requests) and urllib3's
`PoolManager.request` (the gateway's). Sleeps are waits too (Telegram's pacing in the cron, a flood wait in
the webhook): `time.sleep`, `asyncio.sleep`, and a `time.sleep` that our code took as a default argument
at import (the cron's Pacer) are counted apart. Only the thread that opened a window is recorded.

What the bench asks per invocation (capacity accounting, counting function calls) it writes to a small
control file (`ProbeControl`) that the hook reads as each invocation starts: the containers' environment is
fixed when they start, the bench's questions change between invocations."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"})

HOOK = "bench.probe:invocation_probe"
# The bench's own variables in the functions' environment (never read by the product).
CONTROL_ENV = "BENCH_PROBE_CONTROL"  # the control file's path
SIDE_ENDPOINT_ENV = "BENCH_PROBE_DYNAMODB"  # DynamoDB itself, for capacity accounting's reads aside


@dataclass
class Tally:
    """Everything recorded during one window (usually one invocation)."""

    capacity: bool = False
    dynamo_ops: Counter[str] = field(default_factory=Counter)
    dynamo_http: int = 0  # HTTP exchanges, retries included
    dynamo_wait_s: float = 0.0  # time in Endpoint._send
    botocore_s: float = 0.0  # time in _make_api_call (wait + botocore's own work)
    other_aws_wait_s: float = 0.0  # other AWS services' HTTP exchanges (SSM)
    items_read: int = 0
    rru: float = 0.0
    wru: float = 0.0
    bot_calls: Counter[str] = field(default_factory=Counter)
    bot_wait_s: float = 0.0
    sleep_s: float = 0.0  # deliberate waits: pacing to Telegram's limits, flood waits
    longest_query_s: float = 0.0  # the longest single Query wait

    @property
    def dynamo_calls(self) -> int:
        return sum(self.dynamo_ops.values())

    @property
    def waits_s(self) -> float:
        return self.dynamo_wait_s + self.other_aws_wait_s + self.bot_wait_s + self.sleep_s

    def to_json(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "dynamo_ops": dict(self.dynamo_ops),
            "dynamo_http": self.dynamo_http,
            "dynamo_wait_s": self.dynamo_wait_s,
            "botocore_s": self.botocore_s,
            "other_aws_wait_s": self.other_aws_wait_s,
            "items_read": self.items_read,
            "rru": self.rru,
            "wru": self.wru,
            "bot_calls": dict(self.bot_calls),
            "bot_wait_s": self.bot_wait_s,
            "sleep_s": self.sleep_s,
            "longest_query_s": self.longest_query_s,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        fields = dict(data)
        fields["dynamo_ops"] = Counter(fields.get("dynamo_ops") or {})
        fields["bot_calls"] = Counter(fields.get("bot_calls") or {})
        return cls(**{k: v for k, v in fields.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Invocation:
    """One invocation as the bench sees it: the REPORT's figures and the probe's."""

    function: str
    handler_s: float  # the handler's wall time, measured by the hook around it
    cpu_s: float  # the container's CPU time (every thread) during the handler
    report_duration_s: float  # the REPORT's duration: the handler plus the hook's own work around it
    tally: Tally
    python_calls: int | None  # function calls made in the handler's thread, when asked for

    @classmethod
    def from_report(cls, function: str, report: Mapping[str, Any]) -> Invocation:
        probe = report.get("probe")
        if not isinstance(probe, Mapping):
            raise RuntimeError(f"{function}: the invocation's REPORT has no probe figures: {dict(report)}")
        return cls(
            function=function,
            handler_s=float(probe["handler_ms"]) / 1000,
            cpu_s=float(probe["handler_cpu_ms"]) / 1000,
            report_duration_s=float(report["duration_ms"]) / 1000,
            tally=Tally.from_json(probe["tally"]),
            python_calls=probe.get("python_calls"),
        )


# ---------------------------------------------------------------------------------- the bench's side
class ProbeControl:
    """The bench's questions to the hook in every container: a JSON file rewritten atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._write({})

    def _write(self, settings: Mapping[str, Any]) -> None:
        spare = self.path.with_suffix(".tmp")
        spare.write_text(json.dumps(dict(settings)))
        os.replace(spare, self.path)

    @contextmanager
    def asking(self, *, capacity: bool = False, count_calls: bool = False) -> Iterator[None]:
        """Invocations that start inside the block account capacity units and/or count function calls."""
        self._write({"capacity": capacity, "count_calls": count_calls})
        try:
            yield
        finally:
            self._write({})


def probe_environment(dynamodb_endpoint: str, control: ProbeControl) -> dict[str, str]:
    """What every function's environment needs for the hook (LocalStack(extra_function_env=...))."""
    return {
        "SANDBOX_INVOCATION_HOOK": HOOK,
        CONTROL_ENV: str(control.path),
        SIDE_ENDPOINT_ENV: dynamodb_endpoint,
    }


def reports_since_clear(stack: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every function's REPORTs since `clear_reports`, as (logical id, report)."""
    return [(name, dict(r)) for name, f in stack.functions.items() for r in list(f.container.reports)]


def clear_reports(stack: Any) -> None:
    for function in stack.functions.values():
        function.container.reports.clear()


def only_invocation(stack: Any) -> Invocation:
    """The one invocation since `clear_reports` (anything else means the measured action was not one)."""
    seen = reports_since_clear(stack)
    if len(seen) != 1:
        raise RuntimeError(f"expected one invocation, saw {len(seen)}: {[name for name, _ in seen]}")
    return Invocation.from_report(*seen[0])


# ---------------------------------------------------------------------------------- the container's side
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
        import botocore.client
        import botocore.endpoint
        import httpx
        import urllib3

        probe = self
        make_api_call = botocore.client.BaseClient._make_api_call
        send = botocore.endpoint.Endpoint._send
        async_transport = httpx.AsyncHTTPTransport.handle_async_request
        sync_transport = httpx.HTTPTransport.handle_request
        pool_request = urllib3.PoolManager.request
        sleep = time.sleep
        async_sleep = asyncio.sleep

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
                waited = time.perf_counter() - started
                raw = request.headers.get("X-Amz-Target") or b""
                target = raw.decode() if isinstance(raw, bytes) else str(raw)
                if target.startswith("DynamoDB_"):
                    if target.endswith(".Query"):
                        tally.longest_query_s = max(tally.longest_query_s, waited)
                    tally.dynamo_http += 1
                    tally.dynamo_wait_s += waited
                else:
                    tally.other_aws_wait_s += waited

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

        def _sleep(seconds: float) -> None:
            tally = probe.current()
            started = time.perf_counter()
            try:
                sleep(seconds)
            finally:
                if tally is not None:
                    tally.sleep_s += time.perf_counter() - started

        async def _async_sleep(delay: float, result: Any = None) -> Any:
            tally = probe.current()
            started = time.perf_counter()
            try:
                return await async_sleep(delay, result)
            finally:
                if tally is not None:
                    tally.sleep_s += time.perf_counter() - started

        urllib3.PoolManager.request = _pool_request  # type: ignore[method-assign,assignment]
        botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
        botocore.endpoint.Endpoint._send = _send  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = _handle_async  # type: ignore[method-assign,assignment]
        httpx.HTTPTransport.handle_request = _handle_sync  # type: ignore[method-assign,assignment]
        time.sleep = _sleep  # type: ignore[assignment]
        asyncio.sleep = _async_sleep  # type: ignore[assignment]
        _rebind_defaults(sleep, _sleep)

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
        """A client aside, straight to DynamoDB with the operator's rights: what the accounting reads is no
        part of the function's work, so it neither passes the function's IAM policy nor its endpoint."""
        if self._side is None:
            import boto3

            self._side = boto3.client(
                "dynamodb",
                endpoint_url=os.environ[SIDE_ENDPOINT_ENV],
                region_name=os.environ.get("AWS_REGION", "us-east-1"),
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
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
            item: dict[str, Any] | None = (
                self._client().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            )
            return item

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
        from bench.capacity import item_size

        if operation not in _WRITE_OPS:
            return None
        return [item_size(self._stored(table, key)) for _, table, key in self._targets(operation, params)]

    def _account(
        self, tally: Tally, operation: str, params: dict[str, Any], before: list[int] | None, response: Any
    ) -> None:
        from bench.capacity import item_size, read_units, write_units

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


def _rebind_defaults(old: Callable[..., Any], new: Callable[..., Any]) -> None:
    """Our code takes `sleep=time.sleep` as a default argument (murmur.delivery.Pacer), bound when the module
    was imported, before this hook was: swap the counted sleep into such defaults of murmur's functions."""
    for name, module in list(sys.modules.items()):
        if not (name == "murmur" or name.startswith("murmur.")) or module is None:
            continue
        for value in list(vars(module).values()):
            candidates = [value]
            if isinstance(value, type) and getattr(value, "__module__", "") == name:
                candidates = list(vars(value).values())
            for function in candidates:
                if not callable(function) or not hasattr(function, "__defaults__"):
                    continue
                defaults = function.__defaults__
                if defaults and any(d is old for d in defaults):
                    function.__defaults__ = tuple(new if d is old else d for d in defaults)
                kwdefaults = getattr(function, "__kwdefaults__", None)
                if kwdefaults and any(d is old for d in kwdefaults.values()):
                    function.__kwdefaults__ = {k: new if d is old else d for k, d in kwdefaults.items()}


PROBE = Probe()


def _control() -> dict[str, Any]:
    path = os.environ.get(CONTROL_ENV)
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            settings = json.load(handle)
    except (OSError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


@contextmanager
def invocation_probe(event: Any) -> Iterator[dict[str, Any]]:
    """The container's invocation hook (SANDBOX_INVOCATION_HOOK): a probe window around the handler, its
    wall and CPU time measured right around it (the window's own work stays out), and on request its
    function calls counted (sys.setprofile in the handler's thread, C functions included). Yields the dict
    that the worker merges into the invocation's REPORT, filled in once the handler has returned."""
    settings = _control()
    PROBE.install()
    extra: dict[str, Any] = {}
    calls = 0

    def count(frame: Any, kind: str, arg: Any) -> None:
        nonlocal calls
        if kind in ("call", "c_call"):
            calls += 1

    counting = bool(settings.get("count_calls"))
    with PROBE.window(capacity=bool(settings.get("capacity"))) as tally:
        started, cpu = time.perf_counter(), time.process_time()
        if counting:
            sys.setprofile(count)
        try:
            yield extra
        finally:
            if counting:
                sys.setprofile(None)
            handler_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    extra["probe"] = {
        "handler_ms": handler_s * 1000,
        "handler_cpu_ms": cpu_s * 1000,
        "tally": tally.to_json(),
        "python_calls": calls if counting else None,
    }
