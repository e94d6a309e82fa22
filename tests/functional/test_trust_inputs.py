"""Issue 12, "Money and trust, second pass": inputs a person controls, through the real handlers on the strict stack.

- initData: a leaked bot token alone cannot sign in as anyone (Telegram's Ed25519 `signature` is required by
  the template's RequireInitDataSignature, on by default, in the sandbox as on AWS);
- text hygiene: a message or reply of invisible characters only is refused like an empty one, and bidirectional
  controls never reach what is stored, previewed or sent by the bot;
- reports: each reporter has a limit (a 429 like every other limit), admins hear of reports in one digest per
  interval with the count, and a message sent to one's own inbox cannot be reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from murmur.config import Limits
from murmur.delivery import REPORT_DIGEST_INTERVAL_SECONDS
from murmur.user_text import BIDI_CONTROLS
from sandbox.initdata_signer import sign_init_data
from sandbox.local_stack import LocalStack
from tests.functional.conftest import ALICE
from tests.functional.helpers import link_code, operator_services, person, send

OTHER_SEED = "0f" * 32  # an Ed25519 key that is not the stack's stand-in for Telegram's
REPORTS_PER_HOUR = Limits().reports_per_hour


def get_me(stack: LocalStack, raw: str) -> Any:
    headers = {"Host": "127.0.0.1", "Authorization": f"tma {raw}"}
    status, _, body = stack.emulator.invoke("GET", "/api/me", headers, b"")
    return status, json.loads(body)


def init_data(stack: LocalStack, user: dict[str, Any], *, seed: str | None) -> str:
    """initData for `user` with a valid hash (the bot token) and, given a seed, an Ed25519 signature."""
    return sign_init_data(
        stack.bot_token,
        {k: v for k, v in user.items() if k != "is_bot"},
        auth_date=int(stack.now()),
        query_id="AAHtrustinputs",
        ed25519_signing_key_hex=seed,
    )


def user_exists(stack: LocalStack, user_id: int) -> bool:
    return operator_services(stack).repos.users.get(user_id, consistent=True) is not None


# ---------------------------------------------------------------------- initData signatures
def test_a_valid_hash_without_telegrams_signature_is_refused_and_with_it_accepted(stack: LocalStack) -> None:
    """Whoever holds the bot token can compute the hash; only Telegram (here: the stack's stand-in) can sign."""
    user = person("Tokenless")
    assert stack.functions["MiniAppApiFunction"].container.environment["MURMUR_REQUIRE_INITDATA_SIGNATURE"] == "true"

    status, body = get_me(stack, init_data(stack, user, seed=None))
    assert status == 401, body
    assert body["error"]["code"] == "unauthorized" and "signature" in body["error"]["message"]
    assert not user_exists(stack, user["id"])

    status, body = get_me(stack, init_data(stack, user, seed=stack.initdata_seed))
    assert status == 200, body
    assert user_exists(stack, user["id"])


@pytest.fixture(scope="module")
def lenient_stack() -> Iterator[LocalStack]:
    """Deployed with RequireInitDataSignature=false: for Telegram apps older than Bot API 8.0 (docs/deploy.md)."""
    with LocalStack(parameter_overrides={"RequireInitDataSignature": "false"}) as stack:
        yield stack


def test_with_the_requirement_off_the_hash_alone_passes_but_a_sent_signature_is_still_checked(
    lenient_stack: LocalStack,
) -> None:
    stack = lenient_stack
    assert stack.functions["MiniAppApiFunction"].container.environment["MURMUR_REQUIRE_INITDATA_SIGNATURE"] == "false"
    old_client = person("OldClient")
    status, body = get_me(stack, init_data(stack, old_client, seed=None))
    assert status == 200, body

    forged = person("Forged")
    status, body = get_me(stack, init_data(stack, forged, seed=OTHER_SEED))
    assert status == 401 and "signature" in body["error"]["message"]
    assert not user_exists(stack, forged["id"])


# ---------------------------------------------------------------------- invisible and bidirectional text
INVISIBLE_ONLY = [
    "\u200b",  # zero width space
    "\u200d\u200c",  # zero width joiner, non-joiner
    "\ufeff",  # BOM
    "\ufe0f\ufe0e",  # variation selectors
    "\u3164",  # Hangul filler
    "\u115f\u1160\uffa0",  # Hangul choseong / jungseong / halfwidth fillers
    "\u2800",  # braille pattern blank
    "\u2060\u00ad\u180e",  # word joiner, soft hyphen, Mongolian vowel separator
    "\U000e0041\U000e007f",  # tag characters
    " \u200b \u3000 \u2028 \u202f ",  # mixed with spaces of every kind
    "\u202e\u2066\u2069\u200f",  # bidirectional controls only
]


def error_of(response: Any) -> tuple[int, str]:
    return response.status, response.json()["error"]["code"]


def test_a_message_of_invisible_characters_only_is_refused_like_an_empty_one(stack: LocalStack) -> None:
    owner, sender = person("Owner"), person("Ghost")
    code = link_code(stack, owner)
    empty = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": ""})
    assert empty.status == 422
    for text in INVISIBLE_ONLY:
        refused = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": text})
        assert error_of(refused) == error_of(empty), (ascii(text), refused.body)
    assert stack.api("GET", "/api/inbox", user=owner).json()["messages"] == []
    # Emoji built with joiners and variation selectors show something: they pass.
    assert stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "❤️ 👨‍👩‍👧"}).status == 201


