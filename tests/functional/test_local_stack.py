"""LocalStack's plumbing: moto tables from the template, env, handlers, Telegram-side flows, simulator API.

The functions here are tiny stand-ins written to tmp_path (not our real handlers), so these tests
check the sandbox itself: what a handler receives and what the sandbox does with its answers.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from sandbox.dev import STATIC_DIR, DevSite, resolve_static
from sandbox.local_stack import DEMO_USERS, LocalStack, SandboxError
from sandbox.simulator_api import SimulatorApi
from sandbox.tables import table_definitions

CLOCK = """
import time


class Clock:
    def __init__(self):
        self.offset = 0.0

    def now(self):
        return time.time() + self.offset

    def advance(self, seconds):
        self.offset += seconds


clock = Clock()
"""

BOT_CALL = """
import json
import os
import urllib.request

import botocore.session

# As on AWS: the token is an SSM SecureString named by the environment, read with the function's own role.
_ssm = botocore.session.get_session().create_client("ssm", region_name=os.environ["AWS_REGION"])


def parameter(variable):
    (found,) = _ssm.get_parameters(Names=[os.environ[variable]], WithDecryption=True)["Parameters"]
    return found["Value"]  # GetParameters: the only SSM action the template's policies grant


API = os.environ["TELEGRAM_API_URL"] + parameter("TELEGRAM_BOT_TOKEN_PARAM")


