/**
 * The chosen user's private chat with the bot: the bot's messages (polled from the fake Bot API),
 * their inline buttons, and what the user types. web_app buttons open the Mini App in the phone;
 * callback buttons send a callback_query through the webhook.
 */
import { sandbox } from "./sandbox_api.js";

const POLL_MS = 700;

export class ChatPane {
  /** `openWebApp(url)` launches a web_app button's URL; `log(text)` notes what happened. */
  constructor(logEl, form, input, { openWebApp, log }) {
    this.logEl = logEl;
    this.input = input;
    this.openWebApp = openWebApp;
    this.log = log;
    this.user = null;
    this.botMessages = [];
    this.outgoing = []; // {after: number of bot messages when sent, text}: the current user's, in `sentBy`
    this.sentBy = new Map(); // user id -> what they typed: each demo user's own side of their chat, kept
    this.rendered = "";
    this.timer = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendText(input.value);
    });
  }

  setUser(user) {
    this.user = user;
    this.botMessages = [];
    if (!this.sentBy.has(user.id)) this.sentBy.set(user.id, []);
    this.outgoing = this.sentBy.get(user.id);
    this.rendered = "";
    this.logEl.replaceChildren();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.refresh(), POLL_MS);
    return this.refresh();
  }

  async refresh() {
    if (!this.user) return;
    const userId = this.user.id;
    let answer;
    try {
      answer = await sandbox.chat(userId);
    } catch (error) {
      return; // the next poll tries again
    }
    if (!this.user || this.user.id !== userId) return;
    this.botMessages = answer.messages;
    this.render();
  }

  async sendText(raw) {
    const text = raw.trim();
    if (!text || !this.user) return;
    this.input.value = "";
    this.outgoing.push({ after: this.botMessages.length, text });
    this.render();
    try {
      const result = await sandbox.send(this.user.id, text);
      this.log(`you → bot: ${text} (webhook ${result.webhook_status})`);
    } catch (error) {
      this.log(`send failed: ${error.message}`);
    }
    await this.refresh();
  }

  render() {
    const key = JSON.stringify([this.botMessages, this.outgoing]);
    if (key === this.rendered) return;
    this.rendered = key;
    const nodes = [];
    const pushOutgoing = (count) => {
      for (const item of this.outgoing.filter((o) => o.after === count)) nodes.push(this.bubble("out", item.text));
    };
    pushOutgoing(0);
    this.botMessages.forEach((message, index) => {
      nodes.push(this.botBubble(message));
      pushOutgoing(index + 1);
    });
    for (const item of this.outgoing.filter((o) => o.after > this.botMessages.length)) nodes.push(this.bubble("out", item.text));
    if (!nodes.length) {
      const empty = document.createElement("p");
      empty.className = "muted chat-empty";
      empty.textContent = "No messages yet. Send /start to begin.";
      nodes.push(empty);
    }
    this.logEl.replaceChildren(...nodes);
    this.logEl.scrollTop = this.logEl.scrollHeight;
  }

  bubble(direction, text) {
    const node = document.createElement("div");
    node.className = `bubble bubble-${direction}`;
    const body = document.createElement("div");
    body.className = "bubble-text";
    body.textContent = text;
    node.appendChild(body);
    return node;
  }

  botBubble(message) {
    if (message.gift) return this.giftBubble(message);
    let text = message.text || message.caption || "";
    if (message.invoice) text = `🧾 ${message.invoice.title}: ${message.invoice.total_amount} ⭐\n${message.invoice.description}`;
    const node = this.bubble("in", text);
    node.dataset.messageId = String(message.message_id);
    const keyboard = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
    for (const row of keyboard) {
      const rowNode = document.createElement("div");
      rowNode.className = "keyboard-row";
      for (const button of row) rowNode.appendChild(this.keyboardButton(message, button));
      node.appendChild(rowNode);
    }
    return node;
  }

  /** A real Telegram gift the bot sent (sendGift): the chat shows it as a gift card, from the bot, with its text. */
  giftBubble(message) {
    const info = message.gift;
    const node = document.createElement("div");
    node.className = "bubble bubble-in bubble-gift";
    node.dataset.messageId = String(message.message_id);
    node.dataset.giftId = String(info.gift.id);
    const sticker = document.createElement("div");
    sticker.className = "gift-sticker";
    sticker.setAttribute("aria-hidden", "true");
    sticker.textContent = (info.gift.sticker && info.gift.sticker.emoji) || "🎁";
    const title = document.createElement("div");
    title.className = "gift-title";
    title.textContent = `${message.from.first_name} sent you a gift`;
    const worth = document.createElement("div");
    worth.className = "muted gift-worth";
    worth.textContent = `${info.gift.star_count} ⭐${info.can_be_upgraded ? " · can be upgraded" : ""}`;
    node.append(sticker, title, worth);
    if (info.text) {
      const text = document.createElement("div");
      text.className = "bubble-text gift-text";
      text.textContent = info.text;
      node.appendChild(text);
    }
    return node;
  }

  keyboardButton(message, button) {
    const node = document.createElement("button");
    node.type = "button";
    node.className = "inline-button";
    node.textContent = button.text + (button.web_app ? " ↗" : "");
    node.addEventListener("click", async () => {
      if (button.web_app) {
        this.openWebApp(button.web_app.url);
      } else if (button.callback_data) {
        try {
          const result = await sandbox.press(this.user.id, message.message_id, button.callback_data);
          this.log(`pressed “${button.text}” (webhook ${result.webhook_status})`);
        } catch (error) {
          this.log(`press failed: ${error.message}`);
        }
        await this.refresh();
      } else if (button.url) {
        this.log(`would open ${button.url}`);
      }
    });
    return node;
  }
}
