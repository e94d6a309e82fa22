"""Bad input gets a clear 4xx in the error envelope and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.local_stack import LocalStack
from tests.functional.helpers import link_code, person


def _count_messages(stack: LocalStack, owner: dict[str, Any]) -> int:
    return len(stack.api("GET", "/api/inbox", user=owner).json()["messages"])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"text": ""}', 422),
        (b'{"text": "   "}', 422),
        (('{"text": "' + "x" * 1001 + '"}').encode(), 422),
        (b'{"text": 42}', 422),
        (b'{"text": "hi", "gift": "rose"}', 422),
        (b'{"text": "hi", "admin": true}', 422),
        (b'{"text": "hi"', 422),  # malformed JSON
        (b"[]", 422),
        (b"", 422),
        # Thousands of levels, well under the size limit: the JSON parser would fail with RecursionError (a 500).
        (b"[" * 3000 + b"]" * 3000, 400),
        (b'{"text": ' + b"[" * 3000 + b"]" * 3000 + b"}", 400),
    ],
)
def test_bad_sends_are_refused_and_store_nothing(stack: LocalStack, body: bytes, status: int) -> None:
    owner, sender = person(), person()
    code = link_code(stack, owner)
    r = _raw(stack, f"/api/links/{code}/messages", sender, body)
    assert r.status == status, r.body
    error = r.json()["error"]
    assert error["code"] and error["message"]
    assert _count_messages(stack, owner) == 0
    assert not stack.bot_api.calls("sendMessage")


def _raw(stack: LocalStack, path: str, user: dict[str, Any], body: bytes) -> Any:
    from sandbox.local_stack import ApiResponse

    headers = {"Authorization": f"tma {stack.init_data(user)}", "Content-Type": "application/json"}
    status, response_headers, data = stack.emulator.invoke("POST", path, headers, body)
    return ApiResponse(status, response_headers, data)


def test_unknown_and_malformed_links_are_404(stack: LocalStack) -> None:
    sender = person()
    for code in ("A" * 12, "short", "x" * 13):
        r = stack.api("GET", f"/api/links/{code}", user=sender)
        assert r.status in (404, 422) and "error" in r.json()
    assert stack.api("POST", f"/api/links/{'B' * 12}/messages", user=sender, json={"text": "hi"}).status == 404


def test_oversized_bodies_are_413_before_anything_else(stack: LocalStack) -> None:
    owner, sender = person(), person()
    code = link_code(stack, owner)
    r = _raw(stack, f"/api/links/{code}/messages", sender, b'{"text": "' + b"x" * 40_000 + b'"}')
    assert r.status == 413 and r.json()["error"]["code"] == "too_large"
    assert _count_messages(stack, owner) == 0


def test_unknown_message_ids_and_cursors(stack: LocalStack) -> None:
    owner = person()
    link_code(stack, owner)
    assert stack.api("GET", "/api/messages/1790000000000deadbeef", user=owner).status == 404
    assert stack.api("GET", "/api/messages/not-an-id", user=owner).status == 422
    assert stack.api("GET", "/api/inbox?cursor=zzz", user=owner).status == 422


def test_every_api_answer_is_marked_no_store(stack: LocalStack) -> None:
    owner = person()
    for r in (
        stack.api("GET", "/api/me", user=owner),
        stack.api("GET", "/api/inbox?cursor=zzz", user=owner),
        stack.api("GET", "/api/me"),
    ):
        assert r.header("Cache-Control") == "no-store", (r.status, r.headers)
