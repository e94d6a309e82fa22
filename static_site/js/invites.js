/** Invite to unlock: the free unlocks the owner holds, the rules that earn them, and the invite to share. */
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { haptic, openShare } from "./telegram.js";
import { toast } from "./components.js";

/** Telegram's share sheet for the owner's invite link (`t.me/<bot>?start=ref_<code>`). */
function shareInvite(link) {
  haptic("light");
  const enc = encodeURIComponent;
  const shareUrl = `https://t.me/share/url?url=${enc(link.referral_url)}&text=${enc(t("invite_share_text"))}`;
  if (openShare(shareUrl)) return;
  navigator.clipboard.writeText(link.referral_url).then(() => toast(t("copied"), "ok"), () => toast(t("copy_failed")));
}

/** The inbox's invite card, from GET /api/me. */
export function inviteCard(me) {
  const rules = me.invite_rules;
  return el("section", { class: "card invite-card", id: "invite-credits", "data-credits": me.invite_credits },
    el("h2", {}, t("invite_title")),
    el("p", { class: "invite-count", id: "invite-count" }, t("invite_credits_count", { count: me.invite_credits })),
    el("p", { class: "hint" }, t("invite_body", { week: rules.per_week, held: rules.max_held, days: rules.valid_days })),
    el("button", { class: "btn btn-secondary", type: "button", id: "invite-button", onclick: () => shareInvite(me.link) },
      "👋 ", t("invite_button")));
}
