"""Sharing beyond the bot's chat, through the simulator and the real telegram-web-app.js: a question card posted
to a story (the simulator's composer shows the image the API serves and the link widget), a card sent to any chat
as a prepared message, inline mode in the chat, and a message answered in a story without a word about its
sender."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ALICE, BOB, DMITRI, DevServer
from tests.e2e.simulator import Simulator

pytestmark = pytest.mark.e2e

BOT = "murmur_sandbox_bot"


def report_card(what: str, preview: Locator) -> None:
    """What drawing the card cost in this browser (docs/decisions/0013-story-cards.md quotes it)."""
    size, millis = preview.get_attribute("data-bytes"), preview.get_attribute("data-millis")
    print(f"{what}: {size} bytes, drawn and encoded in {millis} ms")


def open_inbox(sim: Simulator, user_id: int) -> object:
    app = sim.as_user(user_id).open_app()
    expect(app.locator("#card-picker .card-option").first).to_be_visible()
    return app


def test_a_premium_owner_posts_a_question_card_to_a_story_with_her_link_as_the_widget(
    page: Page, dev_server: DevServer
) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(DMITRI)

    # Dmitri (Premium, Russian) picks the "rate me" card and posts it to his story
    app = open_inbox(sim, DMITRI)
    app.locator(".card-option[data-card=rate]").click()
    app.locator("#story-share").click()

    # Telegram's composer shows the card the Mini App drew, downloaded from the product's own origin
    story = page.locator("#story-sheet")
    expect(story).to_be_visible()
    image = page.locator("#story-image")
    expect(image).to_have_attribute("data-loaded", "true")  # a 1080x1920 image, fetched from its URL
    src = image.get_attribute("src") or ""
    assert re.fullmatch(rf"{re.escape(dev_server.url)}api/stories/[A-Za-z0-9_-]{{32}}\.jpg", src), src

    # With his card's own link as the story's link widget (a Premium feature), named in his language
    widget = page.locator("#story-widget")
    expect(widget).to_be_visible()
    expect(widget).to_have_attribute("data-url", f"https://t.me/{BOT}?startapp={code}-rate")
    expect(widget).to_contain_text("Написать анонимно")
    expect(page.locator("#story-text")).to_contain_text("Оцени меня")
    expect(page.locator("#story-note")).to_have_text("")

    # The card drawn holds the question, the theme's colours and the bot's name
    preview = app.locator("#story-preview")
    alt = preview.get_attribute("alt") or ""
    assert "Оцени меня от 1 до 10" in alt and f"@{BOT}" in alt
    report_card("question card", preview)
    sim.shoot_app("story-composer")

    page.click("#story-post")
    expect(story).to_be_hidden()
    expect(page.locator("#tg-sheet")).to_have_attribute("data-kind", "story")
    expect(page.locator("#tg-sheet")).to_contain_text(f"startapp={code}-rate")


def test_without_premium_the_link_goes_in_the_storys_text(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)
    app = open_inbox(sim, ALICE)
    app.locator(".card-option[data-card=compliment]").click()
    app.locator("#story-share").click()

    expect(page.locator("#story-image")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#story-widget")).to_be_hidden()
    text = page.locator("#story-text")
    expect(text).to_contain_text("Give me an anonymous compliment")
    expect(text).to_contain_text(f"https://t.me/{BOT}?startapp={code}-compliment")
    assert len(text.inner_text()) <= 200  # a story caption without Premium
    page.click("#story-cancel")
    expect(page.locator("#story-sheet")).to_be_hidden()


def test_a_card_is_sent_to_any_chat_as_a_prepared_message_with_a_button_to_the_link(
    page: Page, dev_server: DevServer
) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)
    app = open_inbox(sim, ALICE)
    app.locator(".card-option[data-card=secret]").click()

    # Send to a chat: Telegram's sheet shows the bot's prepared message and the chats it may go to
    app.locator("#chat-share").click()
    sheet = page.locator("#share-sheet")
    expect(sheet).to_be_visible()
    expect(page.locator("#share-preview")).to_contain_text("Tell me a secret")
    button = page.locator("#share-preview .inline-button")
    expect(button).to_have_text("Write anonymously ↗")
    expect(button).to_have_attribute("data-url", f"https://t.me/{BOT}?startapp={code}-secret")
    expect(page.locator("#share-chats input")).to_have_count(3)  # people, groups, channels
    page.locator("#share-chats label", has_text="Friends (group)").click()
    sim.shoot_app("share-prepared")
    page.click("#share-send")

    # The Mini App hears prepared_message_sent, as from Telegram
    expect(sheet).to_be_hidden()
    expect(app.locator("#toast")).to_have_text("Sent")
    expect(page.locator("#tg-sheet")).to_contain_text("Sent to Friends (group)")

    # Closing the sheet instead is prepared_message_failed (USER_DECLINED)
    app.locator("#chat-share").click()
    expect(sheet).to_be_visible()
    page.click("#share-cancel")
    expect(app.locator("#toast")).to_have_text("Not sent")


def test_inline_mode_in_a_chat_and_from_the_mini_app(page: Page, dev_server: DevServer) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)
    sim.as_user(ALICE)

    # Typing "@murmur_sandbox_bot rate" in the chat: the inline_query goes through the webhook
    page.fill("#chat-input", f"@{BOT} rate")
    page.locator("#chat-input").dispatch_event("input")
    results = page.locator("#inline-results .inline-result")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-id", "rate")
    expect(results.first).to_contain_text("Rate me 1–10")

    # An empty query offers her link and every card; choosing one sends it via the bot with her link
    page.fill("#chat-input", f"@{BOT} ")
    page.locator("#chat-input").dispatch_event("input")
    expect(results.first).to_have_attribute("data-id", "link")
    expect(page.locator("#inline-pane")).to_have_attribute("data-state", "answered")
    assert results.count() > 10
    results.first.click()
    expect(page.locator("#tg-sheet")).to_have_attribute("data-kind", "inline")
    expect(page.locator("#tg-sheet")).to_contain_text(f"startapp={code}")

    # From the Mini App: "Type it in a chat" puts @bot and the card in the chat and asks the bot
    app = open_inbox(sim, ALICE)
    app.locator(".card-option[data-card=song]").click()
    app.locator("#inline-share").click()
    expect(page.locator("#chat-input")).to_have_value(f"@{BOT} song ")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-id", "song")

    # The picture of it all: the Mini App's ways to share, and the bot's inline answer in the chat
    app.locator("#share-more").scroll_into_view_if_needed()
    page.fill("#chat-input", f"@{BOT} ")
    page.locator("#chat-input").dispatch_event("input")
    expect(results.first).to_have_attribute("data-id", "link")
    sim.shoot_page("inline-mode")


def test_an_owner_answers_a_message_in_a_story_without_a_word_about_its_sender(
    page: Page, dev_server: DevServer
) -> None:
    sim = Simulator(page)
    code = dev_server.link_code(ALICE)
    # Bob answers Alice's "three words" card, under a nickname (what the owner's inbox shows), in three words: a
    # message the free preview shows whole
    sent = dev_server.api_as(
        BOB,
        "POST",
        f"/api/links/{code}/messages",
        {"text": "Kind, brave, funny", "show_nickname": True, "card": "three_words"},
    )
    message_id = sent["message_id"]
    shown = dev_server.api_as(ALICE, "GET", f"/api/messages/{message_id}")
    assert shown["nickname"] and not shown["locked"]

    app = sim.as_user(ALICE).open_app()
    app.locator(f".message-card[data-id='{message_id}']").click()
    expect(app.locator("#message-text")).to_have_text("Kind, brave, funny")
    app.locator("#story-answer-button").click()
    app.locator("#story-answer-text").fill("Thank you, I needed that today!")
    app.locator("#story-answer-post").click()

    # The story shows the question, the message and her answer
    expect(page.locator("#story-sheet")).to_be_visible()
    expect(page.locator("#story-image")).to_have_attribute("data-loaded", "true")
    alt = app.locator("#story-preview").get_attribute("alt") or ""
    report_card("answer card", app.locator("#story-preview"))
    assert "Describe me in three words" in alt
    assert "Kind, brave, funny" in alt and "Thank you, I needed that today!" in alt
    # And nothing about who sent it: not the nickname, not Bob's name, not a hint, not the date
    assert shown["nickname"] not in alt and "Bob" not in alt
    assert not re.search(r"\d{1,2}:\d{2}|20\d\d", alt)
    assert json.dumps(shown["hints"]) == "[]"
    expect(page.locator("#story-text")).to_contain_text(f"startapp={code}-three_words")
    sim.shoot_app("story-answer")
    page.click("#story-post")
    expect(page.locator("#story-sheet")).to_be_hidden()
