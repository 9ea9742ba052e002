// 交易记录: open positions with a close button, orders and trades with filters, PnL by
// period, "Sync now" with progress from `sync_progress` events, and CSV export.
import {
  button, card, describeError, fmtTime, h, header, input, num, pnlCell, select, setStatus, table,
  word,
  fill,
} from './common.js';

/** UTC ms as the `YYYY-MM-DD` a date input holds. */
const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/** `YYYY-MM-DD` (a date input) as UTC ms at the start, or the end, of that day. */
function dayMs(value, end) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return end ? ms + 86_400_000 - 1 : ms;
}

export function create(ctx) {
  const { t } = ctx;
  const s = {
    positions: [], orders: [], trades: [], pnl: [], period: 'day',
    // `to: null` shows the exchange's current day (`today`) until the user picks a day, and
    // sends no end: the exchange has no record after its own now, and a fill just past its
    // midnight stays in view before the day shown has moved on.
    filter: { symbol: '', from: '', to: null },
    today: null,
    // The UTC day of the oldest order or fill shown: an empty start shows it (see render).
    earliest: null,
    sync: null, // {done, total, message}
    syncResult: null, exportResult: null, rowStatus: {}, errors: {},
  };
  let root = null;

  function filterArgs() {
    const f = {};
    const symbol = s.filter.symbol.trim().toUpperCase();
    if (symbol) f.symbol = symbol;
    const from = dayMs(s.filter.from, false);
    const to = dayMs(s.filter.to ?? '', true);
    if (from !== undefined) f.fromMs = from;
    if (to !== undefined) f.toMs = to;
    return f;
  }

  async function get(key, fn) {
    try {
      s[key] = await fn();
      delete s.errors[key];
    } catch (err) {
      s.errors[key] = err;
      ctx.fail(err, false);
    }
  }

  async function loadPositions() {
    await get('positions', () => ctx.api.positions());
    render(root);
  }

  /**
   * The exchange's current UTC day: the replay clock's in paper mode (a replay of 2022 files
   * its records in 2022), the wall clock's on testnet and live, where it is the exchange's.
   */
  async function exchangeDay() {
    if (ctx.mode() !== 'paper') return utcDay(Date.now());
    try {
      return utcDay((await ctx.api.replayStatus()).now_ms);
    } catch {
      // The replay is not answering: keep the day known last (none at first: no end).
      return s.today;
    }
  }

  async function loadTables() {
    s.today = await exchangeDay();
    const f = filterArgs();
    await Promise.all([
      get('orders', () => ctx.api.orders(f)),
      get('trades', () => ctx.api.trades(f)),
      get('pnl', () => ctx.api.pnl(s.period)),
    ]);
    // A fold, not Math.min(...times): an account's fills are unbounded, and a spread of a
    // few hundred thousand arguments overflows the engine's stack.
    const oldest = [...s.orders.map((o) => o.updated_ms), ...s.trades.map((x) => x.time_ms)]
      .reduce((a, b) => Math.min(a, b), Infinity);
    s.earliest = Number.isFinite(oldest) ? utcDay(oldest) : null;
    render(root);
  }

  async function closePosition(p) {
    const key = `${p.symbol}:${p.position_side}`;
    const yes = await ctx.confirm({
      title: t('records.close-title'),
      message: t('records.close-message', { symbol: p.symbol, side: t(`pside.${p.side}`), qty: ctx.fmt.qty(p.quantity, p.step_size) }),
      ok: t('records.close'),
      danger: ctx.mode() === 'live',
    });
    if (!yes) return;
    try {
      const order = await ctx.api.closePosition(p.symbol, p.position_side);
      s.rowStatus[key] = { kind: 'ok', text: `${t('records.closed')} ${order.client_order_id} ${word(t, 'state', order.state)}` };
      await get('positions', () => ctx.api.positions());
    } catch (err) {
      s.rowStatus[key] = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  async function syncNow() {
    s.sync = { done: 0, total: 0, message: '' };
    s.syncResult = null;
    render(root);
    try {
      const r = await ctx.api.syncNow();
      s.syncResult = { kind: 'ok', text: t('records.synced', { fills: r.new_fills, income: r.new_income, ledger: r.new_ledger_rows }) };
      await Promise.all([loadPositions(), loadTables()]);
    } catch (err) {
      s.syncResult = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    s.sync = null;
    render(root);
  }

  async function exportCsv(kind) {
    s.exportResult = { kind: 'info', text: t('common.working') };
    render(root);
    try {
      const r = await ctx.api.exportCsv(kind);
      s.exportResult = { kind: 'ok', text: t('common.saved', { path: r.path, rows: r.rows }) };
    } catch (err) {
      s.exportResult = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  function errLine(key) {
    const err = s.errors[key];
    return err ? h('p', { class: 'status-line', dataset: { kind: 'error' }, role: 'alert', text: describeError(t, err) }) : null;
  }

  function statusLine(st, testid) {
    const p = h('p', { class: 'status-line', role: 'status', 'data-testid': testid });
    if (st) setStatus(p, st.kind, st.text);
    return p;
  }

  function render(section) {
    if (!section) return;
    root = section;
    const { fmt } = ctx;
    const positions = s.positions.map((p) => {
      const key = `${p.symbol}:${p.position_side}`;
      const st = s.rowStatus[key];
      const price = (v) => num(fmt.price(v, p.tick_size), v);
      return [p.symbol, t(`pside.${p.side}`), num(fmt.qty(p.quantity, p.step_size), p.quantity), price(p.entry_price), price(p.mark_price),
        pnlCell(fmt.usdt(p.unrealized_pnl, { signed: true }), p.unrealized_pnl), price(p.liquidation_price),
        p.leverage ? `${p.leverage}x ${p.margin_type ? t(`margin.${p.margin_type}`) : ''}`.trim() : '—',
        h('span', {}, price(p.take_profit), ' / ', price(p.stop_loss)),
        h('td', {}, button(t('records.close'), { class: 'btn small', 'aria-label': `${t('records.close')} ${p.symbol}`, 'data-testid': `close-${p.symbol}`, onclick: () => closePosition(p) }),
          st ? h('div', { class: 'status-line', role: 'status', dataset: { kind: st.kind }, text: st.text }) : null)];
    });
    const orders = s.orders.map((o) => [fmtTime(o.updated_ms), o.symbol, t(`side.${o.side}`), o.kind, word(t, 'leg', o.leg),
      num(fmt.qty(o.quantity, o.step_size), o.quantity), num(fmt.price(o.price, o.tick_size), o.price),
      num(fmt.price(o.trigger_price, o.tick_size), o.trigger_price), word(t, 'state', o.state), o.client_order_id]);
    const trades = s.trades.map((x) => [fmtTime(x.time_ms), x.symbol, t(`side.${x.side}`), num(fmt.price(x.price, x.tick_size), x.price),
      num(fmt.qty(x.quantity, x.step_size), x.quantity), pnlCell(fmt.usdt(x.realized_pnl, { signed: true }), x.realized_pnl),
      num(fmt.fee(x.commission), x.commission), x.ticket ?? '—', x.origin ? word(t, 'origin', x.origin) : '—']);
    const pnl = s.pnl.map((r) => [typeof r.start === 'number' ? fmtTime(r.start).slice(0, 10) : String(r.start),
      pnlCell(fmt.usdt(r.realized_pnl, { signed: true }), r.realized_pnl), num(fmt.fee(r.commission), r.commission),
      pnlCell(fmt.fee(r.funding, { signed: true }), r.funding), pnlCell(fmt.usdt(r.net, { signed: true }), r.net)]);

    const symbol = input('symbol', { id: 'rec-symbol', value: s.filter.symbol, placeholder: 'BTCUSDT', 'data-testid': 'filter-symbol' });
    // No record is later than the exchange's today, so no day after it can be picked, and a
    // date picker opens on the exchange's calendar, not the wall clock's.
    // No start means from the first record, and the field says which day that is (the
    // exchange's today without any): WebKitGTK draws an empty date field as the wall clock's
    // date in grey, which beside a replay's end read as a start after the end.
    const firstDay = [s.earliest, s.today].filter(Boolean).sort()[0] ?? '';
    const shownFrom = s.filter.from || firstDay;
    const from = input('from', { id: 'rec-from', type: 'date', value: shownFrom, max: s.today, 'data-testid': 'filter-from' });
    let fromTouched = false;
    from.addEventListener('input', () => { fromTouched = true; });
    const to = input('to', { id: 'rec-to', type: 'date', value: s.filter.to ?? s.today ?? '', max: s.today, 'data-testid': 'filter-to' });
    const filterForm = h('form', { class: 'row wrap', novalidate: true, 'data-testid': 'records-filter' },
      h('label', { for: 'rec-symbol', text: t('trade.symbol') }), symbol,
      h('label', { for: 'rec-from', text: t('records.from') }), from,
      h('label', { for: 'rec-to', text: t('records.to') }), to,
      h('button', { type: 'submit', class: 'btn', text: t('records.apply'), 'data-testid': 'filter-apply' }));
    filterForm.addEventListener('submit', (e) => {
      e.preventDefault();
      // Today's date left as it was keeps following the exchange's day, and a start left
      // untouched keeps meaning none.
      const start = fromTouched ? from.value : s.filter.from;
      s.filter = { symbol: symbol.value, from: start, to: to.value === s.today ? null : to.value };
      loadTables();
    });
    const periodSel = select('period', ['day', 'week', 'month'].map((p) => [p, t(`period.${p}`)]), { id: 'rec-period', 'aria-label': t('records.period') });
    periodSel.value = s.period;
    periodSel.addEventListener('change', () => { s.period = periodSel.value; loadTables(); });

    const progress = s.sync
      ? h('div', { class: 'row' },
        h('progress', { max: String(Math.max(s.sync.total, 1)), value: String(s.sync.done), 'aria-label': t('records.sync-progress'), 'data-testid': 'sync-progress' }),
        h('span', { class: 'muted', text: s.sync.total ? `${s.sync.done}/${s.sync.total} ${s.sync.message}` : t('common.working') }))
      : null;

    fill(section, ...header(t, 'records'),
      card(null, h('div', { class: 'row wrap' },
        button(t('records.sync'), { class: 'btn primary', 'data-testid': 'sync-now', disabled: Boolean(s.sync), onclick: syncNow }),
        button(t('records.export-trades'), { 'data-testid': 'export-trades', onclick: () => exportCsv('trades') }),
        button(t('records.export-orders'), { 'data-testid': 'export-orders', onclick: () => exportCsv('orders') })),
      progress, statusLine(s.syncResult, 'sync-result'), statusLine(s.exportResult, 'export-result')),
      card(t('records.positions'), errLine('positions'), table(t, ['trade.symbol', 'trade.side', 'trade.quantity', 'trade.entry', 'records.mark', 'records.upnl', 'trade.liquidation', 'trade.leverage', 'records.tpsl', 'records.actions'], positions, { testid: 'positions' })),
      card(t('records.filters'), filterForm),
      card(t('records.orders'), errLine('orders'), table(t, ['records.time', 'trade.symbol', 'trade.side', 'records.kind', 'records.leg', 'trade.quantity', 'trade.price', 'records.trigger', 'records.state', 'records.client-id'], orders, { testid: 'orders' })),
      card(t('records.fills'), errLine('trades'), table(t, ['records.time', 'trade.symbol', 'trade.side', 'trade.price', 'trade.quantity', 'records.realized', 'trade.fee', 'records.ticket', 'records.origin'], trades, { testid: 'trades' })),
      card(t('records.pnl'), h('div', { class: 'row' }, h('label', { for: 'rec-period', text: t('records.period') }), periodSel), errLine('pnl'),
        table(t, ['records.period-start', 'records.realized', 'trade.fee', 'records.funding', 'records.net'], pnl, { testid: 'pnl' })));
  }

  return {
    render,
    async load() {
      await Promise.all([get('positions', () => ctx.api.positions()), loadTables()]);
      render(root);
    },
    onEvent(ev) {
      if (ev.kind === 'sync_progress') {
        s.sync = { done: ev.done, total: ev.total, message: ev.message ?? '' };
        render(root);
      } else if (ev.kind === 'positions') {
        loadPositions();
      } else if (ev.kind === 'order' || ev.kind === 'sync_done') {
        if (ev.kind === 'sync_done') {
          // A sync the user did not start (the background pass) ends here too.
          s.sync = null;
          render(root);
          loadPositions();
        }
        loadTables();
      }
    },
  };
}
