"""No dead ends (issue 16), as a person meets them in the simulator: a session gone stale, a link that does not
exist or is pasted whole, and an upgrade page that offers only what can still be bought."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALICE, BOB, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e


def test_a_stale_session_says_so_and_reopening_gets_going_again(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    app = sim.as_user(BOB).open_app()
    expect(app.locator("#app")).to_have_attribute("data-route", "inbox")

    # The Mini App stays open for over a day: Telegram's signature on its initData is too old now.
    sim.advance_days(2)
    app.locator("#nav-settings").click()
    expired = app.locator("#session-expired")
    expect(expired).to_contain_text("Your session has expired")
    expect(app.locator("#session-expired .btn")).to_have_count(1)  # one way on, not "Try again"
    sim.shoot_app("session-expired")
    app.locator("#reopen").click()
    expect(page.locator("#phone-empty")).to_be_visible()  # the Mini App closed, as Telegram closes it

    app = sim.open_app()  # opened again: fresh initData
    expect(app.locator("#app")).to_have_attribute("data-route", "inbox")
    expect(app.locator("#inbox-counts")).to_be_visible()


def test_unknown_and_pasted_links(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)

    app = sim.as_user(BOB).open_app(start_param="nosuchlink00")
    expect(app.locator(".state-empty h2")).to_have_text("This link does not exist.")
    expect(app.locator("#own-link")).to_be_visible()

    app = sim.open_app(start_param=f"https://t.me/murmur_sandbox_bot?startapp={code}")
    expect(app.locator("#send-title")).to_have_text("Write to Alice")


def test_the_upgrade_page_offers_only_what_can_be_bought(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    app = sim.as_user(BOB).open_app()
    app.locator("#nav-plans").click()
    expect(app.locator("#plan-free")).to_have_class("card plan-card plan-free is-current")
    expect(app.locator("#plan-plus li")).to_have_count(3)
    expect(app.locator("#plan-pro")).to_contain_text("Cancel any time")

    # On Plus: buying Plus again adds a week; Pro says, before paying, what happens to the Plus days.
    app.locator("#buy-plus").click()
    sim.pay(15)
    expect(app.locator("#plan-plus")).to_have_class("card plan-card plan-plus is-current")
    expect(app.locator("#buy-plus")).to_contain_text("Add 7 days")
    expect(app.locator("#plan-pro .plan-note")).to_contain_text("Pro starts now and covers those days too")
    sim.shoot_app("plans-on-plus")

    # On Pro: Plus is included, so it is not for sale; Pro can be cancelled, and says until when it lasts.
    app.locator("#buy-pro").click()
    catalog = dev_server.api_as(BOB, "GET", "/api/catalog")["products"]
    sim.pay(next(p["stars"] for p in catalog if p["id"] == "pro_month"))
    expect(app.locator("#plan-pro")).to_have_class("card plan-card plan-pro is-current")
    expect(app.locator("#buy-plus")).to_have_count(0)
    expect(app.locator("#buy-pro")).to_have_count(0)
    expect(app.locator("#plan-plus .plan-note")).to_have_text("Included in your Pro")
    expect(app.locator("#cancel-pro")).to_be_visible()
    sim.shoot_app("plans-on-pro")
