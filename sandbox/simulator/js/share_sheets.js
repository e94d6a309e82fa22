/**
 * What the Telegram app shows when a Mini App shares: the story composer (web_app_share_to_story), the chat
 * picker for a prepared message (web_app_send_prepared_message), and the chat picker that types `@bot <query>`
 * into a chat (web_app_switch_inline_query). Each answers the Mini App as Telegram does.
 */
import { sandbox } from "./sandbox_api.js";

const $ = (id) => document.getElementById(id);

// The chats the picker offers, per chat type a prepared message may go to (savePreparedInlineMessage's allow_*).
const CHATS = { users: "Bob (private chat)", groups: "Friends (group)", channels: "My channel", bots: "Some bot" };

/**
 * web_app_share_to_story {media_url, text?, widget_link?: {url, name?}}: the composer with the image Telegram
 * downloaded from media_url, the caption and the link widget. Telegram sends the Mini App nothing back.
 * Resolves to what happened: {posted, media_url, text, widget_link}.
 */
export function storyComposer(params, user) {
  const overlay = $("story-sheet");
  const image = $("story-image");
  const widget = $("story-widget");
  const note = $("story-note");
  image.removeAttribute("data-loaded");
  image.onload = () => { image.dataset.loaded = image.naturalWidth === 1080 && image.naturalHeight === 1920 ? "true" : "wrong-size"; };
  image.onerror = () => {
    image.dataset.loaded = "false";
    note.textContent = "Telegram could not download the media.";
  };
  image.src = params.media_url || "";
  $("story-text").textContent = params.text || "";
  note.textContent = "";
  const link = params.widget_link;
  widget.hidden = !link;
  if (link) {
    widget.textContent = `🔗 ${link.name || link.url}`;
    widget.dataset.url = link.url;
    widget.title = link.url;
    // Link widgets in stories are a Telegram Premium feature.
    if (!user.is_premium) note.textContent = "Link widgets need Telegram Premium: this story would lose its link.";
  }
  overlay.hidden = false;
  return new Promise((resolve) => {
    const finish = (posted) => {
      $("story-post").onclick = null;
      $("story-cancel").onclick = null;
      overlay.hidden = true;
      resolve({ posted, media_url: params.media_url, text: params.text || "", widget_link: link || null });
    };
    $("story-post").onclick = () => finish(true);
    $("story-cancel").onclick = () => finish(false);
  });
}

function messagePreview(result) {
  const node = document.createElement("div");
  node.className = "bubble bubble-in share-preview";
  const text = document.createElement("div");
  text.className = "bubble-text";
  text.textContent = (result.input_message_content && result.input_message_content.message_text) || result.title || "";
  node.appendChild(text);
  for (const row of (result.reply_markup && result.reply_markup.inline_keyboard) || []) {
    const rowNode = document.createElement("div");
    rowNode.className = "keyboard-row";
    for (const button of row) {
      const b = document.createElement("a");
      b.className = "inline-button";
      b.textContent = `${button.text}${button.url ? " ↗" : ""}`;
      if (button.url) b.dataset.url = button.url;
      rowNode.appendChild(b);
    }
    node.appendChild(rowNode);
  }
  return node;
}

/**
 * web_app_send_prepared_message {id}: the prepared message and the chats it may go to. Resolves to the event
 * Telegram sends back: ["prepared_message_sent", {}] or ["prepared_message_failed", {error}] (MESSAGE_EXPIRED for
 * an id that is unknown, expired or someone else's; USER_DECLINED when the sheet is closed).
 */
export async function preparedMessageSheet(userId, id) {
  let prepared;
  try {
    prepared = await sandbox.prepared(userId, id);
  } catch (_) {
    return ["prepared_message_failed", { error: "MESSAGE_EXPIRED" }];
  }
  const overlay = $("share-sheet");
  $("share-preview").replaceChildren(messagePreview(prepared.result));
  const chats = $("share-chats");
  chats.replaceChildren();
  prepared.chat_types.forEach((type, index) => {
    const label = document.createElement("label");
    label.className = "share-chat";
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "share-chat";
    radio.value = type;
    radio.checked = index === 0;
    label.append(radio, ` ${CHATS[type] || type}`);
    chats.appendChild(label);
  });
  overlay.hidden = false;
  return new Promise((resolve) => {
    const finish = (event) => {
      $("share-send").onclick = null;
      $("share-cancel").onclick = null;
      overlay.hidden = true;
      resolve(event);
    };
    $("share-send").onclick = () => {
      const chosen = chats.querySelector("input:checked");
      finish(["prepared_message_sent", {}, { chat: chosen ? CHATS[chosen.value] : "", result: prepared.result }]);
    };
    $("share-cancel").onclick = () => finish(["prepared_message_failed", { error: "USER_DECLINED" }]);
  });
}
