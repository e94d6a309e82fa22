/**
 * The simulator page: plays the Telegram app around the Mini App. It picks the demo user, launches
 * the Mini App with signed initData, answers the SDK's requests (theme, viewport, buttons, popups,
 * invoices) and shows the chat with the bot.
 */
import { MiniAppHost, launchUrl } from "./bridge.js";
import { ChatPane } from "./chat.js";
import { InlinePane } from "./inline_pane.js";
import { preparedMessageSheet, storyComposer } from "./share_sheets.js";
import { paymentSheet, popup } from "./sheets.js";
import { sandbox } from "./sandbox_api.js";
import { TelegramSheet } from "./telegram_sheet.js";
import { THEMES } from "./themes.js";

const $ = (id) => document.getElementById(id);
const APP_URL = `${location.origin}/`;
const MAX_LOG = 80;

const state = { users: [], user: null, theme: "light", invoiceOpen: false };

function log(text, kind = "note") {
  const item = document.createElement("li");
  item.className = `event event-${kind}`;
  item.textContent = text;
  const list = $("event-log");
  list.prepend(item);
  while (list.children.length > MAX_LOG) list.lastChild.remove();
}

function logEvent(direction, type, data) {
  const item = document.createElement("li");
  item.className = `event event-${direction}`;
  item.dataset.event = type;
  const detail = data && Object.keys(data).length ? ` ${JSON.stringify(data)}` : "";
  item.textContent = `${direction === "in" ? "⇠" : "⇢"} ${type}${detail.length > 160 ? detail.slice(0, 157) + "…" : detail}`;
  const list = $("event-log");
  list.prepend(item);
  while (list.children.length > MAX_LOG) list.lastChild.remove();
}

const host = new MiniAppHost($("phone-screen"), onMiniAppEvent);
const telegramSheet = new TelegramSheet($("tg-sheet"), log);

function send(type, data) {
  logEvent("out", type, data);
  host.send(type, data);
}

function viewport() {
  const height = $("phone-screen").clientHeight;
  return { height, is_expanded: true, is_state_stable: true };
}

async function onMiniAppEvent(type, data) {
  logEvent("in", type, data);
  switch (type) {
    case "web_app_ready":
      if (host.frame) host.frame.dataset.ready = "true";
      break;
    case "web_app_request_theme":
      send("theme_changed", { theme_params: THEMES[state.theme] });
      break;
    case "web_app_request_viewport":
    case "web_app_expand":
      send("viewport_changed", viewport());
      break;
    case "web_app_request_safe_area":
      send("safe_area_changed", { top: 0, bottom: 0, left: 0, right: 0 });
      break;
    case "web_app_request_content_safe_area":
      send("content_safe_area_changed", { top: 0, bottom: 0, left: 0, right: 0 });
      break;
    case "web_app_setup_main_button":
      renderMainButton(data);
      break;
    case "web_app_setup_back_button":
      $("back-button").hidden = !data.is_visible;
      break;
    case "web_app_trigger_haptic_feedback":
      flashHaptic(data);
      break;
    case "web_app_open_tg_link":
      showTelegramLink(`https://t.me${data.path_full || ""}`);
      break;
    case "web_app_open_link":
      showTelegramLink(data.url || "");
      break;
    case "web_app_open_invoice":
      await openInvoice(data.slug);
      break;
    case "web_app_open_popup": {
      const buttonId = await popup(data);
      send("popup_closed", { button_id: buttonId });
      break;
    }
    case "web_app_share_to_story":
      await shareToStory(data);
      break;
    case "web_app_send_prepared_message":
      await sharePrepared(data.id);
      break;
    case "web_app_switch_inline_query":
      switchInlineQuery(data);
      break;
    case "web_app_close":
      closeApp();
      break;
    default:
      break;
  }
}

function renderMainButton(params) {
  const button = $("main-button");
  button.hidden = !params.is_visible;
  button.textContent = params.is_progress_visible ? "…" : params.text || "";
  button.disabled = !params.is_active || Boolean(params.is_progress_visible);
  button.classList.toggle("is-busy", Boolean(params.is_progress_visible));
  if (params.color) button.style.setProperty("--main-bg", params.color);
  if (params.text_color) button.style.setProperty("--main-fg", params.text_color);
}

