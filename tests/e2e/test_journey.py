"""The product as a person meets it, through the simulator and the real telegram-web-app.js:
share a link, write with a gift, get notified, pay to read, buy a hint, reply."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALICE, BOB, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e

MESSAGE = "You make every day brighter, thank you for the coffee"
REPLY = "Thank you, secret friend!"


def test_share_send_with_gift_unlock_hint_reply(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)

    # Alice types /start to the bot; its welcome has a web_app button that opens her inbox.
    sim.as_user(ALICE).send_to_bot("/start")
    welcome = sim.bot_bubbles.filter(has_text="Welcome to Murmur").last
    welcome.locator(".inline-button").click()
    app = sim.wait_ready()
    expect(app.locator("#app")).to_have_attribute("data-route", "inbox")

    # She shares her link: Telegram's share sheet gets it, and Copy confirms.
    link = app.locator(".share-url").input_value()
    code = re.search(r"startapp=([A-Za-z0-9]{12})$", link).group(1)  # type: ignore[union-attr]
    sim.shoot_app("inbox-empty")
    app.locator("#share-button").click()
    expect(page.locator("#tg-sheet")).to_have_attribute("data-kind", "share")
    expect(page.locator("#tg-sheet")).to_contain_text(link)
    app.locator("#copy-button").click()
    expect(app.locator(".share-status")).to_have_text("Link copied")

    # Bob opens Alice's link (start_param) and writes, with a heart gift paid in the Stars sheet.
    app = sim.as_user(BOB).open_app(start_param=code)
    expect(app.locator("#send-title")).to_have_text("Write to Alice")
    ladder = app.locator("#hint-ladder li")
    expect(ladder).to_have_count(3)  # language, initial, Telegram Premium or not
    first_clue = ladder.first.inner_text()
    expect(sim.main_button).to_be_disabled()  # nothing written yet
    app.locator("#send-text").fill(MESSAGE)
    expect(app.locator("#send-counter")).to_have_text(f"{len(MESSAGE)}/1000")
    app.locator(".gift-option[data-gift=heart]").click()
    sim.shoot_app("send")
    sim.press_main_button("Send anonymously")
    sim.pay(3)
    expect(app.locator("#sent")).to_be_visible()
    expect(app.locator("#gift-status")).to_contain_text("Gift delivered")

    # Alice gets the bot's notification with the three-word preview (from the cron: ADR 0007), and opens the
    # message from it.
    sim.run_cron()
    sim.as_user(ALICE)
    notice = sim.bot_bubbles.filter(has_text="You make every…").last
    expect(notice).to_be_visible()
    assert "Bob" not in notice.inner_text()
    notice.locator(".inline-button").click()
    app = sim.wait_ready()
    # One new message opens it; several (earlier tests wrote to Alice too) open the inbox, where she taps it.
    if app.locator("#app").get_attribute("data-route") == "inbox":
        app.locator(".message-card", has_text="You make every…").first.click()
    expect(app.locator("#message-text")).to_have_text("You make every…")
    expect(app.locator(".gift[data-gift=heart]")).to_be_visible()
    expect(page.locator("#back-button")).to_be_visible()
    sim.shoot_app("message-locked")

    # She pays 1 Star through the sheet and reads it all.
    sim.press_main_button("Unlock for 1 ⭐")
    sim.pay(1)
    expect(app.locator("#message-text")).to_have_text(MESSAGE)
    expect(sim.main_button).to_be_hidden()

    # A hint for 5 Stars reveals the first clue Bob was shown before sending.
    app.locator("#hint-button").click()
    sim.pay(5)
    expect(app.locator("#hint-list li")).to_have_count(1)
    expect(app.locator("#hint-list li")).to_have_text(first_clue)
    sim.shoot_app("message-read")

    # She replies; the bot brings the reply to Bob, who stays anonymous to her.
    app.locator("#reply-button").click()
    app.locator("#reply-text").fill(REPLY)
    app.locator("#reply-send").click()
    expect(app.locator("#reply-done")).to_be_visible()

    # BackButton returns to the inbox, which shows the message as read, with its gift and hint count.
    sim.press_back()
    card = app.locator(".message-card").first
    expect(card).to_contain_text(MESSAGE)
    expect(card).not_to_have_class(re.compile("is-unread"))
    expect(card.locator(".badge-hints")).to_be_visible()
    sim.shoot_app("inbox")

    sim.as_user(BOB)
    expect(sim.bot_bubbles.filter(has_text=REPLY)).to_have_count(1)
    sim.shoot_page("simulator")
