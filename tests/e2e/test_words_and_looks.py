"""Words and looks (issue 16): an error in each language with its illustration (light and dark, from Telegram's
theme), the upgrade page, the owner's own reply under the message, and the bot answering free text with the way
into the app. Screenshots of each in test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALICE, BOB, CARLA, DMITRI, DevServer
from tests.e2e.simulator import Simulator, frame_eval

pytestmark = pytest.mark.e2e

GONE = "#/m/1234567890123deadbeef"  # a message id that is nobody's: the message view's 404
SAID = {
    BOB: ("en", "Something went wrong", "This is not here any more."),
    CARLA: ("es", "Algo salió mal", "Esto ya no está aquí."),
    DMITRI: ("ru", "Что-то пошло не так", "Этого здесь больше нет."),
}


@pytest.mark.parametrize("user", [BOB, CARLA, DMITRI])
def test_an_error_is_said_in_the_users_language_with_an_illustration_in_both_themes(
    page: Page, dev_server: DevServer, user: int
) -> None:
    lang, title, body = SAID[user]
    sim = Simulator(page)
    fills = {}
    for theme in ("light", "dark"):
        sim.set_theme(theme)
        app = sim.as_user(user).open_app()
        frame_eval(sim, f"location.hash = '{GONE}'")
        error = app.locator(".state-error")
        expect(error.locator("h2")).to_have_text(title)
        expect(error.locator(".error-message")).to_have_text(body)
        expect(error.locator("svg.art-error")).to_be_visible()
        expect(error.locator(".state-icon")).to_have_count(0)  # no emoji standing in for an icon
        fills[theme] = frame_eval(sim, "getComputedStyle(document.querySelector('.art-accent')).fill")
        sim.shoot_app(f"error-{lang}")
    assert fills == {"light": "rgb(36, 129, 204)", "dark": "rgb(82, 136, 193)"}  # the theme's button colour


def test_the_upgrade_page(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    for theme in ("light", "dark"):
        sim.set_theme(theme)
        app = sim.as_user(CARLA).open_app()
        expect(app.locator(".wordmark")).to_contain_text("Murmur")
        app.locator("#nav-plans").click()
        expect(app.locator("#plan-pro")).to_be_visible()
        sim.shoot_app("upgrade")


def test_the_owner_sees_their_own_reply_under_the_message(page: Page, dev_server: DevServer) -> None:
    code = dev_server.link_code(ALICE)
    sent = dev_server.api_as(BOB, "POST", f"/api/links/{code}/messages", {"text": "do you remember the lake"})
    sim = Simulator(page)
    app = sim.as_user(ALICE).open_app()
    _open_message(page, sent["message_id"])
    expect(app.locator("#replies")).to_be_hidden()
    app.locator("#reply-button").click()
    app.locator("#reply-text").fill("Of course I do, every summer")
    app.locator("#reply-send").click()
    expect(app.locator("#reply-done")).to_be_visible()
    expect(app.locator("#reply-list .reply-text")).to_have_text(["Of course I do, every summer"])

    # Opened again, the reply is still there: kept on the message, for Alice only.
    app = sim.open_app()
    _open_message(page, sent["message_id"])
    expect(app.locator("#reply-list .reply-text")).to_have_text(["Of course I do, every summer"])
    sim.shoot_app("message-with-reply")
    # And Bob got it from the bot.
    sim.as_user(BOB)
    expect(sim.bot_bubbles.filter(has_text="Of course I do, every summer")).to_have_count(1)


def test_the_bot_answers_free_text_with_the_short_help_and_the_app_button(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    sim.as_user(CARLA).send_to_bot("hola, ¿qué es esto?")
    answer = sim.bot_bubbles.filter(has_text="Solo entiendo unos pocos comandos").last
    expect(answer).to_be_visible()
    answer.locator(".inline-button").filter(has_text="Abrir Murmur").click()
    app = sim.wait_ready()
    expect(app.locator("#app")).to_have_attribute("data-route", "inbox")
    sim.shoot_page("bot-fallback")


def _open_message(page: Page, message_id: str) -> None:
    """Go to a message's screen in the Mini App (the frame element is found afresh, so a frame replaced by a
    new launch is never the one evaluated in)."""
    page.locator("#miniapp[data-ready=true]").evaluate(
        f"frame => {{ frame.contentWindow.location.hash = '#/m/{message_id}'; }}"
    )
