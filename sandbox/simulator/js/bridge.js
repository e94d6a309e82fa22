/**
 * The Telegram client's side of the Mini App bridge, for an iframe.
 *
 * telegram-web-app.js inside a frame posts JSON strings `{"eventType", "eventData"}` to
 * window.parent (web_app_ready, web_app_setup_main_button, web_app_open_invoice, ...) and listens
 * for the same shape from window.parent (theme_changed, main_button_pressed, invoice_closed, ...).
 * It reads its launch parameters (tgWebAppData, tgWebAppThemeParams, ...) from the URL hash once, at
 * load, and caches them in sessionStorage under "__telegram__*"; so each launch is a new iframe with
 * a cleared cache, like a fresh webview.
 */

export const WEBAPP_VERSION = "8.0";
export const PLATFORM = "web";

/**
 * Append Telegram's launch parameters to a Mini App URL the way Telegram clients do; `botInline`: the bot has
 * inline mode on (BotFather's /setinline), which Telegram says with tgWebAppBotInline=1 (switchInlineQuery needs it).
 */
export function launchUrl(appUrl, initData, themeParams, { botInline = false } = {}) {
  const params = [
    `tgWebAppData=${encodeURIComponent(initData)}`,
    `tgWebAppVersion=${WEBAPP_VERSION}`,
    `tgWebAppPlatform=${PLATFORM}`,
    `tgWebAppThemeParams=${encodeURIComponent(JSON.stringify(themeParams))}`,
    ...(botInline ? ["tgWebAppBotInline=1"] : []),
  ].join("&");
  const hashAt = appUrl.indexOf("#");
  if (hashAt < 0) return `${appUrl}#${params}`;
  const hash = appUrl.slice(hashAt + 1);
  if (hash.includes("=") || hash.includes("?")) return `${appUrl}&${params}`;
  return hash.length ? `${appUrl}?${params}` : `${appUrl}${params}`;
}

export class MiniAppHost {
  /** `onEvent(eventType, eventData)` gets every event the Mini App posts. */
  constructor(container, onEvent) {
    this.container = container;
    this.onEvent = onEvent;
    this.frame = null;
    window.addEventListener("message", (event) => this._receive(event));
  }

  open(url) {
    this.close();
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith("__telegram__")) sessionStorage.removeItem(key);
    }
    const frame = document.createElement("iframe");
    frame.id = "miniapp";
    frame.title = "Murmur Mini App";
    frame.allow = "clipboard-read; clipboard-write";
    frame.src = url;
    this.frame = frame;
    this.container.appendChild(frame);
    return frame;
  }

  close() {
    if (this.frame) this.frame.remove();
    this.frame = null;
  }

  get isOpen() {
    return this.frame !== null;
  }

  /** Deliver an event to the Mini App, as Telegram does. */
  send(eventType, eventData) {
    if (!this.frame || !this.frame.contentWindow) return false;
    this.frame.contentWindow.postMessage(JSON.stringify({ eventType, eventData }), location.origin);
    return true;
  }

  _receive(event) {
    if (!this.frame || event.source !== this.frame.contentWindow) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (_) {
      return;
    }
    if (!message || typeof message.eventType !== "string") return;
    let data = message.eventData;
    if (typeof data === "string" && data.length) {
      try { data = JSON.parse(data); } catch (_) { /* a plain string */ }
    }
    this.onEvent(message.eventType, data || {});
  }
}
