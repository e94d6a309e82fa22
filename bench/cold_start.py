"""Cold start of each function in fresh processes, beside the boto3 floor, plus memory and import costs.

A cold start here is the wall time from spawning `python` to the process having served its first
request (it then exits without teardown), against the floor `python -c "import boto3;
boto3.client('dynamodb')"` spawned the same way, interleaved round by round so that machine noise hits
both. Inside, the child reports the module import and the first request separately. Each child runs with
the environment the local stack gives that function's containers (its own credentials against the strict
AWS endpoint, its secrets read from SSM), as a Lambda container starts with the template's."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.world import World, person
from sandbox.lambda_runtime import function_configs
from sandbox.local_stack import FUNCTIONS_DIR, LocalStack

CHILD = Path(__file__).resolve().parent / "cold_child.py"
FLOOR_CODE = "import boto3; boto3.client('dynamodb')"
ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DIR = ROOT / ".bench-runtime"


def runtime_packages() -> Path:
    """What a Lambda container has: the layer's packages (pyproject's dependencies) and the runtime's boto3,
    for this machine's Python; not the dev tools of .venv (rich, click, pygments and cryptography would be
    imported by httpx and PTB when present, and count as cold start that production never pays)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    boto3 = next(d for d in project["optional-dependencies"]["dev"] if d.startswith("boto3=="))
    wanted = sorted([*project["dependencies"], boto3])
    stamp = RUNTIME_DIR / ".installed"
    if stamp.exists() and stamp.read_text() == "\n".join(wanted):
        return RUNTIME_DIR
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade",
         "--target", str(RUNTIME_DIR), *wanted],
        check=True,
    )  # fmt: skip
    stamp.write_text("\n".join(wanted))
    return RUNTIME_DIR


def stage_code(runtime: Path) -> Path:
    """Our code as the deployment ships it: murmur beside the layer's packages and the functions' handler
    directories, byte-compiled the way infra/layer/Makefile does (unchecked-hash .pyc). Without this, every
    cold child would compile murmur from source (PYTHONDONTWRITEBYTECODE, or a read-only checkout), a cost
    Lambda never pays. Returns the directory holding one folder per function."""
    shutil.rmtree(runtime / "murmur", ignore_errors=True)
    shutil.copytree(ROOT / "src" / "murmur", runtime / "murmur", ignore=shutil.ignore_patterns("__pycache__"))
    functions = runtime / "_functions"
    shutil.rmtree(functions, ignore_errors=True)
    shutil.copytree(FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [*runtime_python(), "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
         str(runtime / "murmur"), str(functions)],
        check=True,
    )  # fmt: skip
    return functions


def runtime_python() -> list[str]:
    """The interpreter without any site-packages (-S): only the stdlib and PYTHONPATH, as on Lambda."""
    return [getattr(sys, "_base_executable", sys.executable), "-S"]


KIND_BY_DIR = {"webhook": "webhook", "miniapp_api": "miniapp_api", "subscriptions_cron": "subscriptions_cron"}
FIRST_REQUEST = {
    "webhook": "a /start update from a new user (registers them, replies with sendMessage)",
    "miniapp_api": "POST /api/links/{code}/messages (a send: auth, 1 read, 1 transaction, notify)",
    "subscriptions_cron": "one scheduled tick with nothing due (cursors, 6 index queries, getStarTransactions)",
}


class ColdStartError(RuntimeError):
    """A child process failed to serve its request."""


