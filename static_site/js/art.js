/**
 * Murmur's small visual identity, drawn inline so it follows Telegram's theme in light and dark: the mark (a
 * speech bubble holding a murmur's three soft waves), the wordmark, and one illustration per main state (empty
 * inbox, sent, erased, error, expired session, outside Telegram). Every colour is a CSS class over the theme's
 * variables (`.art-*` in app.css); nothing here is an image file, and each drawing is a few hundred bytes.
 */

const NS = "http://www.w3.org/2000/svg";

/** svg("path", {d: "..."}, ...children): an SVG element, attributes set as given. */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) if (child) node.appendChild(child);
  return node;
}

function drawing(className, viewBox, ...shapes) {
  return svg("svg", { class: className, viewBox, "aria-hidden": "true", focusable: "false" }, ...shapes);
}

/** The bubble and its waves, in a 48×48 box: the mark, and the heart of every illustration. */
function bubble(x = 0, y = 0, scale = 1) {
  return svg("g", { transform: `translate(${x} ${y}) scale(${scale})` },
    svg("path", { class: "art-accent", d: "M8 6h32a6 6 0 0 1 6 6v20a6 6 0 0 1-6 6H20l-9 7v-7H8a6 6 0 0 1-6-6V12a6 6 0 0 1 6-6z" }),
    svg("path", { class: "art-on-accent", d: "M13 22c3-5 6-5 9 0s6 5 9 0 6-5 5-2", fill: "none", "stroke-width": 3, "stroke-linecap": "round" }));
}

/** The mark alone (favicon-sized and up). */
export function logo(className = "art-logo") {
  return drawing(className, "0 0 48 48", bubble());
}

/** The mark and the name, for the top of the inbox. */
export function wordmark() {
  const node = document.createElement("span");
  node.className = "wordmark";
  node.append(logo("art-logo wordmark-mark"));
  const name = document.createElement("span");
  name.className = "wordmark-name";
  name.textContent = "Murmur";
  node.append(name);
  return node;
}

const SCENES = {
  // An open envelope waiting, the bubble rising out of it.
  empty: () => [
    svg("rect", { class: "art-line", x: 24, y: 58, width: 72, height: 44, rx: 6 }),
    svg("path", { class: "art-line", d: "M24 64l36 24 36-24" }),
    bubble(38, 20, 0.9),
  ],
  // The bubble sent off, with a check under it.
  sent: () => [
    bubble(30, 12, 1.25),
    svg("path", { class: "art-ok", d: "M44 92l10 10 22-22", "stroke-width": 6, "stroke-linecap": "round", "stroke-linejoin": "round" }),
  ],
  // An empty tray: nothing left.
  erased: () => [
    svg("path", { class: "art-line", d: "M26 66h20l6 12h16l6-12h20v26a6 6 0 0 1-6 6H32a6 6 0 0 1-6-6z" }),
    svg("path", { class: "art-line", d: "M40 50l6-18h28l6 18", "stroke-dasharray": "4 5" }),
  ],
  // The bubble with a break in its waves, and a warning dot.
  error: () => [
    bubble(30, 22, 1.25),
    svg("circle", { class: "art-warn", cx: 88, cy: 30, r: 12 }),
    svg("path", { class: "art-on-accent", d: "M88 23v8M88 36v1", "stroke-width": 3, "stroke-linecap": "round" }),
  ],
  // An hourglass beside the bubble: the session ran out.
  expired: () => [
    bubble(16, 30, 1),
    svg("path", { class: "art-line", d: "M76 28h28M76 92h28M80 28c0 20 20 20 20 32s-20 12-20 32M100 28c0 20-20 20-20 32s20 12 20 32" }),
  ],
  // A phone with the bubble on its screen: open Murmur in Telegram.
  outside: () => [
    svg("rect", { class: "art-line", x: 34, y: 14, width: 52, height: 92, rx: 10 }),
    svg("path", { class: "art-line", d: "M52 96h16" }),
    bubble(38, 36, 0.9),
  ],
};

/** The illustration for a main state: "empty", "sent", "erased", "error", "expired" or "outside". */
export function illustration(kind) {
  const scene = SCENES[kind] || SCENES.empty;
  return drawing(`art art-${kind}`, "0 0 120 120",
    svg("circle", { class: "art-backdrop", cx: 60, cy: 60, r: 58 }), ...scene());
}
