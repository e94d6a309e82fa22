"""Just enough of the Lambda runtime to run our functions locally as the template configures them.

`ProcessFunction` is the real thing's shape: each container is a process of its own (sandbox.lambda_worker)
with the function's own environment and credentials, started on demand up to the function's concurrency,
one invocation at a time each, killed when it runs past its Timeout. `LambdaFunction` runs a plain
handler in this process, for the HTTP API emulator's own tests.
"""

from __future__ import annotations

import collections
import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sandbox.lambda_worker import InvocationContext
from sandbox.tables import TEMPLATE, load_template

_ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

Handler = Callable[[dict[str, Any], Any], Any]


@runtime_checkable
class Invocable(Protocol):
    """A function the HTTP API emulator can invoke: the event in, the JSON result out (or an exception)."""

    def invoke(self, event: Any) -> Any: ...


def context_fields(function_name: str, memory_mb: int, timeout_seconds: float) -> dict[str, Any]:
    """What one invocation's context carries (`sandbox.lambda_worker.InvocationContext` is built from it)."""
    return {
        "function_name": function_name,
        "invoked_function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}",
        "memory_limit_in_mb": memory_mb,
        "aws_request_id": str(uuid.uuid4()),
        "log_group_name": f"/aws/lambda/{function_name}",
        "log_stream_name": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        "timeout_seconds": timeout_seconds,
    }


@dataclass(frozen=True)
class FunctionConfig:
    """What the template says about one `AWS::Serverless::Function` (Globals applied)."""

    logical_id: str
    code_dir_name: str  # the last part of CodeUri, e.g. "webhook"
    handler: str  # "app.handler"
    memory_mb: int
    timeout_seconds: float
    event_types: frozenset[str] = frozenset()  # "HttpApi", "ScheduleV2", ...
    # As written in the template (intrinsics unresolved): Globals' variables overlaid by the function's.
    environment: Mapping[str, Any] = field(default_factory=dict)
    reserved_concurrency: Any = None  # ReservedConcurrentExecutions, unresolved (may be an Fn::If)


def function_configs(template_path: Path = TEMPLATE) -> dict[str, FunctionConfig]:
    """Every serverless function of the template, keyed by logical id."""
    template = load_template(template_path)
    defaults = (template.get("Globals") or {}).get("Function") or {}
    configs: dict[str, FunctionConfig] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        code_uri = props.get("CodeUri")
        if not isinstance(code_uri, str):
            raise ValueError(f"{logical_id}: CodeUri must be a local path, got {code_uri!r}")
        configs[logical_id] = FunctionConfig(
            logical_id=logical_id,
            code_dir_name=Path(code_uri).name,
            handler=str(props.get("Handler", defaults.get("Handler", "app.handler"))),
            memory_mb=int(props.get("MemorySize", defaults.get("MemorySize", 128))),
            timeout_seconds=float(props.get("Timeout", defaults.get("Timeout", 3))),
            event_types=frozenset(str(e.get("Type")) for e in (props.get("Events") or {}).values()),
            environment={
                **((defaults.get("Environment") or {}).get("Variables") or {}),
                **((props.get("Environment") or {}).get("Variables") or {}),
            },
            reserved_concurrency=props.get("ReservedConcurrentExecutions"),
        )
    return configs


class LambdaFunction:
    """A plain handler in this process, one invocation at a time, each with a fresh context (for the HTTP
    API emulator's own tests; the local stack runs the real functions as `ProcessFunction`s).

    The event and the result cross a JSON boundary, as they do on Lambda, so a handler that
    returns something unserialisable fails here as it would there.
    """

    def __init__(self, name: str, handler: Handler, *, memory_mb: int = 128, timeout_seconds: float = 3.0):
        self.name = name
        self.handler = handler
        self.memory_mb = memory_mb
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: FunctionConfig, handler: Handler) -> LambdaFunction:
        return cls(config.logical_id, handler, memory_mb=config.memory_mb, timeout_seconds=config.timeout_seconds)

    def invoke(self, event: Any) -> Any:
        """Run the handler on a JSON copy of `event`; return a JSON copy of its result."""
        payload = json.loads(json.dumps(event))
        with self._lock:
            context = InvocationContext(context_fields(self.name, self.memory_mb, self.timeout_seconds))
            result = self.handler(payload, context)
        return json.loads(json.dumps(result))


# ---------------------------------------------------------------------------------- containers as processes
class FunctionInvokeError(RuntimeError):
    """The invocation failed as Lambda reports it to its caller (API Gateway answers 500 for each kind)."""

    kind = "Unhandled"


class FunctionTimeoutError(FunctionInvokeError):
    """The handler ran past the template's Timeout: Lambda stops the container ("Task timed out")."""

    kind = "Sandbox.Timedout"


class FunctionThrottledError(FunctionInvokeError):
    """Every container the function may have is busy (its reserved concurrency): TooManyRequestsException."""

    kind = "TooManyRequestsException"


class FunctionInitError(FunctionInvokeError):
    """The init phase (importing the handler module) failed: Runtime.ImportModuleError and the like."""

    kind = "Runtime.InitError"


LogSink = Callable[[str, str], None]  # (function name, one log line)


def _print_log(function_name: str, line: str) -> None:
    sys.stderr.write(f"[{function_name}] {line}\n")


