// Small DOM builders shared by the panel views. Everything that shows data from outside goes
// through `textContent` (via `h`), never through HTML strings, so a symbol or an exchange
// message can never become markup.
import { sign } from '../format.js';

/**
 * Makes an element. `attrs` keys: `class`, `text`, `on<event>` handlers, `dataset` (object),
 * booleans (set when true, left out when false) and any other attribute as a string.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function header(t, panel) {
  return [h('h1', { text: t(`${panel}.title`) }), h('p', { class: 'lead', text: t(`${panel}.lead`) })];
}

export function card(title, ...children) {
  return h('div', { class: 'card' }, title ? h('h2', { text: title }) : null, ...children);
}

/**
 * A labelled form control with its help line and an error slot right under it. The control
 * gets `id` and `aria-describedby` so a screen reader reads the help and the error too.
 */
export function field(label, control, { help, testid } = {}) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const errorId = `${id}-error`;
  const helpId = `${id}-help`;
  control.setAttribute('aria-describedby', help ? `${helpId} ${errorId}` : errorId);
  const isCheck = control.type === 'checkbox';
  return h('div', { class: isCheck ? 'field check' : 'field', 'data-testid': testid },
    isCheck ? h('label', { for: id }, control, h('span', { text: label }))
      : [h('label', { for: id, text: label }), control],
    help ? h('small', { class: 'help', id: helpId, text: help }) : null,
    h('div', { class: 'field-error', id: errorId, 'data-error-for': id, role: 'alert' }));
}

export function input(name, attrs = {}) {
  return h('input', { name, id: attrs.id ?? `in-${name}`, type: 'text', autocomplete: 'off', ...attrs });
}

export function select(name, options, attrs = {}) {
  return h('select', { name, id: attrs.id ?? `in-${name}`, ...attrs },
    options.map(([value, label]) => h('option', { value, text: label })));
}

export function button(text, attrs = {}) {
  return h('button', { type: 'button', class: 'btn', text, ...attrs });
}

/** Shows `message` in the error slot of the control `control` (or clears it). */
export function setFieldError(control, message) {
  const slot = document.getElementById(`${control.id}-error`);
  if (slot) slot.textContent = message ?? '';
  if (message) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
}

export function clearFieldErrors(root) {
  for (const slot of root.querySelectorAll('.field-error')) slot.textContent = '';
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * Puts an `InvalidInput`/`Conflict` message next to the field it names. The backend starts
 * its message with the field (`max_total_notional: must be at least max_position_notional`),
 * so the name found earliest wins, and the longer one on a tie. Returns whether one matched.
 */
export function errorToField(t, err, controlsByName) {
  const msg = err.message.toLowerCase();
  let best = null;
  for (const name of Object.keys(controlsByName)) {
    const n = name.toLowerCase();
    const at = [msg.indexOf(n), msg.indexOf(n.replace(/_/g, ' '))].filter((i) => i >= 0);
    if (!at.length) continue;
    const index = Math.min(...at);
    if (!best || index < best.index || (index === best.index && name.length > best.name.length)) best = { name, index };
  }
  if (!best) return false;
  setFieldError(controlsByName[best.name], describeError(t, err));
  controlsByName[best.name].focus();
  return true;
}

/** "输入有误：leverage must be…": the code in words, then the backend's own sentence. */
export function describeError(t, err) {
  const code = err?.code ?? 'Internal';
  const words = t(`code.${code}`);
  const rule = err?.rule ? ` [${err.rule}]` : '';
  return `${words === `code.${code}` ? code : words}${rule}: ${err?.message ?? ''}`;
}

/** A status line next to a button: `kind` is ok, error or info. */
export function setStatus(node, kind, text) {
  node.dataset.kind = kind;
  node.textContent = text ?? '';
}

/** A table with translated headers; `rows` are arrays of cells (strings or nodes). */
export function table(t, headers, rows, { testid, empty = 'table.empty' } = {}) {
  const body = rows.length
    ? rows.map((cells) => h('tr', {}, cells.map((c) => (c instanceof Node && c.tagName === 'TD' ? c : h('td', {}, c)))))
    : [h('tr', {}, h('td', { class: 'empty', colspan: headers.length, text: t(empty) }))];
  return h('div', { class: 'table-wrap' }, h('table', { 'data-testid': testid },
    h('thead', {}, h('tr', {}, headers.map((k) => h('th', { scope: 'col', text: t(k) })))),
    h('tbody', {}, body)));
}

/** UTC time as `2026-11-25 14:05`, the way the exchange's records are kept. */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return '—';
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * A number formatted by `ctx.fmt` (ui/js/format.js) whose tooltip is the exact value the
 * backend sent, so rounding for the eye never hides a digit; `data-value` always holds it,
 * for tests and tools that check sums.
 */
export function num(text, exact) {
  const plainExact = exact === null || exact === undefined || exact === '' ? null : String(exact);
  return h('span', {
    class: 'num', title: plainExact !== null && plainExact !== text ? plainExact : null, 'data-value': plainExact, text,
  });
}

/**
 * A signed amount formatted by `ctx.fmt` (`{ signed: true }`) with an up/down class; the sign
 * carries the meaning, not colour. The tooltip has the exact value.
 */
export function pnlCell(text, exact) {
  const cell = num(text, exact);
  if (text.startsWith('-')) cell.classList.add('down');
  else if (text.startsWith('+')) cell.classList.add('up');
  return cell;
}

/** A positive decimal string as the exchange accepts it (no exponent, no sign). */
export const DECIMAL_RE = /^(?:\d+)(?:\.\d+)?$/;
export function isPositiveDecimal(s) {
  return DECIMAL_RE.test(s) && sign(s) === 1;
}

/** A translated word for an exchange value (`state.FILLED`), or the value itself if unknown. */
export function word(t, prefix, value) {
  if (value === null || value === undefined) return '—';
  const key = `${prefix}.${value}`;
  const r = t(key);
  return r === key ? String(value) : r;
}

/** Replaces `section`'s children, skipping the null/false left by conditional parts. */
export function fill(section, ...children) {
  section.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/**
 * `draw` wrapped so that any number of calls within one frame draw once, at the next frame:
 * a burst of events (a replayed day brings hundreds a second) costs one redraw.
 */
export function oncePerFrame(draw, what = 'redraw') {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      const start = performance.now();
      draw();
      noteSlow(what, start);
    });
  };
}

/** Work that holds the page's thread for longer than this (ms, one frame) is kept. */
const SLOW_MS = 16;
let slowKept = 0;

/**
 * Keeps the work on the page's thread from `start` to `end` (`performance.now()` times; `end`
 * is now unless given) as a `performance` measure named `perpdesk:slow:<what>` when it took
 * longer than a frame: the desktop measurement (tests/e2e/examples/desktop_perf.rs) names the
 * work inside each long frame from them. At most 200 are kept.
 */
export function noteSlow(what, start, end = performance.now()) {
  if (end - start <= SLOW_MS) return;
  if (++slowKept > 200) {
    // The page makes no other measures (its start's steps are marks), so all of them go.
    performance.clearMeasures();
    slowKept = 1;
  }
  performance.measure(`perpdesk:slow:${what}`, { start, end });
}
