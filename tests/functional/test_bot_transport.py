"""PTB's transport in the webhook: the container's one urllib3 pool, shared with HttpGateway, over real HTTP
to the fake Bot API; failures reach PTB as its own errors, so the webhook's retry rule sees them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import Forbidden, NetworkError, TimedOut

from murmur.ports import Button
from murmur.telegram.gateway import BotApiPool, HttpGateway
from murmur.telegram.transport import PooledRequest
from sandbox.fake_bot_api import FakeBotApi

USER = 777


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        api.register_user(USER, "Ann")
        yield api


def run(coroutine: Any) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def bot_on(pool: BotApiPool, base_url: str, token: str) -> telegram.Bot:
    request = PooledRequest(pool)
    return telegram.Bot(token, base_url=base_url, request=request, get_updates_request=request)


def test_ptb_and_the_gateway_share_one_connection(fake: FakeBotApi) -> None:
    pool = BotApiPool()
    bot = bot_on(pool, fake.base_url, fake.token)
    gateway = HttpGateway(fake.token, fake.base_url, pool)

    async def scenario() -> None:
        await bot.initialize()  # getMe
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Open", callback_data="ok:1")]])
        await bot.send_message(USER, "from PTB", reply_markup=markup)

    run(scenario())
    assert gateway.send_message(USER, "from the gateway", [[Button("Go", callback_data="ok:2")]])

    sent = fake.calls("sendMessage")
    assert [c.params["text"] for c in sent] == ["from PTB", "from the gateway"]
    # Nested objects travel as JSON objects, exactly as the gateway sends them.
    assert sent[0].params["reply_markup"] == {"inline_keyboard": [[{"text": "Open", "callback_data": "ok:1"}]]}
    assert [c.method for c in fake.calls()] == ["getMe", "sendMessage", "sendMessage"]
    assert len(pool.http.pools) == 1
    connections = pool.http.connection_from_url(fake.base_url)
    assert (connections.num_requests, connections.num_connections) == (3, 1)  # all three over one keep-alive
    pool.close()


def test_a_refusal_is_ptbs_own_error(fake: FakeBotApi) -> None:
    pool = BotApiPool()
    bot = bot_on(pool, fake.base_url, fake.token)
    fake.blocked_by(USER)
    with pytest.raises(Forbidden, match="blocked"):
        run(bot.send_message(USER, "hello"))
    pool.close()


def test_an_unreachable_api_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    pool = BotApiPool(connect_timeout=1, read_timeout=1)
    bot = bot_on(pool, f"http://127.0.0.1:{port}/bot", "1:x")
    with pytest.raises(NetworkError, match="urllib3"):
        run(bot.send_message(USER, "hello"))


def test_a_silent_api_times_out() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)  # accepts the connection, never answers
        pool = BotApiPool(connect_timeout=1, read_timeout=0.2)
        bot = bot_on(pool, f"http://127.0.0.1:{server.getsockname()[1]}/bot", "1:x")
        with pytest.raises(TimedOut):
            run(bot.send_message(USER, "hello"))
        pool.close()


def test_uploads_are_refused_before_anything_is_sent(fake: FakeBotApi) -> None:
    pool = BotApiPool()
    bot = bot_on(pool, fake.base_url, fake.token)
    with pytest.raises(NetworkError, match="file uploads"):
        run(bot.send_document(USER, InputFile(b"data", filename="a.txt")))
    assert fake.calls() == []
    pool.close()
