/** #/ : the owner's inbox, their link to share, and the way to Plus/Pro and settings. */
import { wordmark } from "../art.js";
import { el, replace } from "../dom.js";
import { t } from "../i18n.js";
import { hrefOf } from "../router.js";
import { emptyState, errorState, loadingState, messageCard, shareCard } from "../components.js";
import { cardPicker } from "../cards.js";
import { shareMore } from "../share.js";
import { inviteCard } from "../invites.js";
import { planLabel } from "./plans.js";

export async function show(screen) {
  const { root, api } = screen;
  replace(root, loadingState());
  let me, page, cards;
  try {
    // The cards are a way to share, not the inbox: without them the inbox still shows.
    [me, page, cards] = await Promise.all([api.me(), api.inbox(), api.cards().catch(() => null)]);
  } catch (error) {
    if (screen.alive()) replace(root, errorState(error, () => show(screen)));
    return;
  }
  if (!screen.alive()) return;

  const list = el("div", { class: "message-list", id: "message-list" });
  const more = el("div", { class: "load-more" });
  const header = el("header", { class: "screen-header" },
    wordmark(),
    el("h1", {}, t("inbox_title")),
    el("p", { class: "hint", id: "inbox-counts" }, t("inbox_counts", { received: me.received, unread: me.unread })),
    el("p", { class: `plan-pill plan-${me.plan.active ? me.plan.kind : "free"}` }, planLabel(me.plan)));
  const nav = el("nav", { class: "row nav-row" },
    el("a", { class: "btn btn-secondary", href: hrefOf("plans"), id: "nav-plans" }, "⭐ ", t("plans_nav")),
    el("a", { class: "btn btn-secondary", href: hrefOf("settings"), id: "nav-settings" }, "⚙️ ", t("settings_nav")));

  const picker = cards ? cardPicker(api, cards) : null;
  replace(root, header, shareCard(me.link), picker, picker ? shareMore(api, picker, me) : null, inviteCard(me), nav, list, more);

  const addPage = (result) => {
    for (const message of result.messages) list.appendChild(messageCard(message));
    if (!list.children.length) {
      replace(list, emptyState(t("empty_title"), t("empty_body")));
    }
    replace(more);
    if (result.next_cursor) {
      const button = el("button", { class: "btn btn-secondary", type: "button", id: "load-more" }, t("load_more"));
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          const next = await api.inbox(result.next_cursor);
          if (screen.alive()) addPage(next);
        } catch (error) {
          if (screen.alive()) replace(more, errorState(error, () => addPage(result)));
        }
      });
      more.appendChild(button);
    }
  };
  addPage(page);
}
