"""The HTTP API emulator builds payload-format-2.0 events and maps results back as API Gateway does."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.http_api import (
    MAX_PAYLOAD_BYTES,
    HttpApiEmulator,
    TemplateRouteError,
    routes_from_template,
    stage_throttle,
)
from sandbox.tables import TEMPLATE as REAL_TEMPLATE

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 7
    MemorySize: 192
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefaultRouteSettings: {ThrottlingBurstLimit: 5, ThrottlingRateLimit: 2}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../functions/echo/
      Handler: app.handler
      Events:
        Item:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: "/items/{item_id}"}
        Special:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: /items/special}
        Upload:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: POST, Path: /upload}
  ProxyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../functions/proxy/
      Handler: app.handler
      Events:
        Everything:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: ANY, Path: "/api/{proxy+}"}
        Tick:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(5 minutes)}
"""


class Recorder:
    """A tiny Lambda handler that remembers its events and returns what the test tells it to."""

    def __init__(self, result: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.result = result

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if self.result is None:
            return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}
        return self.result


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


@pytest.fixture
def echo() -> Recorder:
    return Recorder()


@pytest.fixture
def proxy() -> Recorder:
    return Recorder()


@pytest.fixture
def api(template: Path, echo: Recorder, proxy: Recorder) -> HttpApiEmulator:
    return HttpApiEmulator(template, {"EchoFunction": echo, "ProxyFunction": proxy}, clock=lambda: 1700000000.25)


def test_routes_come_from_the_template_http_api_events_only(template: Path) -> None:
    routes = {(r.method, r.path, r.function) for r in routes_from_template(template)}

    assert routes == {
        ("GET", "/items/{item_id}", "EchoFunction"),
        ("GET", "/items/special", "EchoFunction"),
        ("POST", "/upload", "EchoFunction"),
        ("ANY", "/api/{proxy+}", "ProxyFunction"),
    }


def test_the_real_template_routes_webhook_and_api() -> None:
    routes = {r.route_key: r.function for r in routes_from_template()}

    assert routes == {"POST /webhook": "WebhookFunction", "ANY /api/{proxy+}": "MiniAppApiFunction"}


def test_path_parameter_event_has_the_v2_shape(api: HttpApiEmulator, echo: Recorder) -> None:
    status, _, _ = api.invoke(
        "GET",
        "/items/caf%C3%A9?x=1",
        [("Host", "127.0.0.1:8080"), ("User-Agent", "pytest"), ("X-Multi", "a"), ("x-multi", "b")],
    )

    assert status == 200
    event = echo.events[0]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{item_id}"
    assert event["rawPath"] == "/items/caf%C3%A9"
    assert event["rawQueryString"] == "x=1"
    assert event["pathParameters"] == {"item_id": "café"}
    assert event["headers"]["x-multi"] == "a,b"
    assert event["headers"]["user-agent"] == "pytest"
    assert "stageVariables" not in event and "cookies" not in event and "body" not in event
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "GET",
        "path": "/items/caf%C3%A9",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest",
    }
    assert ctx["routeKey"] == "GET /items/{item_id}"
    assert ctx["stage"] == "$default"
    assert ctx["domainName"] == "127.0.0.1"
    assert ctx["timeEpoch"] == 1700000000250
    assert ctx["time"] == "14/Nov/2023:22:13:20 +0000"
    assert {"accountId", "apiId", "domainPrefix", "requestId"} <= ctx.keys()


def test_each_invocation_gets_a_fresh_context_from_the_template(api: HttpApiEmulator, echo: Recorder) -> None:
    api.invoke("GET", "/items/1")
    api.invoke("GET", "/items/2")

    first, second = echo.contexts
    assert first.aws_request_id != second.aws_request_id
    assert first.function_name == "EchoFunction"
    assert first.memory_limit_in_mb == 192
    assert first.invoked_function_arn.endswith(":function:EchoFunction")
    assert 0 < second.get_remaining_time_in_millis() <= 7000


def test_literal_route_beats_path_parameter(api: HttpApiEmulator, echo: Recorder) -> None:
    api.invoke("GET", "/items/special")

    assert echo.events[0]["routeKey"] == "GET /items/special"
    assert "pathParameters" not in echo.events[0]


def test_greedy_proxy_takes_the_rest_of_the_path_for_any_method(api: HttpApiEmulator, proxy: Recorder) -> None:
    api.invoke("DELETE", "/api/messages/m%2F1/reply")

    event = proxy.events[0]
    assert event["routeKey"] == "ANY /api/{proxy+}"
    assert event["pathParameters"] == {"proxy": "messages/m/1/reply"}
    assert event["requestContext"]["http"]["method"] == "DELETE"


def test_query_string_keeps_raw_and_comma_joins_repeats(api: HttpApiEmulator, proxy: Recorder) -> None:
    api.invoke("GET", "/api/inbox?tag=a&tag=b%20c&empty=&cursor=x%2By")

    event = proxy.events[0]
    assert event["rawQueryString"] == "tag=a&tag=b%20c&empty=&cursor=x%2By"
    assert event["queryStringParameters"] == {"tag": "a,b c", "empty": "", "cursor": "x+y"}


