"""The whole Murmur stack on loopback, as strict as production: the backbone of `make dev` and the tests.

moto's server plays DynamoDB and SSM (tables from the template, the secrets as `make secrets` writes
them), behind `StrictAws`, which authorizes every call against the calling function's own policy in the
template and makes DynamoDB's transaction conflicts happen. `FakeBotApi` plays the Bot API (with
Telegram's flood control), the `HttpApiEmulator` plays API Gateway, and each function runs as Lambda
runs it (`ProcessFunction`): containers in processes of their own, with the environment the template
gives the function, concurrent up to its reserved concurrency, cut off at its Timeout. This class also
plays the Telegram app: it sends the updates a user's taps would cause and drives the Stars payment
sheet (pre-checkout, then successful_payment). What is still kinder than AWS: docs/local-fidelity.md.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from murmur.config import bot_api_base
from sandbox.cfn import CfnResolver
from sandbox.fake_bot_api import FakeBotApi
from sandbox.fake_bot_api_inline import INLINE_ANSWER_SECONDS
from sandbox.http_api import HttpApiEmulator
from sandbox.initdata_signer import sign_init_data
from sandbox.lambda_runtime import ACCOUNT_ID, REGION, FunctionConfig, ProcessFunction, function_configs
from sandbox.lifecycle import Service
from sandbox.moto_server import MotoServer
from sandbox.strict_aws import StrictAws
from sandbox.tables import TABLE_ENV, TEMPLATE, create_tables, load_template

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"

SANDBOX_BOT_TOKEN = "123456789:SANDBOX-token-not-secret"
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret-not-secret"
SANDBOX_PSEUDONYM_SECRET = "sandbox-pseudonym-secret-not-secret"
SANDBOX_BOT_USERNAME = "murmur_sandbox_bot"
# The sandbox plays Telegram, so it holds an Ed25519 key of its own (a fixed, public seed) and the handlers
# are told its public key: initData carries a `signature` checked as Bot API 8.0 third parties do.
SANDBOX_INITDATA_SEED = "5a4e" * 16

# Telegram `User` objects, as the Bot API sends them in updates.
DEMO_USERS: tuple[dict[str, Any], ...] = (
    {"id": 1001, "is_bot": False, "first_name": "Alice", "username": "alice", "language_code": "en"},
    {"id": 1002, "is_bot": False, "first_name": "Bob", "username": "bob_b", "language_code": "en"},
    {"id": 1003, "is_bot": False, "first_name": "Carla", "last_name": "Ruiz", "language_code": "es"},
    {
        "id": 1004,
        "is_bot": False,
        "first_name": "Dmitri",
        "username": "dmitri",
        "language_code": "ru",
        "is_premium": True,
    },
)

# The CloudFormation parameters the sandbox deploys with (the rest keep the template's defaults).
STACK_NAME = "murmur-sandbox"
# Which secret each `*_PARAM` variable names: the sandbox writes the values to SSM as `make secrets` does.
_PARAMETER_VALUES = {
    "TELEGRAM_BOT_TOKEN_PARAM": "bot_token",
    "TELEGRAM_WEBHOOK_SECRET_PARAM": "webhook_secret",
    "MURMUR_PSEUDONYM_SECRET_PARAM": "pseudonym_secret",
    "MURMUR_WEBAPP_URL_PARAM": "webapp_url",
}
# How many containers of one function may run at once when the template reserves none (Lambda's account
# default is 1000; a laptop is not): an invocation past it is throttled as Lambda throttles.
DEFAULT_MAX_CONTAINERS = 10

UserRef = int | Mapping[str, Any]


class SandboxError(RuntimeError):
    """The sandbox was used wrongly (unknown user, not started, a function without a clock...)."""


@dataclass(frozen=True)
class ApiResponse:
    """An HTTP answer from the emulated API Gateway."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LoadedFunction:
    """A template function as the stack runs it: its configuration and its containers."""

    logical_id: str
    config: FunctionConfig
    container: ProcessFunction
    event_types: frozenset[str] = field(default_factory=frozenset)