function flashHaptic(params) {
  const node = $("haptic");
  node.textContent = `📳 ${params.type}${params.impact_style ? ":" + params.impact_style : ""}${params.notification_type ? ":" + params.notification_type : ""}`;
  node.classList.remove("is-on");
  void node.offsetWidth; // restart the animation
  node.classList.add("is-on");
}

/** What Telegram would open for t.me links: the share sheet shows the link and text it would share. */
function showTelegramLink(url) {
  telegramSheet.show(url);
}

async function openInvoice(slug) {
  if (state.invoiceOpen) return;
  state.invoiceOpen = true;
  let status;
  try {
    status = await paymentSheet(state.user.id, slug);
  } finally {
    state.invoiceOpen = false;
  }
  send("invoice_closed", { slug, status });
}

/**
 * What Telegram passes as start_param for what was typed: a t.me link (t.me/<bot>?startapp=<x>,
 * t.me/<bot>/<app>?startapp=<x>) opens the Mini App with its startapp value, as the Telegram app does;
 * anything else is passed as typed.
 */
function startParamOf(typed) {
  try {
    const url = new URL(typed.includes("://") ? typed : `https://${typed}`);
    if (url.hostname === "t.me" && url.searchParams.has("startapp")) return url.searchParams.get("startapp") || "";
  } catch (_) {
    /* not a link */
  }
  return typed;
}

async function launch(appUrl = APP_URL, startParam = "") {
  if (!state.user) return;
  const { init_data: initData } = await sandbox.initData(state.user.id, startParam);
  $("phone-empty").hidden = true;
  $("main-button").hidden = true;
  $("back-button").hidden = true;
  $("sheet").hidden = true;
  $("popup").hidden = true;
  $("story-sheet").hidden = true;
  $("share-sheet").hidden = true;
  host.open(launchUrl(appUrl, initData, THEMES[state.theme], { botInline: Boolean(state.bot && state.bot.supports_inline_queries) }));
  log(`${state.user.first_name} opened ${appUrl}${startParam ? ` with start_param ${startParam}` : ""}`);
  telegramSheet.review();
}

function closeApp() {
  host.close();
  $("main-button").hidden = true;
  $("back-button").hidden = true;
  $("phone-empty").hidden = false;
  telegramSheet.review();
}

function applyTheme(name) {
  state.theme = name;
  document.documentElement.dataset.theme = name;
  const toggle = $("theme-toggle");
  toggle.setAttribute("aria-pressed", String(name === "dark"));
  toggle.textContent = name === "dark" ? "☀️ Light" : "🌙 Dark";
  if (host.isOpen) send("theme_changed", { theme_params: THEMES[name] });
}

