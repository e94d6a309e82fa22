"""A real Telegram gift through the simulator and the real telegram-web-app.js: Bob picks one of Telegram's gifts on
Alice's send page, sees what Telegram will show with it and its price, pays in the Stars sheet, and the bot sends it:
Alice's chat shows the gift arriving from the bot with the start of Bob's message, and her inbox shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALICE, BOB, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e

MESSAGE = "For the playlist you left on my desk. It got me through the whole week."
TEDDY = "5170233102089322756"  # 🧸, 15 Stars to the bot (sandbox.fake_bot_api_gifts)


def test_a_sender_picks_a_real_gift_pays_and_the_receiver_gets_it_from_the_bot(
    page: Page, dev_server: DevServer
) -> None:
    sim = Simulator(page)
    dev_server.request("POST", "/sandbox/star-balance", {"amount": 500})  # Stars bought for the bot
    sim.run_cron()  # the cron caches Telegram's gift catalogue for the send page
    code = dev_server.link_code(ALICE)

    # Bob writes to Alice and picks the teddy bear: its price, and exactly the text Telegram will show with it.
    app = sim.as_user(BOB).open_app(start_param=code)
    app.locator("#send-text").fill(MESSAGE)
    teddy = app.locator(f".gift-option[data-telegram-gift='{TEDDY}']")
    expect(teddy).to_contain_text("24 ⭐")
    teddy.click()
    expect(teddy).to_have_attribute("aria-checked", "true")
    expect(app.locator(".gift-option[data-gift=none]")).to_have_attribute("aria-checked", "true")
    expect(app.locator("#tg-gift-text")).to_have_text(MESSAGE)
    app.locator("#tg-gift-preview").scroll_into_view_if_needed()
    sim.shoot_app("send-telegram-gift")

    sim.press_main_button("Send anonymously")
    sim.pay(24)
    expect(app.locator("#sent")).to_be_visible()
    expect(app.locator("#gift-status")).to_contain_text("the bot is sending your Telegram gift 🧸")
    expect(sim.bot_bubbles.filter(has_text="Your Telegram gift 🧸 was delivered")).to_have_count(1)

    # Alice's chat with the bot shows the gift arriving from the bot, with Bob's words and not his name.
    sim.as_user(ALICE)
    arrived = page.locator(f"#chat-log .bubble-gift[data-gift-id='{TEDDY}']")
    expect(arrived).to_have_count(1)
    expect(arrived).to_contain_text("Murmur sent you a gift")
    expect(arrived).to_contain_text(MESSAGE)
    assert "Bob" not in arrived.inner_text()
    sim.shoot_page("telegram-gift-chat")

    # Her inbox shows the message with the gift, readable in full (the gift's text showed it already).
    app = sim.open_app()
    card = app.locator(".message-card").filter(has_text=MESSAGE).first
    expect(card.locator(".gift-telegram")).to_have_text("🧸")
    card.scroll_into_view_if_needed()
    sim.shoot_app("inbox-telegram-gift")
