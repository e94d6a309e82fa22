"""Load: a bounded burst of concurrent senders to one recipient, over real HTTP to `sandbox.dev`'s server
(its request handler and DevSite routing, on an ephemeral loopback port), then count what was stored.

Every sender is a distinct user with valid initData, so the per-sender limit is never the cause of a
refusal; the per-recipient limit (200 an hour, Settings' default) is exactly the burst size, so nothing
is raised. The emulated Lambda container runs one invocation at a time, like one warm container: the
latency percentiles therefore include queueing, which AWS would spread over concurrent containers."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from http.server import ThreadingHTTPServer
from typing import Any

from bench.stats import summary_ms
from bench.world import World, person
from sandbox.dev import DevSite, _Handler
from sandbox.local_stack import LocalStack
from sandbox.simulator_api import SimulatorApi


def _count_stored(stack: LocalStack, recipient: int) -> int:
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


def run_load(stack: LocalStack, world: World, senders: int) -> dict[str, Any]:
    recipient = world.next_id()
    code = world.register(recipient, "Popular")
    path = f"/api/links/{code}/messages"
    requests = []
    for i in range(senders):
        body = json.dumps({"text": f"burst message number {i}, stay awesome"}).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"tma {stack.init_data(person(world.next_id()))}",
        }
        requests.append((body, headers))

    handler = type("BenchDevHandler", (_Handler,), {"site": DevSite(stack.emulator, SimulatorApi(stack))})
    server_class = type("BenchServer", (ThreadingHTTPServer,), {"request_queue_size": 1024, "daemon_threads": True})
    server = server_class(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    serving = threading.Thread(target=server.serve_forever, name="bench-load-server", daemon=True)
    serving.start()

    barrier = threading.Barrier(senders + 1)
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def sender(body: bytes, headers: dict[str, str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait(timeout=60)
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0  # connection failed: counted apart from HTTP statuses
        finally:
            connection.close()
        with lock:
            results.append((status, time.perf_counter() - started))

    threads = [threading.Thread(target=sender, args=r, daemon=True) for r in requests]
    stack.bot_api.clear()
    try:
        for thread in threads:
            thread.start()
        barrier.wait(timeout=60)
        burst_started = time.perf_counter()
        for thread in threads:
            thread.join(timeout=300)
        wall = time.perf_counter() - burst_started
    finally:
        server.shutdown()
        server.server_close()
    statuses = Counter(status for status, _ in results)
    stored = _count_stored(stack, recipient)
    notified = len([c for c in stack.bot_api.calls("sendMessage", chat_id=recipient) if c.ok])
    return {
        "senders": senders,
        "responses": len(results),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "created_201": statuses.get(201, 0),
        "errors_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "connection_failures": statuses.get(0, 0),
        "stored_messages": stored,
        "lost": statuses.get(201, 0) - stored,
        "notifications_sent": notified,
        "latency": summary_ms([t for _, t in results]),
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(results) / wall, 1) if wall else None,
        "rate_limit_raised": False,
        "note": "one emulated container serialises invocations; latency includes queueing",
    }