async function refreshClock() {
  const { now } = await sandbox.clock();
  $("clock").textContent = new Date(now * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

async function advance(days) {
  const { renewals } = await sandbox.advance(days * 86400, $("renewals-fail").checked);
  log(`clock moved ${days} day(s)`);
  for (const renewal of renewals) {
    log(`Telegram renewed ${renewal.user}'s subscription: ${renewal.status} (webhook ${renewal.webhook_status})`);
  }
  await refreshClock();
  if (renewals.length) await chat.refresh();
}

async function runCron() {
  const button = $("run-cron");
  button.disabled = true;
  try {
    const { result } = await sandbox.cron();
    log(`cron: ${JSON.stringify(result).slice(0, 200)}`);
  } catch (error) {
    log(`cron failed: ${error.message}`);
  } finally {
    button.disabled = false;
  }
  button.dataset.runs = String(Number(button.dataset.runs || 0) + 1);
}

async function subscriptionEvent(button) {
  button.disabled = true;
  try {
    const outcome = await sandbox.subscription(state.user.id, button.dataset.subscription);
    log(`subscription ${button.dataset.subscription}: webhook ${outcome.webhook_status}`);
    await chat.refresh();
  } catch (error) {
    log(`subscription ${button.dataset.subscription} failed: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

const chat = new ChatPane($("chat-log"), $("chat-form"), $("chat-input"), {
  openWebApp: (url) => launch(url),
  log,
});

/** The "Telegram sheet" panel: what Telegram did outside the Mini App (a story posted, a message shared). */
function noteInSheet(kind, title, detail, extra = null) {
  const box = $("tg-sheet");
  box.classList.remove("muted");
  const heading = document.createElement("strong");
  heading.textContent = title;
  const body = document.createElement("p");
  body.className = "tg-sheet-detail";
  body.textContent = detail;
  box.replaceChildren(heading, body, ...(extra ? [extra] : []));
  box.dataset.kind = kind;
}

async function shareToStory(params) {
  const outcome = await storyComposer(params, state.user);
  if (!outcome.posted) {
    log("story discarded");
    return;
  }
  const image = document.createElement("img");
  image.className = "tg-sheet-story";
  image.src = outcome.media_url;
  image.alt = "the story's image";
  const widget = outcome.widget_link ? `\nlink widget: ${outcome.widget_link.name || ""} → ${outcome.widget_link.url}` : "";
  noteInSheet("story", "Story posted", `${outcome.text}${widget}`, image);
  log(`story posted: ${outcome.media_url}${outcome.widget_link ? ` with link ${outcome.widget_link.url}` : ""}`);
}

async function sharePrepared(id) {
  const [event, data, sent] = await preparedMessageSheet(state.user.id, id);
  send(event, data);
  if (sent) {
    const button = ((sent.result.reply_markup || {}).inline_keyboard || [[]])[0][0];
    const text = (sent.result.input_message_content || {}).message_text || "";
    noteInSheet("prepared", `Sent to ${sent.chat} via @${state.bot.username}`,
      `${text}${button ? `\n[${button.text}] → ${button.url || ""}` : ""}`);
  }
}

function switchInlineQuery({ query, chat_types: types }) {
  // Telegram lets the user pick a chat of these types, then types `@bot <query>` there: here, the chat pane.
  log(`switchInlineQuery "${query}" into a chat of ${(types || []).join(", ") || "the current chat"}`);
  inline.insert(query || "");
}

const inline = new InlinePane($("inline-pane"), $("chat-input"), {
  onChoose: (result) => {
    const button = ((result.reply_markup || {}).inline_keyboard || [[]])[0][0];
    const text = (result.input_message_content || {}).message_text || result.title || "";
    noteInSheet("inline", `Sent via @${state.bot.username}`, `${text}${button ? `\n[${button.text}] → ${button.url || ""}` : ""}`);
    log(`inline result "${result.id}" sent via @${state.bot.username}`);
  },
  onStart: (parameter) => chat.sendText(`/start ${parameter || ""}`.trim()),
  log,
});

function selectUser(id) {
  state.user = state.users.find((u) => u.id === id) || state.users[0];
  $("user-select").value = String(state.user.id);
  const name = [state.user.first_name, state.user.last_name].filter(Boolean).join(" ");
  $("chat-user").textContent = `${name} · ${state.user.language_code}${state.user.is_premium ? " · premium" : ""}`;
  closeApp();
  chat.setUser(state.user);
  telegramSheet.setUser(state.user);
  inline.setUser(state.user);
}

async function main() {
  const { users, admin_ids: admins, bot } = await sandbox.users();
  state.users = users;
  state.bot = bot;
  inline.setBot(bot.username, bot.supports_inline_queries);
  const select = $("user-select");
  for (const user of users) {
    const option = document.createElement("option");
    option.value = String(user.id);
    option.textContent = `${user.first_name} (${user.id}, ${user.language_code}${admins.includes(user.id) ? ", admin" : ""})`;
    select.appendChild(option);
  }
  select.addEventListener("change", () => selectUser(Number(select.value)));
  $("open-app").addEventListener("click", () => launch(APP_URL, startParamOf($("start-param").value.trim())));
  $("theme-toggle").addEventListener("click", () => applyTheme(state.theme === "dark" ? "light" : "dark"));
  $("main-button").addEventListener("click", () => send("main_button_pressed", {}));
  $("back-button").addEventListener("click", () => send("back_button_pressed", {}));
  $("close-app").addEventListener("click", closeApp);
  $("advance-1d").addEventListener("click", () => advance(1));
  $("advance-7d").addEventListener("click", () => advance(7));
  $("run-cron").addEventListener("click", runCron);
  for (const button of document.querySelectorAll("[data-subscription]")) {
    button.addEventListener("click", () => subscriptionEvent(button));
  }
  window.addEventListener("resize", () => host.isOpen && send("viewport_changed", viewport()));
  const params = new URLSearchParams(location.search);
  applyTheme(params.get("theme") === "dark" ? "dark" : "light");
  selectUser(Number(params.get("user")) || users[0].id);
  await refreshClock();
  document.body.dataset.ready = "true";
}

main().catch((error) => log(`simulator failed to start: ${error.message}`, "error"));
