/**
 * The "Telegram sheet" panel's links: what Telegram would open for a t.me link the Mini App opens (a share sheet,
 * or the link itself), as each demo user last saw it on their own device. A link to a Murmur inbox carries its
 * `startapp`; "Copy link" copies exactly that, which is what the start_param field (and Telegram) need to open it.
 * A link that no longer exists (its owner erased their data) is forgotten when the sheet is looked at again: on
 * switching users, opening or closing the Mini App.
 */
import { sandbox } from "./sandbox_api.js";

const PLACEHOLDER = "Links the Mini App opens (share, t.me) appear here.";
const LINK_CODE = /^[A-Za-z0-9]{12}/;

/** The start_param a t.me link opens the Mini App with (its `startapp`), or "" for any other link. */
export function startParamOfLink(url) {
  let parsed;
  try {
    parsed = new URL(url, "https://t.me");
  } catch (_) {
    return "";
  }
  if (parsed.hostname !== "t.me") return "";
  if (parsed.pathname === "/share/url") return startParamOfLink(parsed.searchParams.get("url") || "");
  return parsed.searchParams.get("startapp") || "";
}

export class TelegramSheet {
  /** `box`: the panel; `log(text)`: the event log. */
  constructor(box, log) {
    this.box = box;
    this.log = log;
    this.user = null;
    this.seen = new Map(); // user id -> the last link Telegram opened for them
    this.shown = null; // {url, startParam, node} while the panel shows a link of ours
  }

  /** Telegram opened `url` for the current user. */
  show(url) {
    if (this.user) this.seen.set(this.user.id, url);
    this.render(url);
    this.log(`opened ${url}`);
  }

  /** Another user picked up the phone: their own last link, if it still exists. */
  async setUser(user) {
    this.user = user;
    const url = this.seen.get(user.id);
    if (url) this.render(url);
    else this.clear();
    await this.review();
  }

  /** Forget the link shown if it no longer exists (its inbox was erased), for whoever is looking. */
  async review() {
    const shown = this.shown;
    if (!shown || !this.box.contains(shown.node) || !this.user) return;
    const code = (LINK_CODE.exec(shown.startParam) || [""])[0];
    if (!code) return;
    const userId = this.user.id;
    let exists;
    try {
      exists = await sandbox.linkExists(userId, code);
    } catch (_) {
      return; // not known now: keep it
    }
    if (exists || this.shown !== shown || !this.user || this.user.id !== userId) return;
    this.seen.delete(userId);
    this.clear();
    this.log(`forgot ${shown.url}: that link no longer exists`);
  }

  clear() {
    this.shown = null;
    this.box.replaceChildren(document.createTextNode(PLACEHOLDER));
    this.box.classList.add("muted");
    delete this.box.dataset.kind;
  }

  render(url) {
    const box = this.box;
    box.classList.remove("muted");
    const parsed = new URL(url, "https://t.me");
    const title = document.createElement("strong");
    const detail = document.createElement("p");
    detail.className = "tg-sheet-detail";
    if (parsed.hostname === "t.me" && parsed.pathname === "/share/url") {
      title.textContent = "Share sheet: choose a chat to send";
      detail.textContent = `${parsed.searchParams.get("text") || ""}\n${parsed.searchParams.get("url") || ""}`;
      box.dataset.kind = "share";
    } else {
      title.textContent = "Telegram would open";
      detail.textContent = url;
      box.dataset.kind = "link";
    }
    const node = document.createElement("div");
    node.className = "tg-sheet-link";
    node.append(title, detail);
    const startParam = startParamOfLink(url);
    if (startParam) node.append(this.copyButton(startParam));
    box.replaceChildren(node);
    this.shown = { url, startParam, node };
  }

  copyButton(startParam) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-ghost";
    button.id = "tg-sheet-copy";
    button.dataset.startParam = startParam;
    button.textContent = "Copy link";
    button.title = "Copies the start_param this link opens the Mini App with";
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(startParam);
        button.textContent = `Copied: ${startParam}`;
      } catch (_) {
        button.textContent = startParam; // select it by hand
      }
      this.log(`copied start_param ${startParam}`);
    });
    return button;
  }
}
