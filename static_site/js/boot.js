/**
 * Loads Telegram's SDK, then the app.
 *
 * In production the SDK must come from telegram.org (Telegram updates it with the clients); on a
 * laptop and in the tests there is no network, so the sandbox serves the npm copy of the same file.
 * Choosing here keeps index.html free of inline script (the CSP forbids it).
 */
export const PRODUCTION_SDK = "https://telegram.org/js/telegram-web-app.js";
export const LOCAL_SDK = "/sdk/telegram-web-app.js";
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function sdkUrl(hostname) {
  return LOCAL_HOSTS.has(hostname) ? LOCAL_SDK : PRODUCTION_SDK;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(script);
  });
}

loadScript(sdkUrl(location.hostname))
  .catch((error) => console.error(error)) // main.js shows "open in Telegram" without the SDK
  .then(() => import("./main.js"))
  .then((main) => main.start());