def test_cookies_are_split_out_of_the_headers(api: HttpApiEmulator, proxy: Recorder) -> None:
    api.invoke("GET", "/api/me", [("Cookie", "a=1; b=2"), ("Cookie", "c=3")])

    event = proxy.events[0]
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]


def test_json_body_is_text_and_binary_body_is_base64(api: HttpApiEmulator, echo: Recorder) -> None:
    api.invoke("POST", "/upload", {"Content-Type": "application/json; charset=utf-8"}, b'{"a": "\xc3\xa9"}')
    api.invoke("POST", "/upload", {"Content-Type": "image/png"}, b"\x89PNG\x00\xff")
    api.invoke("POST", "/upload", {}, b"no content type")

    text, binary, untyped = echo.events
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": "é"}', False)
    assert text["headers"]["content-length"] == "11"
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x89PNG\x00\xff"
    assert untyped["isBase64Encoded"] is True


def test_unknown_route_and_wrong_method_are_api_gateway_404s(api: HttpApiEmulator, echo: Recorder) -> None:
    for method, path in [("GET", "/nope"), ("POST", "/items/1"), ("GET", "/api"), ("GET", "/api/")]:
        status, headers, body = api.invoke(method, path)
        assert (status, json.loads(body)) == (404, {"message": "Not Found"}), path
        assert ("Content-Type", "application/json") in headers
    assert echo.events == []


def test_oversize_payload_is_413_without_invoking(api: HttpApiEmulator, echo: Recorder) -> None:
    status, _, body = api.invoke("POST", "/upload", {"Content-Type": "text/plain"}, b"x" * (MAX_PAYLOAD_BYTES + 1))

    assert status == 413
    assert json.loads(body) == {"message": "Request Entity Too Large"}
    assert echo.events == []


def test_full_result_maps_status_headers_cookies_and_base64_body(template: Path) -> None:
    handler = Recorder(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "image/gif", "X-Count": 3},
            "cookies": ["s=1; HttpOnly", "t=2"],
            "body": base64.b64encode(b"GIF89a\x00").decode(),
            "isBase64Encoded": True,
        }
    )
    api = HttpApiEmulator(template, {"EchoFunction": handler})

    status, headers, body = api.invoke("GET", "/items/1")

    assert status == 201
    assert body == b"GIF89a\x00"
    assert ("Content-Type", "image/gif") in headers
    assert ("X-Count", "3") in headers
    assert [v for k, v in headers if k == "Set-Cookie"] == ["s=1; HttpOnly", "t=2"]


@pytest.mark.parametrize("result", [{"hello": "world"}, ["a", 1], "plain"])
def test_result_without_status_code_is_a_json_200(template: Path, result: Any) -> None:
    api = HttpApiEmulator(template, {"EchoFunction": Recorder(result)})

    status, headers, body = api.invoke("GET", "/items/1")

    assert status == 200
    assert ("Content-Type", "application/json") in headers
    assert json.loads(body) == result


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "cookies": "x"},
    ],
)
def test_malformed_result_is_a_500(template: Path, result: Any) -> None:
    api = HttpApiEmulator(template, {"EchoFunction": Recorder(result)})

    status, _, body = api.invoke("GET", "/items/1")

    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_handler_exception_is_a_500_with_no_detail(template: Path) -> None:
    def broken(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("secret detail")

    api = HttpApiEmulator(template, {"EchoFunction": broken})

    status, _, body = api.invoke("GET", "/items/1")

    assert status == 500
    assert b"secret" not in body


def test_result_that_is_not_json_is_a_500_as_on_lambda(template: Path) -> None:
    api = HttpApiEmulator(template, {"EchoFunction": Recorder({"statusCode": 200, "body": b"bytes"})})

    status, _, _ = api.invoke("GET", "/items/1")

    assert status == 500


def test_template_with_a_bad_route_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEMPLATE.replace("Path: /upload", "Path: upload"))

    with pytest.raises(TemplateRouteError, match="must start with '/'"):
        routes_from_template(bad)


def test_handlers_must_name_template_functions(template: Path) -> None:
    with pytest.raises(KeyError, match="NoSuchFunction"):
        HttpApiEmulator(template, {"NoSuchFunction": Recorder()})


def test_the_stages_throttling_answers_429_past_its_burst_and_refills_at_its_rate(template: Path) -> None:
    """DefaultRouteSettings (the real template: burst 200, 100 a second): API Gateway refuses before Lambda."""
    now = [100.0]
    echo = Recorder()
    api = HttpApiEmulator(template, {"EchoFunction": echo}, monotonic=lambda: now[0])

    statuses = [api.invoke("GET", "/items/1")[0] for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    assert len(echo.events) == 5  # the refused ones never reached the function
    now[0] += 1.0  # two tokens a second
    assert [api.invoke("GET", "/items/1")[0] for _ in range(3)] == [200, 200, 429]
    assert stage_throttle(REAL_TEMPLATE) is not None and stage_throttle(REAL_TEMPLATE).burst == 200  # type: ignore[union-attr]
