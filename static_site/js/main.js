/**
 * The app's entry: tells Telegram it is ready, picks the language, and renders one screen per route.
 * Each screen gets a fresh `screen` object; `screen.alive()` turns false once the user has moved on,
 * so a slow response never draws over the next screen.
 */
import { createApi } from "./api.js";
import { illustration } from "./art.js";
import { el, replace } from "./dom.js";
import { setLanguage, t } from "./i18n.js";
import { navigate, parseRoute, startRouter } from "./router.js";
import {
  announceReady, colorScheme, initData, launchUser, onThemeChanged, resetChrome, setBackButton, startParam, webApp,
} from "./telegram.js";
import * as inboxView from "./views/inbox.js";
import * as messageView from "./views/message.js";
import * as sendView from "./views/send.js";
import * as plansView from "./views/plans.js";
import * as settingsView from "./views/settings.js";

const VIEWS = { inbox: inboxView, message: messageView, send: sendView, plans: plansView, settings: settingsView };
// A link's start_param: its 12-character code, and after a "-" the question card it carries (`<code>-<card>`).
const LINK_PARAM = /^[A-Za-z0-9]{12}(?:-[a-z0-9_]{1,24})?$/;

function applyScheme() {
  document.documentElement.dataset.scheme = colorScheme();
}

/**
 * The link a start_param names, with its question card if it carries one (`<code>` or `<code>-<card>`): the
 * param itself, or a whole pasted link (t.me/<bot>?startapp=<code>[-<card>], t.me/<bot>/<app>?startapp=...).
 * Anything else is returned as is: the send screen says no such link.
 */
export function linkCodeOf(param) {
  if (LINK_PARAM.test(param)) return param;
  const pasted = /[?&]startapp=([A-Za-z0-9]{12}(?:-[a-z0-9_]{1,24})?)(?:[&#]|$)/.exec(param);
  return pasted ? pasted[1] : param;
}

/** The route to open first: the hash if it names one, else the link from start_param, else the inbox. */
function firstRoute() {
  const route = parseRoute(location.hash);
  const param = startParam();
  if (route.name === "inbox" && param) return { name: "send", param: linkCodeOf(param) };
  return route;
}

export function start() {
  const root = document.getElementById("app");
  const user = launchUser();
  setLanguage(user && user.language_code);
  applyScheme();
  onThemeChanged(applyScheme);

  if (!webApp() || !initData()) {
    replace(root, el("div", { class: "state state-outside" },
      illustration("outside"),
      el("h1", {}, t("outside_title")),
      el("p", { class: "hint" }, t("outside_body"))));
    return;
  }
  announceReady();
  const api = createApi(initData());

  // Replace Telegram's launch parameters in the hash with the clean route, without a new history entry.
  const first = firstRoute();
  const target = first.name === "inbox" ? "#/"
    : first.name === "send" ? `#/send/${encodeURIComponent(first.param)}` : location.hash.split("?")[0];
  history.replaceState(null, "", target);

  let generation = 0;
  startRouter((route) => {
    const mine = ++generation;
    resetChrome();
    setBackButton(route.name === "inbox" ? null : () => navigate("inbox"));
    root.dataset.route = route.name;
    const screen = { root, api, alive: () => mine === generation };
    VIEWS[route.name].show(screen, route.param).catch((error) => console.error(error));
    window.scrollTo(0, 0);
  });
}
