"""The simulator behaves like Telegram (issue 16): Pro renews by itself as the clock passes a period's end (or its
renewal fails, if chosen), each demo user keeps their own chat, the haptic indicator stays off the title, the
"Telegram sheet" forgets a link that no longer exists, and its "Copy link" gives what start_param needs."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALICE, BOB, DMITRI, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e


def test_pro_renews_as_the_clock_passes_then_a_chosen_failure_ends_it_and_an_erased_link_is_forgotten(
    page: Page, dev_server: DevServer
) -> None:
    sim = Simulator(page)
    app = sim.as_user(DMITRI).open_app()
    app.locator("#nav-plans").click()
    app.locator("#buy-pro").click()
    sim.pay(50)
    expect(app.locator("#plan-pro")).to_have_class("card plan-card plan-pro is-current")
    sim.page.click("#close-app")

    # A month and a day later, Telegram has charged the next month by itself: the bot says so.
    sim.advance_days(31)
    expect(sim.bot_bubbles.filter(has_text="Murmur Pro продлён")).to_have_count(1)

    # The next period's charge fails (chosen in the simulator): the bot says Pro ends, and nothing renews again.
    page.check("#renewals-fail")
    sim.advance_days(31)
    expect(sim.bot_bubbles.filter(has_text="Telegram не смог списать")).to_have_count(1)
    page.uncheck("#renewals-fail")
    sim.advance_days(31)
    expect(sim.bot_bubbles.filter(has_text="Murmur Pro продлён")).to_have_count(1)

    # Dmitri shares his link: the Telegram sheet shows it; then he erases his data, and the sheet forgets it.
    app = sim.open_app()
    app.locator("#share-button").click()
    sheet = page.locator("#tg-sheet")
    expect(sheet).to_have_attribute("data-kind", "share")
    app.locator("#nav-settings").click()
    app.locator("#delete-data").click()
    sim.confirm_popup(destructive="Удалить всё")
    expect(app.locator("#deleted")).to_be_visible()
    page.click("#close-app")
    expect(sheet).not_to_have_attribute("data-kind", "share")
    expect(sheet).to_contain_text("Links the Mini App opens")


def test_copy_link_gives_what_start_param_needs(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)
    app = sim.as_user(ALICE).open_app()
    app.locator("#share-button").click()
    copy = page.locator("#tg-sheet-copy")
    expect(copy).to_have_attribute("data-start-param", code)
    copy.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == code

    # Pasted as start_param, it opens the send page of that link, as Telegram opens t.me/<bot>?startapp=<code>.
    app = sim.as_user(BOB).open_app(start_param=copied)
    expect(app.locator("#send-title")).to_have_text("Write to Alice")


def test_each_demo_user_keeps_their_own_chat(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    sim.as_user(BOB).send_to_bot("/help")
    expect(sim.bot_bubbles.filter(has_text="anonymous inbox")).not_to_have_count(0)
    expect(page.locator("#chat-log .bubble-out").filter(has_text="/help")).to_have_count(1)

    sim.as_user(ALICE).send_to_bot("what is this?")
    expect(page.locator("#chat-log .bubble-out").filter(has_text="what is this?")).to_have_count(1)
    expect(page.locator("#chat-log .bubble-out").filter(has_text="/help")).to_have_count(0)

    sim.as_user(BOB)
    expect(page.locator("#chat-log .bubble-out").filter(has_text="/help")).to_have_count(1)
    expect(page.locator("#chat-log .bubble-out").filter(has_text="what is this?")).to_have_count(0)


def test_the_haptic_indicator_does_not_cover_the_title(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    app = sim.as_user(BOB).open_app(start_param=dev_server.link_code(ALICE))
    app.locator(".gift-option[data-gift=heart]").click()  # a selection haptic
    haptic = page.locator("#haptic")
    expect(haptic).to_have_class("haptic is-on")
    expect(haptic).to_contain_text("📳")
    box, header = haptic.bounding_box(), page.locator(".phone-header").bounding_box()
    assert box is not None and header is not None
    assert box["y"] >= header["y"] + header["height"], f"the indicator {box} covers the header {header}"
