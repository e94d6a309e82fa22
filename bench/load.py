"""Load: many senders to one recipient (the viral case), over real HTTP to `sandbox.dev`'s server (its request
handler and DevSite routing, on an ephemeral loopback port), then count what was stored and notified.

`senders` distinct users (valid initData, so the per-sender limit never refuses one; the per-recipient limit,
200 an hour by default, is at least the burst) each send one message. They go `concurrency` at a time: each
client sends the next message as soon as its previous one is answered (a closed loop). The Mini App API runs
as Lambda runs it, in up to `concurrency` containers (processes) at once (the bench caps every function's
concurrency there; the template reserves 50), started and warmed before the burst, so what is measured is
concurrent warm invocations: DynamoDB's transaction conflicts on the recipient's items (the strict endpoint
enforces them, and the store retries them for up to 3 s), per-request latency with no queueing for a
container, and the throughput of this machine.

Telegram's flood control is on, as Telegram's (the fake Bot API's `FloodLimits`: about one message a second
to a chat, with a short burst): the recipient is notified of the first messages at once, and the notices
that Telegram refuses (429) are owed to the outbox, which the cron delivers later, paced to the same limit.
After the burst the bench runs one cron tick and counts what it delivered; what is still owed then is counted
and removed, so that the later steps measure a cron with an empty outbox."""

from __future__ import annotations

import http.client
import json
import queue
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import Any

from bench.probe import Invocation, clear_reports, reports_since_clear
from bench.stats import summary_ms
from bench.world import BenchError, World, person
from sandbox.dev import DevSite, _Handler
from sandbox.local_stack import LocalStack
from sandbox.simulator_api import SimulatorApi

API = "MiniAppApiFunction"
OUTBOX_INDEX = "outbox-due"
OUTBOX_SHARDS = 4  # murmur.store.outbox.SHARDS


