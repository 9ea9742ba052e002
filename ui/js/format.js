// Every number the dashboard draws is formatted here, so a trader reads the same precision in
// every panel. The backend sends money, prices and quantities as exact decimal strings; they
// are rounded here as decimal digits (BigInt), never through a float, and the exact value stays
// in the data, the exports and the `title` tooltip (see `num`/`pnlCell` in views/common.js).
//
// The rules:
// - A price is rounded to its symbol's tick size (`tick_size`, e.g. "0.10": 21,178.7), a
//   quantity to its step size (`step_size`, e.g. "0.001": 0.010), half away from zero, with
//   as many decimals as the tick or step has.
// - Without a tick size, a price keeps at most 8 significant digits (21178.65358223 →
//   21,178.654) and never more decimals than it was sent with; without a step size, a
//   quantity is shown with the decimals it was sent with, at most 8. So a DTO that lacks the
//   fields still reads sensibly.
// - A USDT amount (notional, margin, PnL, balances, shares) has 2 decimals.
// - A fee or a funding payment has at least 2 and at most 4 decimals: the taker fee on the
//   smallest order (5 USDT × 0.05% = 0.0025) must not read as 0.00. Trailing zeros past the
//   second decimal are left out.
// - A percentage has 2 decimals.
// - Statistics (accuracy, Brier score) keep the decimals the caller asks for.
// - Digit groups and the decimal mark are those the UI language writes (Intl), the minus is
//   ASCII. A value that rounds to zero shows no sign. Absent values (and NaN) show as "—"; a
//   value that is not a number is shown unchanged rather than hidden.

const DASH = '—';
const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const FALLBACK_PRICE_DIGITS = 8;
const MAX_QTY_DECIMALS = 8;
const FEE_DECIMALS = [2, 4];

/**
 * An exact decimal `(neg ? -1 : 1) × coef × 10^-scale` from a decimal string or a JS number
 * (read from its shortest round-trip text, so 20660.343120181707 is exactly those digits);
 * an already parsed decimal is returned as it is; null for anything else.
 */
export function parseDecimal(value) {
  if (value && typeof value === 'object' && typeof value.coef === 'bigint') return value;
  if (typeof value === 'bigint') return { neg: value < 0n, coef: value < 0n ? -value : value, scale: 0 };
  let text;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return null;
  }
  const m = DECIMAL_RE.exec(text);
  if (!m || (!m[2] && !m[3])) return null;
  const frac = m[3] ?? '';
  let coef = BigInt(`${m[2] || '0'}${frac}`);
  let scale = frac.length - Number(m[4] ?? 0);
  if (scale < 0) {
    coef *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { neg: m[1] === '-' && coef !== 0n, coef, scale };
}

/** The same decimal with `scale` decimals (a larger scale only; no rounding). */
function rescale(d, scale) {
  return scale >= d.scale ? { ...d, coef: d.coef * 10n ** BigInt(scale - d.scale), scale } : d;
}

/** The decimal times 10^places, by moving the point. */
function shift(d, places) {
  const scale = d.scale - places;
  return scale >= 0 ? { ...d, scale } : { ...d, coef: d.coef * 10n ** BigInt(-scale), scale: 0 };
}

/** Drops trailing zero decimals: "0.10" has the precision of 0.1. */
function normalize(d) {
  let { coef, scale } = d;
  while (scale > 0 && coef % 10n === 0n) {
    coef /= 10n;
    scale -= 1;
  }
  return { ...d, coef, scale };
}

/**
 * `value` rounded half away from zero to a multiple of `increment` (a tick or step size),
 * with as many decimals as the increment has. Both are decimal strings or numbers; returns
 * null when either is not a decimal or the increment is not positive.
 */
export function roundToIncrement(value, increment) {
  const v = parseDecimal(value);
  const inc = parseDecimal(increment);
  if (!v || !inc || inc.neg || inc.coef === 0n) return null;
  const places = normalize(inc).scale;
  const scale = Math.max(v.scale, inc.scale, places);
  const V = rescale(v, scale).coef;
  const I = rescale(inc, scale).coef;
  let q = V / I;
  if ((V % I) * 2n >= I) q += 1n;
  const exact = q * I;
  // The multiple has no more than `places` decimals, so this division is exact.
  const coef = exact / 10n ** BigInt(scale - places);
  return { neg: v.neg && coef !== 0n, coef, scale: places };
}

/** How many decimals a tick or step size has ("0.10" has 1); null when it is not a positive decimal. */
export function incrementPlaces(increment) {
  const d = parseDecimal(increment);
  return d && !d.neg && d.coef !== 0n ? normalize(d).scale : null;
}

/** `value` rounded half away from zero to `places` decimals. */
export function roundToPlaces(value, places) {
  return roundToIncrement(value, places > 0 ? `0.${'0'.repeat(places - 1)}1` : '1');
}

