/**
 * The few parts of Telegram.WebApp the app uses, in one place: launch data, MainButton, BackButton,
 * haptics, popups, invoices and links. Each view sets the buttons it needs; `resetChrome` clears
 * them between screens so a handler never outlives its screen.
 */

const tg = window.Telegram && window.Telegram.WebApp ? window.Telegram.WebApp : null;

export function webApp() {
  return tg;
}

/** Signed launch data for the API, or "" outside Telegram. */
export function initData() {
  return tg ? tg.initData || "" : "";
}

/** The Telegram user as Telegram described it (unsigned: for display and language only). */
export function launchUser() {
  return (tg && tg.initDataUnsafe && tg.initDataUnsafe.user) || null;
}

export function startParam() {
  return (tg && tg.initDataUnsafe && tg.initDataUnsafe.start_param) || "";
}

export function colorScheme() {
  return tg ? tg.colorScheme : "light";
}

export function onThemeChanged(callback) {
  if (tg) tg.onEvent("themeChanged", callback);
}

export function announceReady() {
  if (!tg) return;
  tg.ready();
  tg.expand();
}

let mainHandler = null;
let backHandler = null;

/** Show the MainButton with `text`; `onClick` replaces any previous handler. */
export function setMainButton(text, onClick, { active = true } = {}) {
  if (!tg) return;
  if (mainHandler) tg.MainButton.offClick(mainHandler);
  mainHandler = onClick;
  tg.MainButton.onClick(mainHandler);
  tg.MainButton.setParams({ text, is_visible: true, is_active: active });
}

export function setMainButtonActive(active) {
  if (tg && tg.MainButton.isVisible) tg.MainButton.setParams({ is_active: active });
}

export function setMainButtonBusy(busy) {
  if (!tg) return;
  if (busy) tg.MainButton.showProgress(false);
  else tg.MainButton.hideProgress();
}

export function hideMainButton() {
  if (!tg) return;
  if (mainHandler) tg.MainButton.offClick(mainHandler);
  mainHandler = null;
  tg.MainButton.hideProgress();
  tg.MainButton.hide();
}

export function setBackButton(onClick) {
  if (!tg) return;
  if (backHandler) tg.BackButton.offClick(backHandler);
  backHandler = onClick;
  if (onClick) {
    tg.BackButton.onClick(backHandler);
    tg.BackButton.show();
  } else {
    tg.BackButton.hide();
  }
}

export function resetChrome() {
  hideMainButton();
}

/** kind: "success" | "error" | "warning" (notification), "light" | "medium" | "heavy" (impact), "select". */
export function haptic(kind) {
  if (!tg || !tg.HapticFeedback || !tg.isVersionAtLeast("6.1")) return;
  try {
    if (kind === "success" || kind === "error" || kind === "warning") tg.HapticFeedback.notificationOccurred(kind);
    else if (kind === "select") tg.HapticFeedback.selectionChanged();
    else tg.HapticFeedback.impactOccurred(kind || "light");
  } catch (_) {
    /* haptics are a nicety */
  }
}

/** Close the Mini App (Telegram opens it again, with fresh initData, from the bot's button or menu). */
export function closeApp() {
  if (tg) tg.close();
}

/**
 * Telegram's popup with one destructive button (red) and Cancel: for what cannot be undone. Resolves true
 * only when the destructive button was pressed; falls back to window.confirm outside Telegram.
 */
export function confirmDestructive(title, message, action) {
  if (!tg || !tg.isVersionAtLeast("6.2")) return Promise.resolve(window.confirm(message));
  return new Promise((resolve) => {
    tg.showPopup(
      { title, message, buttons: [{ id: "go", type: "destructive", text: action }, { id: "", type: "cancel" }] },
      (id) => resolve(id === "go"),
    );
  });
}

/**
 * Telegram's popup with two choices, `yes` and `no` (both plain buttons: neither is a cancel); resolves true only
 * for `yes` (closing the popup is `no`). Falls back to window.confirm outside Telegram.
 */
export function askChoice(title, message, yes, no) {
  if (!tg || !tg.isVersionAtLeast("6.2")) return Promise.resolve(window.confirm(message));
  return new Promise((resolve) => {
    tg.showPopup(
      { title, message, buttons: [{ id: "no", type: "default", text: no }, { id: "yes", type: "default", text: yes }] },
      (id) => resolve(id === "yes"),
    );
  });
}

/** Telegram's confirm popup; falls back to window.confirm outside Telegram. */
export function confirmAction(message) {
  if (!tg || !tg.isVersionAtLeast("6.2")) return Promise.resolve(window.confirm(message));
  return new Promise((resolve) => tg.showConfirm(message, (ok) => resolve(Boolean(ok))));
}

/**
 * Open a Stars invoice; resolves with Telegram's status ("paid", "cancelled", "failed", "pending").
 * Callers must re-read the server afterwards: this status is only a hint for what to say.
 */
export function openInvoice(link) {
  if (!tg) return Promise.reject(new Error("payments need Telegram"));
  return new Promise((resolve, reject) => {
    try {
      tg.openInvoice(link, (status) => resolve(status || "unknown"));
    } catch (error) {
      reject(error);
    }
  });
}

/** Telegram's own share sheet for a t.me/share/url link; false when not available. */
export function openShare(shareUrl) {
  if (!tg) return false;
  try {
    tg.openTelegramLink(shareUrl);
    return true;
  } catch (_) {
    return false;
  }
}