def call(method, **params):
    request = urllib.request.Request(
        f"{API}/{method}", data=json.dumps(params).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["result"]
"""

WEBHOOK = (
    CLOCK
    + BOT_CALL
    + """
SECRET = parameter("TELEGRAM_WEBHOOK_SECRET_PARAM")


def handler(event, context):
    if event["headers"].get("x-telegram-bot-api-secret-token") != SECRET:
        return {"statusCode": 401}
    update = json.loads(event["body"])
    print("UPDATE " + json.dumps(update))  # the function's log: what the tests read
    query = update.get("pre_checkout_query")
    if query and query["invoice_payload"] == "silent":
        return {"statusCode": 200}
    if query:
        if query["invoice_payload"] == "reject":
            answer = {"ok": False, "error_message": "Sold out"}
        else:
            answer = {"ok": True}
        call("answerPreCheckoutQuery", pre_checkout_query_id=query["id"], **answer)
    message = update.get("message") or {}
    if message.get("text", "").startswith("/start"):
        call(
            "sendMessage",
            chat_id=message["chat"]["id"],
            text="Welcome",
            reply_markup={"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
        )
    if message.get("text") == "/reply":
        body = {"method": "sendMessage", "chat_id": message["chat"]["id"], "text": "from the webhook reply"}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
    return {"statusCode": 200}
"""
)

MINIAPP_API = (
    CLOCK
    + BOT_CALL
    + """
invocations = 0  # module state: one count per container


def handler(event, context):
    global invocations
    invocations += 1
    if event["rawPath"] == "/api/slow":
        import time

        query = event.get("queryStringParameters") or {}
        time.sleep(float(query.get("seconds", "0.5")))
        if query.get("mark"):  # written only if the container is still running after its sleep
            with open(query["mark"], "w") as mark:
                mark.write("finished")
        return {"pid": os.getpid(), "invocations": invocations}
    if event["rawPath"] == "/api/orders":
        order = json.loads(event["body"])
        params = dict(
            title="Plus", description="Plus for a while", payload=order["payload"], currency="XTR",
            prices=[{"label": "Plus", "amount": order["amount"]}],
        )
        if order.get("period"):
            params["subscription_period"] = order["period"]
        return {"link": call("createInvoiceLink", **params)}
    return {
        "authorization": event["headers"].get("authorization"),
        "users_table": os.environ["USERS_TABLE"],
        "endpoint": os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
        "admins": os.environ["MURMUR_ADMIN_IDS"],
        "webapp": parameter("MURMUR_WEBAPP_URL_PARAM"),
        "bot": os.environ["MURMUR_BOT_USERNAME"],
        "function": context.function_name,
    }
"""
)

CRON = (
    CLOCK
    + """
def handler(event, context):
    return {"now": clock.now(), "event": event}
"""
)


@pytest.fixture(scope="module")
def functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("functions")
    for name, source in {"webhook": WEBHOOK, "miniapp_api": MINIAPP_API, "subscriptions_cron": CRON}.items():
        (root / name).mkdir()
        (root / name / "app.py").write_text(source)
    return root


@pytest.fixture(scope="module")
def stack(functions_dir: Path) -> Iterator[LocalStack]:
    with LocalStack(functions_dir=functions_dir, precheckout_timeout=0.2) as running:
        yield running


def _refused(url: str) -> bool:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


def test_start_and_stop_leave_nothing_behind(functions_dir: Path) -> None:
    threads_before = set(threading.enumerate())
    env_before = dict(os.environ)
    path_before = list(sys.path)
    modules_before = set(sys.modules)

    with LocalStack(functions_dir=functions_dir) as stack:
        endpoints = [stack.dynamodb_endpoint, stack.aws.url, stack.bot_api.base_url]
        assert stack.api("GET", "/api/anything").status == 200
        processes = [c.process for c in stack.functions["MiniAppApiFunction"].container._idle]
        assert processes and all(p.poll() is None for p in processes)

    assert all(_refused(url) for url in endpoints)
    assert all(p.poll() is not None for p in processes)  # the containers are gone
    assert dict(os.environ) == env_before  # the functions' environment is theirs, never this process's
    assert sys.path == path_before
    # The handlers ran in their own processes: none of their modules was ever imported here.
    new_modules = [sys.modules[m] for m in set(sys.modules) - modules_before]
    assert not [m for m in new_modules if str(functions_dir) in str(getattr(m, "__file__", "") or "")]
    assert set(threading.enumerate()) <= threads_before


def test_tables_exist_with_the_template_key_schemas(stack: LocalStack) -> None:
    client = stack.dynamodb_client()
    try:
        for logical_id, props in table_definitions().items():
            table = client.describe_table(TableName=f"{stack.table_prefix}{logical_id}")["Table"]
            assert table["KeySchema"] == props["KeySchema"], logical_id
            got_indexes = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])}
            want_indexes = {i["IndexName"]: i["KeySchema"] for i in props.get("GlobalSecondaryIndexes", [])}
            assert got_indexes == want_indexes, logical_id
    finally:
        client.close()


def test_handlers_run_with_the_sandbox_environment(stack: LocalStack) -> None:
    seen = stack.api("GET", "/api/me").json()

    assert seen["users_table"] == stack.tables["USERS_TABLE"]
    assert seen["endpoint"] == stack.aws.url  # through the strict endpoint: IAM from the template
    assert seen["admins"] == str(DEMO_USERS[0]["id"])
    assert seen["bot"] == "murmur_sandbox_bot"
    assert seen["webapp"] == stack.webapp_url
    assert seen["function"] == "MiniAppApiFunction"  # the context names the function


def test_api_sends_signed_init_data_for_the_user(stack: LocalStack) -> None:
    seen = stack.api("GET", "/api/me", user=1004, start_param="ref_abc").json()

    scheme, _, init_data = seen["authorization"].partition(" ")
    fields = {k: v[0] for k, v in parse_qs(init_data).items()}
    assert scheme == "tma"
    assert json.loads(fields["user"])["id"] == 1004
    assert json.loads(fields["user"])["is_premium"] is True
    assert fields["start_param"] == "ref_abc"
    assert int(fields["auth_date"]) == pytest.approx(stack.now(), abs=5)
    assert len(fields["hash"]) == 64


def _updates(stack: LocalStack) -> list[dict[str, Any]]:
    """What the stand-in webhook logged, oldest first."""
    prefix = "UPDATE "
    return [json.loads(line[len(prefix) :]) for line in stack.log_lines("WebhookFunction") if line.startswith(prefix)]


def test_send_text_and_press_button_reach_the_webhook(stack: LocalStack) -> None:
    assert stack.send_text(1002, "/start abc").status == 200
    welcome = stack.bot_api.messages_to(1002)[-1]
    assert stack.press_button(1002, welcome, "go").status == 200

    start_update, press_update = _updates(stack)[-2:]
    assert start_update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert start_update["message"]["from"]["id"] == 1002
    assert press_update["callback_query"]["data"] == "go"
    assert press_update["callback_query"]["message"]["message_id"] == welcome["message_id"]
    assert press_update["update_id"] > start_update["update_id"]


def test_webhook_without_the_secret_is_refused_by_the_handler(stack: LocalStack) -> None:
    status, _, _ = stack.emulator.invoke("POST", "/webhook", {"Content-Type": "application/json"}, b"{}")

    assert status == 401


def test_a_method_in_the_webhook_answer_is_executed(stack: LocalStack) -> None:
    stack.send_text(1003, "/reply")

    assert stack.bot_api.messages_to(1003)[-1]["text"] == "from the webhook reply"


def test_pay_invoice_runs_pre_checkout_then_successful_payment(stack: LocalStack) -> None:
    link = stack.api("POST", "/api/orders", user=1001, json={"payload": "order-1", "amount": 15}).json()["link"]

    outcome = stack.pay_invoice(1001, link)

    assert outcome["status"] == "paid"
    updates = _updates(stack)
    query, paid = updates[-2]["pre_checkout_query"], updates[-1]["message"]["successful_payment"]
    assert (query["currency"], query["total_amount"], query["invoice_payload"]) == ("XTR", 15, "order-1")
    assert query["from"]["id"] == 1001
    assert paid["telegram_payment_charge_id"] == outcome["charge_id"]
    assert (paid["total_amount"], paid["invoice_payload"]) == (15, "order-1")
    assert "subscription_expiration_date" not in paid


def test_pay_subscription_invoice_carries_the_expiry(stack: LocalStack) -> None:
    order = {"payload": "pro-1", "amount": 50, "period": 2592000}
    link = stack.api("POST", "/api/orders", user=1004, json=order).json()["link"]

    outcome = stack.pay_invoice(1004, link)

    paid = outcome["update"]["message"]["successful_payment"]
    assert paid["is_recurring"] is True and paid["is_first_recurring"] is True
    assert paid["subscription_expiration_date"] == pytest.approx(stack.now() + 2592000, abs=5)


@pytest.mark.parametrize(
    ("payload", "message"),
    [("reject", "Sold out"), ("silent", "the bot did not answer the pre-checkout query")],
)
def test_pay_invoice_fails_without_an_ok_answer(stack: LocalStack, payload: str, message: str) -> None:
    link = stack.api("POST", "/api/orders", user=1001, json={"payload": payload, "amount": 1}).json()["link"]
    before = len(_updates(stack))

    outcome = stack.pay_invoice(1001, link)

    assert outcome == {"status": "failed", "slug": link, "error_message": message}
    assert [u for u in _updates(stack)[before:] if "message" in u] == []  # no successful_payment


def test_cancelled_payment_sends_nothing(stack: LocalStack) -> None:
    link = stack.api("POST", "/api/orders", user=1001, json={"payload": "x", "amount": 1}).json()["link"]
    before = len(_updates(stack))

    assert stack.pay_invoice(1001, link, confirm=False)["status"] == "cancelled"
    assert len(_updates(stack)) == before


def test_advance_clock_moves_every_function_and_the_cron_sees_it(stack: LocalStack) -> None:
    before = stack.run_cron()["now"]

    stack.advance_clock(3600)

    after = stack.run_cron({"source": "test"})
    assert after["now"] - before >= 3600
    assert after["event"] == {"source": "test"}
    assert stack.now() - after["now"] < 5


def test_bad_sandbox_input_is_a_clear_error(stack: LocalStack) -> None:
    with pytest.raises(SandboxError, match="no demo user"):
        stack.send_text(4242, "hi")
    with pytest.raises(SandboxError, match="advance"):
        stack.advance_clock(-5)


def _call(api: SimulatorApi, method: str, target: str, body: Any = None) -> tuple[int, Any]:
    status, _, data = api.handle(method, target, b"" if body is None else json.dumps(body).encode())
    return status, json.loads(data)


def test_simulator_api_plays_the_telegram_app(stack: LocalStack) -> None:
    api = SimulatorApi(stack)

    status, users = _call(api, "GET", "/sandbox/users")
    assert status == 200 and [u["id"] for u in users["users"]] == [1001, 1002, 1003, 1004]
    status, init = _call(api, "GET", "/sandbox/initdata?user=1003&start_param=abc")
    assert status == 200 and "start_param=abc" in init["init_data"]
    assert _call(api, "POST", "/sandbox/send", {"user": 1001, "text": "/start"})[1] == {"webhook_status": 200}
    status, chat = _call(api, "GET", "/sandbox/chat?user=1001")
    last = chat["messages"][-1]
    assert last["text"] == "Welcome"
    pressed = {"user": 1001, "message_id": last["message_id"], "callback_data": "go"}
    assert _call(api, "POST", "/sandbox/press", pressed)[0] == 200
    now = _call(api, "GET", "/sandbox/clock")[1]["now"]
    assert _call(api, "POST", "/sandbox/clock", {"advance_seconds": 60})[1]["now"] >= now + 60
    assert "now" in _call(api, "POST", "/sandbox/cron")[1]["result"]


@pytest.mark.parametrize(
    ("method", "target", "body", "status"),
    [
        ("GET", "/sandbox/initdata", None, 400),
        ("GET", "/sandbox/initdata?user=abc", None, 400),
        ("GET", "/sandbox/chat?user=99", None, 400),
        ("POST", "/sandbox/send", {"user": 1001}, 400),
        ("POST", "/sandbox/press", {"user": 1001, "message_id": 987654, "callback_data": "go"}, 404),
        ("POST", "/sandbox/pay", {"user": 1001, "slug": "nope"}, 404),
        ("POST", "/sandbox/clock", {"advance_seconds": "soon"}, 400),
        ("GET", "/sandbox/send", None, 405),
        ("GET", "/sandbox/nothing", None, 404),
    ],
)
def test_simulator_api_rejects_bad_input(stack: LocalStack, method: str, target: str, body: Any, status: int) -> None:
    got, answer = _call(SimulatorApi(stack), method, target, body)

    assert got == status
    assert set(answer["error"]) == {"code", "message"}


def test_dev_site_serves_routes_static_files_and_no_traversal(stack: LocalStack) -> None:
    site = DevSite(stack.emulator, SimulatorApi(stack))

    assert site.serve("GET", "/api/me", [], b"", "127.0.0.1")[0] == 200
    assert site.serve("GET", "/sandbox/users", [], b"", "127.0.0.1")[0] == 200
    assert site.serve("GET", "/../pyproject.toml", [], b"", "127.0.0.1")[0] == 404
    assert site.serve("GET", "/%2e%2e/pyproject.toml", [], b"", "127.0.0.1")[0] == 404
    assert site.serve("POST", "/index.html", [], b"", "127.0.0.1")[0] == 405
    assert resolve_static(STATIC_DIR, "/../Makefile") is None


# ---------------------------------------------------------------------- Lambda's concurrency and limits
def _concurrently(stack: LocalStack, count: int, target: str) -> list[Any]:
    answers: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def call(index: int) -> None:
        barrier.wait()
        answers[index] = stack.api("GET", target)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def test_concurrent_requests_run_in_concurrent_containers_each_with_its_own_state(stack: LocalStack) -> None:
    _concurrently(stack, 1, "/api/slow?seconds=0")  # one warm container to start from
    answers = _concurrently(stack, 3, "/api/slow?seconds=1")

    assert [a.status for a in answers] == [200, 200, 200]
    pids = {a.json()["pid"] for a in answers}
    assert len(pids) == 3 and os.getpid() not in pids  # three processes at once, none of them this one
    counts = sorted(a.json()["invocations"] for a in answers)
    assert counts[0] == 1 and counts[-1] >= 2  # new containers start afresh; the warm one kept its count


def test_past_the_concurrency_limit_an_invocation_is_throttled(functions_dir: Path) -> None:
    with LocalStack(functions_dir=functions_dir, max_containers=2) as capped:
        answers = _concurrently(capped, 3, "/api/slow?seconds=1")
        function = capped.functions["MiniAppApiFunction"].container

    assert sorted(a.status for a in answers) == [200, 200, 500]  # API Gateway's answer to a throttled Lambda
    assert function.throttles == 1 and function.cold_starts == 2


def test_a_handler_past_its_timeout_is_stopped_and_answered_500(functions_dir: Path, tmp_path: Path) -> None:
    import yaml

    from sandbox.tables import TEMPLATE, load_template

    template = load_template(TEMPLATE)
    template["Resources"]["MiniAppApiFunction"]["Properties"]["Timeout"] = 1
    variant = tmp_path / "template.yaml"
    variant.write_text(yaml.safe_dump(template))
    mark = tmp_path / "finished"
    with LocalStack(functions_dir=functions_dir, template_path=variant) as short:
        answer = short.api("GET", f"/api/slow?seconds=2&mark={mark}")
        function = short.functions["MiniAppApiFunction"].container
        assert answer.status == 500 and answer.json() == {"message": "Internal Server Error"}
        assert function.timeouts == 1 and function.containers == 0  # the container is gone
        threading.Event().wait(1.5)
        assert not mark.exists()  # its work stopped where Lambda stopped it
        assert short.api("GET", "/api/slow?seconds=0").json()["invocations"] == 1  # a cold start follows
