"""An API Gateway HTTP API (payload format 2.0) emulator, with the routes read from the SAM template.

Why our own: the handlers must see the same event locally as on AWS (lower-cased headers with
duplicates comma-joined, `cookies` split out, base64 bodies for binary content, decoded path and
query parameters), and their results must be turned into HTTP by the same rules, including v2's
"no statusCode means a JSON 200". The rules follow the API Gateway developer guide, "Create AWS
Lambda proxy integrations for HTTP APIs".
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from sandbox.lambda_runtime import ACCOUNT_ID, Handler, Invocable, LambdaFunction, function_configs
from sandbox.tables import TEMPLATE, load_template

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's hard limit on a request payload
API_ID = "sandboxapi"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

# Content types that API Gateway passes to Lambda as text; everything else arrives base64-encoded.
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

HttpResponse = tuple[int, list[tuple[str, str]], bytes]
HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]]


class TemplateRouteError(ValueError):
    """The template declares an HTTP API route this emulator cannot understand."""


@dataclass(frozen=True)
class Route:
    """One `Type: HttpApi` event of a function: `METHOD /path` mapped to the function's logical id."""

    method: str  # "ANY" or an upper-case HTTP method
    path: str
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("/")[1:])

    @property
    def greedy(self) -> bool:
        return self.path.endswith("+}")

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """The path parameters if this route serves the request, else None."""
        if self.method not in ("ANY", method):
            return None
        want = self.segments
        got = raw_path.split("/")[1:]
        params: dict[str, str] = {}
        for index, pattern in enumerate(want):
            if pattern.startswith("{") and pattern.endswith("+}"):
                rest = "/".join(got[index:])
                if not rest:
                    return None
                params[pattern[1:-2]] = unquote(rest)
                return params
            if index >= len(got):
                return None
            if pattern.startswith("{") and pattern.endswith("}"):
                if not got[index]:
                    return None
                params[pattern[1:-1]] = unquote(got[index])
            elif pattern != got[index]:
                return None
        return params if len(got) == len(want) else None

    def specificity(self) -> tuple[int, int, int]:
        """Sort key: non-greedy before greedy, more literal segments first, a method before ANY."""
        literals = sum(1 for s in self.segments if not s.startswith("{"))
        return (0 if self.greedy else 1, literals, 0 if self.method == "ANY" else 1)


def routes_from_template(template_path: Path = TEMPLATE) -> list[Route]:
    """Every HttpApi event of every serverless function in the template."""
    resources = load_template(template_path).get("Resources") or {}
    routes: list[Route] = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event_name, event in events.items():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            method = str(props.get("Method", "ANY")).upper()
            path = props.get("Path")
            if method != "ANY" and method not in METHODS:
                raise TemplateRouteError(f"{logical_id}.{event_name}: unknown method {method!r}")
            if not isinstance(path, str) or not path.startswith("/"):
                raise TemplateRouteError(f"{logical_id}.{event_name}: Path must start with '/', got {path!r}")
            if "+}" in path[:-2]:
                raise TemplateRouteError(f"{logical_id}.{event_name}: a greedy parameter must come last")
            routes.append(Route(method=method, path=path, function=logical_id))
    return routes


class StageThrottle:
    """The stage's default route throttling (`DefaultRouteSettings`: a token bucket of `burst` tokens
    refilled at `rate` a second, as API Gateway applies it): past it, 429 without invoking anything."""

    def __init__(self, rate: float, burst: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._tokens = float(burst)
        self._at = monotonic()
        self._lock = threading.Lock()

    def admit(self) -> bool:
        with self._lock:
            now = self._monotonic()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


def stage_throttle(
    template_path: Path = TEMPLATE, monotonic: Callable[[], float] = time.monotonic
) -> StageThrottle | None:
    """The throttle of the template's HTTP API, if its DefaultRouteSettings set one."""
    for resource in (load_template(template_path).get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::HttpApi":
            continue
        settings = (resource.get("Properties") or {}).get("DefaultRouteSettings") or {}
        if "ThrottlingRateLimit" in settings and "ThrottlingBurstLimit" in settings:
            return StageThrottle(
                float(settings["ThrottlingRateLimit"]), int(settings["ThrottlingBurstLimit"]), monotonic
            )
    return None


def _json_response(status: int, payload: Any) -> HttpResponse:
    return status, [("Content-Type", "application/json")], json.dumps(payload).encode()


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+json") or media.endswith("+xml")


def _clf_time(epoch: float) -> str:
    t = time.gmtime(epoch)
    clock = f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{clock} +0000"


def _request_id() -> str:
    return base64.b64encode(os.urandom(10)).decode().rstrip("=") + "="


def _header_pairs(headers: HeaderInput | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k), str(v)) for k, v in items]


class MalformedLambdaResponseError(ValueError):
    """The handler returned a dict with statusCode that API Gateway would reject (it answers 500)."""