class _Container:
    """One container: a worker process (sandbox.lambda_worker) with the function's environment."""

    def __init__(self, config: FunctionConfig, function_dir: Path, env: Mapping[str, str], log: LogSink) -> None:
        self.name = config.logical_id
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.lambda_worker", str(function_dir.resolve()), config.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=str(_ROOT),
            text=True,
            encoding="utf-8",
        )
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.last_report: dict[str, Any] = {}
        self._readers = [
            threading.Thread(target=self._read_replies, daemon=True, name=f"{self.name}-replies"),
            threading.Thread(target=self._read_logs, args=(log,), daemon=True, name=f"{self.name}-logs"),
        ]
        for reader in self._readers:
            reader.start()

    def _read_replies(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self._replies.put(json.loads(line))
            except ValueError:
                continue
        self._replies.put(None)  # the process ended

    def _read_logs(self, log: LogSink) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            log(self.name, line.rstrip("\n"))

    def wait_ready(self, timeout: float) -> None:
        """Lambda's init phase (10 s at most): the handler module imported."""
        reply = self._reply(timeout)
        if reply is None or "init_error" in reply:
            self.kill()
            error = (reply or {}).get("init_error") or {"errorMessage": "the container exited during init"}
            raise FunctionInitError(f"{self.name}: {error.get('errorType', '')} {error.get('errorMessage', '')}")

    def _reply(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._replies.get(timeout=timeout)
        except queue.Empty:
            raise FunctionTimeoutError(f"{self.name}: Task timed out after {timeout:.2f} seconds") from None

    def invoke(self, request: dict[str, Any], timeout: float) -> Any:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except OSError as exc:
            raise FunctionInvokeError(f"{self.name}: the container is gone") from exc
        reply = self._reply(timeout)
        if reply is None:
            raise FunctionInvokeError(f"{self.name}: Runtime exited with error (the process ended)")
        self.last_report = reply.get("report") or {}
        if "error" in reply:
            error = reply["error"]
            raise FunctionInvokeError(f"{self.name}: {error.get('errorType')}: {error.get('errorMessage')}")
        return reply.get("result")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait(timeout=10)
        self._close_pipes()

    def stop(self, grace: float = 5.0) -> None:
        """Close stdin: the worker calls the module's `shutdown` and exits; kill it if it does not."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=grace)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(timeout=10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        """After the process ended: the readers reach end of file (every log line read), then close."""
        for reader in self._readers:
            if reader is not threading.current_thread():
                reader.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class ProcessFunction:
    """A function as Lambda runs it: containers (processes) started on demand, one invocation at a time
    each, up to `max_concurrency` at once (the template's ReservedConcurrentExecutions, or the sandbox's
    cap). Past it an invocation is throttled. A container that runs past `timeout_seconds` is killed
    and its work stops there, as on Lambda; the next invocation gets a fresh one (a cold start).

    `environment` is the function's whole environment (the template's variables, the runtime's own and
    the sandbox's endpoints); nothing of the parent process leaks into it. The stack's clock offset
    is sent with each invocation (see sandbox.lambda_worker)."""

    def __init__(
        self,
        config: FunctionConfig,
        function_dir: Path,
        environment: Mapping[str, str],
        *,
        max_concurrency: int,
        clock_offset: Callable[[], float] = lambda: 0.0,
        log: LogSink = _print_log,
        init_timeout: float = 30.0,
    ) -> None:
        self.config = config
        self.name = config.logical_id
        self.function_dir = function_dir
        self.environment = dict(environment)
        self.max_concurrency = max_concurrency
        self.timeout_seconds = config.timeout_seconds
        self.clock_offset = clock_offset
        self.log = log
        # Lambda gives init 10 s; a loaded test machine starting many interpreters at once needs more.
        self.init_timeout = init_timeout
        self._lock = threading.Lock()
        self._idle: list[_Container] = []
        self._busy = 0
        self._closed = False
        self.cold_starts = 0
        self.timeouts = 0
        self.throttles = 0
        # Lambda's REPORT of each finished invocation (duration, CPU, peak memory, a bench hook's figures).
        self.reports: collections.deque[dict[str, Any]] = collections.deque(maxlen=1000)

    def _acquire(self) -> _Container:
        with self._lock:
            if self._closed:
                raise FunctionInvokeError(f"{self.name}: the stack is stopped")
            while self._idle:
                container = self._idle.pop()
                if container.alive:
                    self._busy += 1
                    return container
            if self._busy >= self.max_concurrency:
                self.throttles += 1
                raise FunctionThrottledError(f"{self.name}: Rate Exceeded (concurrency {self.max_concurrency})")
            self._busy += 1
            self.cold_starts += 1
        try:
            container = _Container(self.config, self.function_dir, self.environment, self.log)
            container.wait_ready(self.init_timeout)
        except BaseException:
            with self._lock:
                self._busy -= 1
            raise
        return container

    def _release(self, container: _Container, keep: bool) -> None:
        with self._lock:
            self._busy -= 1
            if keep and not self._closed and container.alive:
                self._idle.append(container)
                return
        container.kill()

    def invoke(self, event: Any) -> Any:
        """Run one invocation on a free container (or a new one); returns the handler's JSON result."""
        payload = json.loads(json.dumps(event))  # the event crosses a JSON boundary, as on Lambda
        container = self._acquire()
        request = {
            "event": payload,
            "clock_offset": self.clock_offset(),
            "context": context_fields(self.name, self.config.memory_mb, self.timeout_seconds),
        }
        keep = False
        try:
            result = container.invoke(request, self.timeout_seconds)
            keep = True
            return result
        except FunctionTimeoutError:
            with self._lock:
                self.timeouts += 1
            raise
        except FunctionInvokeError:
            keep = container.alive  # an unhandled exception leaves the container warm; a dead one is gone
            raise
        finally:
            if container.last_report:
                self.reports.append(container.last_report)
                container.last_report = {}
            self._release(container, keep)

    @property
    def containers(self) -> int:
        """Containers alive now (idle or busy)."""
        with self._lock:
            return self._busy + sum(1 for c in self._idle if c.alive)

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for container in idle:
            container.stop()
