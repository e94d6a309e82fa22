/**
 * What the Telegram app draws over a Mini App: the Stars payment sheet and popups (showPopup,
 * showConfirm, showAlert). Each returns a promise of what the user chose.
 */
import { sandbox } from "./sandbox_api.js";

const $ = (id) => document.getElementById(id);

function formatPeriod(seconds) {
  if (!seconds) return "";
  return `every ${Math.round(seconds / 86400)} days`;
}

/**
 * Show the invoice `slug` and let the user pay as `userId`.
 * Pay drives pre_checkout_query -> successful_payment through the webhook (POST /sandbox/pay).
 * Resolves to the status for `invoice_closed`: "paid", "cancelled" or "failed".
 */
export async function paymentSheet(userId, slug) {
  let invoice;
  try {
    invoice = await sandbox.invoice(slug);
  } catch (error) {
    console.error(error);
    return "failed";
  }
  const overlay = $("sheet");
  $("sheet-title").textContent = invoice.title;
  $("sheet-description").textContent = invoice.description;
  $("sheet-amount").textContent = String(invoice.amount);
  $("sheet-period").textContent = formatPeriod(invoice.subscription_period);
  $("sheet-error").textContent = "";
  const pay = $("sheet-pay");
  const cancel = $("sheet-cancel");
  pay.hidden = false;
  pay.disabled = false;
  pay.textContent = `Pay ${invoice.amount} ⭐`;
  cancel.textContent = "Cancel";
  cancel.disabled = false;
  overlay.hidden = false;

  return new Promise((resolve) => {
    let failed = false;
    const finish = (status) => {
      pay.onclick = null;
      cancel.onclick = null;
      overlay.hidden = true;
      resolve(status);
    };
    cancel.onclick = () => finish(failed ? "failed" : "cancelled");
    pay.onclick = async () => {
      pay.disabled = true;
      cancel.disabled = true;
      pay.textContent = "Paying…";
      let outcome;
      try {
        outcome = await sandbox.pay(userId, slug);
      } catch (error) {
        outcome = { status: "failed", error_message: String(error.message || error) };
      }
      if (outcome.status === "paid") {
        finish("paid");
        return;
      }
      failed = true;
      $("sheet-error").textContent = outcome.error_message || "The payment failed.";
      pay.hidden = true;
      cancel.disabled = false;
      cancel.textContent = "Close";
    };
  });
}

/** web_app_open_popup: {title?, message, buttons: [{id, type, text?}]}; resolves to the pressed id. */
export function popup(params) {
  const overlay = $("popup");
  $("popup-title").textContent = params.title || "";
  $("popup-message").textContent = params.message || "";
  const box = $("popup-buttons");
  box.replaceChildren();
  const labels = { ok: "OK", close: "Close", cancel: "Cancel" };
  return new Promise((resolve) => {
    for (const button of params.buttons || [{ id: "", type: "close" }]) {
      const node = document.createElement("button");
      node.type = "button";
      node.className = `btn ${button.type === "destructive" ? "btn-danger" : button.type === "cancel" ? "btn-ghost" : ""}`;
      node.dataset.buttonId = button.id || "";
      node.dataset.type = button.type;
      node.textContent = button.text || labels[button.type] || button.type;
      node.addEventListener("click", () => {
        overlay.hidden = true;
        resolve(button.id || "");
      });
      box.appendChild(node);
    }
    overlay.hidden = false;
  });
}
