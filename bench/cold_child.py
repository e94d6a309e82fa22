"""One cold Lambda container, in a fresh process: import the handler module, serve the first event, then
(optionally) the rest warm, and print the timings and peak RSS as one JSON line.

Run as a script (`python bench/cold_child.py ...`), never as `-m bench...`: it must import nothing but
the standard library before the handler module, or the bench's own imports would count as cold start."""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402

MARKER = "BENCH-RESULT "


class Context:
    """The attributes of Lambda's context object that Powertools and our handlers read."""

    def __init__(self, name: str, memory_mb: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def peak_rss_mb() -> float:
    """This process's peak resident set: VmHWM, which starts afresh at exec. Not getrusage's ru_maxrss: on
    Linux it survives exec, so a child spawned by the (large) bench process would report the parent's size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(function_dir: str, events_path: str, name: str, memory_mb: int) -> None:
    with open(events_path) as handle:
        events = json.load(handle)
    sys.path.insert(0, function_dir)  # as /var/task is on Lambda
    began_import = time.perf_counter()
    spec = importlib.util.spec_from_file_location("app", os.path.join(function_dir, "app.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    imported = time.perf_counter()
    print("#bench: first request", file=sys.stderr, flush=True)  # splits `-X importtime` output
    first = module.handler(events[0], Context(name, memory_mb))
    served = time.perf_counter()
    warm = []
    for event in events[1:]:
        t = time.perf_counter()
        module.handler(event, Context(name, memory_mb))
        warm.append(time.perf_counter() - t)
    status = first.get("statusCode", 200) if isinstance(first, dict) else 200
    result = {
        "before_import_s": began_import - STARTED,
        "import_s": imported - began_import,
        "first_request_s": served - imported,
        "status": status,
        "warm_s": warm,
        "maxrss_mb": peak_rss_mb(),
    }
    print(MARKER + json.dumps(result), flush=True)
    os._exit(0)  # Lambda freezes the container; no interpreter teardown to time


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
