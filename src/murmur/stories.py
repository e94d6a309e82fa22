"""Story cards: the picture an owner posts to a Telegram story with `WebApp.shareToStory`.

The Mini App draws the card (a question, or a question and the owner's answer; the theme's colours; the bot's
name) on a canvas in the owner's own webview and uploads the JPEG; this module checks it, keeps it under an
unguessable token for the minutes Telegram needs to fetch it, and hands it back at that token's URL on the
product's own origin (shareToStory takes a public HTTPS media URL). Nothing renders here, so nothing is
imported or paid for by a container that never sees a story. Why: docs/decisions/0013-story-cards.md."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from murmur.clock import Clock
from murmur.errors import InvalidInputError, NotFoundError, RateLimitedError
from murmur.store.repositories import Repositories

# Telegram stories are 9:16; the canvas draws exactly this, and anything else is not ours.
STORY_WIDTH = 1080
STORY_HEIGHT = 1920
# Far above what the card needs (measured in ADR 0013), far below DynamoDB's 400 KB item.
MAX_STORY_BYTES = 300 * 1024
# Telegram's client downloads the media when the story editor opens; an hour covers a slow editor.
STORY_SECONDS = 3600
STORIES_PER_HOUR = 30
TOKEN_BYTES = 24  # 192 random bits, URL-safe: the URL is the only key
TOKEN_CHARS = 32


@dataclass(frozen=True, slots=True)
class PublishedStory:
    token: str
    expires_at: int


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a baseline or progressive JPEG's frame header, or None if `data` is not one: a walk
    over the marker segments up to the first SOF, as a decoder starts (ITU T.81, B.2)."""
    if len(data) < 4 or data[:2] != b"\xff\xd8" or data[-2:] != b"\xff\xd9":
        return None
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2:
            return None
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if at + 9 > len(data):
                return None
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return width, height
        if marker == 0xDA:  # start of scan before any frame header
            return None
        at += 2 + length
    return None


def valid_token(token: str) -> bool:
    return len(token) == TOKEN_CHARS and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


class Stories:
    def __init__(self, repos: Repositories, clock: Clock) -> None:
        self.repos = repos
        self.clock = clock

    def publish(self, owner_id: int, image: bytes) -> PublishedStory:
        """Keep one story card for an hour; 400 for anything that is not a 1080x1920 JPEG within the size limit,
        429 past STORIES_PER_HOUR for this owner (nothing kept)."""
        if len(image) > MAX_STORY_BYTES:
            raise InvalidInputError(f"a story image is at most {MAX_STORY_BYTES} bytes")
        if jpeg_size(image) != (STORY_WIDTH, STORY_HEIGHT):
            raise InvalidInputError(f"a story image is a {STORY_WIDTH}x{STORY_HEIGHT} JPEG")
        now = int(self.clock.now())
        hour = now // 3600
        retry = (hour + 1) * 3600 - now
        self.repos.tx.write_one(
            self.repos.state.window_op(
                f"story#{owner_id}#{hour}",
                STORIES_PER_HOUR,
                (hour + 1) * 3600 + 60,
            ).failing_with(lambda: RateLimitedError("too many stories this hour", retry_after=retry))
        )
        token = secrets.token_urlsafe(TOKEN_BYTES)
        expires_at = now + STORY_SECONDS
        self.repos.tx.write_one(self.repos.stories.put_op(token, image, expires_at))
        return PublishedStory(token, expires_at)

    def image(self, token: str) -> bytes:
        """The image behind a token while it lives; the same 404 for a token that never was and one that ended."""
        found = self.repos.stories.get(token) if valid_token(token) else None
        if found is None or found[1] <= self.clock.now():
            raise NotFoundError("no such story image")
        return found[0]
