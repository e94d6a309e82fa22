"""Cron scaling: the same 20 Plus passes due among 1x, 10x and 100x as many Plus users. The work per run
(DynamoDB calls, items read) must not change, and neither should the handler's own time.

Users are seeded with batch writes for speed, but every item is what the repository itself writes:
`UsersRepository.create_op` for the user and `set_plan_op` (its SET clause applied) for the pass, so a
renamed attribute changes the seed too. Before each measured run the 20 due passes are put back."""

from __future__ import annotations

import calendar
import re
import statistics
import time
from typing import Any

from bench.probe import Invocation
from bench.stats import summary_ms
from bench.warm import measure
from bench.world import BenchError, World
from murmur.models import PlanKind, User
from murmur.plans import REMIND_BEFORE
from murmur.store.users import EXPIRY_INDEX, UsersRepository
from sandbox.local_stack import LocalStack

_ASSIGNMENT = re.compile(r"^\s*([#\w]+)\s*=\s*(:\w+)\s*$")


def _apply_set(item: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Apply the SET part of an UpdateItem made only of `name = :value` assignments to an item."""
    expression = update["UpdateExpression"]
    set_part = expression.split(" REMOVE ")[0]
    if not set_part.startswith("SET "):
        raise BenchError(f"cannot seed from {expression!r}")
    names = update.get("ExpressionAttributeNames", {})
    values = update["ExpressionAttributeValues"]
    out = dict(item)
    for clause in set_part[4:].split(","):
        match = _ASSIGNMENT.match(clause)
        if match is None:
            raise BenchError(f"cannot seed from the clause {clause!r} of {expression!r}")
        out[names.get(match.group(1), match.group(1))] = values[match.group(2)]
    return out


def plus_item(users: UsersRepository, user_id: int, expires_at: int, now: int, remind: bool) -> dict[str, Any]:
    user = User(user_id=user_id, first_name=f"P{user_id % 1000}", link_code=f"bench{user_id:07d}", created_at=now)
    item = users.create_op(user).request["Put"]["Item"]
    op = users.set_plan_op(
        user_id,
        plan=PlanKind.PLUS,
        expires_at=expires_at,
        previous_expires_at=None,
        remind_at=expires_at - REMIND_BEFORE if remind else None,
    )
    return _apply_set(item, op.request["Update"])


def _batch_put(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        for _ in range(10):  # bounded: moto never leaves items unprocessed, DynamoDB might
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break


def _batch_delete(client: Any, table: str, keys: list[dict[str, Any]]) -> None:
    for start in range(0, len(keys), 25):
        pending: dict[str, Any] = {table: [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]}
        for _ in range(10):  # bounded, as in _batch_put
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break


def run_cron_scaling(
    stack: LocalStack,
    world: World,
    base_users: int,
    due: int,
    scales: tuple[int, ...],
    runs: int,
) -> dict[str, Any]:
    """Each scale is visited on the way up and again on the way down (the largest once, with twice the runs):
    `runs` measured ticks per visit, and one more with its function calls counted (`python_calls`, by the
    probe in the cron's container: sys.setprofile in the handler's thread), the handler's work as a number
    no noise on the machine changes. Own time takes out the DynamoDB and Bot API waits and the pacing
    sleeps (the cron holds its notices to Telegram's limits: 25 a second)."""
    table = stack.tables["USERS_TABLE"]
    client = stack.dynamodb_client()
    users = UsersRepository(client, table)
    try:
        now = int(stack.now())
        day_start = calendar.timegm((*time.gmtime(now)[:3], 0, 0, 0))
        due_at = max(day_start + 1, now - 120)
        due_ids = [world.next_id() for _ in range(due)]

        # Not due: passes ending in 2-7 days; their reminders fall from tomorrow on.
        def later(i: int) -> int:
            return now + 2 * 86400 + (i * 7919) % (5 * 86400)

        def tick(count_calls: bool = False) -> tuple[Invocation, dict[str, Any]]:
            """One measured tick with the same passes due again."""
            _batch_put(client, table, [plus_item(users, uid, due_at, now, False) for uid in due_ids])
            found, _ = users.due(EXPIRY_INDEX, time.strftime("%Y-%m-%d", time.gmtime(due_at)), now, 1000, None)
            if sorted(found) != sorted(due_ids):
                raise BenchError(f"seeding made {len(found)} passes due, wanted {due}")
            reports: list[dict[str, Any]] = []
            for uid in due_ids:  # each tick notifies the same users: keep them inside Telegram's per-chat limit
                world.chats.before(uid)
            invocation, _ = measure(world, lambda: reports.append(world.cron()), count_calls=count_calls)
            for uid in due_ids:
                world.chats.after(uid)
            report = reports[0]
            if report.get("expired") != due:
                raise BenchError(f"the cron expired {report.get('expired')} passes, wanted {due}: {report}")
            if report.get("notices_sent") != due or report.get("outbox_sent"):
                # A notice owed (flood control) or one from the outbox would change the work measured.
                raise BenchError(f"the cron sent {report.get('notices_sent')} renewal notices, wanted {due}: {report}")
            return invocation, report

        def ticks(count: int) -> tuple[list[tuple[float, Any, dict[str, Any]]], list[float]]:
            """`count` measured ticks, each with the same 20 passes due again."""
            samples, cpu = [], []
            for _ in range(count):
                invocation, report = tick()
                samples.append((invocation.handler_s, invocation.tally, report))
                cpu.append(invocation.cpu_s)
            return samples, cpu

        world.cron()  # a first run reads the look-back days and moves the cursors to today
        # Up and back down (1x, 10x, 100x, 10x, 1x): the machine's speed drifts over a run, and visiting
        # each smaller scale on both sides of the largest cancels a steady drift out of the comparison.
        visits = [*scales, *reversed(scales[:-1])]
        seeded: list[int] = []
        measured: dict[int, tuple[list[tuple[float, Any, dict[str, Any]]], list[float]]] = {}
        python_calls: dict[int, int] = {}
        for scale in visits:
            target = base_users * scale - due
            if target > len(seeded):
                fresh = [world.next_id() for _ in range(target - len(seeded))]
                _batch_put(client, table, [plus_item(users, uid, later(uid), now, True) for uid in fresh])
                seeded += fresh
            else:
                _batch_delete(client, table, [users.key(uid) for uid in seeded[target:]])
                del seeded[target:]
            samples, cpu = ticks(runs * (2 if scale == scales[-1] else 1))
            got = measured.setdefault(scale, ([], []))
            got[0].extend(samples)
            got[1].extend(cpu)
            if scale not in python_calls:
                counted = tick(count_calls=True)[0].python_calls
                if counted is None:
                    raise BenchError("the probe did not count the tick's function calls")
                python_calls[scale] = counted
        levels: list[dict[str, Any]] = []
        for scale in scales:
            samples, cpu = measured[scale]
            handler = [s[0] for s in samples]
            own = [max(0.0, h - t.waits_s) for h, t, _ in samples]
            levels.append(
                {
                    "scale": scale,
                    "plus_users": base_users * scale,
                    "due": due,
                    "dynamodb_calls": int(statistics.median(t.dynamo_calls for _, t, _ in samples)),
                    "dynamodb_ops": dict(samples[-1][1].dynamo_ops),
                    "items_read": int(statistics.median(t.items_read for _, t, _ in samples)),
                    "bot_api_calls": int(statistics.median(sum(t.bot_calls.values()) for _, t, _ in samples)),
                    "handler": summary_ms(handler),
                    "own": summary_ms(own),
                    "own_cpu": summary_ms(cpu),
                    "longest_query_ms": round(max(t.longest_query_s for _, t, _ in samples) * 1000, 1),
                    "python_calls": python_calls[scale],
                    "dynamodb_wait": summary_ms([t.dynamo_wait_s for _, t, _ in samples]),
                    "bot_api_wait": summary_ms([t.bot_wait_s for _, t, _ in samples]),
                    "pacing_wait": summary_ms([t.sleep_s for _, t, _ in samples]),
                    "report": {k: v for k, v in samples[-1][2].items() if isinstance(v, int | bool)},
                }
            )
    finally:
        client.close()
    first, last = levels[0], levels[-1]

    def change(key: str, field: str | None = None) -> float:
        a = first[key][field] if field else first[key]
        b = last[key][field] if field else last[key]
        return round((b - a) / a * 100, 1) if a else 0.0

    return {
        "levels": levels,
        "change_pct_first_to_last": {
            "dynamodb_calls": change("dynamodb_calls"),
            "items_read": change("items_read"),
            "own_p50": change("own", "p50_ms"),
            "own_min": change("own", "min_ms"),
            "python_calls": change("python_calls"),
            "own_cpu_p50": change("own_cpu", "p50_ms"),
            "handler_p50": change("handler", "p50_ms"),
        },
    }
