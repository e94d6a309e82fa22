/** Small pieces shared by the screens: states, toast, gift badges, the share card, message cards. */
import { el } from "./dom.js";
import { illustration } from "./art.js";
import { has, t, formatDateTime } from "./i18n.js";
import { closeApp, haptic, openShare } from "./telegram.js";
import { hrefOf } from "./router.js";

export const GIFT_EMOJI = { heart: "❤️", fire: "🔥", crown: "👑" };

export function loadingState() {
  return el("div", { class: "state state-loading", role: "status" },
    el("span", { class: "spinner", "aria-hidden": "true" }),
    el("span", { class: "visually-hidden" }, t("loading")));
}

export function emptyState(title, body, ...actions) {
  return el("div", { class: "state state-empty" },
    illustration("empty"),
    el("h2", {}, title),
    el("p", { class: "hint" }, body),
    actions);
}

/**
 * An error with a way on: a retry button, or, when the session Telegram signed is no longer accepted
 * (initData too old), the one thing that helps: closing the Mini App so it opens again with fresh initData.
 */
export function errorState(error, onRetry) {
  if (error && error.status === 401) return sessionExpiredState();
  return el("div", { class: "state state-error", role: "alert" },
    illustration("error"),
    el("h2", {}, t("error_title")),
    el("p", { class: "hint error-message" }, messageOf(error)),
    onRetry ? el("button", { class: "btn", type: "button", onclick: onRetry }, t("retry")) : null);
}

export function sessionExpiredState() {
  return el("div", { class: "state state-expired", id: "session-expired", role: "alert" },
    illustration("expired"),
    el("h2", {}, t("session_title")),
    el("p", { class: "hint" }, t("session_body")),
    el("button", { class: "btn", type: "button", id: "reopen", onclick: closeApp }, t("session_button")));
}

/** What a refusal means, in the user's language, from its code (never the server's English message). */
export function messageOf(error) {
  const code = error && error.code;
  if (code === "network") return t("error_network");
  if (error && error.status === 401) return t("error_unauthorized");
  if (code && has(`error_${code}`)) return t(`error_${code}`);
  return t("error_generic");
}


let toastTimer = null;
/** A short confirmation at the bottom of the screen. */
export function toast(text, kind = "info") {
  const node = document.getElementById("toast");
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 3500);
}

/** A message's gifts: in-app ones by kind, and real Telegram gifts (`telegramGifts`: their emoji) the bot sent. */
export function giftBadges(gifts, telegramGifts = []) {
  const real = telegramGifts || [];
  if ((!gifts || !gifts.length) && !real.length) return null;
  const titles = [...(gifts || []).map((g) => t(`gift_${g}`)), ...real.map((emoji) => `${t("tg_gift_badge")} ${emoji}`)];
  return el("span", { class: "gifts", title: titles.join(", ") },
    (gifts || []).map((g) => el("span", { class: "gift", "data-gift": g }, GIFT_EMOJI[g] || "🎁")),
    real.map((emoji) => el("span", { class: "gift gift-telegram", "data-telegram-gift": emoji }, emoji)));
}

/** The owner's link with Telegram's share sheet and a copy fallback. */
export function shareCard(link) {
  const status = el("p", { class: "share-status", role: "status" });
  const urlBox = el("input", { class: "share-url", type: "text", readOnly: true, value: link.url, "aria-label": t("share_title") });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link.url);
      status.textContent = t("copied");
      status.dataset.kind = "ok";
      haptic("success");
    } catch (_) {
      urlBox.focus();
      urlBox.select();
      status.textContent = t("copy_failed");
      status.dataset.kind = "warn";
    }
  };
  const share = () => {
    haptic("light");
    if (!openShare(link.share_url)) copy();
  };
  return el("section", { class: "card share-card" },
    el("h2", {}, t("share_title")),
    el("p", { class: "hint" }, t("share_body")),
    urlBox,
    el("div", { class: "row" },
      el("button", { class: "btn", type: "button", id: "share-button", onclick: share }, t("share_button")),
      el("button", { class: "btn btn-secondary", type: "button", id: "copy-button", onclick: copy }, t("copy_button"))),
    status);
}

/** The question card a message answers (`card`, and `question` in the owner's words), if any. */
export function questionLine(message) {
  if (!message.question) return null;
  return el("p", { class: "message-question", "data-card": message.card }, t("answers_card", { question: message.question }));
}

/** One inbox row: preview or text, lock, gifts, unread mark, hints, nickname, the question it answers. */
export function messageCard(message) {
  const body = message.locked ? message.preview : message.text;
  return el("a", {
    class: `message-card${message.unread ? " is-unread" : ""}${message.locked ? " is-locked" : ""}`,
    href: hrefOf("message", message.id),
    "data-id": message.id,
  },
    el("div", { class: "message-meta" },
      message.unread ? el("span", { class: "badge badge-unread" }, t("unread")) : null,
      message.locked ? el("span", { class: "badge badge-locked" }, "🔒 ", t("locked")) : null,
      giftBadges(message.gifts, message.telegram_gifts),
      message.hints.length ? el("span", { class: "badge badge-hints" }, "💡 ", t("hints_count", { count: message.hints.length })) : null,
      el("time", { class: "message-time" }, formatDateTime(message.created_at))),
    questionLine(message),
    el("p", { class: "message-text" }, body || ""),
    el("p", { class: "message-from hint" },
      message.nickname ? t("from_nickname", { nickname: message.nickname }) : t("anonymous")));
}
