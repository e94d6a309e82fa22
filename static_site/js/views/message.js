/** #/m/<id> : one message; the preview with Unlock 1⭐ and Hint 5⭐, or the full text; reply, block, report. */
import { el, replace } from "../dom.js";
import { t, formatDateTime } from "../i18n.js";
import { errorState, giftBadges, loadingState, messageOf, questionLine, toast } from "../components.js";
import { buy } from "../payments.js";
import { confirmAction, haptic, hideMainButton, setMainButton, setMainButtonBusy } from "../telegram.js";
import { navigate } from "../router.js";
import { answerStoryPanel } from "../share.js";

export async function show(screen, messageId) {
  const { root, api } = screen;
  replace(root, loadingState());
  let message, credits;
  try {
    // The invite credits matter only for a locked message; without them the message still shows.
    [message, credits] = await Promise.all([
      api.message(messageId),
      api.me().then((me) => me.invite_credits, () => 0),
    ]);
  } catch (error) {
    if (screen.alive()) replace(root, errorState(error, () => show(screen, messageId)));
    return;
  }
  if (!screen.alive()) return;
  render(screen, message, credits);
}

/** "Unlock with an invite credit (N left)": beside Unlock for 1 ⭐, when the owner holds a credit. */
function creditUnlockButton(screen, message, credits) {
  if (!message.locked || !credits) return null;
  const button = el("button", { class: "btn btn-secondary", type: "button", id: "credit-unlock-button" },
    "🎟️ ", t("credit_unlock_button", { left: credits }));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await screen.api.unlockWithCredit(message.id);
      haptic("success");
      toast(t("paid_credit"), "ok");
    } catch (error) {
      haptic("error");
      toast(messageOf(error), "error");
    }
    if (screen.alive()) await show(screen, message.id);
  });
  return button;
}

/** Pays for `product` on this message, then redraws from the server whatever the sheet said. */
async function purchase(screen, message, product, doneText) {
  setMainButtonBusy(true);
  try {
    const { serverStatus, clientStatus } = await buy(screen.api, product, message.id);
    if (serverStatus === "paid") {
      haptic("success");
      toast(doneText, "ok");
    } else if (clientStatus === "cancelled") {
      toast(t("payment_cancelled"));
    } else if (clientStatus === "failed") {
      haptic("error");
      toast(t("payment_failed"), "error");
    } else {
      toast(t("payment_pending"));
    }
  } catch (error) {
    haptic("error");
    toast(messageOf(error), "error");
  } finally {
    setMainButtonBusy(false);
  }
  if (screen.alive()) await show(screen, message.id);
}

/** One of the owner's replies: what they wrote, and when. */
function replyItem(reply) {
  return el("li", { class: "reply" },
    el("p", { class: "reply-text" }, reply.text),
    el("time", { class: "reply-time hint" }, formatDateTime(reply.sent_at)));
}

function render(screen, message, credits = 0) {
  const { root, api } = screen;
  const actions = el("div", { class: "panel-slot" });

  const body = message.locked
    ? el("div", { class: "message-body is-locked" },
        el("p", { class: "message-text", id: "message-text" }, message.preview),
        el("p", { class: "hint" }, "🔒 ", t("preview_note")),
        creditUnlockButton(screen, message, credits))
    : el("div", { class: "message-body" }, el("p", { class: "message-text full", id: "message-text" }, message.text));

  const hints = el("section", { class: "card hints-card" },
    el("h2", {}, "💡 ", t("hints_title")),
    message.hints.length
      ? el("ol", { class: "hint-list", id: "hint-list" }, message.hints.map((clue) => el("li", {}, clue)))
      : null,
    message.hints_left > 0
      ? el("button", {
          class: "btn btn-secondary", type: "button", id: "hint-button",
          onclick: () => purchase(screen, message, "hint", t("paid_hint")),
        }, t("hint_button", { left: message.hints_left }))
      : el("p", { class: "hint" }, t("no_hints_left")));

  // What the owner answered (the bot took each to the sender): under the message, for the owner only.
  const replyList = el("ol", { class: "reply-list", id: "reply-list" }, (message.replies || []).map(replyItem));
  const replies = el("section", { class: "card replies-card", id: "replies", hidden: !replyList.children.length },
    el("h2", {}, t("replies_title")), replyList);

  const replyPanel = () => {
    const box = el("textarea", { class: "textarea", id: "reply-text", maxLength: 1000, rows: 3, placeholder: t("reply_placeholder") });
    const send = el("button", { class: "btn", type: "button", id: "reply-send" }, t("reply_send"));
    send.addEventListener("click", async () => {
      if (!box.value.trim()) return;
      send.disabled = true;
      try {
        await api.reply(message.id, box.value);
        haptic("success");
        replyList.appendChild(replyItem({ text: box.value.trim(), sent_at: Math.floor(Date.now() / 1000) }));
        replies.hidden = false;
        replace(actions, el("p", { class: "notice notice-ok", id: "reply-done" }, "✓ ", t("reply_sent")));
      } catch (error) {
        send.disabled = false;
        toast(messageOf(error), "error");
      }
    });
    replace(actions, el("div", { class: "card panel" }, box, send));
    box.focus();
  };

  const reportPanel = () => {
    const reason = el("textarea", { class: "textarea", id: "report-reason", maxLength: 300, rows: 2, placeholder: t("report_placeholder") });
    const send = el("button", { class: "btn btn-danger", type: "button", id: "report-send" }, t("report_send"));
    send.addEventListener("click", async () => {
      send.disabled = true;
      try {
        await api.report(message.id, reason.value.trim());
        haptic("success");
        replace(actions, el("p", { class: "notice notice-ok" }, "✓ ", t("reported")));
      } catch (error) {
        send.disabled = false;
        toast(messageOf(error), "error");
      }
    });
    replace(actions, el("div", { class: "card panel" }, reason, send));
  };

  const block = async () => {
    if (!(await confirmAction(t("block_confirm")))) return;
    try {
      await api.block(message.id);
      haptic("warning");
      toast(t("blocked"), "ok");
      navigate("inbox");
    } catch (error) {
      toast(messageOf(error), "error");
    }
  };

  replace(root,
    el("header", { class: "screen-header" },
      el("h1", {}, t("message_title")),
      el("p", { class: "hint" },
        formatDateTime(message.created_at), " · ",
        message.nickname ? t("from_nickname", { nickname: message.nickname }) : t("anonymous"), " ",
        giftBadges(message.gifts, message.telegram_gifts))),
    el("article", { class: "card message-card-full" }, questionLine(message), body),
    replies,
    hints,
    el("div", { class: "row actions-row" },
      el("button", { class: "btn btn-secondary", type: "button", id: "reply-button", onclick: replyPanel }, "↩️ ", t("reply_button")),
      el("button", { class: "btn btn-secondary", type: "button", id: "block-button", onclick: block }, "🚫 ", t("block_button")),
      el("button", { class: "btn btn-secondary", type: "button", id: "report-button", onclick: reportPanel }, "⚑ ", t("report_button")),
      // Only a message the owner can read: the story shows its text and the answer, nothing about the sender.
      message.locked ? null : el("button", {
        class: "btn btn-secondary", type: "button", id: "story-answer-button",
        onclick: () => answerStoryPanel(api, message, actions),
      }, "📸 ", t("story_answer_button"))),
    actions);

  if (message.locked) {
    setMainButton(t("unlock_button"), () => purchase(screen, message, "unlock", t("paid_unlock")));
  } else {
    hideMainButton();
  }
}
