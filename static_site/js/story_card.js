/**
 * The story card, drawn on a canvas in the owner's own webview: a question (a card), or a question, a message
 * and the owner's answer; the Telegram theme's colours; the bot's name. 1080x1920 (a story's 9:16), JPEG.
 * The device's own fonts draw every script and emoji the owner can read, and nothing runs on a server.
 * Only what is passed in is drawn: never a sender's nickname, a hint, or a date.
 * Why here and not in a Lambda: docs/decisions/0013-story-cards.md.
 */

export const WIDTH = 1080;
export const HEIGHT = 1920;
export const JPEG_QUALITY = 0.86;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Color Emoji", sans-serif';
const MARGIN = 96;
const PAD = 72;

const FALLBACK_THEME = {
  bg_color: "#ffffff", text_color: "#1b1f24", hint_color: "#7d8b99", button_color: "#2481cc",
  button_text_color: "#ffffff", secondary_bg_color: "#eef2f6",
};

function colour(theme, key) {
  const value = theme && typeof theme[key] === "string" ? theme[key] : "";
  return /^#[0-9a-f]{6}$/i.test(value) ? value : FALLBACK_THEME[key];
}

/** `hex` mixed with black (amount < 0) or white (amount > 0), for the background's second stop. */
function shade(hex, amount) {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c) => Math.round(amount < 0 ? c * (1 + amount) : c + (255 - c) * amount);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(mix);
  return `rgb(${r}, ${g}, ${b})`;
}

/** Lines of at most `width` pixels in the current font; a word longer than a line is cut by characters. */
function wrap(ctx, text, width) {
  const lines = [];
  for (const paragraph of String(text).split(/\n+/)) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word;
      if (ctx.measureText(candidate).width <= width) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line);
      line = "";
      for (const char of Array.from(word)) {
        if (ctx.measureText(line + char).width > width && line) {
          lines.push(line);
          line = "";
        }
        line += char;
      }
    }
    if (line) lines.push(line);
  }
  return lines;
}

