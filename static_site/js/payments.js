/**
 * Paying through Telegram and then asking the server what happened.
 *
 * The client's `invoiceClosed` status is never proof of payment: access is granted only when the
 * bot receives `successful_payment`. After the sheet closes we read the order from the API; if
 * Telegram said "paid" but the server has not seen the payment yet, we ask again a few times.
 */
import { openInvoice } from "./telegram.js";

const SETTLE_ATTEMPTS = 5;
const SETTLE_DELAY_MS = 700;

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens the invoice of `invoice` ({order_id, invoice_link}); resolves to the server's order status. */
export async function payInvoice(api, invoice) {
  const clientStatus = await openInvoice(invoice.invoice_link);
  let order = await api.orderStatus(invoice.order_id);
  for (let attempt = 1; attempt < SETTLE_ATTEMPTS && order.status === "pending" && clientStatus === "paid"; attempt++) {
    await wait(SETTLE_DELAY_MS);
    order = await api.orderStatus(invoice.order_id);
  }
  return { serverStatus: order.status, clientStatus };
}

/** Creates an order for `product` (priced by the server) and pays it. */
export async function buy(api, product, messageId) {
  const invoice = await api.order(product, messageId);
  return payInvoice(api, invoice);
}
