"""Question cards and invite credits (issue 14) as people meet them in the simulator, with the real
telegram-web-app.js: the owner picks a card and shares its link; another user opens that link, sees the question
above the text box and answers it; the owner's inbox and message say which question the message answers. A friend
who joins through the owner's invite gives the owner a free unlock, spent from the message view."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALICE, BOB, DMITRI, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e

ANSWER = "A solid nine: you always remember everyone's birthday, and you laugh at my jokes"


def test_a_card_is_picked_shared_answered_and_shown_with_its_answer(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)

    # Alice picks "Rate me 1–10" in her inbox's card picker and shares that card's own link.
    app = sim.as_user(ALICE).open_app()
    picker = app.locator("#card-picker")
    expect(picker.locator(".card-option")).to_have_count(12)
    picker.locator(".card-option[data-card=rate]").click()
    expect(picker.locator(".card-option[data-card=rate]")).to_have_attribute("aria-checked", "true")
    expect(app.locator("#card-chosen")).to_have_text("🔟 Rate me 1–10 and tell me why")
    card_url = app.locator("#card-url").input_value()
    assert card_url.endswith(f"?startapp={code}-rate"), card_url
    app.locator("#invite-credits").scroll_into_view_if_needed()
    app.locator("#card-picker").scroll_into_view_if_needed()
    sim.shoot_app("cards-picker")
    app.locator("#card-share").click()
    sheet = page.locator("#tg-sheet")
    expect(sheet).to_have_attribute("data-kind", "share")
    expect(sheet).to_contain_text(card_url)

    # Bob opens the card's link: the send page shows Alice's question, in his language, above the text box.
    start_param = re.search(r"startapp=([^&#]+)", unquote(card_url)).group(1)  # type: ignore[union-attr]
    app = sim.as_user(BOB).open_app(start_param=start_param)
    expect(app.locator("#send-title")).to_have_text("Write to Alice")
    expect(app.locator("#send-question")).to_have_attribute("data-card", "rate")
    expect(app.locator("#send-question")).to_contain_text("Rate me 1–10 and tell me why")
    app.locator("#send-text").fill(ANSWER)
    sim.shoot_app("cards-send")
    sim.press_main_button("Send anonymously")
    expect(app.locator("#sent")).to_be_visible()

    # Alice's inbox says which question the message answers, and so does the message itself.
    app = sim.as_user(ALICE).open_app()
    row = app.locator(".message-card").filter(has_text="A solid nine")
    expect(row.locator(".message-question")).to_have_text("Answers “Rate me 1–10 and tell me why”")
    expect(row.locator(".message-question")).to_have_attribute("data-card", "rate")
    row.scroll_into_view_if_needed()
    sim.shoot_app("cards-inbox")
    row.click()
    expect(app.locator(".message-card-full .message-question")).to_have_text("Answers “Rate me 1–10 and tell me why”")


def test_the_owners_own_question_is_asked_on_its_link(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)
    try:
        # Alice writes her own question; it becomes a card of its own, chosen at once.
        app = sim.as_user(ALICE).open_app()
        app.locator("#own-question-summary").click()
        app.locator("#own-question").fill("Which film should I watch tonight?")
        app.locator("#own-question-save").click()
        expect(app.locator("#toast")).to_have_text("Question saved")
        own = app.locator("#card-picker .card-option[data-card=own]")
        expect(own).to_have_attribute("aria-checked", "true")
        expect(app.locator("#card-url")).to_have_value(re.compile(rf"\?startapp={code}-own$"))
        expect(app.locator("#own-question-clear")).to_be_visible()
        app.locator("#own-question-panel").scroll_into_view_if_needed()
        sim.shoot_app("cards-own-question")

        # Bob opens it and sees her words as she wrote them.
        app = sim.as_user(BOB).open_app(start_param=f"{code}-own")
        expect(app.locator("#send-question")).to_contain_text("Which film should I watch tonight?")
    finally:
        dev_server.api_as(ALICE, "DELETE", "/api/me/question")

    # Removed: the same link opens the plain send page, without a question.
    app = sim.as_user(BOB).open_app(start_param=f"{code}-own")
    expect(app.locator("#send-title")).to_have_text("Write to Alice")
    expect(app.locator("#send-question")).to_have_count(0)


def test_a_friend_joining_through_the_invite_unlocks_a_message_for_free(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)
    long_text = "Guess who: we sat next to each other in the library all winter, and I never said hello"
    message_id = dev_server.api_as(BOB, "POST", f"/api/links/{code}/messages", {"text": long_text})["message_id"]

    # Dmitri, new to Murmur, taps Alice's invite: the bot's /start ref_<code>.
    sim.as_user(DMITRI).send_to_bot(f"/start ref_{code}")
    expect(sim.bot_bubbles.last).to_be_visible()

    # Alice's inbox counts the free unlock; the locked message offers it beside Unlock for 1 ⭐.
    app = sim.as_user(ALICE).open_app()
    expect(app.locator("#invite-count")).to_have_text("🎟️ 1 free unlock")
    app.locator(f".message-card[data-id='{message_id}']").click()
    credit = app.locator("#credit-unlock-button")
    expect(credit).to_have_text("🎟️ Unlock with an invite credit (1 left)")
    expect(sim.main_button).to_have_text("Unlock for 1 ⭐")
    sim.shoot_app("cards-credit-unlock")
    credit.click()
    expect(app.locator("#message-text")).to_have_text(long_text)
    expect(app.locator("#credit-unlock-button")).to_have_count(0)
    expect(sim.main_button).to_be_hidden()
    assert dev_server.api_as(ALICE, "GET", "/api/me")["invite_credits"] == 0