def test_a_reply_of_invisible_characters_only_is_refused_like_an_empty_one(stack: LocalStack) -> None:
    owner, sender = person("Owner"), person("Asker")
    message_id = send(stack, owner, sender, "a question worth answering")["message_id"]
    path = f"/api/messages/{message_id}/reply"
    empty = stack.api("POST", path, user=owner, json={"text": ""})
    assert empty.status == 422
    for text in INVISIBLE_ONLY:
        assert error_of(stack.api("POST", path, user=owner, json={"text": text})) == error_of(empty), ascii(text)
    assert stack.bot_api.calls("sendMessage", chat_id=sender["id"]) == []


def has_bidi(text: str) -> bool:
    return any(char in BIDI_CONTROLS for char in text)


def test_bidirectional_controls_never_reach_storage_previews_or_the_bots_messages(stack: LocalStack) -> None:
    owner, sender = person("Owner"), person("Spoofer")
    stack.bot_api.register_user(owner["id"], owner["first_name"], language_code="en")
    stack.bot_api.register_user(sender["id"], sender["first_name"], language_code="en")
    spoof = "\u202eexe.txt\u202c please \u2067open\u2069 \u200fthe\u200e \u061cattachment today"
    message_id = send(stack, owner, sender, spoof)["message_id"]

    stored = operator_services(stack).repos.messages.get(owner["id"], message_id, consistent=True)
    assert stored is not None and stored.text == "exe.txt please open the attachment today"
    previews = [m["preview"] for m in stack.api("GET", "/api/inbox", user=owner).json()["messages"]]
    assert previews == ["exe.txt please open…"]

    stack.run_cron()  # the owner's "new message" notice
    reply = stack.api("POST", f"/api/messages/{message_id}/reply", user=owner, json={"text": "\u202edlrow\u202c hi"})
    assert reply.status == 202, reply.body
    to_owner = [m["text"] for m in stack.bot_api.messages_to(owner["id"])]
    to_sender = [m["text"] for m in stack.bot_api.messages_to(sender["id"])]
    assert any("exe.txt please open" in text for text in to_owner), to_owner
    assert any("dlrow hi" in text for text in to_sender), to_sender
    assert not any(has_bidi(text) for text in to_owner + to_sender)


# ---------------------------------------------------------------------- reports
def inbox_with(stack: LocalStack, owner: dict[str, Any], count: int, senders: list[int] | None = None) -> list[str]:
    """`count` messages to `owner`, from as many different senders (their ids appended to `senders`)."""
    ids = []
    for i in range(count):
        sender = person("Sender")
        ids.append(send(stack, owner, sender, f"message number {i} to report")["message_id"])
        if senders is not None:
            senders.append(sender["id"])
    return ids


def report(stack: LocalStack, owner: dict[str, Any], message_id: str, reason: str = "spam") -> Any:
    return stack.api("POST", f"/api/messages/{message_id}/report", user=owner, json={"reason": reason})


