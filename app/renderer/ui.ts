// Small DOM helpers of the renderer (app/renderer): element creation with text content only (no
// innerHTML of data: file names and messages are never parsed as HTML) and the error panel.

/** Creates an element with attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k.startsWith('data-')) el.setAttribute(k, String(v));
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** Options of a select, with the selected value kept when possible. */
export function setOptions(sel: HTMLSelectElement, options: { value: string; label: string }[]): void {
  const keep = sel.value;
  sel.replaceChildren(...options.map((o) => h('option', { value: o.value }, o.label)));
  if (options.some((o) => o.value === keep)) sel.value = keep;
}

/** The error panel: readable messages, each dismissible; never a blank window. */
export class ErrorPanel {
  readonly messages: string[] = [];
  constructor(private readonly root: HTMLElement) {}

  show(title: string, message: string): void {
    const text = `${title}: ${message}`;
    this.messages.push(text);
    const close = h('button', { class: 'dismiss', title: 'dismiss' }, '\u00d7');
    const item = h('div', { class: 'error', role: 'alert', 'data-testid': 'error' }, h('strong', {}, title), h('pre', {}, message), close);
    close.addEventListener('click', () => item.remove());
    this.root.append(item);
    while (this.root.children.length > 6) this.root.firstElementChild?.remove();
  }
}