def demo_user(user: UserRef) -> dict[str, Any]:
    """A demo user by Telegram id, or the given user dict (copied)."""
    if isinstance(user, Mapping):
        if not isinstance(user.get("id"), int):
            raise SandboxError(f"a Telegram user needs an integer id: {user!r}")
        return dict(user)
    for candidate in DEMO_USERS:
        if candidate["id"] == user:
            return dict(candidate)
    raise SandboxError(f"no demo user with id {user!r}; known: {[u['id'] for u in DEMO_USERS]}")


def _private_chat(user: Mapping[str, Any]) -> dict[str, Any]:
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    chat.update({k: user[k] for k in ("last_name", "username") if k in user})
    return chat


class LocalStack(Service):
    """`with LocalStack() as stack:`; everything listens on 127.0.0.1, on ephemeral ports by default."""

    def __init__(
        self,
        *,
        functions_dir: Path = FUNCTIONS_DIR,
        template_path: Path = TEMPLATE,
        host: str = "127.0.0.1",
        moto_port: int = 0,
        bot_api_port: int = 0,
        webapp_url: str = "http://127.0.0.1:8080/",
        precheckout_timeout: float = 10.0,
        dynamodb_endpoint: str | None = None,
        telegram_api_url: str | None = None,
        initdata_seed: str = SANDBOX_INITDATA_SEED,
        max_containers: int | None = None,
        transaction_seconds: float = 0.02,
        log_lines: int = 20_000,
        extra_function_env: Mapping[str, str] | None = None,
        parameter_overrides: Mapping[str, str] | None = None,
        bot_token: str | None = None,
        webhook_secret: str | None = None,
        admin_ids: str | None = None,
        bot_username: str | None = None,
        log_sink: Callable[[str, str], None] | None = None,
    ) -> None:
        """`dynamodb_endpoint` / `telegram_api_url` point the handlers at a DynamoDB or Bot API of your own
        instead of the embedded moto server / fake (the simulator's chat pane and Stars sheet need the fake).
        `max_containers` caps every function's concurrency below what the template reserves.
        `extra_function_env` adds variables to every function's environment: for the bench's invocation hook
        (SANDBOX_INVOCATION_HOOK, see sandbox.lambda_worker), never for what the product reads.
        `parameter_overrides` deploys with other answers to the template's parameters (as `sam deploy
        --parameter-overrides` would), e.g. RequireInitDataSignature=false; the rest keep the template's defaults.
        `bot_token`, `webhook_secret`, `admin_ids` (comma-separated ids) and `bot_username` replace the sandbox's
        own, as `make dev` takes them from TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, MURMUR_ADMIN_IDS and
        MURMUR_BOT_USERNAME: with `telegram_api_url`, the stack talks to another Bot API as that bot.
        `log_sink(function, line)` is told every function log line as it is written (make dev's console)."""
        self.functions_dir = functions_dir
        self.template_path = template_path
        self.host = host
        self.bot_token = bot_token or SANDBOX_BOT_TOKEN
        self.webhook_secret = webhook_secret or SANDBOX_WEBHOOK_SECRET
        self.admin_ids = admin_ids or str(DEMO_USERS[0]["id"])
        self.bot_username = (bot_username or SANDBOX_BOT_USERNAME).lstrip("@")
        self.pseudonym_secret = SANDBOX_PSEUDONYM_SECRET
        self.webapp_url = webapp_url
        # Telegram gives the bot 10 s to answer a pre-checkout query.
        self.precheckout_timeout = precheckout_timeout
        self.table_prefix = f"sbx{uuid.uuid4().hex[:8]}-"
        self.stack_name = f"{STACK_NAME}-{self.table_prefix.rstrip('-')}"
        self.env: dict[str, str] = {}
        self.tables: dict[str, str] = {}
        self.functions: dict[str, LoadedFunction] = {}
        self.max_containers = max_containers
        self.extra_function_env = dict(extra_function_env or {})
        self.parameter_overrides = dict(parameter_overrides or {})
        self.transaction_seconds = transaction_seconds
        # Every function's log lines (what CloudWatch Logs would hold), newest last.
        self.logs: collections.deque[tuple[str, str]] = collections.deque(maxlen=log_lines)
        self._log_sink = log_sink
        self._moto_port = moto_port
        self.initdata_seed = initdata_seed
        self._external_dynamodb = dynamodb_endpoint
        self._external_bot_api = bot_api_base(telegram_api_url) if telegram_api_url else None
        self._started = False
        self._bot_api_port = bot_api_port
        self._moto: MotoServer | None = None
        self._aws: StrictAws | None = None
        self._bot_api: FakeBotApi | None = None
        self._emulator: HttpApiEmulator | None = None
        self._ids_lock = threading.Lock()
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._clock_offset = 0.0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start moto, the strict AWS endpoint and the fake Bot API; create the tables and secrets."""
        if self._started:
            raise SandboxError("this LocalStack is already started")
        self._started = True
        try:
            self._moto = MotoServer(self.host, self._moto_port).start()
            self._bot_api = FakeBotApi(
                self.bot_token,
                bot_username=self.bot_username,
                host=self.host,
                port=self._bot_api_port,
                clock=self.now,
                # The sandbox's bot is set up as docs/deploy.md says, inline mode (/setinline) included.
                supports_inline_queries=True,
            )
            self._bot_api.start()
            for user in DEMO_USERS:
                self._bot_api.register_user(
                    user["id"],
                    user["first_name"],
                    username=user.get("username"),
                    language_code=user.get("language_code"),
                )
            self.tables = self._create_tables()
            self._aws = StrictAws(
                self.template_path,
                upstream=self.moto_endpoint,
                dynamodb_upstream=self.dynamodb_endpoint,
                stack_name=self.stack_name,
                physical_ids=self._physical_ids(),
                parameter_values=self.parameter_values,
                host=self.host,
                transaction_seconds=self.transaction_seconds,
            )
            self._aws.start()
            self._write_secrets()
            self.env = self._operator_environment()
            self._load_functions()
            self._emulator = HttpApiEmulator(
                self.template_path,
                {f.logical_id: f.container for f in self.functions.values() if "HttpApi" in f.event_types},
                clock=self.now,
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every container and server; safe to call twice."""
        self._started = False
        for function in self.functions.values():
            function.container.stop()
        self.functions = {}
        self._emulator = None
        if self._aws is not None:
            self._aws.stop()
            self._aws = None
        if self._bot_api is not None:
            self._bot_api.stop()
            self._bot_api = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    @property
    def parameter_values(self) -> dict[str, str]:
        """The CloudFormation parameters of the sandbox's "deploy" (the others keep their defaults). The secrets'
        names are this stack's own, as two deployments in one account would choose: moto keeps one SSM per
        process, and stacks started side by side (tests, `make dev` beside them) must not read each other's."""
        names = {
            "BotTokenParameterName": "bot-token",
            "WebhookSecretParameterName": "webhook-secret",
            "PseudonymSecretParameterName": "pseudonym-secret",
        }
        return {
            "AdminIds": self.admin_ids,
            "BotUsername": self.bot_username,
            **{parameter: f"/{self.stack_name}/{name}" for parameter, name in names.items()},
            **self.parameter_overrides,
        }

    def _physical_ids(self) -> dict[str, str]:
        ids = {logical: f"{self.table_prefix}{logical}" for logical in TABLE_ENV}
        ids.update({logical: f"{self.stack_name}-{logical}" for logical in function_configs(self.template_path)})
        return ids

    def _resolver(self) -> CfnResolver:
        return CfnResolver(
            load_template(self.template_path),
            stack_name=self.stack_name,
            region=REGION,
            account_id=ACCOUNT_ID,
            physical_ids=self._physical_ids(),
            parameter_values=self.parameter_values,
        )

    def _admin_client(self, service: str, endpoint: str) -> Any:
        """A client with the operator's rights (CloudFormation's and `make secrets`'), straight to moto."""
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def _create_tables(self) -> dict[str, str]:
        client = self._admin_client("dynamodb", self.dynamodb_endpoint)
        try:
            return create_tables(client, self.table_prefix, self.template_path)
        finally:
            client.close()

    def _write_secrets(self) -> None:
        """Every SSM parameter a function is configured to read, with the sandbox's value (as `make secrets`
        and the stack's SiteUrlParameter write them on AWS)."""
        resolver = self._resolver()
        client = self._admin_client("ssm", self.moto_endpoint)
        try:
            written: set[str] = set()
            for config in function_configs(self.template_path).values():
                for variable, raw in config.environment.items():
                    attribute = _PARAMETER_VALUES.get(variable)
                    name = resolver.resolve(raw)
                    if attribute is None or name in written:
                        continue
                    secret = attribute != "webapp_url"
                    client.put_parameter(
                        Name=name,
                        Value=getattr(self, attribute),
                        Type="SecureString" if secret else "String",
                        Overwrite=True,
                    )
                    written.add(name)
        finally:
            client.close()

    def function_environment(self, config: FunctionConfig) -> dict[str, str]:
        """A function's whole environment: the template's variables (resolved, as CloudFormation would),
        the Lambda runtime's own, its role's credentials, and the sandbox's endpoints. Secrets are not in
        it: the function reads them from SSM with its own policy, as on AWS."""
        resolver = self._resolver()
        aws = self.aws
        access_key, secret_key = aws.credentials(config.logical_id)
        env = {name: str(resolver.resolve(value)) for name, value in config.environment.items()}
        env = {name: value for name, value in env.items() if value != ""}
        env.update(
            {
                # What the Lambda runtime sets.
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": access_key,
                "AWS_SECRET_ACCESS_KEY": secret_key,
                "AWS_LAMBDA_FUNCTION_NAME": f"{self.stack_name}-{config.logical_id}",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
                "LAMBDA_TASK_ROOT": str((self.functions_dir / config.code_dir_name).resolve()),
                "TZ": ":UTC",
                "LANG": "en_US.UTF-8",
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "PYTHONDONTWRITEBYTECODE": "1",
                # The sandbox's endpoints, where AWS has its own: the only variables the template does not set.
                "AWS_ENDPOINT_URL_DYNAMODB": aws.url,
                "AWS_ENDPOINT_URL_SSM": aws.url,
                "TELEGRAM_API_URL": self.telegram_api_url,
                # The sandbox plays Telegram, with an Ed25519 key of its own for initData's signature.
                "TELEGRAM_INITDATA_PUBLIC_KEY": _public_key_of(self.initdata_seed),
            }
        )
        # The layer: on Lambda /opt/python; here the project's own package, from wherever it is installed.
        pythonpath = os.environ.get("PYTHONPATH")
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        env.update(self.extra_function_env)
        return env

    def _operator_environment(self) -> dict[str, str]:
        """What a test needs to build the application's objects in its own process against this stack, with
        the operator's rights (no IAM): table names, endpoints and the secrets' values."""
        env = dict(self.tables)
        env.update(
            {
                "TELEGRAM_BOT_TOKEN": self.bot_token,
                "TELEGRAM_WEBHOOK_SECRET": self.webhook_secret,
                "MURMUR_PSEUDONYM_SECRET": self.pseudonym_secret,
                "TELEGRAM_API_URL": self.telegram_api_url,
                "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "MURMUR_ADMIN_IDS": self.admin_ids,
                "MURMUR_BOT_USERNAME": self.bot_username,
                "MURMUR_WEBAPP_URL": self.webapp_url,
                "TELEGRAM_INITDATA_PUBLIC_KEY": _public_key_of(self.initdata_seed),
            }
        )
        return env

    def _load_functions(self) -> None:
        resolver = self._resolver()
        for logical_id, config in function_configs(self.template_path).items():
            reserved = resolver.resolve(config.reserved_concurrency)
            limit = int(reserved) if reserved not in (None, "") else DEFAULT_MAX_CONTAINERS
            if self.max_containers is not None:
                limit = min(limit, self.max_containers)
            self.functions[logical_id] = LoadedFunction(
                logical_id=logical_id,
                config=config,
                container=ProcessFunction(
                    config,
                    self.functions_dir / config.code_dir_name,
                    self.function_environment(config),
                    max_concurrency=limit,
                    clock_offset=lambda: self._clock_offset,
                    log=self._log,
                ),
                event_types=config.event_types,
            )

    def _log(self, function_name: str, line: str) -> None:
        self.logs.append((function_name, line))
        if self._log_sink is not None:
            self._log_sink(function_name, line)

    def log_lines(self, function_name: str | None = None) -> list[str]:
        """The functions' log lines (CloudWatch Logs' view), optionally of one function."""
        return [line for name, line in list(self.logs) if function_name in (None, name)]

    # ------------------------------------------------------------------ what is running

    @property
    def bot_api(self) -> FakeBotApi:
        if self._bot_api is None:
            raise SandboxError("the LocalStack is not started")
        return self._bot_api

    @property
    def aws(self) -> StrictAws:
        """The strict AWS endpoint the functions call (IAM, conflicts, injected faults)."""
        if self._aws is None:
            raise SandboxError("the LocalStack is not started")
        return self._aws

    @property
    def emulator(self) -> HttpApiEmulator:
        if self._emulator is None:
            raise SandboxError("the LocalStack is not started")
        return self._emulator

    @property
    def telegram_api_url(self) -> str:
        return self._external_bot_api or self.bot_api.base_url

    @property
    def moto_endpoint(self) -> str:
        if self._moto is None:
            raise SandboxError("the LocalStack is not started")
        return self._moto.url

    @property
    def dynamodb_endpoint(self) -> str:
        """Where the tables live (moto, or your own DynamoDB); the functions reach it through `aws`."""
        if self._external_dynamodb is not None:
            return self._external_dynamodb
        return self.moto_endpoint

    def dynamodb_client(self) -> Any:
        """A boto3 DynamoDB client with the operator's rights, for tests that look at the tables (close it)."""
        return self._admin_client("dynamodb", self.dynamodb_endpoint)

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        """The functions' time (moved by advance_clock), in epoch seconds."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Move every function's clock forward (each invocation carries the offset); returns the new time."""
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds < 10 * 365 * 86400:
            raise SandboxError(f"advance by 0 to 10 years of seconds, got {seconds!r}")
        self._clock_offset += float(seconds)
        return self.now()

    # ------------------------------------------------------------------ the Mini App's side

    def init_data(self, user: UserRef, *, start_param: str | None = None) -> str:
        """initData as Telegram would hand it to the Mini App opened by `user` now."""
        web_app_user = {**demo_user(user), "allows_write_to_pm": True}
        web_app_user.pop("is_bot", None)
        return sign_init_data(
            self.bot_token,
            web_app_user,
            auth_date=int(self.now()),
            start_param=start_param,
            query_id=f"AAH{uuid.uuid4().hex[:20]}",
            extra={"chat_type": "private", "chat_instance": str(4_000_000_000 + demo_user(user)["id"])},
            ed25519_signing_key_hex=self.initdata_seed,
        )

    def api(
        self,
        method: str,
        path: str,
        *,
        user: UserRef | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        start_param: str | None = None,
    ) -> ApiResponse:
        """Call the HTTP API as the Mini App does, with `Authorization: tma <initData>` for `user`."""
        sent: dict[str, str] = {"Host": "127.0.0.1", "User-Agent": "murmur-sandbox"}
        body = b""
        if json is not None:
            body = _json_bytes(json)
            sent["Content-Type"] = "application/json"
        if user is not None:
            sent["Authorization"] = f"tma {self.init_data(user, start_param=start_param)}"
        sent.update(headers or {})
        status, out_headers, out_body = self.emulator.invoke(method, path, sent, body)
        return ApiResponse(status, out_headers, out_body)

    # ------------------------------------------------------------------ Telegram's side

    def _next(self, counter: Iterator[int]) -> int:
        with self._ids_lock:
            return next(counter)

    def webhook(self, update: Mapping[str, Any]) -> ApiResponse:
        """Deliver an update as Telegram does: POST /webhook with the secret token header.

        A method in the webhook's JSON answer is executed against the Bot API, as Telegram does.
        """
        status, headers, body = self.emulator.invoke(
            "POST",
            "/webhook",
            {
                "Host": "127.0.0.1",
                "Content-Type": "application/json",
                "User-Agent": "TelegramBot (like TwitterBot)",
                "X-Telegram-Bot-Api-Secret-Token": self.webhook_secret,
            },
            _json_bytes(update),
        )
        response = ApiResponse(status, headers, body)
        if 200 <= response.status < 300 and response.body:
            self._run_webhook_reply(response)
        return response

    def _run_webhook_reply(self, response: ApiResponse) -> None:
        try:
            reply = response.json()
        except ValueError:
            return
        if not isinstance(reply, dict) or not isinstance(reply.get("method"), str):
            return
        params = {k: v for k, v in reply.items() if k != "method"}
        request = urllib.request.Request(
            f"{self.bot_api.base_url}{self.bot_token}/{reply['method']}",
            data=_json_bytes(params),
            headers={"Content-Type": "application/json"},
        )
        # Telegram ignores the result of a webhook reply; so do we (an error is recorded by the fake).
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                answer.read()
        except OSError:
            pass

    def _message(self, user: Mapping[str, Any], **content: Any) -> dict[str, Any]:
        return {
            # Both sides of a private chat share one sequence of message ids.
            "message_id": self.bot_api.allocate_message_id(user["id"]),
            "from": dict(user),
            "chat": _private_chat(user),
            "date": int(self.now()),
            **content,
        }

    def message_update(self, user: UserRef, **content: Any) -> dict[str, Any]:
        """An update with a message from `user` in the bot's chat (e.g. successful_payment=…), not sent yet."""
        return {"update_id": self._next(self._update_ids), "message": self._message(demo_user(user), **content)}

    def send_text(self, user: UserRef, text: str) -> ApiResponse:
        """The user types `text` in the bot's chat (a leading /command gets its bot_command entity)."""
        sender = demo_user(user)
        if not isinstance(text, str) or not text:
            raise SandboxError("text must be a non-empty string")
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.webhook({"update_id": self._next(self._update_ids), "message": self._message(sender, **content)})

    def press_button(self, user: UserRef, message: Mapping[str, Any], callback_data: str) -> ApiResponse:
        """The user taps an inline button carrying `callback_data` under the bot's `message`."""
        presser = demo_user(user)
        if "message_id" not in message or "chat" not in message:
            raise SandboxError("press_button needs the bot's message (with message_id and chat)")
        query = {
            "id": str(8_000_000_000 + self._next(self._query_ids)),
            "from": presser,
            "message": dict(message),
            "chat_instance": str(4_000_000_000 + presser["id"]),
            "data": callback_data,
        }
        self.bot_api.callback_query_sent(query["id"])  # the bot's answer is due within Telegram's deadline
        return self.webhook({"update_id": self._next(self._update_ids), "callback_query": query})

    def inline_query(
        self, user: UserRef, query: str, *, chat_type: str = "sender", offset: str = ""
    ) -> dict[str, Any] | None:
        """The user types `@<bot> <query>` in a chat, as Telegram sends it (`chat_type`: "sender", "private",
        "group", "supergroup" or "channel"); the bot's answerInlineQuery parameters, or None if it did not
        answer within the time the fake allows (`INLINE_ANSWER_SECONDS`)."""
        if not isinstance(query, str) or len(query) > 256:
            raise SandboxError("an inline query is a string of at most 256 characters")
        query_id = str(7_000_000_000 + self._next(self._query_ids))
        self.bot_api.inline_query_sent(query_id)
        inline_query = {
            "id": query_id,
            "from": demo_user(user),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self.webhook({"update_id": self._next(self._update_ids), "inline_query": inline_query})
        return self._inline_answer(query_id)

    def _inline_answer(self, query_id: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + INLINE_ANSWER_SECONDS
        while True:
            answer = self.bot_api.inline_answer(query_id)
            if answer is not None or time.monotonic() >= deadline:
                return answer
            time.sleep(0.02)

    def run_cron(self, event: Any = None) -> Any:
        """Invoke every scheduled function once (EventBridge Scheduler sends `{}` unless told otherwise)."""
        results = [
            function.container.invoke({} if event is None else event)
            for function in self.functions.values()
            if event_types_scheduled(function.event_types)
        ]
        if not results:
            raise SandboxError("the template has no scheduled function")
        return results[0] if len(results) == 1 else results

    def pay_invoice(self, user: UserRef, slug: str, *, confirm: bool = True, deliver: bool = True) -> dict[str, Any]:
        """Pay an invoice link in Stars as the Telegram app does.

        Sends `pre_checkout_query`, waits for the bot's answer, and only if it said ok records the
        payment in the fake Bot API and sends the `successful_payment` message. `confirm=False` is the
        user closing the sheet. The returned `update` can be re-delivered to test idempotency.
        `deliver=False` charges the user but loses the successful_payment update (for reconciliation).
        """
        payer = demo_user(user)
        invoice = self.bot_api.invoice(slug)
        if not confirm:
            return {"status": "cancelled", "slug": slug}
        total = sum(int(price["amount"]) for price in invoice["prices"])
        answer = self.pre_checkout(payer, invoice["payload"], total, invoice["currency"])
        if answer is None:
            return {
                "status": "failed",
                "slug": slug,
                "error_message": "the bot did not answer the pre-checkout query",
            }
        if answer.get("ok") is not True:
            return {"status": "failed", "slug": slug, "error_message": str(answer.get("error_message", ""))}
        period = invoice.get("subscription_period")
        charge_id = self.bot_api.record_star_payment(payer["id"], total, invoice["payload"], subscription_period=period)
        payment: dict[str, Any] = {
            "currency": invoice["currency"],
            "total_amount": total,
            "invoice_payload": invoice["payload"],
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        if period:
            payment.update(
                subscription_expiration_date=int(self.now()) + int(period),
                is_recurring=True,
                is_first_recurring=True,
            )
        update = {
            "update_id": self._next(self._update_ids),
            "message": self._message(payer, successful_payment=payment),
        }
        if not deliver:
            return {"status": "paid", "slug": slug, "charge_id": charge_id, "update": update, "webhook_status": None}
        delivered = self.webhook(update)
        return {
            "status": "paid",
            "slug": slug,
            "charge_id": charge_id,
            "total_amount": total,
            "invoice_payload": invoice["payload"],
            "webhook_status": delivered.status,
            "update": update,
        }

    def pre_checkout(
        self, user: UserRef, payload: str, total_amount: int, currency: str = "XTR"
    ) -> dict[str, Any] | None:
        """Send a `pre_checkout_query` as Telegram does when the user confirms the Stars sheet; the bot's
        answerPreCheckoutQuery parameters, or None if it did not answer within Telegram's deadline."""
        query_id = str(9_000_000_000 + self._next(self._query_ids))
        self.bot_api.pre_checkout_sent(query_id)  # Telegram waits 10 s for the answer, then fails the payment
        self.webhook(
            {
                "update_id": self._next(self._update_ids),
                "pre_checkout_query": {
                    "id": query_id,
                    "from": demo_user(user),
                    "currency": currency,
                    "total_amount": total_amount,
                    "invoice_payload": payload,
                },
            }
        )
        return self._precheckout_answer(query_id)

    def _precheckout_answer(self, query_id: str) -> dict[str, Any] | None:
        """The bot's answerPreCheckoutQuery parameters for `query_id`, waiting at most the deadline."""
        deadline = time.monotonic() + self.precheckout_timeout
        while True:
            answers = [
                call for call in self.bot_api.calls("answerPreCheckoutQuery", pre_checkout_query_id=query_id) if call.ok
            ]
            if answers:
                return dict(answers[0].params)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def _subscription_of(self, user_id: int, charge_id: str | None) -> str:
        if charge_id:
            return charge_id
        subscriptions = self.bot_api.subscriptions_of(user_id)
        if not subscriptions:
            raise SandboxError(f"user {user_id} has no subscription")
        return subscriptions[-1]

    def change_subscription(self, user: UserRef, state: str, charge_id: str | None = None) -> ApiResponse:
        """The user cancels ("canceled") or re-enables ("active") a subscription in Telegram, or Telegram could not
        charge its renewal ("failed"): the fake's ledger follows, and the bot gets Update.subscription (Bot API
        10.2). `charge_id` names the subscription by its first charge; by default, the user's latest one."""
        payer = demo_user(user)
        try:
            change = self.bot_api.change_subscription(self._subscription_of(payer["id"], charge_id), state)
        except (KeyError, ValueError) as exc:
            raise SandboxError(str(exc)) from exc
        return self.webhook({"update_id": self._next(self._update_ids), "subscription": change})

    def renew_subscription(self, user: UserRef, charge_id: str | None = None, *, fail: bool = False) -> dict[str, Any]:
        """Telegram renews a subscription as its period ends: a new charge in the ledger and its successful_payment
        (is_recurring, not is_first_recurring, the next period's end). `fail=True`: Telegram could not charge it,
        and says so with the "failed" subscription update instead. `charge_id` as in `change_subscription`.
        The returned `update` can be re-delivered."""
        payer = demo_user(user)
        subscription = self._subscription_of(payer["id"], charge_id)
        if fail:
            failed = self.change_subscription(payer, "failed", subscription)
            return {"status": "failed", "webhook_status": failed.status}
        try:
            first = self.bot_api.charge(subscription)
            renewal = self.bot_api.renew_subscription(subscription)
        except (KeyError, ValueError) as exc:
            raise SandboxError(str(exc)) from exc
        payment: dict[str, Any] = {
            "currency": "XTR",
            "total_amount": first["amount"],
            "invoice_payload": first["payload"],
            "telegram_payment_charge_id": renewal,
            "provider_payment_charge_id": "",
            "subscription_expiration_date": int(self.now()) + int(first["subscription_period"]),
            "is_recurring": True,
        }
        update = {
            "update_id": self._next(self._update_ids),
            "message": self._message(payer, successful_payment=payment),
        }
        delivered = self.webhook(update)
        return {"status": "paid", "charge_id": renewal, "update": update, "webhook_status": delivered.status}

    def renew_due_subscriptions(self, *, fail: bool = False, max_periods: int = 24) -> list[dict[str, Any]]:
        """What Telegram does as time passes: each subscription that still renews and whose paid period has ended is
        charged again through `renew_subscription` (a successful_payment with is_recurring), period after period
        until it is current; `fail=True`: Telegram could not charge them (the "failed" subscription update, after
        which they renew no more). Each renewal's outcome with its user's id, oldest first."""
        outcomes: list[dict[str, Any]] = []
        for _ in range(max_periods):
            due = self.bot_api.subscriptions_due(self.now())
            if not due:
                break
            for user, charge_id in due:
                outcome = self.renew_subscription(user, charge_id, fail=fail)
                outcome.pop("update", None)
                outcomes.append({"user": user["id"], **outcome})
        return outcomes


def _public_key_of(seed_hex: str) -> str:
    from nacl.signing import SigningKey

    return bytes(SigningKey(bytes.fromhex(seed_hex)).verify_key).hex()


def event_types_scheduled(event_types: frozenset[str]) -> bool:
    return bool(event_types & {"Schedule", "ScheduleV2"})


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