/** The largest size from `sizes` at which `text` fits `maxLines` lines of `width`; the last size is cut with "…". */
function fit(ctx, text, width, sizes, maxLines, weight) {
  for (const size of sizes) {
    ctx.font = `${weight} ${size}px ${FONT}`;
    const lines = wrap(ctx, text, width);
    if (lines.length <= maxLines) return { size, lines };
  }
  const size = sizes[sizes.length - 1];
  ctx.font = `${weight} ${size}px ${FONT}`;
  const lines = wrap(ctx, text, width).slice(0, maxLines);
  lines[maxLines - 1] = `${Array.from(lines[maxLines - 1]).slice(0, -2).join("").trimEnd()}…`;
  return { size, lines };
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

/** A block of text: {label?, text, sizes, maxLines, weight, colour, bubble?}, measured before it is drawn. */
function measureBlock(ctx, block, width) {
  const inner = block.bubble ? width - 2 * 40 : width;
  const { size, lines } = fit(ctx, block.text, inner, block.sizes, block.maxLines, block.weight);
  const labelHeight = block.label ? 56 : 0;
  const height = labelHeight + lines.length * Math.round(size * 1.25) + (block.bubble ? 2 * 36 : 0);
  return { ...block, size, lines, height, labelHeight };
}

function drawBlock(ctx, block, x, y, width, theme) {
  if (block.label) {
    ctx.font = `600 40px ${FONT}`;
    ctx.fillStyle = colour(theme, "hint_color");
    ctx.fillText(block.label, x, y + 40);
  }
  let top = y + block.labelHeight;
  let left = x;
  if (block.bubble) {
    ctx.fillStyle = colour(theme, "secondary_bg_color");
    roundRect(ctx, x, top, width, block.height - block.labelHeight, 36);
    ctx.fill();
    top += 36;
    left += 40;
  }
  ctx.font = `${block.weight} ${block.size}px ${FONT}`;
  ctx.fillStyle = block.colour;
  const step = Math.round(block.size * 1.25);
  block.lines.forEach((line, i) => ctx.fillText(line, left, top + step * (i + 0.8)));
}

/**
 * Draw a card. `card`: {emoji?, question?, message?, answer?, labels: {question, message, answer, cta}, botName}.
 * Resolves to {blob (image/jpeg), dataUrl (for a preview: the CSP allows data: images), lines (every text
 * drawn, in order, for the preview's alt text), millis (the time drawing and encoding took)}.
 */
export async function drawStoryCard(card, theme) {
  const started = performance.now();
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const ctx = canvas.getContext("2d");
  const accent = colour(theme, "button_color");
  const onAccent = colour(theme, "button_text_color");
  const drawn = [];

  const gradient = ctx.createLinearGradient(0, 0, WIDTH, HEIGHT);
  gradient.addColorStop(0, shade(accent, 0.18));
  gradient.addColorStop(1, shade(accent, -0.45));
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  ctx.fillStyle = "rgba(255, 255, 255, 0.08)";
  for (const [cx, cy, r] of [[920, 260, 260], [140, 1500, 320], [980, 1720, 180]]) {
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, Math.PI * 2);
    ctx.fill();
  }

  ctx.fillStyle = onAccent;
  ctx.textBaseline = "alphabetic";
  ctx.font = `800 72px ${FONT}`;
  ctx.fillText("Murmur", MARGIN, 200);
  drawn.push("Murmur");

  const width = WIDTH - 2 * MARGIN - 2 * PAD;
  const text = colour(theme, "text_color");
  const blocks = [];
  if (card.emoji && !card.answer) blocks.push({ text: card.emoji, sizes: [150], maxLines: 1, weight: 400, colour: text });
  if (card.question) {
    blocks.push({
      label: card.answer ? card.labels.question : null, text: card.question, weight: 800, colour: text,
      sizes: card.answer ? [60, 52, 44] : [84, 72, 62, 54], maxLines: card.answer ? 3 : 6,
    });
  }
  if (card.message) {
    blocks.push({ label: card.labels.message, text: card.message, weight: 500, colour: text, sizes: [50, 44, 38], maxLines: 8, bubble: true });
  }
  if (card.answer) {
    blocks.push({ label: card.labels.answer, text: card.answer, weight: 700, colour: text, sizes: [60, 52, 44, 38], maxLines: 7 });
  }
  const measured = blocks.map((block) => measureBlock(ctx, block, width));
  const gap = 48;
  const inner = measured.reduce((sum, b) => sum + b.height, 0) + gap * Math.max(0, measured.length - 1);
  const cardHeight = Math.min(inner + 2 * PAD, 1280);
  const cardTop = Math.round(300 + (1360 - cardHeight) / 2);
  ctx.fillStyle = "rgba(0, 0, 0, 0.18)";
  roundRect(ctx, MARGIN, cardTop + 16, WIDTH - 2 * MARGIN, cardHeight, 56);
  ctx.fill();
  ctx.fillStyle = colour(theme, "bg_color");
  roundRect(ctx, MARGIN, cardTop, WIDTH - 2 * MARGIN, cardHeight, 56);
  ctx.fill();
  let y = cardTop + PAD;
  for (const block of measured) {
    drawBlock(ctx, block, MARGIN + PAD, y, width, theme);
    if (block.label) drawn.push(block.label);
    drawn.push(block.lines.join(" "));
    y += block.height + gap;
  }

  // The call to action and the bot's name: where the link takes whoever sees the story.
  ctx.font = `700 50px ${FONT}`;
  const cta = card.labels.cta;
  const ctaWidth = Math.min(ctx.measureText(cta).width + 2 * 56, WIDTH - 2 * MARGIN);
  ctx.fillStyle = onAccent;
  roundRect(ctx, (WIDTH - ctaWidth) / 2, 1690, ctaWidth, 104, 52);
  ctx.fill();
  ctx.fillStyle = accent;
  ctx.textAlign = "center";
  ctx.fillText(cta, WIDTH / 2, 1760, WIDTH - 2 * MARGIN - 2 * 56);
  ctx.fillStyle = onAccent;
  ctx.font = `600 40px ${FONT}`;
  ctx.fillText(`@${card.botName}`, WIDTH / 2, 1862);
  ctx.textAlign = "start";
  drawn.push(cta, `@${card.botName}`);

  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("the story card could not be encoded"))), "image/jpeg", JPEG_QUALITY));
  const dataUrl = canvas.toDataURL("image/jpeg", 0.5);
  return { blob, dataUrl, lines: drawn, millis: Math.round(performance.now() - started) };
}

/** The base64 of a blob, for a JSON body. */
export function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
