/**
 * Building DOM nodes without HTML strings: every piece of text goes in through a Text node, so a
 * message such as `<img src=x onerror=...>` is shown as characters and never parsed as markup.
 */

/**
 * el("button", {class: "btn", onclick: fn, "data-id": 3}, "Text", otherNode)
 * Strings and numbers become Text nodes; null/false children are skipped; arrays are flattened.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else if (name === "text") {
      node.textContent = String(value);
    } else if (name in node && typeof value !== "string") {
      node[name] = value; // properties such as checked, disabled, maxLength
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything inside `parent` with `children`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}
