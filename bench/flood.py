"""The flood (issue 13, ADR 0007): 2,000 distinct senders to one owner, arriving on a schedule with peaks of
50 a second, on the strict stack (concurrent containers, DynamoDB's transaction conflicts, IAM, Telegram's
flood control), while the cron ticks every minute as EventBridge would tick it.

Arrivals are an open loop: message i is due at its scheduled moment whatever happened to the others. Up to
`concurrency` are in flight at once (one per API container this machine can run; on AWS Lambda would start
more); a message whose moment comes while all are busy waits in the client, and that wait is counted: the
latency "from schedule" runs from the due moment to the answer (no coordinated omission), the latency
"of the request" from sending it.

Capacity units per send are measured apart, on a short calibration batch with the probe's capacity
accounting on (accounting reads items aside, which would slow the flood itself down)."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench import prices
from bench.cost import LOG_BYTES_PER_INVOCATION, lambda_cost
from bench.load import API, count_stored, dev_server, error_code, owed_keys, post, remove
from bench.probe import Invocation, clear_reports, reports_since_clear
from bench.stats import summary_ms
from bench.world import World, person
from sandbox.lambda_runtime import function_configs
from sandbox.local_stack import LocalStack

CRON_EVERY_S = 60.0  # the template's schedule: rate(1 minute)
CALIBRATION_SENDS = 20
# (seconds, arrivals a second): 2,000 in 90 s, two peaks of 50 a second.
FULL_PROFILE: tuple[tuple[float, float], ...] = ((20, 10), (10, 50), (30, 20), (10, 50), (20, 10))
SMOKE_PROFILE: tuple[tuple[float, float], ...] = ((1, 4), (1, 8))


def arrivals(profile: tuple[tuple[float, float], ...]) -> list[float]:
    """The due moment (seconds from the start) of every message, evenly spaced within each phase."""
    due: list[float] = []
    start = 0.0
    for seconds, rate in profile:
        count = round(seconds * rate)
        due += [start + i / rate for i in range(count)]
        start += seconds
    return due


@dataclass
class Answer:
    status: int
    code: str
    request_s: float
    from_schedule_s: float


def _calibrate(stack: LocalStack, world: World) -> tuple[dict[str, float], int]:
    """Read and write units of one send, with the probe's capacity accounting, to an owner of their own
    (returned too: their announcement is the flood's to clear)."""
    calibration_owner = world.next_id()
    code = world.register(calibration_owner, "Calibration")
    clear_reports(stack)
    with world.probe.asking(capacity=True):
        for _ in range(CALIBRATION_SENDS):
            world.send(code, world.next_id())
    sends = [Invocation.from_report(n, r) for n, r in reports_since_clear(stack) if n == API]
    return {
        "sends": len(sends),
        "wru": round(statistics.mean(i.tally.wru for i in sends), 2),
        "rru": round(statistics.mean(i.tally.rru for i in sends), 2),
    }, calibration_owner


class _CronTicker:
    """Runs the cron every CRON_EVERY_S of wall time from the flood's start, as EventBridge would."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.ticks: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-flood-cron", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=300)

    def tick(self) -> None:
        started = time.perf_counter()
        summary = self.world.cron()
        self.ticks.append(
            {"s": round(time.perf_counter() - started, 2), **{k: v for k, v in summary.items() if v and "outbox" in k}}
        )

    def _run(self) -> None:
        while not self._stop.wait(CRON_EVERY_S):
            self.tick()


def run_flood(
    stack: LocalStack, world: World, concurrency: int, profile: tuple[tuple[float, float], ...] = FULL_PROFILE
) -> dict[str, Any]:
    api = stack.functions[API].container
    concurrency = max(1, min(concurrency, api.max_concurrency))
    units, calibration_owner = _calibrate(stack, world)
    owner = world.next_id()
    code = world.register(owner, "Popular")
    path = f"/api/links/{code}/messages"
    due = arrivals(profile)
    requests = [
        (
            json.dumps({"text": f"flood message {i}: you are the best, honestly"}).encode(),
            {"Content-Type": "application/json", "Authorization": f"tma {stack.init_data(person(world.next_id()))}"},
        )
        for i in range(len(due))
    ]
    answers: list[Answer] = []
    lock = threading.Lock()
    next_index = iter(range(len(due)))

    def client(port: int, t0: float) -> None:
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            wait = t0 + due[i] - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            status, body = post(port, path, *requests[i])
            done = time.perf_counter()
            with lock:
                answers.append(
                    Answer(status, "" if status == 201 else error_code(body), done - sent, done - (t0 + due[i]))
                )

    stack.bot_api.clear()
    clear_reports(stack)
    conflicts_before, denials_before = stack.aws.conflicts, len(stack.aws.denials)
    cold_before, throttles_before = api.cold_starts, api.throttles
    ticker = _CronTicker(world)
    with dev_server(stack) as port:
        t0 = time.perf_counter() + 0.2
        threads = [threading.Thread(target=client, args=(port, t0), daemon=True) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        ticker.start()
        for thread in threads:
            thread.join(timeout=1800)
        wall = time.perf_counter() - t0
        ticker.stop()
    ticker.tick()  # the tick after the flood: everything announced
    invocations = [Invocation.from_report(n, r) for n, r in reports_since_clear(stack) if n == API]
    statuses = Counter(a.status for a in answers)
    # A follow-up announcement may still be due after the last tick (the 30 s quiet interval): counted, then
    # removed with the calibration owner's, so the steps after this one measure a cron with an empty outbox.
    owed_after = len(owed_keys(stack, owner))
    for chat in (owner, calibration_owner):
        remove(stack, owed_keys(stack, chat))
    stored = count_stored(stack, owner)
    to_owner = stack.bot_api.calls(chat_id=owner)
    told = [c for c in to_owner if c.ok]
    attempts = Counter(i.tally.dynamo_ops.get("TransactWriteItems", 0) for i in invocations)
    handler_p50_ms = statistics.median(i.handler_s for i in invocations) * 1000 if invocations else 0.0
    send_usd = (
        lambda_cost(handler_p50_ms, function_configs()[API].memory_mb)
        + prices.HTTP_API_PER_REQUEST
        + units["wru"] * prices.DYNAMODB_PER_WRU
        + units["rru"] * prices.DYNAMODB_PER_RRU
        + LOG_BYTES_PER_INVOCATION / 1e9 * prices.CLOUDWATCH_LOGS_INGEST_PER_GB
    )
    return {
        "senders": len(due),
        "profile": [list(p) for p in profile],
        "peak_per_s": max(rate for _, rate in profile),
        "concurrency": concurrency,
        "wall_s": round(wall, 1),
        "achieved_per_s": round(len(answers) / wall, 1) if wall else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "refusals": dict(Counter(f"{a.status} {a.code}" for a in answers if a.status != 201)),
        "stored": stored,
        "lost": statuses.get(201, 0) - stored,
        "errors_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "sender_429s": statuses.get(429, 0),
        "latency_request": summary_ms([a.request_s for a in answers]),
        "latency_from_schedule": summary_ms([a.from_schedule_s for a in answers]),
        "handler_in_container": summary_ms([i.handler_s for i in invocations]) if invocations else None,
        "dynamodb_calls_per_send_p50": (
            statistics.median(i.tally.dynamo_calls for i in invocations) if invocations else None
        ),
        "transaction_attempts": {str(k): v for k, v in sorted(attempts.items())},
        "conflicts_retried": sum((k - 1) * v for k, v in attempts.items() if k > 1),
        "conflicts_at_dynamodb": stack.aws.conflicts - conflicts_before,
        "cold_starts": api.cold_starts - cold_before,
        "throttled_by_concurrency": api.throttles - throttles_before,
        "iam_denials": len(stack.aws.denials) - denials_before,
        "cron_ticks": ticker.ticks,
        "telegram_calls_to_owner": len(to_owner),
        "telegram_messages_to_owner": len(told),
        "telegram_429s_to_owner": len(stack.bot_api.throttled(chat_id=owner)),
        "telegram_429s_all": len(stack.bot_api.throttled()),
        "last_notice": str(told[-1].params.get("text", ""))[:90] if told else "",
        "owed_after_last_tick": owed_after,
        "units_per_send": units,
        "send_usd_per_million": round(send_usd * 1e6, 2),
    }