def _http_event(stack: LocalStack, method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    found = stack.emulator.route_for(method, path)
    if found is None:
        raise ColdStartError(f"no route for {method} {path}")
    route, params = found
    return stack.emulator.build_event(route, params, method, path, headers, body)


def events_for(kind: str, stack: LocalStack, world: World, count: int) -> list[dict[str, Any]]:
    """`count` first-request events of one function, each from a new user (rate limits, de-duplication); a
    send goes to a recipient of its own, so that Telegram's flood control (about one message a second to a
    chat) takes every notification and no request measures the path where the notice is owed instead."""
    events = []
    for _ in range(count):
        uid = world.next_id()
        if kind == "miniapp_api":
            code = world.register(world.next_id(), "ColdOwner")
            body = json.dumps({"text": "You make every day brighter"}).encode()
            headers = {
                "Host": "127.0.0.1",
                "Content-Type": "application/json",
                "Authorization": f"tma {stack.init_data(person(uid))}",
            }
            events.append(_http_event(stack, "POST", f"/api/links/{code}/messages", headers, body))
        elif kind == "webhook":
            user = person(uid)
            update = {
                "update_id": world.next_id(),
                "message": {
                    "message_id": 1,
                    "from": user,
                    "chat": {"id": uid, "type": "private", "first_name": user["first_name"]},
                    "date": int(stack.now()),
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
            headers = {
                "Host": "127.0.0.1",
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": stack.webhook_secret,
            }
            events.append(_http_event(stack, "POST", "/webhook", headers, json.dumps(update).encode()))
        else:
            events.append({})
    return events


def _spawn(argv: list[str], env: dict[str, str]) -> tuple[float, str, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise ColdStartError(f"{argv[-4:]} exited {done.returncode}: {done.stderr[-2000:]}")
    return wall, done.stdout, done.stderr


def _result(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH-RESULT "):
            return dict(json.loads(line[len("BENCH-RESULT ") :]))
    raise ColdStartError(f"the child printed no result: {stdout[-1000:]}")


def parse_importtime(stderr: str, top: int = 10) -> dict[str, Any]:
    """Top costs from `-X importtime`: per top-level package (self time summed) and per import statement
    of the handler module (depth 0, cumulative), before and during the first request."""
    phases: dict[str, list[tuple[int, int, str]]] = {"import": [], "first_request": []}
    phase = "import"
    for line in stderr.splitlines():
        if line.startswith("#bench: first request"):
            phase = "first_request"
            continue
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        raw_self, raw_cumulative, raw_name = line[len("import time:") :].split("|", 2)
        phases[phase].append((int(raw_self), int(raw_cumulative), raw_name.rstrip()))
    out: dict[str, Any] = {}
    for phase_name, entries in phases.items():
        by_package: dict[str, int] = defaultdict(int)
        for self_us, _, module in entries:
            by_package[module.strip().split(".")[0]] += self_us
        statements = [(c, n.strip()) for _, c, n in entries if not n.startswith("  ")]
        out[phase_name] = {
            "total_ms": round(sum(s for s, _, _ in entries) / 1000, 1),
            "top_packages_self_ms": [
                {"package": p, "ms": round(us / 1000, 1)}
                for p, us in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
            ],
            "top_statements_cumulative_ms": [
                {"module": n, "ms": round(c / 1000, 1)} for c, n in sorted(statements, reverse=True)[:top]
            ],
        }
    return out


def child_environment(stack: LocalStack, logical_id: str, runtime: Path) -> dict[str, str]:
    """A function's environment as the stack gives its containers (the template's variables, its own IAM
    credentials, the strict AWS endpoint; secrets read from SSM as on AWS), the bench's probe hook left out
    (the cold child is no `sandbox.lambda_worker`), and the layer's packages on the path."""
    env = {k: v for k, v in stack.functions[logical_id].container.environment.items() if not k.startswith("BENCH_")}
    env.pop("SANDBOX_INVOCATION_HOOK", None)
    env["PYTHONPATH"] = str(runtime)
    return env


def run_cold_start(stack: LocalStack, world: World, runs: int, warm_requests: int) -> dict[str, Any]:
    """Median of `runs` cold starts per function and of the floor (after one discarded warm-up round)."""
    runtime = runtime_packages()
    functions_dir = stage_code(runtime)
    configs = {c.code_dir_name: c for c in function_configs().values() if c.code_dir_name in KIND_BY_DIR}
    envs = {kind: child_environment(stack, config.logical_id, runtime) for kind, config in configs.items()}
    envs["floor"] = envs["miniapp_api"]  # the floor runs with the same environment as a function
    walls: dict[str, list[float]] = defaultdict(list)
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    kinds = ["floor", *configs]
    with tempfile.TemporaryDirectory(prefix="murmur-bench-") as tmp:

        def child_argv(kind: str, count: int, *flags: str) -> list[str]:
            path = Path(tmp) / f"{kind}-{world.next_id()}.json"
            path.write_text(json.dumps(events_for(kind, stack, world, count)))
            config = configs[kind]
            return [
                *runtime_python(), *flags, "-P", str(CHILD), str(functions_dir / kind), str(path),
                config.logical_id, str(config.memory_mb),
            ]  # fmt: skip

        for round_no in range(runs + 1):
            order = kinds[round_no % len(kinds) :] + kinds[: round_no % len(kinds)]
            for kind in order:
                argv = [*runtime_python(), "-c", FLOOR_CODE] if kind == "floor" else child_argv(kind, 1)
                wall, stdout, _ = _spawn(argv, envs[kind])
                if round_no == 0:
                    continue  # the first round warms the page cache and writes .pyc files
                walls[kind].append(wall)
                if kind != "floor":
                    children[kind].append(_result(stdout))
        imports = {
            kind: parse_importtime(_spawn(child_argv(kind, 1, "-X", "importtime"), envs[kind])[2]) for kind in configs
        }
        memory = {kind: _result(_spawn(child_argv(kind, 1 + warm_requests), envs[kind])[1]) for kind in configs}

    floor = statistics.median(walls["floor"])
    functions: dict[str, Any] = {}
    for kind, config in configs.items():
        results = children[kind]
        if any(int(r["status"]) >= 500 for r in results):
            raise ColdStartError(f"{kind}: a cold request failed: {[r['status'] for r in results]}")
        median_wall = statistics.median(walls[kind])
        warm = memory[kind]["warm_s"]
        functions[kind] = {
            "logical_id": config.logical_id,
            "first_request": FIRST_REQUEST[kind],
            "runs": len(walls[kind]),
            "cold_start_ms": round(median_wall * 1000, 1),
            "ratio_to_floor": round(median_wall / floor, 2),
            "import_ms": round(statistics.median(r["import_s"] for r in results) * 1000, 1),
            "first_request_ms": round(statistics.median(r["first_request_s"] for r in results) * 1000, 1),
            "interpreter_and_rest_ms": round(
                (median_wall - statistics.median(r["import_s"] + r["first_request_s"] for r in results)) * 1000, 1
            ),
            "all_runs_ms": [round(w * 1000, 1) for w in walls[kind]],
            "imports": imports[kind],
            "memory": {
                "memory_size_mb": config.memory_mb,
                "peak_rss_after_first_mb": round(statistics.median(r["maxrss_mb"] for r in results), 1),
                "peak_rss_after_warm_mb": round(memory[kind]["maxrss_mb"], 1),
                "warm_requests": len(warm),
                "warm_p50_ms": round(statistics.median(warm) * 1000, 2) if warm else None,
            },
        }
    return {
        "floor": {
            "command": f'python -c "{FLOOR_CODE}"',
            "median_ms": round(floor * 1000, 1),
            "all_runs_ms": [round(w * 1000, 1) for w in walls["floor"]],
        },
        "functions": functions,
    }
