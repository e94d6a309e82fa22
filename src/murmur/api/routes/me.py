"""The signed-in user: profile, settings, erasure."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from murmur import texts
from murmur.api.auth import person_of
from murmur.api.schemas import DoneOut, LinkOut, MeOut, PlanOut, SettingsIn, success
from murmur.composition import Services
from murmur.models import User
from murmur.privacy import erase_user
from murmur.telegram import links


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

    @router.delete("/api/me", summary="Erase my data", responses=success(DoneOut, 200, "erased"))
    def delete_me() -> DoneOut:
        erase_user(services.repos, router.context["init"].user.id)
        return DoneOut(ok=True)

    return router
