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

export function createApi(initData, fetchImpl = window.fetch.bind(window)) {
  async function request(method, path, body) {
    const headers = { Authorization: `tma ${initData}` };
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
    link: (code) => request("GET", `/api/links/${enc(code)}`),
    send: (code, { text, gift, showNickname }) =>
      request("POST", `/api/links/${enc(code)}/messages`, {
        text,
        ...(gift ? { gift } : {}),
        show_nickname: Boolean(showNickname),
      }),
    inbox: (cursor) => request("GET", cursor ? `/api/inbox?cursor=${enc(cursor)}` : "/api/inbox"),
    message: (id) => request("GET", `/api/messages/${enc(id)}`),
    reply: (id, text) => request("POST", `/api/messages/${enc(id)}/reply`, { text }),
    block: (id) => request("POST", `/api/messages/${enc(id)}/block`),
    report: (id, reason) => request("POST", `/api/messages/${enc(id)}/report`, { reason }),
    order: (product, messageId) =>
      request("POST", "/api/orders", messageId ? { product, message_id: messageId } : { product }),
    orderStatus: (orderId) => request("GET", `/api/orders/${enc(orderId)}`),
    cancelPro: () => request("POST", "/api/plan/pro/cancel"),
    resumePro: () => request("POST", "/api/plan/pro/resume"),
    catalog: () => request("GET", "/api/catalog"),
  };
}
