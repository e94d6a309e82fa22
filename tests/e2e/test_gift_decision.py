"""A gift's payment cancelled is a question (issue 16): Telegram's popup asks "Send without the gift" or "Keep
editing", and until the sender answers, the owner has nothing. Through the simulator's Stars sheet and popup."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALICE, BOB, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e

FIRST = "Pineapple pizza forever, and I mean it"
SECOND = "Mango sorbet instead, as a peace offering"


def _previews(dev_server: DevServer) -> list[dict[str, Any]]:
    return list(dev_server.api_as(ALICE, "GET", "/api/inbox")["messages"])


def _cancel_the_sheet_and_answer(sim: Simulator, choice: str) -> None:
    sim.page.click("#sheet-cancel")
    popup = sim.page.locator("#popup")
    expect(popup).to_be_visible()
    expect(popup.locator("#popup-title")).to_have_text("The gift was not paid")
    expect(popup.locator("button")).to_have_count(2)
    if choice == "no":
        sim.shoot_app("gift-not-paid")
    popup.locator(f"button[data-button-id={choice}]").click()
    expect(popup).to_be_hidden()


def test_cancelling_the_gifts_payment_asks_and_keep_editing_leaves_nothing_behind(
    page: Page, dev_server: DevServer
) -> None:
    sim = Simulator(page)
    app = sim.as_user(BOB).open_app(start_param=dev_server.link_code(ALICE))

    # Bob writes with a fire gift, then closes the Stars sheet without paying: he is asked, and keeps editing.
    app.locator("#send-text").fill(FIRST)
    app.locator(".gift-option[data-gift=fire]").click()
    sim.press_main_button("Send anonymously")
    _cancel_the_sheet_and_answer(sim, "no")
    expect(app.locator("#send-text")).to_have_value(FIRST)  # back to the form, his words as they were
    expect(app.locator("#sent")).to_have_count(0)
    assert not [m for m in _previews(dev_server) if m["preview"].startswith("Pineapple")], "nothing was sent"

    # He changes his words, cancels the sheet again, and sends them without the gift this time.
    app.locator("#send-text").fill(SECOND)
    sim.press_main_button("Send anonymously")
    _cancel_the_sheet_and_answer(sim, "yes")
    expect(app.locator("#sent")).to_be_visible()
    expect(app.locator("#gift-status")).to_have_text("The message was sent without the gift.")

    # Alice has exactly the one he sent, without a gift, and nothing of the first.
    previews = _previews(dev_server)
    assert not [m for m in previews if m["preview"].startswith("Pineapple")]
    (sent,) = [m for m in previews if m["preview"].startswith("Mango")]
    assert sent["gifts"] == []
