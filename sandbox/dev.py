"""`make dev`: the whole stack on http://127.0.0.1:$PORT/ (default 8080), in one process.

One server serves the template's HTTP API routes (/api/*, /webhook) through the emulator,
the simulator's /sandbox/* JSON API, the simulator page at /simulator/, the real
telegram-web-app.js at /sdk/telegram-web-app.js, and static_site/ for everything else.
Ctrl-C or SIGTERM stops it cleanly with exit code 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import unquote

from sandbox.fake_bot_api import Call
from sandbox.http_api import MAX_PAYLOAD_BYTES, HttpApiEmulator, HttpResponse
from sandbox.local_stack import FUNCTIONS_DIR, ROOT, LocalStack
from sandbox.simulator_api import PREFIX as SANDBOX_PREFIX
from sandbox.simulator_api import SimulatorApi

STATIC_DIR = ROOT / "static_site"
SIMULATOR_DIR = ROOT / "sandbox" / "simulator"
SDK_PATH = "/sdk/telegram-web-app.js"
DEV_BOT_STARS = 1000
SDK_FILE = ROOT / "node_modules" / "@twa-dev" / "sdk" / "dist" / "telegram-web-apps.js"

# Explicit types: the platform's mimetypes table may lack these or call .js "application/x-javascript",
# and browsers refuse ES modules served with a non-JavaScript type.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

_PLACEHOLDER = b"""<!doctype html><meta charset="utf-8"><title>Murmur simulator</title>
<p>The simulator page is not built yet. The JSON API is at <a href="/sandbox/users">/sandbox/users</a>.</p>
"""


def content_type(path: Path) -> str:
    return _CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def resolve_static(root: Path, url_path: str) -> Path | None:
    """The file under `root` that `url_path` names, or None; never a path outside `root`."""
    relative = unquote(url_path).lstrip("/")
    if "\x00" in relative or "\\" in relative:
        return None
    root = root.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root):
        return None
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def _is_api_path(path: str) -> bool:
    return path == "/webhook" or path.startswith("/api/")


def _not_found() -> HttpResponse:
    return 404, [("Content-Type", "text/plain; charset=utf-8")], b"Not Found\n"


def _file(path: Path) -> HttpResponse:
    return 200, [("Content-Type", content_type(path)), ("Cache-Control", "no-store")], path.read_bytes()


class DevSite:
    """Decides which part of the sandbox answers a request; independent of the HTTP server."""

    def __init__(self, emulator: HttpApiEmulator, simulator: SimulatorApi) -> None:
        self.emulator = emulator
        self.simulator = simulator

    def serve(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> HttpResponse:
        path = target.partition("?")[0]
        if path.startswith(SANDBOX_PREFIX):
            return self.simulator.handle(method, target, body)
        if self.emulator.route_for(method, path) is not None or _is_api_path(path):
            # The API's own paths: a method no route declares gets API Gateway's 404 JSON, as on AWS.
            return self.emulator.invoke(method, target, headers, body, source_ip=client_ip)
        if method not in ("GET", "HEAD"):
            return (
                405,
                [("Content-Type", "text/plain; charset=utf-8"), ("Allow", "GET, HEAD")],
                b"Method Not Allowed\n",
            )
        if path == SDK_PATH:
            return _file(SDK_FILE) if SDK_FILE.is_file() else _not_found()
        if path == "/simulator":
            return 301, [("Location", "/simulator/")], b""
        if path.startswith("/simulator/"):
            if not SIMULATOR_DIR.is_dir():
                return 200, [("Content-Type", "text/html; charset=utf-8")], _PLACEHOLDER
            found = resolve_static(SIMULATOR_DIR, path[len("/simulator/") :])
            return _file(found) if found else _not_found()
        found = resolve_static(STATIC_DIR, path)
        return _file(found) if found else _not_found()


class _Handler(BaseHTTPRequestHandler):
    site: DevSite  # set on the subclass that `main` makes, once the stack is up
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        try:
            size = int(length) if length else 0
        except ValueError:
            size = -1
        if size < 0:
            self._send(400, [("Content-Type", "text/plain")], b"bad Content-Length\n")
            return
        if size > MAX_PAYLOAD_BYTES:
            self.close_connection = True
            self._send(413, [("Content-Type", "application/json")], b'{"message":"Request Entity Too Large"}')
            return
        body = self.rfile.read(size) if size else b""
        try:
            status, headers, data = self.site.serve(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
        except Exception:
            logging.getLogger("sandbox.dev").exception("%s %s failed", self.command, self.path)
            status, headers, data = 500, [("Content-Type", "text/plain; charset=utf-8")], b"sandbox error\n"
        self._send(status, headers, data)

    def _send(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, PROPFIND, …) is served too: the API answers it as API Gateway does, the
        static site with 405 — never Python's HTML 501 page."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        console = self.console
        if console is not None:
            console.request(self.command, self.path, int(code) if str(code).isdigit() else 0)

    console: Console | None = None  # set with `site`


class Console:
    """What `make dev` prints: the API's and the webhook's requests with their status, what the bot says, and
    the functions' warnings and errors. `verbose`: every request (the simulator's polling and static files too)
    and every function log line."""

    def __init__(self, verbose: bool = False, out: TextIO = sys.stdout) -> None:
        self.verbose = verbose
        self.out = out
        self._lock = threading.Lock()

    def _print(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def request(self, method: str, target: str, status: int) -> None:
        path = target.partition("?")[0]
        if self.verbose or _is_api_path(path):
            self._print(f"{method} {path} → {status}")

    def bot_call(self, call: Call) -> None:
        text = call.params.get("text")
        chat = call.params.get("chat_id")
        if isinstance(text, str) and chat is not None:
            shown = text.replace("\n", " ")
            self._print(
                f"bot → {chat}: {shown[:100]}{'…' if len(shown) > 100 else ''}" + ("" if call.ok else " (refused)")
            )
        elif self.verbose or not call.ok:
            self._print(f"bot {call.method}{'' if call.ok else ' failed: ' + str(call.response.get('description'))}")

    def function_log(self, function: str, line: str) -> None:
        if self.verbose or _is_problem(line):
            self._print(f"[{function}] {line}")


def _is_problem(line: str) -> bool:
    """A function log line worth a person's attention: Powertools' WARNING/ERROR records, or anything that is
    not a JSON record at all (a traceback, a crash)."""
    try:
        record = json.loads(line)
    except ValueError:
        return bool(line.strip()) and not line.startswith(("START ", "END ", "REPORT "))
    return isinstance(record, dict) and str(record.get("level", "")).upper() in ("WARNING", "ERROR", "CRITICAL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.dev", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--functions-dir", type=Path, default=FUNCTIONS_DIR, help="where the functions' app.py files are"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print every request and every function log line, not only what matters"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every DynamoDB call
    console = Console(verbose=args.verbose)
    port = int(os.environ.get("PORT", "8080"))
    host = "127.0.0.1"
    # Bind first: with PORT=0 the real port is known only now, and the Mini App URL needs it.
    handler: type[_Handler] = type("DevHandler", (_Handler,), {})
    server = ThreadingHTTPServer((host, port), handler)
    port = server.server_address[1]
    url = f"http://{host}:{port}/"
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        # The ARCHITECTURE.md interface: your own DynamoDB or Bot API, when set, replaces the embedded one.
        env = os.environ
        with LocalStack(
            functions_dir=args.functions_dir,
            webapp_url=env.get("MURMUR_WEBAPP_URL") or url,
            dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            telegram_api_url=env.get("TELEGRAM_API_URL") or None,
            bot_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            admin_ids=env.get("MURMUR_ADMIN_IDS") or None,
            bot_username=env.get("MURMUR_BOT_USERNAME") or None,
            log_sink=console.function_log,
        ) as stack:
            handler.site = DevSite(stack.emulator, SimulatorApi(stack))
            handler.console = console
            stack.bot_api.on_call = console.bot_call
            if not env.get("TELEGRAM_API_URL"):
                # The embedded Telegram: the bot holds some Stars (real gifts are paid from them), and the first
                # cron tick runs now, as EventBridge's would within the deploy's first minute (the gift list).
                stack.bot_api.set_star_balance(DEV_BOT_STARS)
                stack.run_cron()
            thread = threading.Thread(target=server.serve_forever, name="dev-server", daemon=True)
            thread.start()
            print(f"Murmur sandbox on {url}", flush=True)
            print(f"  simulator:      {url}simulator/", flush=True)
            print(f"  bot token:      {stack.bot_token}", flush=True)
            print(f"  webhook secret: {stack.webhook_secret}", flush=True)
            print(f"  DynamoDB:       {stack.dynamodb_endpoint}", flush=True)
            print(f"  Bot API:        {stack.env['TELEGRAM_API_URL']}", flush=True)
            print(f"  bot:            @{stack.bot_username}, admins {stack.admin_ids}", flush=True)
            print(f"  Mini App URL:   {stack.webapp_url}", flush=True)
            if not env.get("TELEGRAM_API_URL"):
                print(f"  bot's Stars:    {DEV_BOT_STARS} (real Telegram gifts are paid from them)", flush=True)
            print(f"Ctrl-C to stop.{'' if args.verbose else ' (--verbose: every request and log line)'}", flush=True)
            while not stopping.wait(0.5):
                pass
            server.shutdown()
            thread.join(timeout=10)
    finally:
        server.server_close()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
