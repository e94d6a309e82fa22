/**
 * The Murmur API client. Every call carries `Authorization: tma <initData>`; the server checks the
 * signature, so nothing here is trusted by it. Errors arrive as `{"error": {"code", "message"}}`.
 */

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * A fresh `Idempotency-Key` for one composed message: the server answers a retry that carries the same key
 * with the first result, so a message is stored once however often it is sent again.
 */
export function newIdempotencyKey() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function createApi(initData, fetchImpl = window.fetch.bind(window)) {
  async function request(method, path, body, extraHeaders = {}) {
    const headers = { Authorization: `tma ${initData}`, ...extraHeaders };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetchImpl(path, init);
    } catch (error) {
      throw new ApiError(0, "network", String(error && error.message ? error.message : error));
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    if (!response.ok) {
      const detail = payload && payload.error ? payload.error : {};
      throw new ApiError(response.status, detail.code || "http_" + response.status, detail.message || response.statusText);
    }
    return payload;
  }

  const enc = encodeURIComponent;
  return {
    me: () => request("GET", "/api/me"),
    setAccepting: (accepts) => request("PATCH", "/api/me", { accepts_messages: accepts }),
    setLimits: (limits) => request("PATCH", "/api/me", limits),
    deleteMe: () => request("DELETE", "/api/me"),
    link: (code, card) => request("GET", card ? `/api/links/${enc(code)}?card=${enc(card)}` : `/api/links/${enc(code)}`),
    send: (code, { text, gift, telegramGift, showNickname, card, idempotencyKey }) =>
      request("POST", `/api/links/${enc(code)}/messages`, {
        text,
        ...(gift ? { gift } : {}),
        ...(telegramGift ? { telegram_gift: telegramGift } : {}),
        show_nickname: Boolean(showNickname),
        ...(card ? { card } : {}),
      }, idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {}),
    cards: () => request("GET", "/api/cards"),
    setQuestion: (text) => request("PUT", "/api/me/question", { text }),
    clearQuestion: () => request("DELETE", "/api/me/question"),
    unlockWithCredit: (id) => request("POST", `/api/messages/${enc(id)}/unlock-with-credit`),
    inbox: (cursor) => request("GET", cursor ? `/api/inbox?cursor=${enc(cursor)}` : "/api/inbox"),
    message: (id) => request("GET", `/api/messages/${enc(id)}`),
    reply: (id, text) => request("POST", `/api/messages/${enc(id)}/reply`, { text }),
    block: (id) => request("POST", `/api/messages/${enc(id)}/block`),
    report: (id, reason) => request("POST", `/api/messages/${enc(id)}/report`, { reason }),
    order: (product, messageId) =>
      request("POST", "/api/orders", messageId ? { product, message_id: messageId } : { product }),
    orderStatus: (orderId) => request("GET", `/api/orders/${enc(orderId)}`),
    cancelOrder: (orderId) => request("DELETE", `/api/orders/${enc(orderId)}`),
    cancelPro: () => request("POST", "/api/plan/pro/cancel"),
    resumePro: () => request("POST", "/api/plan/pro/resume"),
    catalog: () => request("GET", "/api/catalog"),
    // Sharing beyond the bot's chat (share.js): a prepared message for WebApp.shareMessage, a story card image.
    prepareShare: (card) => request("POST", "/api/share/prepared", { card }),
    story: (imageBase64) => request("POST", "/api/stories", { image: imageBase64 }),
  };
}
