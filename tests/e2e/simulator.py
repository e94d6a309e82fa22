"""Drives the simulator page the way a person would: pick a user, open the Mini App, tap the
MainButton, pay in the Stars sheet, read the chat. Every wait is Playwright's own (no sleeps)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import FloatRect, FrameLocator, Locator, Page, expect

from tests.e2e.conftest import screenshots_dir


class Simulator:
    def __init__(self, page: Page) -> None:
        self.page = page

    # ------------------------------------------------------------------ the Telegram app around the frame

    def as_user(self, user_id: int) -> Simulator:
        self.page.select_option("#user-select", str(user_id))
        expect(self.page.locator("#phone-empty")).to_be_visible()
        return self

    def open_app(self, start_param: str = "") -> FrameLocator:
        self.page.fill("#start-param", start_param)
        self.page.click("#open-app")
        return self.wait_ready()

    def wait_ready(self) -> FrameLocator:
        self.page.wait_for_selector("#miniapp[data-ready=true]")
        frame = self.frame
        expect(frame.locator("#app .state-loading")).to_have_count(0)
        return frame

    @property
    def frame(self) -> FrameLocator:
        return self.page.frame_locator("#miniapp")

    @property
    def main_button(self) -> Locator:
        return self.page.locator("#main-button")

    def press_main_button(self, text: str | re.Pattern[str]) -> None:
        expect(self.main_button).to_have_text(text)
        expect(self.main_button).to_be_enabled()
        self.main_button.click()

    def press_back(self) -> None:
        self.page.click("#back-button")

    def pay(self, stars: int) -> None:
        """Pay the open Stars sheet, after checking the amount it shows, and wait for it to close."""
        sheet = self.page.locator("#sheet")
        expect(sheet).to_be_visible()
        expect(self.page.locator("#sheet-amount")).to_have_text(str(stars))
        self.page.click("#sheet-pay")
        expect(sheet).to_be_hidden()

    def confirm_popup(self, ok: bool = True, destructive: str | None = None) -> None:
        """Answer Telegram's popup: its confirming button (`destructive`: it must be the red one, with this
        text) or Cancel."""
        popup = self.page.locator("#popup")
        expect(popup).to_be_visible()
        if destructive is not None:
            expect(popup.locator("button[data-type=destructive]")).to_have_text(destructive)
            expect(popup.locator("button[data-type=ok]")).to_have_count(0)
        confirm = "destructive" if destructive is not None else "ok"
        popup.locator(f"button[data-type={confirm if ok else 'cancel'}]").click()
        expect(popup).to_be_hidden()

    def set_theme(self, name: str) -> None:
        if self.page.get_attribute("html", "data-theme") != name:
            self.page.click("#theme-toggle")
        expect(self.page.locator("html")).to_have_attribute("data-theme", name)

    def advance_days(self, days: int) -> None:
        before = self.page.text_content("#clock")
        for button, step in (("#advance-7d", 7), ("#advance-1d", 1)):
            while days >= step:
                self.page.click(button)
                days -= step
                expect(self.page.locator("#clock")).not_to_have_text(before or "")
                before = self.page.text_content("#clock")

    def run_cron(self) -> None:
        runs = int(self.page.get_attribute("#run-cron", "data-runs") or 0)
        self.page.click("#run-cron")
        expect(self.page.locator("#run-cron")).to_have_attribute("data-runs", str(runs + 1))

    # ------------------------------------------------------------------ the chat with the bot

    @property
    def bot_bubbles(self) -> Locator:
        return self.page.locator("#chat-log .bubble-in")

    def send_to_bot(self, text: str) -> None:
        self.page.fill("#chat-input", text)
        self.page.press("#chat-input", "Enter")

    # ------------------------------------------------------------------ evidence

    def shoot_app(self, name: str) -> None:
        """The phone (Mini App and its Telegram chrome), named after the simulator's theme."""
        theme = self.page.get_attribute("html", "data-theme") or "light"
        self.page.locator(".phone").screenshot(path=str(screenshots_dir() / f"{name}-{theme}.png"))

    def shoot_page(self, name: str) -> None:
        """The top bar, the phone and the chat (the event log is left out to keep the file small)."""
        theme = self.page.get_attribute("html", "data-theme") or "light"
        self.page.evaluate("window.scrollTo(0, 0)")
        chat = self.page.locator(".chat").bounding_box()
        assert chat is not None
        clip: FloatRect = {
            "x": 0,
            "y": 0,
            "width": chat["x"] + chat["width"] + 16,
            "height": chat["y"] + chat["height"] + 16,
        }
        self.page.screenshot(path=str(screenshots_dir() / f"{name}-{theme}.png"), clip=clip)


def frame_eval(sim: Simulator, script: str) -> Any:
    """Evaluate JavaScript in the Mini App's frame (for computed styles and the like)."""
    handle = sim.page.locator("#miniapp").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame.evaluate(script)
