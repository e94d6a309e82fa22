"""Just enough of the Lambda Python runtime to run our handlers in-process.

Why not call `functions/<name>/app.py` directly: every function ships a module called `app`, so a plain
import would give all three the same module object. Lambda also runs one invocation at a time per
container and hands the handler a context object; PTB's event loop and Powertools rely on both.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sandbox.tables import TEMPLATE, load_template

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

Handler = Callable[[dict[str, Any], Any], Any]

_module_ids = itertools.count(1)


class HandlerLoadError(RuntimeError):
    """The function directory has no loadable handler (missing file, import error, missing attribute)."""


@dataclass
class LambdaContext:
    """The context object of one invocation, with the attributes Powertools and PTB read."""

    function_name: str
    memory_limit_in_mb: int = 128
    timeout_seconds: float = 3.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[{self.function_version}]sandbox"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(left * 1000))


@dataclass(frozen=True)
class FunctionConfig:
    """What the template says about one `AWS::Serverless::Function` (Globals applied)."""

    logical_id: str
    code_dir_name: str  # the last part of CodeUri, e.g. "webhook"
    handler: str  # "app.handler"
    memory_mb: int
    timeout_seconds: float
    event_types: frozenset[str] = frozenset()  # "HttpApi", "ScheduleV2", ...


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
        )
    return configs


@dataclass(frozen=True)
class LoadedHandler:
    """A function's imported module (which holds its `clock`) and its handler callable."""

    module: ModuleType
    handler: Handler


def load_handler(function_dir: Path, handler: str = "app.handler") -> LoadedHandler:
    """Import `<function_dir>/<module>.py` under a unique name and return its handler.

    The directory goes on sys.path, as /var/task does on Lambda, so the function may import
    modules that sit next to it. The module runs its import-time setup (reading the environment)
    now, so set the environment first.
    """
    module_name, _, attribute = handler.rpartition(".")
    if not module_name or not attribute:
        raise HandlerLoadError(f"handler must look like 'module.function', got {handler!r}")
    function_dir = function_dir.resolve()
    source = function_dir / (module_name.replace(".", "/") + ".py")
    if not source.is_file():
        raise HandlerLoadError(f"no handler module at {source}")
    if str(function_dir) not in sys.path:
        sys.path.insert(0, str(function_dir))
    unique = f"_sandbox_fn_{function_dir.name}_{module_name.replace('.', '_')}_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(unique, source)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"cannot import {source}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[unique]
        raise HandlerLoadError(f"importing {source} failed: {exc!r}") from exc
    func = getattr(module, attribute, None)
    if not callable(func):
        raise HandlerLoadError(f"{source} has no callable {attribute!r}")
    return LoadedHandler(module=module, handler=func)


class LambdaFunction:
    """One warm Lambda container: invocations run one at a time, each with a fresh context.

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
        return cls(
            config.logical_id, handler, memory_mb=config.memory_mb, timeout_seconds=config.timeout_seconds
        )

    def invoke(self, event: Any) -> Any:
        """Run the handler on a JSON copy of `event`; return a JSON copy of its result."""
        payload = json.loads(json.dumps(event))
        with self._lock:
            context = LambdaContext(
                function_name=self.name,
                memory_limit_in_mb=self.memory_mb,
                timeout_seconds=self.timeout_seconds,
            )
            result = self.handler(payload, context)
        return json.loads(json.dumps(result))
