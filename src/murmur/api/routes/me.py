"""The signed-in user: profile, settings, erasure."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from murmur import invite_credits, links, texts
from murmur.api.auth import person_of
from murmur.api.schemas import ErasureOut, InviteRulesOut, LinkOut, MeOut, PlanOut, SettingsIn, success
from murmur.composition import Services
from murmur.models import User
from murmur.privacy import FINISHES_WITHIN_MINUTES

# Erasure stops this long before the invocation's end, to answer (the rest is the next call's or the cron's).
ERASE_MARGIN_SECONDS = 3.0
ERASE_BUDGET_WITHOUT_CONTEXT = 5.0


def erase_budget(lambda_context: Any) -> float:
    """What is left of the invocation (Lambda's Timeout is 10 s) minus the margin to answer."""
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return ERASE_BUDGET_WITHOUT_CONTEXT
    return max(0.0, remaining() / 1000 - ERASE_MARGIN_SECONDS)


def me_out(user: User, services: Services) -> MeOut:
    settings = services.settings
    counts = services.inbox.counts(user)
    url = links.personal_link(settings.bot_username, user.link_code)
    return MeOut(
        id=user.user_id,
        first_name=user.first_name,
        language=user.language_code,
        is_admin=user.user_id in settings.admin_ids,
        accepts_messages=user.accepts_messages,
        link=LinkOut(
            code=user.link_code,
            url=url,
            referral_url=links.referral_link(settings.bot_username, user.link_code),
            share_url=links.share_url(url, texts.text("write", user.language_code)),
        ),
        plan=PlanOut(
            kind=user.plan.value,  # type: ignore[arg-type]
            active=user.plan_active(services.clock.now()),
            expires_at=user.plan_expires_at,
            cancelled=user.pro_cancelled,
        ),
        received=counts.received,
        unread=counts.unread,
        today=counts.today,
        slow_mode_seconds=user.slow_mode_seconds,
        daily_cap=user.daily_cap,
        referrals=user.referrals,
        invite_credits=user.invite_credits.held(services.clock.now()),
        invite_rules=InviteRulesOut(
            per_week=invite_credits.MAX_PER_WEEK,
            max_held=invite_credits.MAX_HELD,
            valid_days=invite_credits.CREDIT_SECONDS // 86400,
        ),
    )


def build(services: Services) -> APIGatewayHttpRouter:
    router = APIGatewayHttpRouter()

    @router.get("/api/me", summary="My profile, personal link, plan and counts", responses=success(MeOut))
    def get_me() -> MeOut:
        init = router.context["init"]
        return me_out(services.inbox.ensure_user(person_of(init), init.start_param), services)

    @router.patch("/api/me", summary="Change my settings", responses=success(MeOut))
    def patch_me(body: SettingsIn) -> MeOut:
        init = router.context["init"]
        person = person_of(init)
        user = services.inbox.ensure_user(person)
        if body.accepts_messages is not None:
            services.inbox.set_accepting(person.id, body.accepts_messages)
            user.accepts_messages = body.accepts_messages
        if body.slow_mode_seconds is not None or body.daily_cap is not None:
            services.inbox.set_limits(user, body.slow_mode_seconds, body.daily_cap)
        return me_out(user, services)

    @router.delete(
        "/api/me",
        summary="Erase my data",
        responses={
            **success(ErasureOut, 200, "erased"),
            **success(ErasureOut, 202, "being erased: the account is unusable now, and the rest follows shortly"),
        },
    )
    def delete_me() -> Response[ErasureOut]:
        person = person_of(router.context["init"])
        budget = erase_budget(router.lambda_context)
        erased = services.erasures.erase(person.id, budget)
        key = "deleted" if erased.done else "erasing"
        message = texts.text(key, person.language_code, minutes=FINISHES_WITHIN_MINUTES)
        return Response(
            status_code=200 if erased.done else 202,
            content_type="application/json",
            body=ErasureOut(ok=True, erased=erased.done, message=message),
        )

    return router
