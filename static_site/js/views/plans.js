/** #/plans : the current plan, buying Plus or Pro, and cancelling / resuming Pro. */
import { el, replace } from "../dom.js";
import { t, formatDate, productName } from "../i18n.js";
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

  const buyPlus = el("button", { class: "btn btn-wide", type: "button", id: "buy-plus" }, t("buy_plus", { stars: price("plus_week") }));
  buyPlus.addEventListener("click", busy(buyPlus, purchase("plus_week")));
  const isPro = me.plan.kind === "pro" && me.plan.active;
  const buyPro = el("button", { class: "btn btn-wide btn-secondary", type: "button", id: "buy-pro", disabled: isPro },
    t("buy_pro", { stars: price("pro_month") }));
  buyPro.addEventListener("click", busy(buyPro, purchase("pro_month")));

  let proToggle = null;
  if (isPro) {
    proToggle = el("button", { class: "btn btn-secondary", type: "button", id: me.plan.cancelled ? "resume-pro" : "cancel-pro" },
      t(me.plan.cancelled ? "resume_pro" : "cancel_pro"));
    proToggle.addEventListener("click", busy(proToggle, async () => {
      if (me.plan.cancelled) await api.resumePro();
      else if (await confirmAction(t("cancel_pro_confirm"))) await api.cancelPro();
    }));
  }

  replace(root,
    el("header", { class: "screen-header" }, el("h1", {}, t("plans_title"))),
    el("section", { class: `card plan-card plan-${me.plan.active ? me.plan.kind : "free"}` },
      el("p", { class: "plan-name", id: "current-plan" }, planLabel(me.plan)),
      el("p", { class: "hint" }, t("plus_pitch")),
      proToggle),
    buyPlus,
    buyPro,
    el("section", { class: "card" },
      el("h2", {}, t("prices_title")),
      el("ul", { class: "price-list" },
        products.map((p) => el("li", {}, el("span", {}, productName(p)), el("span", { class: "stars" }, `${p.stars} ⭐`))))));
}