def response_from_result(result: Any) -> HttpResponse:
    """Turn a handler's (JSON-decoded) result into HTTP, by payload format 2.0's rules."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return _json_response(200, result)
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedLambdaResponseError(f"statusCode must be an integer HTTP status, got {status!r}")
    headers: list[tuple[str, str]] = []
    raw_headers = result.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise MalformedLambdaResponseError("headers must be an object")
    for name, value in raw_headers.items():
        if isinstance(value, (dict, list)):
            raise MalformedLambdaResponseError(f"header {name!r} must be a scalar")
        headers.append((name, "true" if value is True else "false" if value is False else str(value)))
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedLambdaResponseError("cookies must be a list of strings")
    headers.extend(("Set-Cookie", cookie) for cookie in cookies)
    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise MalformedLambdaResponseError(f"body must be a string, got {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedLambdaResponseError("isBase64Encoded is true but body is not base64") from exc
    else:
        data = body.encode()
    return status, headers, data


class HttpApiEmulator:
    """Routes HTTP requests to Lambda handlers as API Gateway's HTTP API would.

    `handlers` maps each function's logical id to anything with `invoke(event)` (the local stack's
    `ProcessFunction`, a `LambdaFunction`) or a plain `handler(event, context)`; plain handlers get a
    context from the template's settings. A function that fails, times out or is throttled is answered
    as HTTP APIs answer it: 500 `{"message":"Internal Server Error"}`.
    """

    def __init__(
        self,
        template_path: Path = TEMPLATE,
        handlers: Mapping[str, Invocable | Handler] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.routes = sorted(routes_from_template(template_path), key=Route.specificity, reverse=True)
        self.throttle = stage_throttle(template_path, monotonic)
        configs = function_configs(template_path)
        self.functions: dict[str, Invocable] = {}
        for logical_id, handler in (handlers or {}).items():
            if logical_id not in configs:
                raise KeyError(f"{logical_id!r} is not a serverless function in {template_path}")
            self.functions[logical_id] = (
                handler if isinstance(handler, Invocable) else LambdaFunction.from_config(configs[logical_id], handler)
            )
        self._clock = clock

    def route_for(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        """The most specific route serving `method raw_path`, with its path parameters."""
        for route in self.routes:
            params = route.match(method.upper(), raw_path)
            if params is not None:
                return route, params
        return None

    def build_event(
        self,
        route: Route,
        path_params: dict[str, str],
        method: str,
        target: str,
        headers: HeaderInput | None,
        body: bytes,
        *,
        source_ip: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """The payload-format-2.0 event API Gateway would send for this request."""
        raw_path, _, raw_query = target.partition("#")[0].partition("?")
        merged: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in _header_pairs(headers):
            key = name.lower()
            if key == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
                continue
            merged[key] = f"{merged[key]},{value}" if key in merged else value
        host = merged.get("host", "localhost")
        domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if body:
            merged.setdefault("content-length", str(len(body)))
        merged.setdefault("x-forwarded-for", source_ip)
        merged.setdefault("x-forwarded-proto", "http")
        merged.setdefault("x-amzn-trace-id", f"Root=1-{int(self._clock()):08x}-{os.urandom(12).hex()}")
        now = self._clock()
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
        }
        if cookies:
            event["cookies"] = cookies
        event["headers"] = merged
        if raw_query:
            query: dict[str, str] = {}
            for key, value in parse_qsl(raw_query, keep_blank_values=True):
                query[key] = f"{query[key]},{value}" if key in query else value
            event["queryStringParameters"] = query
        event["requestContext"] = {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": _request_id(),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": _clf_time(now),
            "timeEpoch": int(now * 1000),
        }
        if path_params:
            event["pathParameters"] = path_params
        if body:
            if _is_text(merged.get("content-type")):
                try:
                    event["body"] = body.decode("utf-8")
                    event["isBase64Encoded"] = False
                except UnicodeDecodeError:
                    event["body"] = base64.b64encode(body).decode()
                    event["isBase64Encoded"] = True
            else:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        else:
            event["isBase64Encoded"] = False
        return event

    def invoke(
        self,
        method: str,
        path: str,
        headers: HeaderInput | None = None,
        body: bytes = b"",
        *,
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        """Serve one request: `path` is the request target, query string included."""
        if len(body) > MAX_PAYLOAD_BYTES:
            return _json_response(413, {"message": "Request Entity Too Large"})
        raw_path = path.partition("#")[0].partition("?")[0]
        found = self.route_for(method, raw_path)
        if found is None:
            return _json_response(404, {"message": "Not Found"})
        route, params = found
        if self.throttle is not None and not self.throttle.admit():
            return _json_response(429, {"message": "Too Many Requests"})
        function = self.functions.get(route.function)
        if function is None:
            log.error("route %s has no handler loaded (%s)", route.route_key, route.function)
            return _json_response(500, {"message": "Internal Server Error"})
        event = self.build_event(route, params, method, path, headers, body, source_ip=source_ip)
        try:
            result = function.invoke(event)
            status, out_headers, data = response_from_result(result)
        except Exception:
            # API Gateway hides the cause from the client; the traceback goes to the "CloudWatch" log.
            log.exception("%s failed for %s", route.function, route.route_key)
            return _json_response(500, {"message": "Internal Server Error"})
        out_headers.append(("apigw-requestid", event["requestContext"]["requestId"]))
        return status, out_headers, data
