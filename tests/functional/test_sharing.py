"""Sharing beyond the bot's chat, through the real webhook, API and the spec-checked fake Bot API: inline mode
(`@bot` in any chat), prepared messages for `WebApp.shareMessage`, and story card images for
`WebApp.shareToStory`. Every card carries only the asking person's own link."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from murmur import cards
from murmur.stories import MAX_STORY_BYTES, STORIES_PER_HOUR, STORY_HEIGHT, STORY_WIDTH
from sandbox.fake_bot_api import QUERY_TOO_OLD, FakeBotApi
from sandbox.fake_bot_api_inline import INLINE_ANSWER_SECONDS
from sandbox.local_stack import LocalStack
from tests.functional.helpers import link_code, person

CODE = re.compile(r"startapp=([A-Za-z0-9]{12})")


def jpeg_shaped(width: int = STORY_WIDTH, height: int = STORY_HEIGHT, padding: int = 2000) -> bytes:
    """The markers a JPEG decoder reads first (SOI, a JFIF APP0, a baseline SOF0 with the size) and EOI: what the
    API checks of an upload. The browser tests upload what a real canvas drew."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = (
        b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x03" + b"\x01\x22\x00" * 3
    )
    return b"\xff\xd8" + app0 + sof0 + b"\x00" * padding + b"\xff\xd9"


def story_body(image: bytes) -> dict[str, str]:
    return {"image": base64.b64encode(image).decode()}


def links_in(value: Any) -> set[str]:
    """Every link code named anywhere in a JSON value (buttons, texts)."""
    return set(CODE.findall(str(value)))


# ------------------------------------------------------------------ inline mode


