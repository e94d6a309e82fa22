"""Sharing the owner's link beyond the bot's chat: a prepared message for `WebApp.shareMessage`, and story card
images for `WebApp.shareToStory` (kept for an hour at an unguessable URL on this origin)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from murmur.api.auth import person_of
from murmur.api.schemas import STORY_FILE, PreparedIn, PreparedOut, StoryIn, StoryOut, success
from murmur.composition import Services
from murmur.errors import InvalidInputError
from murmur.notices import app_url

STORY_PATH = "/api/stories"
StoryFile = Annotated[str, Path(pattern=STORY_FILE, description="a story image's token, then .jpg")]


def story_url(webapp_url: str, token: str) -> str:
    """Where Telegram fetches the image: the Mini App's own origin (the API is served on it, ADR 0002)."""
    return f"{app_url(webapp_url).rstrip('/')}{STORY_PATH}/{token}.jpg"


def build(services: Services) -> APIGatewayHttpRouter:
    router = APIGatewayHttpRouter()

    @router.post(
        "/api/share/prepared",
        summary="Prepare one of my cards as a message I can send to any chat (WebApp.shareMessage)",
        responses=success(PreparedOut),
    )
    def prepare(body: PreparedIn) -> PreparedOut:
        person = person_of(router.context["init"])
        prepared = services.sharing.prepare(person.id, body.card)
        return PreparedOut(id=prepared.id, expiration_date=prepared.expiration_date)

    @router.post(
        STORY_PATH,
        summary="Keep a story card image for an hour, at a URL WebApp.shareToStory can take",
        responses=success(StoryOut, 201, "kept; the URL works for an hour"),
    )
    def publish_story(body: StoryIn) -> Response[StoryOut]:
        person = person_of(router.context["init"])
        try:
            image = base64.b64decode(body.image, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError("image must be base64") from exc
        story = services.stories.publish(person.id, image)
        return Response(
            status_code=201,
            content_type="application/json",
            body=StoryOut(url=story_url(services.webapp_url, story.token), expires_at=story.expires_at),
        )

    @router.get(
        f"{STORY_PATH}/<file>",
        summary="A story card image (public: Telegram fetches it without initData)",
        responses={200: {"description": "the JPEG", "content": {"image/jpeg": {}}}},
    )
    # No return annotation on purpose: Powertools validates an annotated return as JSON, and this one is bytes
    # (which it then sends base64-encoded, as API Gateway expects binary bodies).
    def story_image(file: StoryFile):
        image = services.stories.image(file.removesuffix(".jpg"))
        return Response(
            status_code=200,
            content_type="image/jpeg",
            body=image,
            headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"},
        )

    return router
