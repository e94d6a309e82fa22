/**
 * Real Telegram gifts on the send page (issue 14): besides the in-app Heart, Fire and Crown, one of Telegram's own
 * gifts, which the bot sends to the owner from its own account with the start of the message. The picker, exactly
 * what Telegram will show with the gift, and the line once it is paid.
 */
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { haptic } from "./telegram.js";

const TEXT_UNITS = 128; // sendGift's text: 0-128 characters, counted in UTF-16 units as murmur.real_gifts does
const ELLIPSIS = "…";

/** What Telegram shows with the gift: the message, or its start and an ellipsis (murmur.real_gifts.gift_text). */
export function giftText(message) {
  if (message.length <= TEXT_UNITS) return message; // a JavaScript string's length is its UTF-16 units
  let kept = "";
  for (const char of message) { // whole code points: an emoji is never cut in half
    if (kept.length + char.length + ELLIPSIS.length > TEXT_UNITS) break;
    kept += char;
  }
  return kept.trimEnd() + ELLIPSIS;
}

/**
 * The section offering `link.telegram_gifts` (nothing when there are none). `textArea` is the message being written,
 * whose start the preview shows as it is typed; `onChoose()` is called when a Telegram gift is chosen, so the page
 * can unchoose its in-app gift (one gift per message).
 */
export function telegramGiftPicker(link, textArea, onChoose) {
  const offers = link.telegram_gifts || [];
  let chosen = null;
  const previewText = el("p", { class: "tg-gift-text", id: "tg-gift-text" });
  const preview = el("div", { class: "tg-gift-preview", id: "tg-gift-preview", hidden: true },
    el("p", { class: "hint" }, t("tg_gift_preview")), previewText);
  const group = el("div", { class: "gift-picker", role: "radiogroup", "aria-label": t("tg_gifts_title") });
  const refresh = () => { previewText.textContent = giftText(textArea.value.trim()) || ELLIPSIS; };
  const mark = () => {
    for (const option of group.children) {
      option.setAttribute("aria-checked", option.dataset.telegramGift === chosen ? "true" : "false");
    }
    preview.hidden = !chosen;
    refresh();
  };
  for (const offer of offers) {
    const option = el("button", {
      class: "gift-option", type: "button", role: "radio", "aria-checked": "false", "data-telegram-gift": offer.id,
      "aria-label": t("tg_gift_option", { emoji: offer.emoji, stars: offer.stars }),
    }, el("span", { class: "gift-emoji", "aria-hidden": "true" }, offer.emoji),
    el("span", { "aria-hidden": "true" }, `${offer.stars} ⭐`));
    option.addEventListener("click", () => {
      chosen = chosen === offer.id ? null : offer.id;
      mark();
      if (chosen) onChoose();
      haptic("select");
    });
    group.appendChild(option);
  }
  textArea.addEventListener("input", refresh);
  const section = offers.length
    ? el("section", { class: "card", id: "tg-gifts" },
        el("h2", {}, "🎁 ", t("tg_gifts_title")),
        el("p", { class: "hint" }, t("tg_gifts_body", { name: link.display_name })),
        group, preview)
    : el("span", { hidden: true });
  return {
    section,
    chosen: () => chosen,
    emoji: () => (offers.find((offer) => offer.id === chosen) || { emoji: "🎁" }).emoji,
    clear: () => { chosen = null; mark(); },
  };
}

/** What the sent page says of a paid Telegram gift: on its way (the bot tells the sender when it arrives). */
export function telegramGiftSentText(emoji) {
  return t("tg_gift_paid", { emoji });
}
