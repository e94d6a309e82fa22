/**
 * Question cards on the owner's screen: a picker of ready questions (and the owner's own), each with its own
 * link (`t.me/<bot>?startapp=<code>-<card>`) to share. Other sharing surfaces (stories, prepared messages) build on
 * this: `#card-picker` holds one `.card-option[data-card=<id>]` per card, the picker's section carries the chosen
 * card as `selectedCard` and announces every choice with a `cardselect` event (detail: the card), and
 * `shareQuestionCard(card)` shares one card through Telegram's share sheet.
 */
import { el, replace } from "./dom.js";
import { t } from "./i18n.js";
import { haptic, openShare } from "./telegram.js";
import { messageOf, toast } from "./components.js";

const QUESTION_MAX = 120;

/** Share a card (from GET /api/cards) with Telegram's share sheet; the link is copied when there is none. */
export async function shareQuestionCard(card) {
  haptic("light");
  if (openShare(card.share_url)) return true;
  try {
    await navigator.clipboard.writeText(card.url);
    toast(t("copied"), "ok");
  } catch (_) {
    toast(t("copy_failed"));
  }
  return false;
}

/** The picker, from GET /api/cards; `api` saves or removes the owner's own question. */
export function cardPicker(api, data) {
  const section = el("section", { class: "card cards-card", id: "cards" });
  let cards = data.cards;
  let ownQuestion = data.own_question;

  const picker = el("div", { class: "card-picker", id: "card-picker", role: "radiogroup", "aria-label": t("cards_title") });
  const url = el("input", { class: "card-url", id: "card-url", type: "text", readOnly: true, "aria-label": t("cards_title") });
  const chosenText = el("p", { class: "card-chosen", id: "card-chosen" });

  const select = (card) => {
    section.selectedCard = card;
    section.dataset.selected = card.id;
    url.value = card.url;
    chosenText.textContent = `${card.emoji} ${card.text}`;
    for (const option of picker.children) {
      option.setAttribute("aria-checked", option.dataset.card === card.id ? "true" : "false");
    }
    section.dispatchEvent(new CustomEvent("cardselect", { detail: card }));
  };

  const drawOptions = (selectedId) => {
    replace(picker);
    for (const card of cards) {
      const option = el("button", {
        class: "card-option", type: "button", role: "radio", "aria-checked": "false", "data-card": card.id,
        title: card.text,
      }, el("span", { class: "card-emoji", "aria-hidden": "true" }, card.emoji), el("span", {}, card.text));
      option.addEventListener("click", () => {
        haptic("select");
        select(card);
      });
      picker.appendChild(option);
    }
    const chosen = cards.find((card) => card.id === selectedId) || cards[0];
    select(chosen);
    const option = picker.querySelector(`.card-option[data-card="${chosen.id}"]`);
    if (option) requestAnimationFrame(() => { picker.scrollLeft = option.offsetLeft - picker.offsetLeft; });
  };

  const question = el("input", {
    class: "input own-question-input", id: "own-question", type: "text", maxLength: QUESTION_MAX,
    placeholder: t("own_question_placeholder"), value: ownQuestion || "", "aria-label": t("own_question_label"),
  });
  const clear = el("button", { class: "btn btn-secondary", type: "button", id: "own-question-clear" }, t("own_question_clear"));
  clear.hidden = !ownQuestion;
  const saveOwn = async (text) => {
    try {
      const saved = text ? await api.setQuestion(text) : await api.clearQuestion();
      cards = saved.cards;
      ownQuestion = saved.own_question;
      question.value = ownQuestion || "";
      clear.hidden = !ownQuestion;
      drawOptions(ownQuestion ? "own" : section.dataset.selected);
      haptic("success");
      toast(t(ownQuestion ? "own_question_saved" : "own_question_removed"), "ok");
    } catch (error) {
      haptic("error");
      toast(messageOf(error), "error");
    }
  };
  const save = el("button", { class: "btn", type: "button", id: "own-question-save" }, t("own_question_save"));
  save.addEventListener("click", () => { if (question.value.trim()) saveOwn(question.value.trim()); });
  clear.addEventListener("click", () => saveOwn(null));

  replace(section,
    el("h2", {}, "🃏 ", t("cards_title")),
    el("p", { class: "hint" }, t("cards_body")),
    picker,
    chosenText,
    url,
    el("div", { class: "row" },
      el("button", { class: "btn", type: "button", id: "card-share", onclick: () => shareQuestionCard(section.selectedCard) }, t("card_share")),
      el("button", {
        class: "btn btn-secondary", type: "button", id: "card-copy",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(section.selectedCard.url);
            toast(t("copied"), "ok");
          } catch (_) {
            url.focus();
            url.select();
          }
        },
      }, t("card_copy"))),
    el("details", { class: "own-question", id: "own-question-panel", open: Boolean(ownQuestion) },
      el("summary", { id: "own-question-summary" }, "💭 ", t("own_question_label")),
      question,
      el("div", { class: "row" }, save, clear)));
  drawOptions(ownQuestion ? "own" : null);
  return section;
}
