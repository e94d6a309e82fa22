"""The owner's own limits (ADR 0007) as people meet them in the simulator: the owner turns on slow mode and a
daily cap in settings; a sender reads them on the send page before writing, and a refusal names the owner's
limit, never "too many requests"."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALICE, BOB, CARLA, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e


def _set_limits(sim: Simulator, owner: int, slow_mode: str, daily_cap: str) -> None:
    app = sim.as_user(owner).open_app()
    app.locator("#nav-settings").click()
    app.locator("#daily-cap").fill(daily_cap)
    app.locator("#daily-cap").blur()
    app.locator("#slow-mode").select_option(slow_mode)
    expect(app.locator("#slow-mode")).to_have_value(slow_mode)
    expect(app.locator("#toast")).to_be_visible()


def test_slow_mode_and_daily_cap_are_said_before_and_when_they_refuse(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)
    _set_limits(sim, ALICE, "60", "0")
    try:
        # Bob reads the limit before writing, writes once, and his second message is refused in Alice's terms.
        app = sim.as_user(BOB).open_app(start_param=code)
        expect(app.locator("#inbox-limits")).to_contain_text("Alice's inbox is in slow mode")
        app.locator("#send-text").fill("First message in slow mode, hello")
        sim.press_main_button("Send anonymously")
        expect(app.locator("#sent")).to_be_visible()
        app.locator("#write-another").click()
        app.locator("#send-text").fill("Second message, too soon")
        sim.press_main_button("Send anonymously")
        expect(app.locator("#toast")).to_have_text("Alice's inbox is in slow mode. You can write again in a minute.")
        expect(app.locator("#sent")).to_have_count(0)
        sim.shoot_app("send-slow-mode")

        # A daily cap of one: Carla's messages are taken until today's share is full, then refused as full.
        _set_limits(sim, ALICE, "0", "1")
        app = sim.as_user(CARLA).open_app(start_param=code)
        expect(app.locator("#inbox-limits")).to_be_visible()
        refused = False
        for attempt in range(3):  # Bob's message today may or may not have taken the one share already
            app.locator("#send-text").fill(f"Carla writes, attempt {attempt}")
            sim.press_main_button(r"Enviar de forma anónima")
            toast, sent = app.locator("#toast"), app.locator("#sent")
            expect(app.locator("#sent, #toast:not([hidden])").first).to_be_visible()
            if sent.count():
                app.locator("#write-another").click()
                continue
            expect(toast).to_contain_text("La bandeja de Alice está llena por hoy")
            refused = True
            break
        assert refused, "a daily cap of one never refused a message"
        sim.shoot_app("send-daily-cap")
    finally:
        dev_server.api_as(ALICE, "PATCH", "/api/me", {"slow_mode_seconds": 0, "daily_cap": 0})
