"""Warm latency and round trips per operation, through the real handlers on a running LocalStack.

Each operation is run `samples` times after a warm-up (so PTB's Application and the clients exist).
The handler's wall time is taken inside the emulated Lambda container; its own time is that minus the
time spent waiting on DynamoDB (HTTP exchange) and on the Bot API (HTTP exchange). A second, short pass
with capacity accounting on gives the read/write units (kept apart: accounting reads items aside)."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.probe import PROBE, Tally
from bench.stats import summary_ms
from bench.world import World
from sandbox.local_stack import LocalStack

OPERATIONS = ("send", "inbox_page", "read", "create_order", "pre_checkout", "fulfil", "cron_tick")
FUNCTION_OF = {
    "send": "MiniAppApiFunction",
    "inbox_page": "MiniAppApiFunction",
    "read": "MiniAppApiFunction",
    "create_order": "MiniAppApiFunction",
    "pre_checkout": "WebhookFunction",
    "fulfil": "WebhookFunction",
    "cron_tick": "SubscriptionsCronFunction",
}


@dataclass
class Sample:
    handler_s: float
    tally: Tally
    bot_calls_total: int  # Bot API calls recorded by the fake, webhook replies included
    cpu_s: float = 0.0  # CPU time of the invoking thread during the invocation


@dataclass
class OperationRun:
    name: str
    samples: list[Sample] = field(default_factory=list)
    capacity: list[Tally] = field(default_factory=list)


class HandlerTimer:
    """Wraps every function's handler in its emulated container to time the invocation itself."""

    def __init__(self, stack: LocalStack) -> None:
        self.last: list[float] = []
        self.cpu: list[float] = []  # the invoking thread's CPU time: what the handler itself computed
        for function in stack.functions.values():
            container = function.container
            inner = container.handler

            def timed(event: Any, context: Any, _inner: Callable[..., Any] = inner) -> Any:
                started, cpu = time.perf_counter(), time.thread_time()
                try:
                    return _inner(event, context)
                finally:
                    self.last.append(time.perf_counter() - started)
                    self.cpu.append(time.thread_time() - cpu)

            container.handler = timed


def _measure(stack: LocalStack, timer: HandlerTimer, action: Callable[[], Any], *, capacity: bool = False) -> Sample:
    stack.bot_api.clear()
    timer.last.clear()
    timer.cpu.clear()
    with PROBE.window(capacity=capacity) as tally:
        action()
    if len(timer.last) != 1:
        raise RuntimeError(f"expected one handler invocation, saw {len(timer.last)}")
    return Sample(timer.last[0], tally, len(stack.bot_api.calls()), timer.cpu[0])


def _flow(world: World, owner: int, code: str, count: int) -> dict[str, list[Callable[[], Any]]]:
    """`count` actions of each operation, in an order where each has what it needs (unread messages,
    pending orders). The actions are built lazily: each one uses what the previous operation made."""
    made: dict[str, list[Any]] = {"messages": [], "orders": []}

    def send() -> None:
        made["messages"].append(world.send(code, world.next_id()))

    def read(i: int) -> Callable[[], Any]:
        return lambda: world.read(owner, made["messages"][i])

    def order(i: int) -> Callable[[], Any]:
        return lambda: made["orders"].append(world.create_order(owner, made["messages"][i]))

    def pay(step: Callable[[int, dict[str, Any]], None], i: int) -> Callable[[], Any]:
        return lambda: step(owner, made["orders"][i])

    return {
        "send": [send] * count,
        "inbox_page": [lambda: world.inbox(owner)] * count,
        "read": [read(i) for i in range(count)],
        "create_order": [order(i) for i in range(count)],
        "pre_checkout": [pay(world.pre_checkout, i) for i in range(count)],
        "fulfil": [pay(world.fulfil, i) for i in range(count)],
        "cron_tick": [world.cron] * count,
    }


def run_warm(stack: LocalStack, world: World, samples: int, capacity_samples: int) -> dict[str, OperationRun]:
    PROBE.install()
    timer = HandlerTimer(stack)
    runs = {name: OperationRun(name) for name in OPERATIONS}
    owner = world.next_id()
    code = world.register(owner, "Owner")
    for phase, count in (("warmup", 2), ("timed", samples), ("capacity", capacity_samples)):
        flow = _flow(world, owner, code, count)
        for name in OPERATIONS:
            if name == "cron_tick":
                world.cron()  # the first tick after payments reconciles them: not a steady-state tick
            for action in flow[name]:
                if phase == "warmup":
                    action()
                    continue
                sample = _measure(stack, timer, action, capacity=phase == "capacity")
                if phase == "timed":
                    runs[name].samples.append(sample)
                else:
                    runs[name].capacity.append(sample.tally)
    PROBE.close()
    return runs


def _mode(counters: list[Counter[str]]) -> dict[str, int]:
    """The most common per-request breakdown (requests of one kind should all agree)."""
    keyed = Counter(tuple(sorted(c.items())) for c in counters)
    return dict(keyed.most_common(1)[0][0]) if keyed else {}


def summarise(runs: dict[str, OperationRun]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, run in runs.items():
        handler = [s.handler_s for s in run.samples]
        own = [max(0.0, s.handler_s - s.tally.waits_s) for s in run.samples]
        client = [max(0.0, s.tally.botocore_s - s.tally.dynamo_wait_s) for s in run.samples]
        dynamo_ops = _mode([s.tally.dynamo_ops for s in run.samples])
        bot_in_handler = _mode([s.tally.bot_calls for s in run.samples])
        out[name] = {
            "function": FUNCTION_OF[name],
            "handler": summary_ms(handler),
            "own": summary_ms(own),
            "own_without_sdk": summary_ms([max(0.0, o - c) for o, c in zip(own, client, strict=True)]),
            "own_cpu": summary_ms([s.cpu_s for s in run.samples]),
            "dynamodb_wait": summary_ms([s.tally.dynamo_wait_s for s in run.samples]),
            "bot_api_wait": summary_ms([s.tally.bot_wait_s for s in run.samples]),
            "botocore_client_overhead": summary_ms(client),
            "dynamodb_calls": sum(dynamo_ops.values()),
            "dynamodb_ops": dynamo_ops,
            "dynamodb_http_exchanges_p50": statistics.median(s.tally.dynamo_http for s in run.samples),
            "items_read_p50": statistics.median(s.tally.items_read for s in run.samples),
            "bot_api_calls_in_handler": sum(bot_in_handler.values()),
            "bot_api_methods_in_handler": bot_in_handler,
            "bot_api_calls_total": int(statistics.median(s.bot_calls_total for s in run.samples)),
            "rru": statistics.median(t.rru for t in run.capacity) if run.capacity else None,
            "wru": statistics.median(t.wru for t in run.capacity) if run.capacity else None,
        }
    return out
