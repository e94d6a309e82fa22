/**
 * Inline mode in the chat: typing `@<bot> <words>` in the message box sends an inline_query through the webhook
 * (POST /sandbox/inline), and the pane above the box shows what the bot answered with answerInlineQuery: its
 * results, and the button above them when it gave one. Choosing a result is the message Telegram would send
 * "via @bot" into the chat; the button starts the bot with its parameter.
 */
import { sandbox } from "./sandbox_api.js";

const DEBOUNCE_MS = 350; // Telegram's clients, too, wait for a pause in typing

export class InlinePane {
  /** `onChoose(result)`: a result was chosen; `onStart(parameter)`: the button above the results was pressed. */
  constructor(pane, input, { onChoose, onStart, log }) {
    this.pane = pane;
    this.input = input;
    this.onChoose = onChoose;
    this.onStart = onStart;
    this.log = log;
    this.user = null;
    this.botUsername = "";
    this.timer = null;
    this.asked = 0;
    input.addEventListener("input", () => this.typed());
  }

  setBot(username, enabled) {
    this.botUsername = enabled ? username : "";
  }

  setUser(user) {
    this.user = user;
    this.close();
  }

  /** The words after `@<bot> `, or null when the box does not start with the bot's name. */
  query() {
    if (!this.botUsername) return null;
    const match = new RegExp(`^@${this.botUsername}(?:\\s+([\\s\\S]*))?$`, "i").exec(this.input.value);
    return match ? (match[1] || "") : null;
  }

  typed() {
    clearTimeout(this.timer);
    const query = this.query();
    if (query === null) {
      this.close();
      return;
    }
    this.timer = setTimeout(() => this.ask(query), DEBOUNCE_MS);
  }

  /** Put `@<bot> <query>` in the box and ask at once (what WebApp.switchInlineQuery does in the chosen chat). */
  insert(query) {
    this.input.value = `@${this.botUsername} ${query}`.trimEnd() + " ";
    this.input.focus();
    return this.ask(query);
  }

  async ask(query) {
    if (!this.user) return;
    const mine = ++this.asked;
    this.pane.hidden = false;
    this.pane.dataset.state = "loading";
    let answer;
    try {
      ({ answer } = await sandbox.inline(this.user.id, query.trim()));
    } catch (error) {
      this.log(`inline query failed: ${error.message}`);
      answer = null;
    }
    if (mine !== this.asked) return; // a newer query is on its way
    this.render(answer, query);
  }

  render(answer, query) {
    this.pane.replaceChildren();
    this.pane.dataset.state = answer ? "answered" : "unanswered";
    this.pane.dataset.query = query;
    if (!answer) {
      this.pane.append(note("The bot did not answer this inline query."));
      return;
    }
    if (answer.button) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "inline-results-button";
      button.id = "inline-results-button";
      button.textContent = answer.button.text;
      button.addEventListener("click", () => {
        this.close();
        this.onStart(answer.button.start_parameter);
      });
      this.pane.append(button);
    }
    const list = document.createElement("ul");
    list.className = "inline-results";
    list.id = "inline-results";
    for (const result of answer.results) {
      const item = document.createElement("li");
      item.className = "inline-result";
      item.dataset.id = result.id;
      item.tabIndex = 0;
      const title = document.createElement("strong");
      title.textContent = result.title || "";
      const description = document.createElement("span");
      description.className = "muted";
      description.textContent = result.description || "";
      item.append(title, description);
      const choose = () => {
        this.close();
        this.input.value = "";
        this.onChoose(result);
      };
      item.addEventListener("click", choose);
      item.addEventListener("keydown", (event) => { if (event.key === "Enter") choose(); });
      list.appendChild(item);
    }
    if (!answer.results.length && !answer.button) list.append(note("No results."));
    this.pane.append(list);
    this.log(`inline "${query}": ${answer.results.length} result(s), cache_time ${answer.cache_time}, personal ${answer.is_personal}`);
  }

  close() {
    clearTimeout(this.timer);
    this.asked++;
    this.pane.hidden = true;
    this.pane.replaceChildren();
  }
}

function note(text) {
  const node = document.createElement("p");
  node.className = "muted inline-note";
  node.textContent = text;
  return node;
}
