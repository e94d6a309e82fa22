/**
 * Sharing beyond the bot's chat, with Telegram's own surfaces:
 * - a story (`WebApp.shareToStory`, Bot API 7.8): the card drawn here (story_card.js), kept by the API for an
 *   hour at a URL on this origin; Premium users get the link as the story's widget, others in its text;
 * - any chat (`WebApp.shareMessage`, 8.0): a message the bot prepared (savePreparedInlineMessage) with a
 *   "Write anonymously" button to the card's link;
 * - inline mode (`WebApp.switchInlineQuery`, 6.7): the chat picker, then `@bot <card>` typed in that chat.
 * The question card comes from the picker (cards.js: `#cards` carries `selectedCard`).
 */
import { el, replace } from "./dom.js";
import { t } from "./i18n.js";
import { haptic, launchUser, webApp } from "./telegram.js";
import { messageOf, toast } from "./components.js";
import { base64Of, drawStoryCard } from "./story_card.js";

// Telegram's limits: a story caption for non-Premium users (Premium: 2048), a widget link's name.
const STORY_TEXT_MAX = 200;
const WIDGET_NAME_MAX = 48;
const CHAT_TYPES = ["users", "groups", "channels"];

/** The bot's username, from the owner's own link (t.me/<bot>?startapp=...). */
export function botNameOf(link) {
  const match = /^https:\/\/t\.me\/([A-Za-z0-9_]+)/.exec(String(link || ""));
  return match ? match[1] : "";
}

function labels() {
  return {
    question: t("story_label_question"),
    message: t("story_label_message"),
    answer: t("story_label_answer"),
    cta: t("story_cta"),
  };
}

/** The story's text and widget: the link as a tappable widget for Premium users, in the text for the rest. */
export function storyParams(caption, link, premium) {
  if (premium) {
    return { text: caption, widget_link: { url: link, name: t("story_widget").slice(0, WIDGET_NAME_MAX) } };
  }
  const room = STORY_TEXT_MAX - link.length - 1;
  const text = caption.length > room ? `${Array.from(caption).slice(0, Math.max(0, room - 1)).join("")}…` : caption;
  return { text: `${text}\n${link}` };
}

function preview(slot, drawing) {
  replace(slot,
    el("figure", { class: "story-preview" },
      el("img", {
        id: "story-preview", src: drawing.dataUrl, alt: drawing.lines.join(" · "), width: 108, height: 192,
        // What drawing and encoding cost on this device, for docs/decisions/0013 (read by the browser tests).
        "data-bytes": String(drawing.blob.size), "data-millis": String(drawing.millis),
      }),
      el("figcaption", { class: "hint" }, t("story_preview"))));
}

/**
 * Draw a card, keep it at the API, and open Telegram's story editor with it. `card`: what story_card.js draws,
 * without labels and bot name; `link`: where the story leads; `caption`: the story's text.
 */
export async function postStory(api, card, link, caption, slot) {
  const tg = webApp();
  if (!tg || !tg.isVersionAtLeast("7.8")) {
    toast(t("share_unsupported"));
    return false;
  }
  const drawing = await drawStoryCard({ ...card, labels: labels(), botName: botNameOf(link) }, tg.themeParams || {});
  const story = await api.story(await base64Of(drawing.blob));
  if (slot) preview(slot, drawing);
  const user = launchUser();
  tg.shareToStory(story.url, storyParams(caption, link, Boolean(user && user.is_premium)));
  haptic("success");
  toast(t("story_opened"), "ok");
  return true;
}

/** Telegram's chat picker for a message the bot prepared; resolves whether it was sent. */
function shareMessage(id) {
  const tg = webApp();
  return new Promise((resolve) => tg.shareMessage(id, (sent) => resolve(Boolean(sent))));
}

/** A button that runs `action`, busy while it runs, saying any failure in the user's words. */
function actionButton(id, text, action, secondary = true) {
  const button = el("button", { class: `btn${secondary ? " btn-secondary" : ""}`, type: "button", id }, text);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      haptic("error");
      toast(messageOf(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** "Share it further", under the card picker: the chosen card to a story, to a chat, or typed in a chat. */
export function shareMore(api, cardsSection, me) {
  const slot = el("div", { class: "story-slot", id: "story-slot" });
  const chosen = () => cardsSection.selectedCard;

  const story = actionButton("story-share", `📸 ${t("story_button")}`, () => {
    const card = chosen();
    return postStory(api, { emoji: card.emoji, question: card.text }, card.url, `${card.emoji} ${card.text}`, slot);
  }, false);

  const chat = actionButton("chat-share", `💬 ${t("chat_button")}`, async () => {
    const tg = webApp();
    if (!tg || !tg.isVersionAtLeast("8.0")) {
      toast(t("share_unsupported"));
      return;
    }
    const prepared = await api.prepareShare(chosen().id);
    const sent = await shareMessage(prepared.id);
    haptic(sent ? "success" : "warning");
    toast(t(sent ? "shared_to_chat" : "share_declined"), sent ? "ok" : "info");
  });

  const inline = actionButton("inline-share", `@ ${t("inline_button")}`, async () => {
    const tg = webApp();
    try {
      tg.switchInlineQuery(chosen().id === "own" ? "" : chosen().id, CHAT_TYPES);
    } catch (_) {
      toast(t("share_unsupported")); // an old client, or inline mode is off for this bot
    }
  });

  return el("section", { class: "card share-more", id: "share-more", "data-owner-link": me.link.code },
    el("h2", {}, "🚀 ", t("share_more_title")),
    el("p", { class: "hint" }, t("share_more_body")),
    el("div", { class: "row share-more-row" }, story, chat, inline),
    slot);
}

/**
 * "Answer in a story", on an unlocked message: the owner writes an answer, and the story shows the question the
 * message answers (if any), the message and the answer. Nothing about the sender: not the nickname, not a hint,
 * not the date.
 */
export function answerStoryPanel(api, message, slotFor) {
  const box = el("textarea", {
    class: "textarea", id: "story-answer-text", maxLength: 500, rows: 3, placeholder: t("story_answer_placeholder"),
  });
  const slot = el("div", { class: "story-slot", id: "story-answer-slot" });
  const post = actionButton("story-answer-post", `📸 ${t("story_answer_post")}`, async () => {
    const answer = box.value.trim();
    if (!answer) return;
    const me = await api.me();
    // The card's own link when the message answered one (t.me/<bot>?startapp=<code>-<card>), else the plain link.
    const link = message.card ? `${me.link.url}-${message.card}` : me.link.url;
    const card = { question: message.question || null, message: message.text, answer };
    await postStory(api, card, link, t("story_cta"), slot);
  }, false);
  replace(slotFor, el("div", { class: "card panel", id: "story-answer-panel" }, box, post, slot));
  box.focus();
}
