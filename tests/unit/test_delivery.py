"""The delivery rule and the pacer, without I/O: a fake outbox and gateway, a clock that moves when slept on."""

from __future__ import annotations

from typing import Any

from murmur.delivery import KEEP_SECONDS, Delivery, NoticeDelivery, Pacer, buttons_json, buttons_of
from murmur.errors import TelegramRateLimitedError, TelegramRefusedError, TelegramUnavailableError
from murmur.notices import Notice
from murmur.ports import Button
from tests.fixed_clock import FixedClock

START = 1_800_000_000.0


class Time:
    """Monotonic time that only sleeping moves."""

    def __init__(self) -> None:
        self.t = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def pacer(time: Time, **kwargs: Any) -> Pacer:
    return Pacer(monotonic=time.monotonic, sleep=time.sleep, **kwargs)


class Outbox:
    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []

    def keep(self, chat_id: int, text: str, buttons: str, *, due_at: int, attempts: int, expires_at: int) -> None:
        self.kept.append({"chat_id": chat_id, "text": text, "buttons": buttons, "due_at": due_at,
                          "attempts": attempts, "expires_at": expires_at})  # fmt: skip


class Gateway:
    """Answers each send with the next of `answers` (True, False or an error to raise), then True."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.sent: list[int] = []

    def send_message(self, chat_id: int, text: str, buttons: Any = None) -> bool:
        answer = self.answers.pop(0) if self.answers else True
        if isinstance(answer, Exception):
            raise answer
        if answer:
            self.sent.append(chat_id)
        return bool(answer)


def test_sends_are_paced_to_25_a_second_in_all() -> None:
    time = Time()
    p = pacer(time)
    assert all(p.take_turn(chat) for chat in range(1, 51))
    assert abs(sum(time.slept) - 49 / 25) < 1e-9


def test_one_chat_gets_one_message_a_second() -> None:
    time = Time()
    p = pacer(time)
    assert p.take_turn(7) and p.take_turn(7) and p.take_turn(7)
    assert abs(time.t - 100.0 - 2.0) < 1e-9


def test_a_chat_told_to_wait_longer_than_the_run_waits_is_left_for_later() -> None:
    time = Time()
    p = pacer(time)
    p.not_taken(7, TelegramRateLimitedError(30))
    assert not p.take_turn(7) and not time.slept  # no waiting for it in this run
    assert p.take_turn(8)  # the others go on
    assert 29 < p.wait(7) <= 30


def test_three_refusals_in_a_row_hold_every_send() -> None:
    time = Time()
    p = pacer(time)
    for chat in (1, 2, 3):
        p.not_taken(chat, TelegramRateLimitedError(10))
    assert not p.take_turn(4)


def test_no_send_starts_after_the_budget() -> None:
    time = Time()
    p = pacer(time, budget_seconds=1.0)
    turns = [p.take_turn(chat) for chat in range(1, 40)]
    assert turns.count(True) == 25 and not any(turns[25:])


def test_a_throttled_notice_is_owed_after_its_retry_after_and_the_others_are_sent() -> None:
    time, outbox = Time(), Outbox()
    gateway = Gateway(TelegramRateLimitedError(3))
    delivery = NoticeDelivery(gateway, outbox, FixedClock(START))  # type: ignore[arg-type]
    notices = [Notice(chat, f"hello {chat}", [[Button("Open", web_app_url="https://x/#/plans")]]) for chat in (1, 2, 3)]
    outcomes = delivery.deliver_paced(notices, pacer(time))
    assert outcomes == {Delivery.OWED: 1, Delivery.SENT: 2}
    assert gateway.sent == [2, 3]
    (owed,) = outbox.kept
    assert owed["chat_id"] == 1 and owed["due_at"] == START + 3 and owed["attempts"] == 1
    assert owed["expires_at"] == START + KEEP_SECONDS
    assert buttons_of(owed["buttons"]) == notices[0].buttons


def test_refused_for_good_is_not_kept_and_failing_is_kept_with_a_backoff() -> None:
    outbox = Outbox()
    delivery = NoticeDelivery(Gateway(False), outbox, FixedClock(START))  # type: ignore[arg-type]
    assert delivery.deliver(Notice(1, "blocked")) is Delivery.REFUSED
    assert delivery.undelivered(Notice(1, "blocked"), TelegramRefusedError(403, "Forbidden")) is Delivery.REFUSED
    assert not outbox.kept
    assert delivery.undelivered(Notice(2, "later"), TelegramUnavailableError("Bad Gateway")) is Delivery.OWED
    assert outbox.kept[0]["due_at"] == START + 30


def test_buttons_survive_the_outbox() -> None:
    rows = [[Button("a", url="https://a"), Button("b", callback_data="ok:1")], [Button("c", web_app_url="https://c")]]
    assert buttons_of(buttons_json(rows)) == rows
    assert buttons_json([]) == "" and buttons_of("") == []