def test_inline_query_offers_the_owners_own_cards_each_with_their_own_deep_link(stack: LocalStack) -> None:
    # Given an owner with a link
    owner = person("Olga", "ru")
    code = link_code(stack, owner)

    # When she types "@murmur_sandbox_bot" in a group chat
    answer = stack.inline_query(owner, "", chat_type="group")

    # Then the bot answered once, personally and briefly cached, and the fake's spec checks accepted it
    assert answer is not None
    [call] = stack.bot_api.calls("answerInlineQuery")
    assert call.ok, call.response
    assert answer["is_personal"] is True and 0 < answer["cache_time"] <= 60
    results = answer["results"]

    # And it offers her plain link and every card, in her language, each with a URL button to her own deep link
    assert [r["id"] for r in results] == ["link", *[c.id for c in cards.CARDS]]
    by_id = {r["id"]: r for r in results}
    rate = by_id["rate"]
    assert cards.prompt("rate", "ru") in rate["title"]
    assert cards.prompt("rate", "ru") in rate["input_message_content"]["message_text"]
    [[button]] = rate["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/murmur_sandbox_bot?startapp={code}-rate"
    assert by_id["link"]["reply_markup"]["inline_keyboard"][0][0]["url"].endswith(f"startapp={code}")
    for result in results:
        [[card_button]] = result["reply_markup"]["inline_keyboard"]
        assert "web_app" not in card_button  # web_app buttons work only in the bot's own chat
        assert card_button["text"] == "Написать анонимно"
    assert links_in(results) == {code}


def test_the_words_typed_choose_the_cards(stack: LocalStack) -> None:
    owner = person("Ann", "en")
    link_code(stack, owner)

    answer = stack.inline_query(owner, "rate me")

    assert answer is not None
    assert [r["id"] for r in answer["results"]] == ["rate"]


def test_nobody_elses_link_is_offered_whatever_is_typed(stack: LocalStack) -> None:
    # Given two owners with links
    owner, other = person("Ivy"), person("Max")
    mine, theirs = link_code(stack, owner), link_code(stack, other)

    # When Ivy types Max's link code, or his whole link, after the bot's name
    for typed in (theirs, f"https://t.me/murmur_sandbox_bot?startapp={theirs}", ""):
        answer = stack.inline_query(owner, typed)

        # Then only her own link appears, anywhere in the answer
        assert answer is not None
        assert links_in(answer) <= {mine}
        assert theirs not in str(answer)


def test_someone_without_an_account_gets_a_button_to_the_bot_and_no_link(stack: LocalStack) -> None:
    # Given a person the service has never seen
    stranger = person("Noa", "es")

    # When they type the bot's name in a chat
    answer = stack.inline_query(stranger, "")

    # Then no card and no link, but a button that starts the bot, in their language
    assert answer is not None
    assert answer["results"] == []
    assert answer["button"] == {"text": "Consigue tu enlace anónimo", "start_parameter": "inline"}

    # When they press it, Then the bot's /start welcomes them with a link, and the next query offers their cards
    assert stack.send_text(stranger, "/start inline").status == 200
    [welcome] = stack.bot_api.succeeded("sendMessage", chat_id=stranger["id"])
    code = CODE.search(welcome.params["text"])
    assert code is not None
    again = stack.inline_query(stranger, "")
    assert again is not None and again["results"] and links_in(again["results"]) == {code.group(1)}


def test_an_inline_query_reads_one_row_and_writes_nothing(stack: LocalStack) -> None:
    """One query per pause in typing: answering reads the person's row and writes nothing (not even the update's
    de-duplication claim: a repeated answer is refused by Telegram, so it buys nothing)."""
    owner = person("Wes")
    link_code(stack, owner)
    before = stack.aws.operations()

    answer = stack.inline_query(owner, "secret")

    assert answer is not None and [r["id"] for r in answer["results"]] == ["secret"]
    spent = stack.aws.operations() - before
    assert dict(spent) == {("WebhookFunction", "GetItem"): 2}  # the person's row, then their link (own question)


def test_the_owners_own_question_is_offered_inline_and_as_a_prepared_message(stack: LocalStack) -> None:
    # Given an owner who wrote her own question
    owner = person("Zoe")
    code = link_code(stack, owner)
    assert stack.api("PUT", "/api/me/question", user=owner, json={"text": "Pizza or sushi?"}).status == 200

    # When she types the bot's name, Then her question comes right after her plain link, with its own deep link
    answer = stack.inline_query(owner, "")
    assert answer is not None
    own = answer["results"][1]
    assert own["id"] == cards.OWN and "Pizza or sushi?" in own["input_message_content"]["message_text"]
    assert own["reply_markup"]["inline_keyboard"][0][0]["url"].endswith(f"startapp={code}-{cards.OWN}")

    # And the Mini App can prepare it; once she removes it, there is nothing to prepare
    assert stack.api("POST", "/api/share/prepared", user=owner, json={"card": cards.OWN}).status == 200
    assert stack.api("DELETE", "/api/me/question", user=owner).status == 200
    gone = stack.api("POST", "/api/share/prepared", user=owner, json={"card": cards.OWN})
    assert (gone.status, gone.json()["error"]["code"]) == (404, "card_not_found")


# ------------------------------------------------------------------ prepared messages (WebApp.shareMessage)


def test_a_prepared_message_is_saved_for_the_owner_with_a_url_button_to_the_cards_link(stack: LocalStack) -> None:
    # Given an owner with a link
    owner = person("Lea", "es")
    code = link_code(stack, owner)

    # When the Mini App prepares her "compliment" card
    prepared = stack.api("POST", "/api/share/prepared", user=owner, json={"card": "compliment"})

    # Then Telegram keeps a prepared message for her (and only her), and the app gets its id
    assert prepared.status == 200, prepared.body
    body = prepared.json()
    assert set(body) == {"id", "expiration_date"}
    [call] = stack.bot_api.calls("savePreparedInlineMessage")
    assert call.ok, call.response
    saved = stack.bot_api.prepared_message(body["id"])
    assert saved["user_id"] == owner["id"]
    assert saved["expiration_date"] == body["expiration_date"]
    # to people, groups and channels; not to bots
    assert saved["chat_types"] == ["users", "groups", "channels"]

    # And it is her card, in her language, with a URL button to the card's deep link (never a web_app button)
    result = saved["result"]
    assert result["type"] == "article"
    assert cards.prompt("compliment", "es") in result["input_message_content"]["message_text"]
    assert result["reply_markup"] == {
        "inline_keyboard": [
            [
                {
                    "text": "Escribir anónimamente",
                    "url": f"https://t.me/murmur_sandbox_bot?startapp={code}-compliment",
                }
            ]
        ]
    }


def test_the_prepared_message_is_the_same_card_inline_mode_offers(stack: LocalStack) -> None:
    """Two builders of one article (the API's plain JSON, the webhook's PTB types) must not drift apart."""
    owner = person("Ada")
    link_code(stack, owner)
    prepared = stack.api("POST", "/api/share/prepared", user=owner, json={"card": "link"}).json()
    answer = stack.inline_query(owner, "")
    assert answer is not None
    offered = next(r for r in answer["results"] if r["id"] == "link")
    assert stack.bot_api.prepared_message(prepared["id"])["result"] == offered


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"card": "no_such_card"}, 404, "card_not_found"),
        ({"card": "Rate-Me!"}, 422, "validation_error"),
        ({"card": "rate", "url": "https://evil.example"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_prepared(
    stack: LocalStack, body: dict[str, Any], status: int, code: str
) -> None:
    owner = person("Bo")
    link_code(stack, owner)
    refused = stack.api("POST", "/api/share/prepared", user=owner, json=body)
    assert (refused.status, refused.json()["error"]["code"]) == (status, code)
    assert stack.bot_api.calls("savePreparedInlineMessage") == []


def test_without_initdata_or_an_account_nothing_is_prepared(stack: LocalStack) -> None:
    assert stack.api("POST", "/api/share/prepared", json={"card": "rate"}).status == 401
    never_seen = stack.api("POST", "/api/share/prepared", user=person("Cy"), json={"card": "rate"})
    assert never_seen.status == 404
    assert stack.bot_api.calls("savePreparedInlineMessage") == []


# ------------------------------------------------------------------ story card images (WebApp.shareToStory)


def story_path(url: str) -> str:
    match = re.fullmatch(r"http://127\.0\.0\.1:8080(/api/stories/[A-Za-z0-9_-]{32}\.jpg)", url)
    assert match, url
    return match.group(1)


def test_a_story_image_is_served_from_the_products_origin_for_an_hour(stack: LocalStack) -> None:
    # Given an owner's card as the Mini App drew it
    owner = person("Kim")
    image = jpeg_shaped()

    # When the app uploads it
    kept = stack.api("POST", "/api/stories", user=owner, json=story_body(image))

    # Then it gets a URL on the Mini App's own origin (shareToStory takes a public URL), valid for an hour
    assert kept.status == 201, kept.body
    path = story_path(kept.json()["url"])
    assert kept.json()["expires_at"] == pytest.approx(stack.now() + 3600, abs=5)

    # And anyone with the URL (Telegram's client, without initData) gets exactly the image
    got = stack.api("GET", path)
    assert got.status == 200
    assert got.header("Content-Type") == "image/jpeg"
    assert got.header("X-Content-Type-Options") == "nosniff"
    assert got.body == image

    # And an hour later it is gone, with the same 404 as a URL that never existed
    stack.advance_clock(3601)
    gone = stack.api("GET", path)
    never = stack.api("GET", "/api/stories/" + "A" * 32 + ".jpg")
    assert (gone.status, gone.json()) == (never.status, never.json()) == (404, never.json())


@pytest.mark.parametrize(
    ("image", "status", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 400, "invalid_input"),
        (jpeg_shaped(1920, 1080), 400, "invalid_input"),
        (jpeg_shaped(540, 960), 400, "invalid_input"),
        (b"\xff\xd8" + b"\x00" * 50, 400, "invalid_input"),
        (jpeg_shaped(padding=MAX_STORY_BYTES), 422, "validation_error"),  # its base64 over the schema's limit
    ],
    ids=["png", "landscape", "half-size", "truncated", "too-big"],
)
def test_anything_but_a_story_sized_jpeg_is_refused_and_nothing_kept(
    stack: LocalStack, image: bytes, status: int, code: str
) -> None:
    owner = person("Rae")
    before = stack.aws.operations()
    refused = stack.api("POST", "/api/stories", user=owner, json=story_body(image))
    assert (refused.status, refused.json()["error"]["code"]) == (status, code), refused.body
    assert not [op for (_, op) in stack.aws.operations() - before if op in ("PutItem", "UpdateItem")]


def test_story_uploads_need_initdata_and_base64_and_stay_small(stack: LocalStack) -> None:
    assert stack.api("POST", "/api/stories", json=story_body(jpeg_shaped())).status == 401
    owner = person("Sol")
    assert stack.api("POST", "/api/stories", user=owner, json={"image": "not base64!"}).status == 422
    huge = stack.api("POST", "/api/stories", user=owner, json={"image": "A" * (MAX_STORY_BYTES * 2)})
    assert huge.status == 413
    # The story route's larger limit is its own: every other route keeps the small one.
    assert stack.api("PATCH", "/api/me", user=owner, json={"pad": "x" * 20_000}).status == 413


def test_an_owner_posts_at_most_so_many_story_images_an_hour(stack: LocalStack) -> None:
    owner = person("Uma")
    body = story_body(jpeg_shaped(padding=10))
    for _ in range(STORIES_PER_HOUR):
        assert stack.api("POST", "/api/stories", user=owner, json=body).status == 201
    limited = stack.api("POST", "/api/stories", user=owner, json=body)
    assert limited.status == 429 and int(limited.header("Retry-After") or 0) > 0
    # Someone else is not limited by her uploads
    assert stack.api("POST", "/api/stories", user=person("Vic"), json=body).status == 201


# ------------------------------------------------------------------ the fake's inline mode, as Telegram checks it


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def fake(ticker: Ticker) -> Iterator[FakeBotApi]:
    with FakeBotApi(monotonic=ticker) as api:
        yield api


def bot_call(fake: FakeBotApi, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{fake.base_url}{fake.token}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def article(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "article",
        "id": "rate",
        "title": "Rate me",
        "input_message_content": {"message_text": "Rate me 1-10"},
        "reply_markup": {"inline_keyboard": [[{"text": "Write", "url": "https://t.me/b?startapp=abc"}]]},
        **overrides,
    }


UNTITLED = {k: v for k, v in article().items() if k != "title"}
GIF = {"type": "gif", "id": "g", "gif_url": "https://a.example/g.gif", "thumbnail_url": "https://a.example/g.jpg"}
FTP_BUTTON = {"inline_keyboard": [[{"text": "Open", "url": "ftp://x"}]]}


def refusal(status_and_body: tuple[int, dict[str, Any]]) -> str:
    status, body = status_and_body
    assert status == 400 and body["ok"] is False, body
    return str(body["description"])


def test_an_inline_query_is_answered_once_and_in_time(fake: FakeBotApi, ticker: Ticker) -> None:
    fake.inline_query_sent("q1")
    assert bot_call(fake, "answerInlineQuery", {"inline_query_id": "q1", "results": [article()]})[0] == 200
    assert fake.inline_answer("q1") == {"inline_query_id": "q1", "results": [article()]}
    # A second answer, an unknown query, and a late one are all "too old", as Telegram says it
    again = bot_call(fake, "answerInlineQuery", {"inline_query_id": "q1", "results": []})
    assert refusal(again) == f"Bad Request: {QUERY_TOO_OLD}"
    assert refusal(bot_call(fake, "answerInlineQuery", {"inline_query_id": "nope", "results": []})).endswith(
        QUERY_TOO_OLD
    )
    fake.inline_query_sent("q2")
    ticker.now += INLINE_ANSWER_SECONDS + 1
    assert refusal(bot_call(fake, "answerInlineQuery", {"inline_query_id": "q2", "results": []})).endswith(
        QUERY_TOO_OLD
    )


@pytest.mark.parametrize(
    ("results", "description"),
    [
        ([article()] * 2, "RESULT_ID_DUPLICATE"),
        ([article(id=f"r{i}") for i in range(51)], "too many inline query results specified"),
        ([article(id="")], "RESULT_ID_INVALID"),
        ([article(id="x" * 65)], "RESULT_ID_INVALID"),
        ([UNTITLED], 'can\'t parse inline query result: Can\'t find field "title"'),
        ([article(input_message_content={"message_text": "  "})], "MESSAGE_EMPTY"),
        ([article(input_message_content={"message_text": "x" * 4097})], "MESSAGE_TOO_LONG"),
        (
            [article(reply_markup={"inline_keyboard": [[{"text": "Open", "web_app": {"url": "https://a.example"}}]]})],
            "BUTTON_TYPE_INVALID",
        ),
        ([article(reply_markup=FTP_BUTTON)], "Unsupported URL protocol"),
        ([{"type": "photo", "id": "p", "photo_url": "https://a.example/p.jpg"}], 'Can\'t find field "thumbnail_url"'),
        ({"not": "an array"}, "expected an Array of inline query results"),
    ],
    ids=[
        "duplicate-ids", "51-results", "empty-id", "long-id", "no-title", "blank-text", "long-text",
        "web-app-button", "ftp-button", "photo-without-thumbnail", "not-an-array",
    ],
)  # fmt: skip
def test_answers_are_checked_as_the_bot_api_checks_them(fake: FakeBotApi, results: Any, description: str) -> None:
    fake.inline_query_sent("q")
    refused = bot_call(fake, "answerInlineQuery", {"inline_query_id": "q", "results": results})
    assert description in refusal(refused)
    assert fake.inline_answer("q") is None


def test_the_button_above_the_results_needs_exactly_one_target(fake: FakeBotApi) -> None:
    for button, description in [
        ({"text": "Start"}, "must have exactly one optional field"),
        ({"text": "Start", "start_parameter": "has space"}, "START_PARAM_INVALID"),
        ({"text": "Open", "web_app": {"url": "http://example.com"}}, "Only HTTPS links are allowed"),
    ]:
        fake.inline_query_sent("q")
        refused = bot_call(fake, "answerInlineQuery", {"inline_query_id": "q", "results": [], "button": button})
        assert description in refusal(refused)
    fake.inline_query_sent("q")
    ok = {"inline_query_id": "q", "results": [], "button": {"text": "Start", "start_parameter": "inline"}}
    assert bot_call(fake, "answerInlineQuery", ok)[0] == 200


def test_a_prepared_message_names_its_user_a_result_and_where_it_may_go(fake: FakeBotApi) -> None:
    saved = bot_call(fake, "savePreparedInlineMessage", {"user_id": 42, "result": article(), "allow_group_chats": True})
    assert saved[0] == 200
    prepared = saved[1]["result"]
    assert set(prepared) == {"id", "expiration_date"}  # PreparedInlineMessage
    assert fake.prepared_message(prepared["id"])["chat_types"] == ["groups"]
    for params, description in [
        ({"user_id": 42, "result": article()}, "at least one of allow_user_chats"),
        ({"result": article(), "allow_user_chats": True}, 'parameter "user_id" is required'),
        ({"user_id": 42, "allow_user_chats": True}, 'parameter "result" is required'),
        ({"user_id": 42, "result": GIF, "allow_user_chats": True}, "not emulated"),
        ({"user_id": 42, "result": [article()], "allow_user_chats": True}, "must be an Object"),
    ]:
        assert description in refusal(bot_call(fake, "savePreparedInlineMessage", params))
