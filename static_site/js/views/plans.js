/** #/plans : the current plan, buying Plus or Pro, and cancelling / resuming Pro. */
import { el, replace } from "../dom.js";
import { t, formatDate } from "../i18n.js";
import { errorState, loadingState, messageOf, toast } from "../components.js";
import { buy } from "../payments.js";
import { confirmAction, haptic } from "../telegram.js";

/** "Free plan", "Plus until ...", "Pro, renews ...": the plan as the server reports it. */
export function planLabel(plan) {
  if (!plan.active) return plan.kind === "free" ? t("plan_free") : t("plan_lapsed");
  const date = plan.expires_at ? formatDate(plan.expires_at) : "";
  if (plan.kind === "plus") return t("plan_plus_until", { date });
  return plan.cancelled ? t("plan_pro_cancelled", { date }) : t("plan_pro_until", { date });
}

export async function show(screen) {
  const { root, api } = screen;
  replace(root, loadingState());
  let me, catalog;
  try {
    [me, catalog] = await Promise.all([api.me(), api.catalog()]);
  } catch (error) {
    if (screen.alive()) replace(root, errorState(error, () => show(screen)));
    return;
  }
  if (screen.alive()) render(screen, me, catalog.products);
}

/** One plan as a card: what it gives, whether it is the user's, and what can be bought from here. */
function planCard(id, title, points, { current = false, note = null, actions = [] } = {}) {
  return el("section", { class: `card plan-card plan-${id}${current ? " is-current" : ""}`, id: `plan-${id}` },
    el("div", { class: "plan-card-head" },
      el("h2", {}, title),
      current ? el("span", { class: "badge badge-current" }, t("plan_current")) : null),
    el("ul", { class: "plan-points" }, points.split("|").map((point) => el("li", {}, point))),
    note ? el("p", { class: "hint plan-note" }, note) : null,
    actions);
}

function render(screen, me, products) {
  const { root, api } = screen;
  const price = (id) => (products.find((p) => p.id === id) || {}).stars;
  const busy = (button, work) => async () => {
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      haptic("error");
      toast(messageOf(error), "error");
    }
    if (screen.alive()) await show(screen);
  };
  const purchase = (product) => async () => {
    const { serverStatus, clientStatus } = await buy(api, product);
    if (serverStatus === "paid") {
      haptic("success");
      toast(t("plan_bought"), "ok");
    } else {
      toast(t(clientStatus === "cancelled" ? "payment_cancelled" : clientStatus === "failed" ? "payment_failed" : "payment_pending"));
    }
  };
  const button = (id, text, product, secondary = false) => {
    const node = el("button", { class: `btn btn-wide${secondary ? " btn-secondary" : ""}`, type: "button", id }, text);
    node.addEventListener("click", busy(node, purchase(product)));
    return node;
  };

  const plan = me.plan;
  const kind = plan.active ? plan.kind : "free";
  const until = plan.expires_at ? formatDate(plan.expires_at) : "";

  // Plus: buyable unless Pro already includes it; on Plus, buying again adds a week.
  let plusNote = null;
  const plusActions = [];
  if (kind === "pro") plusNote = t("plan_included_in_pro");
  else {
    if (kind === "plus") plusNote = t("plan_ends", { date: until });
    plusActions.push(button("buy-plus", t(kind === "plus" ? "buy_plus_more" : "buy_plus", { stars: price("plus_week") }), "plus_week"));
  }

  // Pro: a subscription; on it, cancel or resume; on Plus, say before paying what happens to the Plus days.
  let proNote = null;
  const proActions = [];
  if (kind === "pro") {
    proNote = plan.cancelled ? t("pro_cancelled_note", { date: until }) : t("plan_renews", { date: until });
    const toggle = el("button", { class: "btn btn-secondary", type: "button", id: plan.cancelled ? "resume-pro" : "cancel-pro" },
      t(plan.cancelled ? "resume_pro" : "cancel_pro"));
    toggle.addEventListener("click", busy(toggle, async () => {
      if (plan.cancelled) await api.resumePro();
      else if (await confirmAction(t("cancel_pro_confirm"))) await api.cancelPro();
    }));
    proActions.push(toggle);
  } else {
    if (kind === "plus") proNote = t("plus_into_pro", { date: until });
    proActions.push(button("buy-pro", t("buy_pro", { stars: price("pro_month") }), "pro_month", true));
  }

  replace(root,
    el("header", { class: "screen-header" },
      el("h1", {}, t("plans_title")),
      el("p", { class: `plan-name plan-${kind}`, id: "current-plan" }, planLabel(plan))),
    planCard("free", t("plan_free_title"), t("plan_free_points", { unlock: price("unlock"), hint: price("hint") }),
      { current: kind === "free" }),
    planCard("plus", t("plan_plus_title", { stars: price("plus_week") }), t("plan_plus_points"),
      { current: kind === "plus", note: plusNote, actions: plusActions }),
    planCard("pro", t("plan_pro_title", { stars: price("pro_month") }), t("plan_pro_points"),
      { current: kind === "pro", note: proNote, actions: proActions }));
}
