"""Question cards (issue 14): ready prompts in the owner's language, each with its own deep link; the send page
shows the question; a message keeps the card it answers (or the owner's own question as it read then); the owner's
inbox shows it. All through the strict stack: the API as the Mini App calls it, IAM from the template."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from murmur import cards
from sandbox.local_stack import LocalStack
from tests.functional.helpers import link_code, person, read

API = "MiniAppApiFunction"


def api_calls(stack: LocalStack) -> dict[str, int]:
    return {op: count for (function, op), count in stack.aws.operations().items() if function == API}


def calls_since(stack: LocalStack, before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in api_calls(stack).items() if n != before.get(op, 0)}


def inbox(stack: LocalStack, owner: dict[str, Any]) -> list[dict[str, Any]]:
    got = stack.api("GET", "/api/inbox", user=owner)
    assert got.status == 200, got.body
    return list(got.json()["messages"])


def post(stack: LocalStack, code: str, sender: dict[str, Any], text: str, card: str | None) -> Any:
    body: dict[str, Any] = {"text": text} if card is None else {"text": text, "card": card}
    return stack.api("POST", f"/api/links/{code}/messages", user=sender, json=body)


def test_every_card_is_in_the_owners_language_with_its_own_deep_link(stack: LocalStack) -> None:
    bot = stack.env["MURMUR_BOT_USERNAME"]
    said: dict[str, list[str]] = {}
    for lang in ("en", "ru", "es"):
        owner = person("Owner", lang=lang)
        code = link_code(stack, owner)
        got = stack.api("GET", "/api/cards", user=owner)
        assert got.status == 200, got.body
        listed = got.json()["cards"]
        assert len(listed) >= 10 and got.json()["own_question"] is None
        assert [c["id"] for c in listed] == [c.id for c in cards.CARDS]
        for card in listed:
            # t.me/<bot>?startapp=<12-character link code>-<card id>: start_param's alphabet, the code first
            assert card["url"] == f"https://t.me/{bot}?startapp={code}-{card['id']}"
            shared = parse_qs(urlsplit(card["share_url"]).query)
            assert shared == {"url": [card["url"]], "text": [card["text"]]}
        said[lang] = [c["text"] for c in listed]
    assert said["en"][1] == "Rate me 1–10 and tell me why"
    assert said["ru"][1] == "Оцени меня от 1 до 10 и объясни почему"
    assert said["es"][1] == "Puntúame del 1 al 10 y dime por qué"
    assert len({*said["en"], *said["ru"], *said["es"]}) == 3 * len(cards.CARDS)


def test_a_card_link_shows_its_question_to_the_sender_and_the_owner_sees_what_it_answers(stack: LocalStack) -> None:
    # Given an owner who reads English and a sender whose Telegram is in Spanish, on the owner's "rate" card link
    owner, sender = person("Olivia"), person("Sergio", lang="es")
    code = link_code(stack, owner)
    page = stack.api("GET", f"/api/links/{code}?card=rate", user=sender)
    assert page.status == 200, page.body
    assert page.json()["card"] == {"id": "rate", "emoji": "🔟", "text": "Puntúame del 1 al 10 y dime por qué"}
    assert stack.api("GET", f"/api/links/{code}", user=sender).json()["card"] is None

    # When the sender answers it, and someone else writes without a card
    answered = post(stack, code, sender, "Un 9, por tu risa", "rate")
    plain = post(stack, code, person("Pablo"), "just saying hi", None)
    assert answered.status == 201 and plain.status == 201, (answered.body, plain.body)

    # Then the inbox and the message say which question each answers, in the owner's language
    listed = {m["id"]: m for m in inbox(stack, owner)}
    first = listed[answered.json()["message_id"]]
    assert (first["card"], first["question"]) == ("rate", "Rate me 1–10 and tell me why")
    second = listed[plain.json()["message_id"]]
    assert (second["card"], second["question"]) == (None, None)
    opened = read(stack, owner, answered.json()["message_id"])
    assert opened["question"] == "Rate me 1–10 and tell me why"


def test_a_send_with_a_card_costs_no_more_dynamodb_calls_than_without(stack: LocalStack) -> None:
    owner = person("Owner")
    code = link_code(stack, owner)
    assert stack.api("PUT", "/api/me/question", user=owner, json={"text": "Best pizza in town?"}).status == 200
    post(stack, code, person("Warm"), "warm the container up", None)
    costs = []
    for card in (None, "secret", cards.OWN):
        before = api_calls(stack)
        sent = post(stack, code, person("Sender"), f"a message with card {card}", card)
        assert sent.status == 201, sent.body
        costs.append(calls_since(stack, before))
    assert costs[0] == costs[1] == costs[2], costs
    assert costs[0] == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1, "UpdateItem": 1}


def test_the_owners_own_question_is_cleaned_bounded_and_kept_as_it_read_when_answered(stack: LocalStack) -> None:
    owner, sender = person("Owner"), person("Sender")
    code = link_code(stack, owner)

    # Bad questions are refused, and nothing is written
    for bad in ("", "   ", "\u200b\u200b", "x" * (cards.QUESTION_MAX_CHARS + 1), "bell\x07"):
        refused = stack.api("PUT", "/api/me/question", user=owner, json={"text": bad})
        assert refused.status in (400, 422), (bad, refused.body)
    assert stack.api("GET", "/api/cards", user=owner).json()["own_question"] is None

    # A question is stored as a message's text would be: bidi controls dropped, on one line
    set_ = stack.api("PUT", "/api/me/question", user=owner, json={"text": "  What\u202e do you\n think   of my cat? "})
    assert set_.status == 200, set_.body
    assert set_.json()["own_question"] == "What do you think of my cat?"
    own = set_.json()["cards"][-1]
    assert own["id"] == "own" and own["text"] == "What do you think of my cat?"
    assert own["url"].endswith(f"?startapp={code}-own")
    assert stack.api("GET", f"/api/links/{code}?card=own", user=sender).json()["card"]["text"] == (
        "What do you think of my cat?"
    )

    # A message answering it keeps the question as it read then, whatever the owner asks later
    first = post(stack, code, sender, "Your cat is the best", cards.OWN)
    assert first.status == 201, first.body
    assert stack.api("PUT", "/api/me/question", user=owner, json={"text": "And my dog?"}).status == 200
    assert read(stack, owner, first.json()["message_id"])["question"] == "What do you think of my cat?"

    # Cleared: the own card is gone from the list, its link shows no card, and a send naming it writes nothing
    cleared = stack.api("DELETE", "/api/me/question", user=owner)
    assert cleared.status == 200 and cleared.json()["own_question"] is None
    assert "own" not in [c["id"] for c in cleared.json()["cards"]]
    gone = stack.api("GET", f"/api/links/{code}?card=own", user=sender)
    assert gone.status == 404 and gone.json()["error"]["code"] == "card_not_found"
    before = len(inbox(stack, owner))
    refused = post(stack, code, sender, "too late for the dog", cards.OWN)
    assert refused.status == 404 and refused.json()["error"]["code"] == "card_not_found"
    assert len(inbox(stack, owner)) == before


def test_an_unknown_or_malformed_card_is_refused_and_nothing_is_written(stack: LocalStack) -> None:
    owner, sender = person("Owner"), person("Sender")
    code = link_code(stack, owner)
    assert stack.api("GET", f"/api/links/{code}?card=no_such_card", user=sender).status == 404
    assert stack.api("GET", f"/api/links/{code}?card=Bad-Card", user=sender).status == 422
    before = api_calls(stack)
    unknown = post(stack, code, sender, "hello", "no_such_card")
    assert unknown.status == 404 and unknown.json()["error"]["code"] == "card_not_found"
    malformed = post(stack, code, sender, "hello", "DROP TABLE")
    assert malformed.status == 422, malformed.body
    assert "TransactWriteItems" not in calls_since(stack, before)
    assert inbox(stack, owner) == []
