"""Schemathesis against the API's own OpenAPI document, served by the local stack's API Gateway emulator.

Every operation gets positive and negative examples (bounded, so the run stays well under a minute),
authenticated as a demo user with fresh initData, and every check schemathesis has: no 5xx, status codes,
content types, headers and bodies as declared, negative data refused, positive data accepted.

Transport: a WSGI adapter around `HttpApiEmulator.invoke`, the same entry `make dev`'s HTTP server calls,
so requests take the full path of a real one (API Gateway event, Lambda handler, moto) without a socket.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from sandbox.local_stack import LocalStack
from tests.functional.conftest import BOB

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_EXAMPLES = 25
SEEN: Counter[tuple[str, int]] = Counter()  # (method and path, status) of every request schemathesis made
# Operations whose bodies are checked beyond what a schema can say: a story image must be a 1080x1920 JPEG
# (murmur.stories), so a schema-valid base64 string is refused with 400 and "positive data accepted" cannot hold.
CONTENT_CHECKED = frozenset({("POST", "/api/stories")})


def emulator_as_wsgi(stack: LocalStack) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if not target:
            target = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/%:@!$&'()*+,;=-._~")
        if "?" not in target and environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        status, out_headers, data = stack.emulator.invoke(environ["REQUEST_METHOD"], target, headers, body)
        SEEN[(f"{environ['REQUEST_METHOD']} {target.partition('?')[0]}", status)] += 1
        start_response(f"{status} STATUS", [(k, v) for k, v in out_headers if k.lower() != "content-length"])
        return [data]

    return app


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[LocalStack]:
    with LocalStack() as stack:
        # The fuzzer checks the function's answers against its OpenAPI document, at a rate no person reaches:
        # API Gateway's stage throttling (its own 429, outside that document) would answer part of it.
        stack.emulator.throttle = None
        # The demo user has an inbox with a message, so message routes have something to find.
        code = stack.api("GET", "/api/me", user=BOB).json()["link"]["code"]
        stack.api("POST", f"/api/links/{code}/messages", user=BOB, json={"text": "fuzzing starts here"})
        yield stack


@pytest.fixture(scope="module")
def api_schema(fuzz_stack: LocalStack) -> Any:
    loaded = schemathesis.openapi.from_wsgi("/api/openapi.json", emulator_as_wsgi(fuzz_stack))
    loaded.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        # Query parameters no route declares are ignored, as API Gateway and most APIs do (a client's cache
        # buster is not an error): "undeclared" is not "invalid" here.
        allow_extra_parameters=False,
    )
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_conforms_to_its_openapi(case: Any, fuzz_stack: LocalStack) -> None:
    excluded = [positive_data_acceptance] if (case.method.upper(), case.path) in CONTENT_CHECKED else []
    case.call_and_validate(headers={"Authorization": f"tma {fuzz_stack.init_data(BOB)}"}, excluded_checks=excluded)


def test_the_fuzzing_was_not_vacuous_and_never_saw_a_5xx() -> None:
    """Runs after the fuzz test (file order): the run was not vacuous."""
    total = sum(SEEN.values())
    statuses = Counter(status for (_, status) in SEEN.elements())
    print(f"schemathesis: {total} requests, statuses {dict(sorted(statuses.items()))}")
    assert total >= 200
    assert not [key for key in SEEN if key[1] >= 500]
    assert {s for s in statuses if 400 <= s < 500} >= {401, 404, 422}  # negative data was sent and refused
    assert statuses[200] and statuses[201]  # and valid data was accepted