def test_twenty_reports_in_a_row_by_one_reporter_pass_only_up_to_the_limit(stack: LocalStack) -> None:
    owner = person("Reporter")
    ids = inbox_with(stack, owner, 20)
    answers = [report(stack, owner, message_id) for message_id in ids]
    accepted = [a for a in answers if a.status == 202]
    limited = [a for a in answers if a.status == 429]
    assert len(accepted) == REPORTS_PER_HOUR and len(limited) == 20 - REPORTS_PER_HOUR, [a.status for a in answers]
    for answer in limited:  # the same shape as every other rate limit
        assert answer.json()["error"]["code"] == "reports_limited"
        assert 0 < int(answer.header("Retry-After") or 0) <= 3600
    # A refused report wrote nothing: the message is not flagged, and once the hour has passed it can be.
    messages = operator_services(stack).repos.messages
    flagged = [m for m in ids if messages.get(owner["id"], m, consistent=True).reported]
    assert flagged == ids[:REPORTS_PER_HOUR]
    stack.advance_clock(3600)
    assert report(stack, owner, ids[REPORTS_PER_HOUR]).status == 202
    # Reporting a message again is no new report: accepted, not counted.
    assert report(stack, owner, ids[0]).status == 202


def test_a_message_sent_to_ones_own_inbox_cannot_be_reported(stack: LocalStack) -> None:
    owner = person("Narcissus")
    message_id = send(stack, owner, owner, "a note to myself")["message_id"]
    refused = report(stack, owner, message_id)
    assert refused.status == 409 and refused.json()["error"]["code"] == "own_message", refused.body
    assert not operator_services(stack).repos.messages.get(owner["id"], message_id, consistent=True).reported


def digests_to_admin(stack: LocalStack) -> list[dict[str, Any]]:
    """The report digests in the admin's chat, as shown now (after edits)."""
    return [m for m in stack.bot_api.messages_to(ALICE) if m.get("text", "").startswith("🚩")]


def callbacks(message: dict[str, Any]) -> list[list[str]]:
    return [[button["callback_data"] for button in row] for row in message["reply_markup"]["inline_keyboard"]]


def test_admins_get_at_most_one_digest_per_interval_with_the_count(stack: LocalStack) -> None:
    # What earlier tests reported is told and decided: this digest starts from nothing.
    stack.advance_clock(REPORT_DIGEST_INTERVAL_SECONDS)
    stack.run_cron()
    repos = operator_services(stack).repos
    for waiting in repos.messages.to_review(1000):
        repos.messages.reviewed(waiting.recipient_id, waiting.message_id)
    stack.advance_clock(REPORT_DIGEST_INTERVAL_SECONDS)  # past that last digest's interval
    before = len(digests_to_admin(stack))

    senders: list[int] = []
    first, second, third = person("First"), person("Second"), person("Third")
    first_ids, second_ids = inbox_with(stack, first, 3, senders), inbox_with(stack, second, 2, senders)
    third_ids = inbox_with(stack, third, 4, senders)
    for owner, ids in ((first, first_ids), (second, second_ids)):
        for message_id in ids:
            assert report(stack, owner, message_id, reason="\u202eabuse").status == 202
    assert len(digests_to_admin(stack)) == before  # nothing on the reporter's request: the cron tells the admins

    stack.run_cron()
    digests = digests_to_admin(stack)[before:]
    assert len(digests) == 1
    text = digests[0]["text"]
    assert "New reports since the last digest: 5." in text and "Waiting for a decision: 5." in text, text
    assert "message number 0 to report" in text and "reason: abuse" in text and not has_bidi(text)
    rows = callbacks(digests[0])
    assert len(rows) == 5 and all(len(row) == 3 for row in rows)

    # Four more within the interval: no second digest, however often the cron runs.
    for message_id in third_ids:
        assert report(stack, third, message_id).status == 202
    stack.run_cron()
    stack.advance_clock(REPORT_DIGEST_INTERVAL_SECONDS // 2)
    stack.run_cron()
    assert len(digests_to_admin(stack)) == before + 1

    # The admin dismisses one report from the digest: only its row goes, and it leaves the review queue.
    dismiss = rows[0][2]
    assert dismiss.startswith("ok:")
    stack.press_button(ALICE, digests[0], dismiss)
    assert callbacks(digests_to_admin(stack)[before]) == rows[1:]

    stack.advance_clock(REPORT_DIGEST_INTERVAL_SECONDS // 2)
    stack.run_cron()
    digests = digests_to_admin(stack)[before:]
    assert len(digests) == 2
    later = digests[1]["text"]
    assert "New reports since the last digest: 4." in later and "Waiting for a decision: 8." in later, later
    assert dismiss not in json.dumps(callbacks(digests[1]))
    # The senders stay hidden from the admins, as numbers of their own.
    shown = json.dumps(digests, ensure_ascii=False)
    assert not any(re.search(rf"(?<![0-9]){sender_id}(?![0-9])", shown) for sender_id in senders)
