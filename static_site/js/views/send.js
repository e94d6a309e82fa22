/**
 * #/send/<code> (or start_param): write to a link's owner anonymously, with an optional gift and an
 * optional stable nickname, after reading exactly what a hint may reveal about the writer.
 */
import { el, replace } from "../dom.js";
import { t } from "../i18n.js";
import { GIFT_EMOJI, emptyState, errorState, loadingState, messageOf, shareCard, toast } from "../components.js";
import { newIdempotencyKey } from "../api.js";
import { illustration } from "../art.js";
import { payInvoice } from "../payments.js";
import { telegramGiftPicker, telegramGiftSentText } from "../telegram_gifts.js";
import { askChoice, haptic, hideMainButton, setMainButton, setMainButtonActive, setMainButtonBusy } from "../telegram.js";
import { hrefOf, splitLinkParam } from "../router.js";

const MAX_CHARS = 1000;

const LINK_CODE = /^[A-Za-z0-9]{12}$/;

/** `param`: a link code, or `<code>-<card>` for a question card's link (the send page shows its question). */
export async function show(screen, param) {
  const { root, api } = screen;
  const { code, card } = splitLinkParam(param);
  if (!LINK_CODE.test(code || "")) {
    replace(root, emptyState(t("link_not_found"), "", ownLinkButton()));
    return;
  }
  replace(root, loadingState());
  let link;
  try {
    link = await api.link(code, card);
  } catch (error) {
    if (!screen.alive()) return;
    // A card retired, or an own question the owner removed: the link itself still works, without the question.
    if (error.code === "card_not_found") return show(screen, code);
    if (error.status === 404) replace(root, emptyState(t("link_not_found"), "", ownLinkButton()));
    else replace(root, errorState(error, () => show(screen, param)));
    return;
  }
  if (!screen.alive()) return;
  if (link.is_self) {
    const me = await api.me().catch(() => null);
    if (!screen.alive()) return;
    replace(root, el("div", { class: "state state-self" },
      el("h1", {}, t("self_link_title")), el("p", { class: "hint" }, t("self_link_body"))),
    me ? shareCard(me.link) : null);
    return;
  }
  if (!link.accepts_messages) {
    replace(root, emptyState(t("not_accepting", { name: link.display_name }), "", ownLinkButton()));
    return;
  }
  renderForm(screen, link);
}

/** Why a send was refused, in the owner's terms when the owner's own limits refused it. */
function refusal(error, link) {
  const name = link.display_name;
  if (error && error.code === "slow_mode") return t("refused_slow_mode", { name, wait: t(`wait_${link.slow_mode_seconds}`) });
  if (error && error.code === "daily_cap") return t("refused_daily_cap", { name });
  if (error && error.code === "not_accepting") return t("not_accepting", { name });
  return messageOf(error);
}

/** The owner's limits, said before writing, so a refusal is never a surprise. */
function limitsCard(link) {
  const name = link.display_name;
  const lines = [];
  if (link.slow_mode_seconds) lines.push(t("limit_slow_mode", { name, wait: t(`wait_${link.slow_mode_seconds}`) }));
  if (link.daily_cap) lines.push(t("limit_daily_cap", { name, cap: link.daily_cap, count: link.daily_cap }));
  return lines.length ? el("section", { class: "card", id: "inbox-limits" }, lines.map((line) => el("p", { class: "hint" }, line))) : null;
}

function ownLinkButton() {
  return el("a", { class: "btn btn-secondary", href: hrefOf("inbox"), id: "own-link" }, t("get_own_link"));
}