/** Plain text of a decimal, "-1234.50": the form a ticket field or the exchange accepts. */
export function plain(d) {
  const digits = d.coef.toString().padStart(d.scale + 1, '0');
  const int = digits.slice(0, digits.length - d.scale);
  const frac = digits.slice(digits.length - d.scale);
  return `${d.neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/**
 * `value` × 10^places as plain text without trailing zeros, by moving the decimal point
 * (a ratio "0.7" is the percent "70" and back); empty when `value` is not a decimal.
 */
export function movePoint(value, places) {
  const d = parseDecimal(value);
  if (!d) return '';
  return plain(normalize(places >= 0 ? shift(d, places) : { ...d, scale: d.scale - places }));
}

/** -1, 0 or 1 for a decimal string or number; null when it is not one. */
export function sign(value) {
  const d = parseDecimal(value);
  if (!d) return null;
  if (d.coef === 0n) return 0;
  return d.neg ? -1 : 1;
}

// A number that is not finite (a statistic with no data) is as absent as a missing field.
const absent = (v) => v === null || v === undefined || v === '' || (typeof v === 'number' && !Number.isFinite(v));

const SEPARATORS = new Map();
/** The digit-group and decimal marks `language` writes, from the platform's own locale data. */
export function separators(language) {
  if (!SEPARATORS.has(language)) {
    let group = ',';
    let decimal = '.';
    try {
      for (const part of new Intl.NumberFormat(language).formatToParts(11111.5)) {
        if (part.type === 'group') group = part.value;
        if (part.type === 'decimal') decimal = part.value;
      }
    } catch {
      // An unknown language tag keeps the defaults above.
    }
    SEPARATORS.set(language, { group, decimal });
  }
  return SEPARATORS.get(language);
}

/** A decimal as `language` writes it, with digit groups; `signed` puts + before a positive. */
function grouped(d, language, { signed = false } = {}) {
  const { group, decimal } = separators(language);
  const [int, frac] = plain({ ...d, neg: false }).split('.');
  const withGroups = int.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  let prefix = '';
  if (d.coef !== 0n) prefix = d.neg ? '-' : signed ? '+' : '';
  return `${prefix}${withGroups}${frac === undefined ? '' : `${decimal}${frac}`}`;
}

/** Decimals a fallback price keeps: 8 significant digits, never more than it was sent with. */
function significantPlaces(d, digits) {
  if (d.coef === 0n) return d.scale;
  const length = d.coef.toString().length;
  return Math.min(d.scale, Math.max(0, digits - length + d.scale));
}

/**
 * The number formats of one UI language. Each takes the value as the backend sent it (a
 * decimal string, or a number for statistics) and returns display text.
 */
export function formatter(language) {
  const show = (d, opts) => grouped(d, language, opts);

  /** A price on its symbol's tick; see the module's rules for a missing tick. */
  function price(value, tick, opts) {
    if (absent(value)) return DASH;
    const d = parseDecimal(value);
    if (!d) return String(value);
    const rounded = (!absent(tick) && roundToIncrement(value, tick))
      || roundToPlaces(value, significantPlaces(d, FALLBACK_PRICE_DIGITS));
    return show(rounded, opts);
  }

  /** A quantity on its symbol's step; see the module's rules for a missing step. */
  function qty(value, step, opts) {
    if (absent(value)) return DASH;
    const d = parseDecimal(value);
    if (!d) return String(value);
    const rounded = (!absent(step) && roundToIncrement(value, step)) || roundToPlaces(value, Math.min(d.scale, MAX_QTY_DECIMALS));
    return show(rounded, opts);
  }

  /** A USDT amount to 2 decimals. */
  function usdt(value, opts) {
    if (absent(value)) return DASH;
    const rounded = roundToPlaces(value, 2);
    return rounded ? show(rounded, opts) : String(value);
  }

  /** A fee or funding amount: 2 to 4 decimals, as many as it needs. */
  function fee(value, opts) {
    if (absent(value)) return DASH;
    const d = parseDecimal(value);
    if (!d) return String(value);
    const [min, max] = FEE_DECIMALS;
    const rounded = roundToPlaces(value, max);
    const places = Math.max(min, normalize(rounded).scale);
    return show(roundToPlaces(value, places), opts);
  }

  /**
   * A percentage to 2 decimals (`digits` for a label with less room). `fraction: true` reads
   * 0.63 as 63%: the decimal point is moved, nothing is multiplied.
   */
  function pct(value, { fraction = false, signed = false, digits = 2 } = {}) {
    if (absent(value)) return DASH;
    const d = parseDecimal(value);
    if (!d) return String(value);
    return `${show(roundToPlaces(fraction ? shift(d, 2) : d, digits), { signed })}%`;
  }

  /** A statistic (accuracy, Brier score) to `places` decimals. */
  function fixed(value, places) {
    if (absent(value)) return DASH;
    const rounded = roundToPlaces(value, places);
    return rounded ? show(rounded) : String(value);
  }

  /** A count or multiplier exactly as sent, with digit groups. */
  function number(value) {
    if (absent(value)) return DASH;
    const d = parseDecimal(value);
    return d ? show(d) : String(value);
  }

  return { price, qty, usdt, fee, pct, fixed, number };
}

/**
 * A price rounded to `tick` as plain text for a ticket field ("66000.0"); without a tick, 8
 * significant digits. Empty when `value` is not a number.
 */
export function priceInput(value, tick) {
  const d = parseDecimal(value);
  if (!d) return '';
  const rounded = (!absent(tick) && roundToIncrement(value, tick)) || roundToPlaces(value, significantPlaces(d, FALLBACK_PRICE_DIGITS));
  return plain(rounded);
}
