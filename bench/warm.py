"""Warm latency and round trips per operation, through the real handlers on a running LocalStack.

Each operation is run `samples` times after a warm-up (so PTB's Application and the clients exist), one
invocation at a time, each on the function's one warm container (a process of its own). The handler's wall
and CPU time are taken inside that container by the bench's invocation hook (`bench.probe`), which also
counts the DynamoDB and Bot API calls and times their HTTP exchanges; its own time is the wall time minus
those waits (and minus any deliberate sleep). A second, short pass with capacity accounting on gives the
read/write units (kept apart: accounting reads items aside). The owner's notifications are spaced to
Telegram's per-chat limit (`ChatPacer`): a warm sample measures a notice Telegram takes, and one that
met flood control (and owed its notice to the outbox) fails the bench rather than being averaged in."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.probe import Invocation, Tally, clear_reports, only_invocation
from bench.stats import summary_ms
from bench.world import BenchError, World
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
NOTIFIES_OWNER = frozenset({"send", "fulfil"})  # each sends the owner one message


@dataclass
class Sample:
    handler_s: float
    tally: Tally
    bot_calls_total: int  # Bot API calls recorded by the fake, webhook replies included
    cpu_s: float = 0.0  # the container's CPU time during the handler
    report_s: float = 0.0  # the REPORT's duration (the handler plus the probe's own work around it)


@dataclass
class OperationRun:
    name: str
    samples: list[Sample] = field(default_factory=list)
    capacity: list[Tally] = field(default_factory=list)


def measure(
    world: World, action: Callable[[], Any], *, capacity: bool = False, count_calls: bool = False
) -> tuple[Invocation, int]:
    """Run `action` (which must make exactly one invocation); its probe figures and the Bot API calls the
    fake recorded meanwhile. Telegram's flood control answering 429 during it fails the bench."""
    stack = world.stack
    stack.bot_api.clear()
    clear_reports(stack)
    with world.probe.asking(capacity=capacity, count_calls=count_calls):
        action()
    invocation = only_invocation(stack)
    throttled = stack.bot_api.throttled()
    if throttled:
        raise BenchError(f"flood control answered 429 during a measured invocation: {[c.method for c in throttled]}")
    return invocation, len(stack.bot_api.calls())


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
    runs = {name: OperationRun(name) for name in OPERATIONS}
    owner = world.next_id()
    code = world.register(owner, "Owner")
    for phase, count in (("warmup", 2), ("timed", samples), ("capacity", capacity_samples)):
        flow = _flow(world, owner, code, count)
        for name in OPERATIONS:
            if name == "cron_tick":
                world.cron()  # the first tick after payments reconciles them: not a steady-state tick
            for action in flow[name]:
                if name in NOTIFIES_OWNER:
                    world.chats.before(owner)  # outside the measured invocation
                if phase == "warmup":
                    action()
                else:
                    invocation, total = measure(world, action, capacity=phase == "capacity")
                    sample = Sample(
                        invocation.handler_s, invocation.tally, total, invocation.cpu_s, invocation.report_duration_s
                    )
                    if phase == "timed":
                        runs[name].samples.append(sample)
                    else:
                        runs[name].capacity.append(sample.tally)
                if name in NOTIFIES_OWNER:
                    world.chats.after(owner)
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
            "lambda_report": summary_ms([s.report_s for s in run.samples]),
            "dynamodb_wait": summary_ms([s.tally.dynamo_wait_s for s in run.samples]),
            "bot_api_wait": summary_ms([s.tally.bot_wait_s for s in run.samples]),
            # Waits a warm request should not have (a sleep, an SSM call): zero unless something is off.
            "other_waits_max_ms": round(max(s.tally.sleep_s + s.tally.other_aws_wait_s for s in run.samples) * 1000, 3),
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