function renderForm(screen, link) {
  const { root, api } = screen;
  const name = link.display_name;
  const text = el("textarea", {
    class: "textarea", id: "send-text", rows: 6, maxLength: MAX_CHARS, placeholder: t("send_placeholder"),
    "aria-describedby": "send-counter",
  });
  const counter = el("p", { class: "counter", id: "send-counter" }, t("counter", { count: 0, max: MAX_CHARS }));
  let gift = null;

  const giftOptions = [[null, "🚫", t("gift_none")],
    ...Object.entries(link.gifts).map(([kind, stars]) => [kind, GIFT_EMOJI[kind] || "🎁", `${t(`gift_${kind}`)} · ${stars} ⭐`])];
  const picker = el("div", { class: "gift-picker", role: "radiogroup", "aria-label": t("gift_title") });
  // A real Telegram gift instead (its own section, telegram_gifts.js): choosing one unchooses the in-app gift.
  const realGift = telegramGiftPicker(link, text, () => {
    gift = null;
    for (const other of picker.children) other.setAttribute("aria-checked", other.dataset.gift === "none" ? "true" : "false");
  });
  for (const [kind, emoji, label] of giftOptions) {
    const option = el("button", {
      class: "gift-option", type: "button", role: "radio", "aria-checked": kind === gift ? "true" : "false",
      "data-gift": kind || "none",
    }, el("span", { class: "gift-emoji", "aria-hidden": "true" }, emoji), el("span", {}, label));
    option.addEventListener("click", () => {
      gift = kind;
      for (const other of picker.children) other.setAttribute("aria-checked", other === option ? "true" : "false");
      if (kind) realGift.clear();
      haptic("select");
    });
    picker.appendChild(option);
  }

  // The question a card's link asks, above the text box (absent for a plain link).
  const questionCard = link.card
    ? el("section", { class: "card question-card", id: "send-question", "data-card": link.card.id },
        el("p", { class: "question-text" }, el("span", { "aria-hidden": "true" }, link.card.emoji, " "), link.card.text))
    : el("span", { hidden: true });
  const nickname = el("input", { type: "checkbox", id: "show-nickname", class: "switch" });
  const ladder = link.hint_ladder.length
    ? el("ol", { class: "ladder", id: "hint-ladder" }, link.hint_ladder.map((line) => el("li", {}, line)))
    : el("p", { class: "hint" }, t("ladder_empty"));

  // The message being sent and its idempotency key: kept until it is stored, so sending the same message again
  // (after a failure or a lost answer) reuses the key and can never store it twice; a changed message gets a new key.
  let pending = null;

  const submit = async () => {
    const value = text.value.trim();
    if (!value) return;
    setMainButtonBusy(true);
    setMainButtonActive(false);
    const message = {
      text: value, gift, telegramGift: realGift.chosen(), showNickname: nickname.checked, card: link.card ? link.card.id : null,
    };
    const same = pending && ["text", "gift", "telegramGift", "showNickname", "card"].every((field) => pending.message[field] === message[field]);
    if (!same) pending = { message, key: newIdempotencyKey() };
    let sent;
    try {
      sent = await api.send(link.code, { ...message, idempotencyKey: pending.key });
    } catch (error) {
      setMainButtonBusy(false);
      setMainButtonActive(true);
      haptic("error");
      if (error && error.code === "card_not_found" && link.card) {
        // The owner removed the question meanwhile: the message can still go, without it.
        link = { ...link, card: null };
        questionCard.remove();
        toast(t("send_card_gone"), "error");
        return;
      }
      toast(refusal(error, link), "error");
      return;
    }
    let giftStatus = null;
    if (sent.gift_invoice) {
      giftStatus = await payGift(api, sent.gift_invoice);
      if (giftStatus === "unpaid") {
        // The message waits in the gift's order, unseen, until the sender decides (ADR 0011).
        const withoutGift = await askChoice(t("gift_ask_title"), t("gift_ask_body"), t("send_without_gift"), t("keep_editing"));
        const cancelled = await api.cancelOrder(sent.gift_invoice.order_id)
          .then(() => true, (error) => error.status !== 409); // 409: paid meanwhile, the message went with its gift
        pending = null; // that send is over: whatever comes next is a new one
        if (!cancelled) {
          giftStatus = "paid";
        } else if (!withoutGift) {
          setMainButtonBusy(false);
          setMainButtonActive(true);
          text.focus();
          return;
        } else {
          try {
            await api.send(link.code, { ...message, gift: null, telegramGift: null, idempotencyKey: newIdempotencyKey() });
          } catch (error) {
            setMainButtonBusy(false);
            setMainButtonActive(true);
            haptic("error");
            toast(refusal(error, link), "error");
            return;
          }
          giftStatus = "without";
        }
      }
    }
    setMainButtonBusy(false);
    haptic("success");
    if (screen.alive()) renderSent(screen, link, gift, giftStatus, message.telegramGift ? realGift.emoji() : null);
  };

  const update = () => {
    counter.textContent = t("counter", { count: text.value.length, max: MAX_CHARS });
    counter.classList.toggle("is-full", text.value.length >= MAX_CHARS);
    setMainButtonActive(Boolean(text.value.trim()));
  };
  text.addEventListener("input", update);

  replace(root,
    el("header", { class: "screen-header" },
      el("h1", { id: "send-title" }, t("send_title", { name })),
      el("p", { class: "hint" }, "🕶️ ", t("send_anonymous", { name }))),
    questionCard,
    limitsCard(link),
    el("section", { class: "card" }, text, counter),
    el("section", { class: "card" }, el("h2", {}, t("gift_title")), picker),
    realGift.section,
    el("section", { class: "card" },
      el("label", { class: "switch-row", for: "show-nickname" }, el("span", {}, t("nickname_toggle")), nickname),
      el("p", { class: "hint" }, t("nickname_help", { name }))),
    el("section", { class: "card ladder-card" },
      el("h2", {}, "💡 ", t("ladder_title")),
      el("p", { class: "hint" }, t("ladder_body", { name })),
      ladder));
  setMainButton(t("send_button"), submit, { active: false });
}

/**
 * Pays a gift's invoice: "paid" (Murmur has the payment: the message is stored with it), "pending" (Telegram took
 * the Stars and Murmur has not heard yet: the message arrives with its gift in a moment) or "unpaid".
 */
async function payGift(api, invoice) {
  try {
    const { serverStatus, clientStatus } = await payInvoice(api, invoice);
    if (serverStatus === "paid") return "paid";
    return clientStatus === "paid" ? "pending" : "unpaid";
  } catch (error) {
    toast(messageOf(error), "error");
    return "unpaid";
  }
}

/** `telegramGift`: the emoji of the real Telegram gift sent with it, if one was. */
function renderSent(screen, link, gift, giftStatus, telegramGift = null) {
  hideMainButton();
  const giftText = giftStatus === "paid" && telegramGift ? telegramGiftSentText(telegramGift)
    : giftStatus === "paid" ? t("gift_paid", { gift: `${GIFT_EMOJI[gift]} ${t(`gift_${gift}`)}` })
    : giftStatus === "pending" ? t("gift_pending") : t("gift_unpaid");
  const giftLine = gift || telegramGift
    ? el("p", { class: `notice ${giftStatus === "without" ? "notice-warn" : "notice-ok"}`, id: "gift-status" }, giftText)
    : null;
  replace(screen.root,
    el("div", { class: "state state-sent", id: "sent" },
      illustration("sent"),
      el("h1", {}, t("sent_title")),
      el("p", { class: "hint" }, t("sent_body", { name: link.display_name })),
      giftLine,
      el("div", { class: "row" },
        el("button", { class: "btn", type: "button", id: "write-another", onclick: () => renderForm(screen, link) }, t("write_another")),
        ownLinkButton())));
}
