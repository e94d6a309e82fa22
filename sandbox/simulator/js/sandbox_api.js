/** The sandbox's /sandbox/* JSON endpoints, which play Telegram's servers for this page. */

async function call(method, path, body) {
  const init = { method, cache: "no-store", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const message = payload && payload.error ? payload.error.message : response.statusText;
    throw new Error(`${method} ${path}: ${message}`);
  }
  return payload;
}

const q = encodeURIComponent;

/** Whether a personal link still exists, asked as the Mini App asks: the real API, with the user's initData. */
async function linkExists(userId, code) {
  const { init_data: initData } = await call("GET", `/sandbox/initdata?user=${q(userId)}`);
  const response = await fetch(`/api/links/${q(code)}`, { cache: "no-store", headers: { Authorization: `tma ${initData}` } });
  if (response.status === 404) return false;
  if (!response.ok) throw new Error(`GET /api/links/${code}: ${response.status}`);
  return true;
}
export const sandbox = {
  users: () => call("GET", "/sandbox/users"),
  initData: (userId, startParam) =>
    call("GET", `/sandbox/initdata?user=${q(userId)}${startParam ? `&start_param=${q(startParam)}` : ""}`),
  chat: (userId) => call("GET", `/sandbox/chat?user=${q(userId)}`),
  send: (userId, text) => call("POST", "/sandbox/send", { user: userId, text }),
  press: (userId, messageId, data) => call("POST", "/sandbox/press", { user: userId, message_id: messageId, callback_data: data }),
  invoice: (slug) => call("GET", `/sandbox/invoice?slug=${q(slug)}`),
  pay: (userId, slug, confirm = true) => call("POST", "/sandbox/pay", { user: userId, slug, confirm }),
  clock: () => call("GET", "/sandbox/clock"),
  // Time passes: Pro subscriptions whose period ends on the way renew (or fail to, with `renewalsFail`).
  advance: (seconds, renewalsFail = false) =>
    call("POST", "/sandbox/clock", { advance_seconds: seconds, renewals_fail: renewalsFail }),
  linkExists,
  cron: () => call("POST", "/sandbox/cron"),
  // What Telegram does to the user's latest subscription: renewal, failed, canceled, active (Bot API 10.2).
  subscription: (userId, event) => call("POST", "/sandbox/subscription", { user: userId, event }),
  // Inline mode: an inline_query through the webhook, and the bot's answerInlineQuery.
  inline: (userId, query) => call("POST", "/sandbox/inline", { user: userId, query }),
  // A prepared message (savePreparedInlineMessage), as the share sheet shows it to the user it is for.
  prepared: (userId, id) => call("GET", `/sandbox/prepared?user=${q(userId)}&id=${q(id)}`),
};
