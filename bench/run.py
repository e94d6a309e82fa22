"""`make bench`: every measurement in one run, written to bench/results.json and bench/RESULTS.md.

python -m bench.run              # the full bench (about six minutes on 2 cores: the warm and cron steps
                                 #   space their notifications to Telegram's per-chat flood limit)
python -m bench.run --smoke --out DIR   # tiny counts, to check the harness works (tests)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.chart import render_chart
from bench.cold_start import run_cold_start
from bench.cost import cost_model
from bench.cron_scaling import run_cron_scaling
from bench.flood import FULL_PROFILE, SMOKE_PROFILE, run_flood
from bench.load import run_load
from bench.report import render
from bench.roundtrips import compare
from bench.warm import run_warm, summarise
from bench.world import World, quiet_stack

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Counts:
    cold_runs: int
    memory_warm_requests: int
    warm_samples: int
    capacity_samples: int
    cron_base_users: int
    cron_due: int
    cron_scales: tuple[int, ...]
    cron_runs: int
    load_senders: int
    load_concurrency: int
    flood_profile: tuple[tuple[float, float], ...]
    flood_concurrency: int


FULL = Counts(10, 30, 60, 3, 100, 20, (1, 10, 100), 7, 200, 4, FULL_PROFILE, 8)
SMOKE = Counts(1, 2, 2, 1, 8, 3, (1, 2), 1, 5, 2, SMOKE_PROFILE, 2)


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run(counts: Counts, smoke: bool) -> dict[str, Any]:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "smoke": smoke,
        "machine": _machine(),
        "counts": counts.__dict__
        | {"cron_scales": list(counts.cron_scales), "flood_profile": [list(p) for p in counts.flood_profile]},
    }
    max_containers = max(counts.load_concurrency, counts.flood_concurrency)
    with quiet_stack(max_containers=max_containers) as bench:
        stack = bench.stack
        world = World(stack, bench.probe)
        steps = (
            ("cold_start", lambda: run_cold_start(stack, world, counts.cold_runs, counts.memory_warm_requests)),
            ("warm", lambda: summarise(run_warm(stack, world, counts.warm_samples, counts.capacity_samples))),
            ("load", lambda: run_load(stack, world, counts.load_senders, counts.load_concurrency)),
            ("flood", lambda: run_flood(stack, world, counts.flood_concurrency, counts.flood_profile)),
            # Last: moto deep-copies every table on each transaction, so 10,000 seeded users slow all later
            # writes down; nothing measured after this step.
            ("cron_scaling", lambda: run_cron_scaling(
                stack, world, counts.cron_base_users, counts.cron_due, counts.cron_scales, counts.cron_runs
            )),
        )  # fmt: skip
        for name, step in steps:
            t = time.perf_counter()
            print(f"bench: {name}...", file=sys.stderr, flush=True)
            results[name] = step()
            timings[name] = round(time.perf_counter() - t, 1)
    results["round_trips"] = compare(results["warm"])
    results["cost"] = cost_model(results["warm"], results["cold_start"])
    results["stack"] = {
        "max_containers": max_containers,
        "transaction_seconds": stack.transaction_seconds,
        "flood_control": results["load"]["flood_control"],
        "function_log_level": "WARNING",
    }
    results["bench_seconds"] = timings | {"total": round(time.perf_counter() - started, 1)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts: checks the harness, not the figures")
    parser.add_argument("--out", type=Path, default=HERE, help="directory for results.json, RESULTS.md, chart.png")
    args = parser.parse_args(argv)
    # The functions print Powertools' EMF metric lines on stdout (as on Lambda): not the bench's output.
    with contextlib.redirect_stdout(io.StringIO()):
        results = run(SMOKE if args.smoke else FULL, args.smoke)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    (args.out / "RESULTS.md").write_text(render(results))
    render_chart(results, args.out / "chart.png")
    print(
        f"bench: wrote {args.out / 'results.json'}, RESULTS.md and chart.png in {results['bench_seconds']['total']} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