def count_stored(stack: LocalStack, recipient: int) -> int:
    client = stack.dynamodb_client()
    try:
        total, start = 0, None
        for _ in range(1000):  # bounded paging
            kwargs: dict[str, Any] = {
                "TableName": stack.tables["MESSAGES_TABLE"],
                "KeyConditionExpression": "recipient_id = :r",
                "ExpressionAttributeValues": {":r": {"N": str(recipient)}},
                "Select": "COUNT",
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = client.query(**kwargs)
            total += int(page["Count"])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return total
    finally:
        client.close()


def owed_keys(stack: LocalStack, chat_id: int) -> list[dict[str, Any]]:
    """The keys of the notices the outbox still owes `chat_id` (pending ones carry the index's keys)."""
    client = stack.dynamodb_client()
    try:
        keys: list[dict[str, Any]] = []
        start = None
        for _ in range(1000):  # bounded paging
            kwargs: dict[str, Any] = {
                "TableName": stack.tables["STATE_TABLE"],
                "IndexName": OUTBOX_INDEX,
                "KeyConditionExpression": "outbox_shard = :s",
                "FilterExpression": "chat_id = :c",
                "ExpressionAttributeValues": {":s": {"S": str(chat_id % OUTBOX_SHARDS)}, ":c": {"N": str(chat_id)}},
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = client.query(**kwargs)
            keys += [{"pk": item["pk"]} for item in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return keys
    finally:
        client.close()


def remove(stack: LocalStack, keys: list[dict[str, Any]]) -> None:
    client = stack.dynamodb_client()
    try:
        for key in keys:
            client.delete_item(TableName=stack.tables["STATE_TABLE"], Key=key)
    finally:
        client.close()


def _warm_containers(stack: LocalStack, world: World, concurrency: int) -> None:
    """`concurrency` sends at once, each to a recipient of its own (no flood), so that as many API containers
    are started and warm before the burst (a burst on AWS also meets warm containers after its first second)."""
    codes = [world.register(world.next_id(), "Warm") for _ in range(concurrency)]
    barrier = threading.Barrier(concurrency)
    failures: list[str] = []

    def one(code: str) -> None:
        barrier.wait(timeout=60)
        try:
            world.send(code, world.next_id())
        except BenchError as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=one, args=(code,), daemon=True) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if failures:
        raise BenchError(f"warming the API's containers failed: {failures}")


def run_load(stack: LocalStack, world: World, senders: int, concurrency: int) -> dict[str, Any]:
    api = stack.functions[API].container
    concurrency = max(1, min(concurrency, api.max_concurrency))
    _warm_containers(stack, world, concurrency)
    recipient = world.next_id()
    code = world.register(recipient, "Popular")
    path = f"/api/links/{code}/messages"
    pending: queue.Queue[tuple[bytes, dict[str, str]]] = queue.Queue()
    for i in range(senders):
        body = json.dumps({"text": f"burst message number {i}, stay awesome"}).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"tma {stack.init_data(person(world.next_id()))}",
        }
        pending.put((body, headers))

    barrier = threading.Barrier(concurrency + 1)
    results: list[tuple[int, float]] = []
    refusals: Counter[str] = Counter()  # status and error code of every answer other than 201
    lock = threading.Lock()

    def client(port: int) -> None:
        barrier.wait(timeout=60)
        while True:
            try:
                body, headers = pending.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            status, answer = post(port, path, body, headers)
            with lock:
                results.append((status, time.perf_counter() - started))
                if status != 201:
                    refusals[f"{status} {error_code(answer)}"] += 1

    stack.bot_api.clear()
    clear_reports(stack)
    cold_before, throttles_before = api.cold_starts, api.throttles
    denials_before = len(stack.aws.denials)
    with dev_server(stack) as port:
        threads = [threading.Thread(target=client, args=(port,), daemon=True) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        barrier.wait(timeout=60)
        burst_started = time.perf_counter()
        for thread in threads:
            thread.join(timeout=600)
        wall = time.perf_counter() - burst_started
    invocations = [Invocation.from_report(name, r) for name, r in reports_since_clear(stack) if name == API]
    statuses = Counter(status for status, _ in results)
    created = statuses.get(201, 0)
    stored = count_stored(stack, recipient)
    notified = len([c for c in stack.bot_api.calls("sendMessage", chat_id=recipient) if c.ok])
    flood_refusals = len(stack.bot_api.throttled(chat_id=recipient))
    owed = len(owed_keys(stack, recipient))
    out: dict[str, Any] = {
        "senders": senders,
        "concurrency": concurrency,
        "api_containers": api.containers,
        "cold_starts_during_burst": api.cold_starts - cold_before,
        "throttled_by_concurrency": api.throttles - throttles_before,
        "iam_denials": len(stack.aws.denials) - denials_before,
        "responses": len(results),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "created_201": created,
        "errors_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "refusals": dict(refusals),
        "connection_failures": statuses.get(0, 0),
        "stored_messages": stored,
        "lost": created - stored,
        "flood_control": _limits(stack),
        "notifications_sent": notified,  # on the senders' requests: none since ADR 0007
        "flood_refusals": flood_refusals,  # 429s Telegram (the fake) answered during the burst
        "notices_owed": owed,  # the owner's one coalesced announcement, pending for the cron
        "latency": summary_ms([t for _, t in results]),
        "handler_in_container": summary_ms([i.handler_s for i in invocations]) if invocations else None,
        "dynamodb_calls_per_send_p50": (
            statistics.median(i.tally.dynamo_calls for i in invocations) if invocations else None
        ),
        "dynamodb_retries": sum(i.tally.dynamo_http - i.tally.dynamo_calls for i in invocations),
        # The send's transaction writes the recipient's items; concurrent sends to one recipient conflict
        # (TransactionConflict) and the store retries with a backoff for up to 3 s: attempts per send.
        "transaction_attempts": {
            str(k): v
            for k, v in sorted(Counter(i.tally.dynamo_ops.get("TransactWriteItems", 0) for i in invocations).items())
        },
        "conflict_backoff_s": round(sum(i.tally.sleep_s for i in invocations), 2),
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(results) / wall, 1) if wall else None,
        "rate_limit_raised": False,
    }
    out["outbox"] = _deliver_owed(stack, world, recipient, owed)
    out["note"] = (
        f"{concurrency} clients at once, each sending its next message when the last is answered, onto up to "
        f"{concurrency} warm API containers (processes); Telegram's flood control on; no notice on the senders' "
        f"requests ({notified}), {owed} coalesced announcement pending for the cron"
    )
    return out


@contextmanager
def dev_server(stack: LocalStack) -> Iterator[int]:
    """`sandbox.dev`'s HTTP server (its handler and routing) for `stack` on an ephemeral loopback port."""
    handler = type("BenchDevHandler", (_Handler,), {"site": DevSite(stack.emulator, SimulatorApi(stack))})
    server_class = type("BenchServer", (ThreadingHTTPServer,), {"request_queue_size": 1024, "daemon_threads": True})
    server = server_class(("127.0.0.1", 0), handler)
    serving = threading.Thread(target=server.serve_forever, name="bench-load-server", daemon=True)
    serving.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One POST on a fresh connection: (status, body); status 0 when the connection itself failed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


def error_code(body: bytes) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        return "(not JSON)"
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict):
        return str(error.get("code"))
    return str(answer.get("message")) if isinstance(answer, dict) else "?"


def _limits(stack: LocalStack) -> dict[str, Any] | None:
    limits = stack.bot_api.flood_limits
    return None if limits is None else dict(limits.__dict__)


def _deliver_owed(stack: LocalStack, world: World, recipient: int, owed: int) -> dict[str, Any]:
    """One cron tick after the burst: it tells the owner of every message in one notice (ADR 0007)."""
    stack.bot_api.clear()
    started = time.perf_counter()
    summary = world.cron()
    tick_s = time.perf_counter() - started
    sent = [c for c in stack.bot_api.calls("sendMessage", chat_id=recipient) if c.ok]
    left = owed_keys(stack, recipient)
    remove(stack, left)
    return {
        "owed_before_tick": owed,
        "tick_sent": len(sent),
        "tick_text": str(sent[0].params.get("text", ""))[:80] if sent else "",
        "telegram_429s": len(stack.bot_api.throttled(chat_id=recipient)),
        "tick_outcomes": {k: v for k, v in summary.items() if k.startswith("outbox_") and v},
        "tick_s": round(tick_s, 2),
        "owed_after_tick": len(left),
        "removed_by_bench": len(left),
    }
