/**
 * Hash routes: #/ inbox, #/m/<id>, #/send/<code>[-<card>], #/plans, #/settings.
 *
 * Telegram appends its launch parameters to the hash (`#tgWebAppData=...`, or `#/m/1?tgWebAppData=...`
 * when the button URL already has a hash); the SDK has read them by the time this runs, so the route
 * is whatever comes before them.
 */

const ROUTES = [
  ["inbox", /^\/?$/],
  ["message", /^\/m\/(\d{13}[0-9a-f]{8})$/],
  ["send", /^\/send\/([^/?]*)$/], // any code: the send screen says when a link does not exist
  ["plans", /^\/plans$/],
  ["settings", /^\/settings$/],
];

/** {name, param} for a location.hash; unknown paths are the inbox. */
export function parseRoute(hash) {
  let path = String(hash || "").replace(/^#/, "");
  if (path.includes("=") && !path.startsWith("/")) path = ""; // only launch parameters
  path = path.split("?")[0];
  for (const [name, pattern] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { name, param: match[1] === undefined ? null : decodeParam(match[1]) };
  }
  return { name: "inbox", param: null };
}

/** A send route's param, `<code>` or `<code>-<card>` (a question card's link), as {code, card}. */
export function splitLinkParam(param) {
  const [code, ...rest] = String(param || "").split("-");
  return { code, card: rest.length ? rest.join("-") : null };
}

function decodeParam(raw) {
  try {
    return decodeURIComponent(raw);
  } catch (_) {
    return raw;
  }
}

export function hrefOf(name, param) {
  switch (name) {
    case "message": return `#/m/${param}`;
    case "send": return `#/send/${param}`;
    case "plans": return "#/plans";
    case "settings": return "#/settings";
    default: return "#/";
  }
}

export function navigate(name, param) {
  const target = hrefOf(name, param);
  if (location.hash !== target) location.hash = target;
}

/** Calls onRoute(route) now and on every hash change. */
export function startRouter(onRoute) {
  window.addEventListener("hashchange", () => onRoute(parseRoute(location.hash)));
  onRoute(parseRoute(location.hash));
}
