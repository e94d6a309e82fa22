"""The Mini App sends a message once, however often it must send it: the answer to the first send is lost on
the way back, the person taps Send again, and the app's retry carries the same Idempotency-Key, so the owner
gets the message once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import BOB, CARLA, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e

MESSAGE = "Sent once even when the network drops the answer"
SEND = re.compile(r"\S")  # Carla's app speaks Spanish: whatever the button says, it is the send button here


def test_a_retried_send_reuses_its_key_and_the_owner_gets_one_message(page: Page, dev_server: DevServer) -> None:
    code = dev_server.link_code(BOB)
    keys: list[str | None] = []

    def lose_the_first_answer(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server stores the message...
            route.abort("connectionreset")  # ...and its answer never reaches the app
        else:
            route.continue_()

    page.route("**/api/links/*/messages", lose_the_first_answer)
    sim = Simulator(page)
    app = sim.as_user(CARLA).open_app(start_param=code)
    app.locator("#send-text").fill(MESSAGE)

    # The first tap: the app hears nothing back and says so; the person taps Send again
    sim.press_main_button(SEND)
    expect(app.locator("#toast[data-kind=error]")).to_be_visible()
    sim.press_main_button(SEND)
    expect(app.locator("#sent")).to_be_visible()

    # Both requests carried one key, and Bob has the message once
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    inbox: dict[str, Any] = dev_server.api_as(BOB, "GET", "/api/inbox")
    assert sum(m["preview"] == "Sent once even…" for m in inbox["messages"]) == 1
