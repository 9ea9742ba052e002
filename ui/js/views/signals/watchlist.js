// The watchlist: watched symbols with price, 24 h change and latest signal, the form that
// edits the list and, in paper mode, the replay clock with its buttons.
import {
  button, describeError, field, fmtTime, h, input, num, oncePerFrame, pnlCell, setFieldError, setStatus, table,
} from '../common.js';
import { directionText, recordText } from './words.js';

/**
 * The watchlist part of the signals panel. `shared` holds what the parts share (`watch`,
 * `selected`, `root`); `selectionChanged` loads the chart of the newly selected symbol and
 * `watchChanged` redraws what lists the watched symbols.
 */
export function create(ctx, shared, { selectionChanged, watchChanged }) {
  const { t } = ctx;
  const s = { error: null, replay: null, watchStatus: null };

  async function load() {
    try {
      shared.watch = await ctx.api.watchlist();
      s.error = null;
    } catch (err) {
      s.error = err;
      ctx.fail(err, false);
    }
    if (!shared.selected && shared.watch.length) shared.selected = shared.watch[0].symbol;
    render();
  }

  async function loadReplay() {
    // The replay clock exists in paper mode only; elsewhere the line stays hidden.
    if (ctx.mode() !== 'paper') {
      s.replay = null;
      return;
    }
    try {
      s.replay = await ctx.api.replayStatus();
    } catch {
      s.replay = null;
    }
  }

  async function save(control) {
    const symbols = control.value.split(/[\s,，]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);
    if (!symbols.length || symbols.some((x) => !/^[A-Z0-9]{5,20}$/.test(x))) {
      setFieldError(control, t('signals.err.watchlist'));
      control.focus();
      return;
    }
    try {
      shared.watch = await ctx.api.setWatchlist(symbols);
      s.watchStatus = { kind: 'ok', text: t('common.saved-settings') };
      // The field shows the list as saved (upper case, one separator); after a refusal it
      // keeps what the user typed, to correct.
      if (drawn) {
        drawn.symbols.value = shared.watch.map((w) => w.symbol).join(', ');
        drawn.edited = false;
      }
      if (!shared.watch.some((w) => w.symbol === shared.selected)) {
        shared.selected = shared.watch[0]?.symbol ?? null;
        selectionChanged();
      }
      watchChanged();
    } catch (err) {
      s.watchStatus = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render();
  }

  async function advance(minutes) {
    try {
      s.replay = await ctx.api.advanceReplay(minutes);
    } catch (err) {
      s.watchStatus = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render();
  }

  async function toggleReplay() {
    try {
      s.replay = await ctx.api.setReplay({ running: !s.replay.running });
    } catch (err) {
      s.watchStatus = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render();
  }

  // Events redraw the watchlist at most once a frame: a replayed day brings a candle and
  // a signal per symbol per hour, hundreds of events in a second with 20 symbols.
  const queue = oncePerFrame(() => render(), 'watchlist');

  const HEADERS = ['signals.symbol', 'signals.price', 'signals.change', 'signals.direction', 'signals.probability', 'signals.track-record'];

  function rowCells(w) {
    const { fmt } = ctx;
    return [
      button(w.symbol, {
        class: 'btn link', 'aria-pressed': String(w.symbol === shared.selected), 'data-symbol': w.symbol,
        'aria-label': `${t('signals.show-chart')} ${w.symbol}`,
        onclick: () => { shared.selected = w.symbol; render(); selectionChanged(); },
      }),
      num(fmt.price(w.price, w.tick_size), w.price),
      pnlCell(fmt.pct(w.change_24h_pct, { signed: true }), w.change_24h_pct),
      directionText(t, w.signal),
      w.signal ? fmt.pct(w.signal.probability, { fraction: true }) : '—',
      recordText(t, fmt, w.signal?.record),
    ];
  }

  /** What a row shows: equal keys draw the same row. */
  function rowKey(w) {
    return JSON.stringify([w.symbol, w.price, w.tick_size, w.change_24h_pct, w.signal ?? null, w.symbol === shared.selected]);
  }

  function replayLine() {
    if (!s.replay) return null;
    return h('p', { class: 'muted row', 'data-testid': 'replay' },
      t('signals.replay', { now: fmtTime(s.replay.now_ms), speed: ctx.fmt.number(s.replay.speed), state: t(s.replay.running ? 'signals.replay-running' : 'signals.replay-paused') }),
      button(t(s.replay.running ? 'signals.replay-pause' : 'signals.replay-resume'), { class: 'btn small', 'data-testid': 'replay-toggle', onclick: toggleReplay }),
      button(t('signals.replay-hour'), { class: 'btn small', 'data-testid': 'replay-hour', onclick: () => advance(60) }),
      button(t('signals.replay-day'), { class: 'btn small', 'data-testid': 'replay-day', onclick: () => advance(24 * 60) }));
  }

  // The watchlist as drawn: its frame (the replay line's and the error's places, the table,
  // the form that edits the list, the status line) is built once per render of the panel;
  // a redraw replaces only the rows whose data changed, and the replay line, the error and
  // the status when theirs did. Rebuilding it all on every candle wiped what the user was
  // typing into the form each second while candles streamed, and could swallow a click on a
  // replay button replaced between press and release.
  let drawn = null;

  function frame(slot) {
    const symbols = input('watch-symbols', { id: 'watch-symbols', value: shared.watch.map((w) => w.symbol).join(', '), 'data-testid': 'watch-symbols' });
    const form = h('form', { class: 'row wrap', novalidate: true }, field(t('signals.edit-watchlist'), symbols, { help: t('signals.edit-watchlist-help') }),
      h('button', { type: 'submit', class: 'btn', text: t('common.save'), 'data-testid': 'watch-save' }));
    form.addEventListener('submit', (e) => { e.preventDefault(); save(symbols); });
    const d = {
      slot, symbols, replay: h('div', {}), error: h('div', {}), table: h('div', {}), status: h('div', {}),
      replayKey: undefined, errorFor: undefined, statusFor: undefined, rowKeys: null, edited: false,
    };
    // Until the user types into it, the field follows the list (which may load after the
    // frame is drawn); from then on it is theirs until a save succeeds.
    symbols.addEventListener('input', () => { d.edited = true; });
    slot.replaceChildren(d.replay, d.error, d.table, form, d.status);
    return d;
  }

  function render() {
    const slot = shared.root?.querySelector('[data-testid=watchlist-slot]');
    if (!slot) return;
    if (!drawn || drawn.slot !== slot || !slot.contains(drawn.symbols)) drawn = frame(slot);
    const listed = shared.watch.map((w) => w.symbol).join(', ');
    if (!drawn.edited && drawn.symbols.value !== listed) drawn.symbols.value = listed;
    const replayKey = s.replay ? JSON.stringify(s.replay) : '';
    if (drawn.replayKey !== replayKey) {
      drawn.replayKey = replayKey;
      drawn.replay.replaceChildren(...[replayLine()].filter(Boolean));
    }
    if (drawn.errorFor !== s.error) {
      drawn.errorFor = s.error;
      drawn.error.replaceChildren(...(s.error ? [h('p', { class: 'status-line', dataset: { kind: 'error' }, role: 'alert', text: describeError(t, s.error) })] : []));
    }
    if (drawn.statusFor !== s.watchStatus) {
      drawn.statusFor = s.watchStatus;
      const st = h('p', { class: 'status-line', role: 'status', 'data-testid': 'watch-status' });
      if (s.watchStatus) setStatus(st, s.watchStatus.kind, s.watchStatus.text);
      drawn.status.replaceChildren(st);
    }
    const keys = shared.watch.map(rowKey);
    const rows = drawn.table.querySelectorAll('tbody tr');
    const sameList = drawn.rowKeys && keys.length > 0 && keys.length === drawn.rowKeys.length && rows.length === keys.length
      && shared.watch.every((w, i) => JSON.parse(drawn.rowKeys[i])[0] === w.symbol);
    if (!sameList) {
      drawn.table.replaceChildren(table(t, HEADERS, shared.watch.map(rowCells), { testid: 'watchlist' }));
    } else {
      shared.watch.forEach((w, i) => {
        if (keys[i] !== drawn.rowKeys[i]) rows[i].replaceWith(table(t, HEADERS, [rowCells(w)]).querySelector('tbody tr'));
      });
    }
    drawn.rowKeys = keys;
  }

  /** A signal event into its row; returns whether the symbol is on the list. */
  function signal(ev) {
    const row = shared.watch.find((w) => w.symbol === ev.symbol);
    if (!row) return false;
    row.signal = { ...(row.signal ?? {}), direction: ev.direction, probability: ev.probability, time_ms: ev.time_ms, strong: ev.strong };
    // A record made after the list was read (the first start's evaluation, a retraining).
    if (ev.record) row.signal.record = ev.record;
    if (!row.signal.lean) row.signal.lean = ev.direction === 'short' ? 'short' : 'long';
    queue();
    return true;
  }

  /** A candle event moves its row's price. */
  function candle(ev) {
    const row = shared.watch.find((w) => w.symbol === ev.symbol);
    if (!row) return;
    row.price = ev.close;
    queue();
  }

  return { load, loadReplay, render, signal, candle };
}
