"""The inside of one emulated Lambda container: a process of its own, as on Lambda.

`python -m sandbox.lambda_worker <function dir> <module.handler>` runs with the environment the template
gives the function (set by `sandbox.lambda_runtime`), imports the handler once (the init phase), then
serves invocations one at a time until its stdin closes. The protocol is one JSON object per line:

    parent → worker   {"event": ..., "context": {...}, "clock_offset": seconds}
    worker → parent   {"ready": true} | {"init_error": {...}} | {"result": ..., "report": {...}}
                      | {"error": {...}, "report": {...}}

The report is Lambda's REPORT line: the invocation's duration, its CPU time and the container's peak
memory. `SANDBOX_INVOCATION_HOOK=module:factory` (the bench's, never the product's) names a context
manager factory called with the event around each invocation; the dict it yields joins the report.

Protocol lines travel on a private copy of the original stdout; the handler's own stdout and stderr are
the function's log (CloudWatch on AWS), which the parent reads line by line. Why a process and not a
thread: each container has its own module state and environment (the template's, not the sandbox's),
runs in parallel with the others, and can be killed when it runs past its timeout, as Lambda does.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

Hook = Callable[[Any], contextlib.AbstractContextManager[dict[str, Any]]]


class InvocationContext:
    """The context object Lambda hands a Python handler (the attributes Powertools and our code read)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version: str = fields.get("function_version", "$LATEST")
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(fields["memory_limit_in_mb"])
        self.aws_request_id: str = fields["aws_request_id"]
        self.log_group_name: str = fields["log_group_name"]
        self.log_stream_name: str = fields["log_stream_name"]
        self._deadline = time.monotonic() + float(fields["timeout_seconds"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _set_clock(module: Any, offset: float) -> None:
    """The sandbox's "move the clock" reaches the container with each invocation: the function's clock is
    the wall clock plus the stack's offset (murmur.clock.SystemClock), never anything else."""
    clock = getattr(module, "clock", None)
    if clock is not None and hasattr(clock, "offset"):
        clock.offset = offset


def _peak_memory_mb() -> float:
    """The container's own peak resident memory (Lambda's "Max Memory Used"). VmHWM, not ru_maxrss: on Linux
    ru_maxrss survives exec and reports the peak of the process that spawned the worker."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


def _hook() -> Hook:
    named = os.environ.get("SANDBOX_INVOCATION_HOOK", "")
    if not named:
        return lambda event: contextlib.nullcontext({})
    module_name, _, factory = named.partition(":")
    hook: Hook = getattr(importlib.import_module(module_name), factory)
    return hook


def main(argv: list[str]) -> int:
    function_dir, handler_name = argv[1], argv[2]
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # print() in a handler is a log line, never a protocol message
    sys.stdout = os.fdopen(1, "w", encoding="utf-8", buffering=1)
    module_name, _, attribute = handler_name.rpartition(".")
    sys.path.insert(0, function_dir)  # /var/task on Lambda
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, attribute)
    except BaseException as exc:  # the init phase failed: Lambda reports Runtime.ImportModuleError
        _send(channel, {"init_error": _error(exc)})
        return 1
    hook = _hook()
    _send(channel, {"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        _set_clock(module, float(request.get("clock_offset", 0.0)))
        context = InvocationContext(request["context"])
        started, cpu = time.perf_counter(), time.process_time()
        with hook(request["event"]) as extra:
            try:
                result = handler(request["event"], context)
                reply: dict[str, Any] = {"result": json.loads(json.dumps(result))}
            except Exception as exc:
                traceback.print_exc()
                reply = {"error": _error(exc)}
        reply["report"] = {
            "duration_ms": (time.perf_counter() - started) * 1000,
            "cpu_ms": (time.process_time() - cpu) * 1000,
            "max_memory_mb": _peak_memory_mb(),
            **extra,
        }
        sys.stdout.flush()
        sys.stderr.flush()
        _send(channel, reply)
    shutdown = getattr(module, "shutdown", None)
    if callable(shutdown):
        shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
