/** #/settings : accept messages on/off, slow mode and a daily cap, and erasing my data (after Telegram's confirm popup). */
import { illustration } from "../art.js";
import { el, replace } from "../dom.js";
import { t } from "../i18n.js";
import { errorState, loadingState, messageOf, toast } from "../components.js";
import { confirmDestructive, haptic, setBackButton } from "../telegram.js";

export async function show(screen) {
  const { root, api } = screen;
  replace(root, loadingState());
  let me;
  try {
    me = await api.me();
  } catch (error) {
    if (screen.alive()) replace(root, errorState(error, () => show(screen)));
    return;
  }
  if (!screen.alive()) return;

  const accepting = el("input", { type: "checkbox", class: "switch", id: "accept-messages", checked: me.accepts_messages });
  accepting.addEventListener("change", async () => {
    accepting.disabled = true;
    try {
      const updated = await api.setAccepting(accepting.checked);
      accepting.checked = updated.accepts_messages;
      haptic("select");
      toast(t("saved"), "ok");
    } catch (error) {
      accepting.checked = !accepting.checked;
      toast(messageOf(error), "error");
    }
    accepting.disabled = false;
  });

  const slowMode = el("select", { class: "select", id: "slow-mode" },
    [0, 60, 600, 3600, 86400].map((seconds) => el("option", { value: String(seconds), selected: seconds === me.slow_mode_seconds },
      seconds ? t(`wait_${seconds}`) : t("slow_mode_off"))));
  const dailyCap = el("input", { type: "number", class: "input", id: "daily-cap", min: "0", max: "100000", value: String(me.daily_cap) });
  const saveLimits = async () => {
    const cap = Math.max(0, Math.min(100000, Number.parseInt(dailyCap.value, 10) || 0));
    try {
      const updated = await api.setLimits({ slow_mode_seconds: Number(slowMode.value), daily_cap: cap });
      dailyCap.value = String(updated.daily_cap);
      haptic("select");
      toast(t("saved"), "ok");
    } catch (error) {
      toast(messageOf(error), "error");
    }
  };
  slowMode.addEventListener("change", saveLimits);
  dailyCap.addEventListener("change", saveLimits);

  const erase = el("button", { class: "btn btn-danger btn-wide", type: "button", id: "delete-data" }, t("delete_data"));
  erase.addEventListener("click", async () => {
    if (!(await confirmDestructive(t("delete_confirm_title"), t("delete_confirm"), t("delete_button")))) return;
    erase.disabled = true;
    let result;
    try {
      result = await api.deleteMe();
    } catch (error) {
      erase.disabled = false;
      toast(messageOf(error), "error");
      return;
    }
    haptic("warning");
    setBackButton(null);
    // 202: the account is unusable already and the rest is erased shortly; the server says when, localized.
    const underWay = Boolean(result && result.erased === false);
    replace(root, el("div", { class: "state state-deleted", id: "deleted" },
      illustration("erased"),
      el("h1", {}, t(underWay ? "erasing_title" : "deleted_title")),
      el("p", { class: "hint" }, underWay ? result.message : t("deleted_body"))));
  });

  replace(root,
    el("header", { class: "screen-header" }, el("h1", {}, t("settings_title"))),
    el("section", { class: "card" },
      el("label", { class: "switch-row", for: "accept-messages" }, el("span", {}, t("accept_messages")), accepting),
      el("p", { class: "hint" }, t("accept_help"))),
    el("section", { class: "card", id: "inbox-limits" },
      el("label", { class: "switch-row", for: "slow-mode" }, el("span", {}, t("slow_mode")), slowMode),
      el("label", { class: "switch-row", for: "daily-cap" }, el("span", {}, t("daily_cap")), dailyCap),
      el("p", { class: "hint" }, t("limits_help"))),
    el("section", { class: "card card-danger" },
      el("p", { class: "hint" }, t("delete_help")),
      erase));
}
