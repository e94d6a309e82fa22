"""Plus and its expiry, hostile message text, languages, theme, and settings, through the simulator."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import BOB, CARLA, DMITRI, DevServer
from tests.e2e.simulator import Simulator, frame_eval

pytestmark = pytest.mark.e2e

XSS = "<img src=x onerror=alert(1)>"
DARK_BG = "rgb(14, 22, 33)"  # the simulator's dark theme secondary_bg_color, the page background


def test_plus_reads_everything_until_it_expires(page: Page, dev_server: DevServer) -> None:
    code = dev_server.link_code(DMITRI)
    for text in ("Первое длинное сообщение для Дмитрия", "Second long message for Dmitri"):
        dev_server.api_as(BOB, "POST", f"/api/links/{code}/messages", {"text": text})
    sim = Simulator(page)

    app = sim.as_user(DMITRI).open_app()
    expect(app.locator("h1")).to_have_text("Входящие")  # Dmitri's Telegram is in Russian
    expect(app.locator(".message-card.is-locked")).to_have_count(2)

    app.locator("#nav-plans").click()
    expect(app.locator("#current-plan")).to_have_text("Бесплатный план")
    sim.shoot_app("plans")
    app.locator("#buy-plus").click()
    sim.pay(15)
    expect(app.locator("#current-plan")).to_contain_text("Plus")

    sim.press_back()
    expect(app.locator(".message-card")).to_have_count(2)
    expect(app.locator(".message-card.is-locked")).to_have_count(0)
    expect(app.locator(".message-card").first).to_contain_text("Second long message for Dmitri")

    # Eight days later the cron expires the weekly pass: the messages are locked again.
    sim.advance_days(8)
    sim.run_cron()
    app = sim.open_app()  # a fresh launch: new initData at the new time
    expect(app.locator(".message-card.is-locked")).to_have_count(2)
    expect(app.locator(".plan-pill")).to_have_text("Бесплатный план")


def test_hostile_text_is_shown_as_text_in_spanish(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(CARLA)

    app = sim.as_user(BOB).open_app(start_param=code)
    app.locator("#send-text").fill(XSS)
    sim.press_main_button("Send anonymously")
    expect(app.locator("#sent")).to_be_visible()

    app = sim.as_user(CARLA).open_app()
    expect(app.locator("h1")).to_have_text("Tu bandeja")  # Carla's Telegram is in Spanish
    card = app.locator(".message-card").first
    expect(card.locator(".message-text")).to_have_text(XSS)
    expect(app.locator("#message-list img")).to_have_count(0)
    expect(app.locator(".message-card.is-locked")).to_have_count(0)
    card.click()
    expect(app.locator("#message-text")).to_have_text(XSS)
    expect(app.locator("#app img")).to_have_count(0)
    # Three "words": the free preview already shows all of it, so it is readable and nothing is for sale.
    expect(sim.main_button).to_be_hidden()
    assert page.dialogs == []  # type: ignore[attr-defined]  # and the fixture checks again at the end


def test_dark_theme_on_every_screen(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(CARLA)
    sim.set_theme("dark")

    app = sim.as_user(BOB).open_app(start_param=code)
    expect(app.locator("#send-title")).to_be_visible()
    assert frame_eval(sim, "document.documentElement.dataset.scheme") == "dark"
    assert frame_eval(sim, "getComputedStyle(document.body).backgroundColor") == DARK_BG
    missing = frame_eval(sim, "import('/js/i18n.js').then((i18n) => i18n.missingKeys())")
    assert missing == {"en": [], "ru": [], "es": []}, f"untranslated interface text: {missing}"
    sim.shoot_app("send")

    # theme_changed while open: the Mini App follows the Telegram app's theme at once.
    sim.set_theme("light")
    expect(app.locator("html")).to_have_attribute("data-scheme", "light")
    sim.set_theme("dark")
    expect(app.locator("html")).to_have_attribute("data-scheme", "dark")

    screens = {"inbox": "#/", "plans": "#/plans", "settings": "#/settings"}
    for theme in ("dark", "light"):
        sim.set_theme(theme)
        app = sim.as_user(CARLA).open_app()
        sim.shoot_app("inbox")
        app.locator(".message-card").first.click()
        expect(app.locator("#message-text")).to_be_visible()
        sim.shoot_app("message")
        for name, route in screens.items():
            page.locator("#miniapp").evaluate(f"frame => {{ frame.contentWindow.location.hash = '{route}'; }}")
            expect(app.locator("#app")).to_have_attribute("data-route", name)
            expect(app.locator("#app .state-loading")).to_have_count(0)
            sim.shoot_app(name)
        sim.shoot_page("simulator")


def test_settings_stop_messages_then_delete_data(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(CARLA)

    app = sim.as_user(CARLA).open_app()
    app.locator("#nav-settings").click()
    switch = app.locator("#accept-messages")
    expect(switch).to_be_checked()
    switch.click()
    expect(app.locator("#toast")).to_have_text("Guardado")

    app = sim.as_user(BOB).open_app(start_param=code)
    paused = "Carla's inbox is paused: Carla is not accepting messages right now."
    expect(app.locator(".state-empty h2")).to_have_text(paused)
    expect(sim.main_button).to_be_hidden()

    app = sim.as_user(CARLA).open_app()
    app.locator("#nav-settings").click()
    app.locator("#delete-data").click()
    # Telegram's popup with a red, destructive button: cancelling keeps everything.
    sim.confirm_popup(ok=False, destructive="Borrar todo")
    expect(app.locator("#deleted")).to_have_count(0)
    app.locator("#delete-data").click()
    sim.confirm_popup(ok=True, destructive="Borrar todo")
    expect(app.locator("#deleted")).to_be_visible()
    sim.shoot_app("deleted")
