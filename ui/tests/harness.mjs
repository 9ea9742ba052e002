// Serves ui/ on 127.0.0.1 with the app's own CSP and opens it in Debian's Chromium with a fake
// desktop backend in place of window.__TAURI__, so the dashboard is tested the way a person
// sees it. The fake implements every command of docs/ipc.md with plausible data, fires
// `app-events` on demand (an array of the engine's events, as the shell batches them) and can
// be told to fail any command with a given {code, message}.
// A test asserts a state that an async handler produces only through `expectDom` (or another
// wait on the condition itself), never right after the action that starts it.
import { AssertionError } from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const UI_DIR = fileURLToPath(new URL('..', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** The CSP from tauri.conf.json, so a style or script the real window would block fails here too. */
export function appCsp() {
  const conf = JSON.parse(readFileSync(join(ROOT, 'tauri.conf.json'), 'utf8'));
  return Object.entries(conf.app.security.csp).map(([k, v]) => `${k} ${v}`).join('; ');
}

export async function serveUi() {
  const csp = appCsp();
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const file = join(UI_DIR, path === '/' ? 'index.html' : path);
    if (!file.startsWith(UI_DIR)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': csp,
      }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Root needs --no-sandbox; the rest stop Chromium from dialling Google on a closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Runs in the page before any of its scripts. It mimics the shell: commands answer like
// src-tauri/src/commands, failures reject with {code, message}, events can be fired by tests.
function installFakeBackend(seed) {
  const HOUR = 3_600_000;
  const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
  const err = (code, message, extra = {}) => ({ code, message, ...extra });
  const clone = (v) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));
  const empty = Boolean(seed.empty);

  // A deterministic random walk, so screenshots and numbers are the same every run.
  let rnd = 42;
  const random = () => {
    rnd = (rnd * 1103515245 + 12345) % 2147483648;
    return rnd / 2147483648;
  };
  function makeCandles(start) {
    const out = [];
    let price = start;
    for (let i = 0; i < 300; i += 1) {
      const o = price;
      const c = o * (1 + (random() - 0.5) * 0.01);
      const hi = Math.max(o, c) * (1 + random() * 0.003);
      const lo = Math.min(o, c) * (1 - random() * 0.003);
      out.push({ t: NOW - (300 - i) * HOUR, o: o.toFixed(1), h: hi.toFixed(1), l: lo.toFixed(1), c: c.toFixed(1), v: (100 + random() * 50).toFixed(3) });
      price = c;
    }
    return out;
  }
  function ema(candles, n) {
    const k = 2 / (n + 1);
    let e = null;
    return candles.map((c, i) => {
      const x = Number(c.c);
      e = e === null ? x : x * k + e * (1 - k);
      return [c.t, i + 1 < n ? null : e];
    });
  }
  function bands(candles, n, side) {
    return candles.map((c, i) => {
      if (i + 1 < n) return [c.t, null];
      const xs = candles.slice(i + 1 - n, i + 1).map((x) => Number(x.c));
      const m = xs.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / n);
      return [c.t, m + side * 2 * sd];
    });
  }
  const record = {
    accuracy: 0.541, brier: 0.2471, base_rate_brier: 0.2490, model_net_pnl_pct: 3.2,
    best_baseline: 'ema_crossover', best_baseline_net_pnl_pct: 1.1, beats_baselines: true,
    beats_base_rate: true, model_trades: 84, model_win_rate: 0.52,
  };
  // Binance's filters for the two symbols (tick and step as its exchangeInfo writes them).
  const market = {
    BTCUSDT: { candles: makeCandles(64000), change: '1.84', tick_size: '0.10', step_size: '0.001' },
    ETHUSDT: { candles: makeCandles(3400), change: '-2.31', tick_size: '0.01', step_size: '0.001' },
  };
  const lastClose = (s) => market[s].candles.at(-1).c;
  // `noFilters` plays a backend that sends no tick or step sizes (the UI falls back).
  const rules = (s) => (seed.noFilters ? {} : { tick_size: market[s].tick_size, step_size: market[s].step_size });
  const tick = (s) => (seed.noFilters ? {} : { tick_size: market[s].tick_size });
  // The mark price as the exchange sends it: 8 decimals, off the tick (a test can set it).
  const marks = { ...(seed.marks ?? {}) };
  const markOf = (s) => marks[s] ?? `${lastClose(s)}5358223`;
  /** The exact product of two decimal strings, with the scale the engine's Decimal gives it. */
  function mul(a, b) {
    const parse = (x) => {
      const [i, f = ''] = String(x).split('.');
      return [BigInt(`${i}${f}`), f.length];
    };
    const [ca, sa] = parse(a);
    const [cb, sb] = parse(b);
    const digits = (ca * cb).toString().padStart(sa + sb + 1, '0');
    const scale = sa + sb;
    return scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  }
  // The family study as the engine reports it today: nothing passes (docs/ipc.md).
  const DAY = 24 * HOUR;
  const studyCurve = (n, drift) => {
    const t = [];
    const equity = [];
    let e = 1;
    for (let i = 0; i < n; i += 1) {
      e *= 1 + drift + (random() - 0.5) * 0.04;
      t.push(NOW - (n - i) * DAY);
      equity.push(e);
    }
    let peak = 1;
    const drawdown = equity.map((x) => { peak = Math.max(peak, x); return x / peak - 1; });
    return { t, equity, drawdown, exposure: equity.map(() => 0.35) };
  };
  const famRecord = (sharpe, reasons, extra = {}) => ({
    edge: false, reasons, sharpe, sharpe_lower: sharpe - 0.9, sharpe_upper: sharpe + 0.9, interval_level: 0.9, sortino: null,
    max_drawdown: 0.183, total_return: 0.052, percentile: 61.4, dsr_p: 0.47, trades: 41, turnover_per_year: 12.5, exposure: 0.4,
    benchmark_sharpe: 0.61, benchmark_max_drawdown: 0.5, benchmark_total_return: 0.14,
    // The minimum track record lengths (years) beside the record's own: null is "never".
    record_years: 1.5863, dsr_bar: 4.2037, min_years_vs_zero: sharpe > 0 ? 15.38 : null, min_years_vs_bar: null, ...extra,
  });
  const FAMILIES = [
    ['trend_momentum_ls', 1, famRecord(0.42, ['below_random_timing', 'not_significant_after_trials', 'interval_includes_zero', 'below_buy_and_hold'])],
    ['xs_momentum', 7, famRecord(0, ['too_few_trades', 'below_random_timing', 'not_significant_after_trials', 'interval_includes_zero', 'below_buy_and_hold'], { trades: 0, max_drawdown: 0 })],
    ['pooled_4h', 1 / 6, famRecord(-1.07, ['not_significant_after_trials', 'interval_includes_zero', 'below_buy_and_hold'], { sharpe_lower: -1.79, sharpe_upper: -0.28, percentile: 100, dsr_p: 1, trades: 24074 })],
    ['model_1h_logistic', 1 / 24, famRecord(-5.39, ['below_random_timing', 'not_significant_after_trials', 'interval_includes_zero', 'below_buy_and_hold', 'no_brier_skill'], { sharpe_lower: -6.36, sharpe_upper: -4.33, max_drawdown: 0.931, percentile: 86.2, dsr_p: 1, trades: 22576 })],
  ];
  const study = {
    state: 'ready', progress: null, error: null, strategy: 'perpdesk-v2', strategy_sha256: '1c64bc44', from_ms: NOW - 274 * DAY, to_ms: NOW - 1,
    trials: 18,
    families: FAMILIES.map(([id, horizon, rec]) => ({ id, rule: id.replace(/_(ls|lf)$/, ''), horizon_days: horizon, record: rec, next_decision_ms: NOW + 12 * HOUR, holding: 2, curve: studyCurve(120, 0.0004) })),
    portfolio: { members: [], flat: true, aim_met: false, record: null, curve: null },
    basket: { sharpe: 0.6069, max_drawdown: 0.4999, total_return: 0.1388, curve: studyCurve(120, 0.001) },
    symbols: ['BTCUSDT', 'ETHUSDT'].map((symbol) => ({ symbol, first_ms: NOW - 424 * DAY, last_ms: NOW - HOUR, candles: 10176, missing_hours: 0, carry_annualised: 0.034, carry_real: true })),
  };
  const familyRows = {
    BTCUSDT: [
      { family: 'trend_momentum_ls', symbol: 'BTCUSDT', horizon_days: 1, direction: 'flat', lean: 'long', weight: 0.2206, annual_vol: 0.9066,
        suggested_notional: '2206.00', equity: '10000', stop_price: '55820.4', stop_distance: 0.1423, stop_capped: false,
        time_ms: NOW - 12 * HOUR, next_decision_ms: NOW + 12 * HOUR, record: FAMILIES[0][2],
        symbol_sharpe: 1.2417, symbol_max_drawdown: 0.0403, symbol_trades: 3, symbol_buy_and_hold_sharpe: 0.5548 },
      { family: 'xs_momentum', symbol: 'BTCUSDT', horizon_days: 7, direction: 'flat', lean: 'flat', weight: 0, annual_vol: 0.9066,
        suggested_notional: null, equity: '10000', stop_price: null, stop_distance: null, stop_capped: null,
        time_ms: NOW - 12 * HOUR, next_decision_ms: NOW + 36 * HOUR, record: FAMILIES[1][2],
        symbol_sharpe: 0, symbol_max_drawdown: 0, symbol_trades: 0, symbol_buy_and_hold_sharpe: 0.5548 },
      // The 4h model's book has a weight but (on main's signal crate) no volatility estimate
      // or stop on its 4h bars: a size is shown, nothing can be suggested.
      { family: 'pooled_4h', symbol: 'BTCUSDT', horizon_days: 1 / 6, direction: 'flat', lean: 'short', weight: -0.0412, annual_vol: null,
        suggested_notional: '412.00', equity: '10000', stop_price: null, stop_distance: null, stop_capped: null,
        time_ms: NOW - 2 * HOUR, next_decision_ms: NOW + 2 * HOUR, record: FAMILIES[2][2],
        symbol_sharpe: -0.31, symbol_max_drawdown: 0.2212, symbol_trades: 913, symbol_buy_and_hold_sharpe: 0.5548 },
      // The 1h model family: each symbol's walk-forward, one book, flat with its reasons.
      { family: 'model_1h_logistic', symbol: 'BTCUSDT', horizon_days: 1 / 24, direction: 'flat', lean: 'flat', weight: 0, annual_vol: 0.9066,
        suggested_notional: null, equity: '10000', stop_price: null, stop_distance: null, stop_capped: null,
        time_ms: NOW - HOUR, next_decision_ms: NOW, record: FAMILIES[3][2],
        symbol_sharpe: -4.9, symbol_max_drawdown: 0.88, symbol_trades: 812, symbol_buy_and_hold_sharpe: 0.5548 },
    ],
  };
  const signals = {
    BTCUSDT: [
      { id: 101, symbol: 'BTCUSDT', time_ms: NOW - 5 * HOUR, direction: 'short', lean: 'short', probability: 0.58, p_up: 0.42, entry: 64210.5, take_profit: 63100.04213371, stop_loss: 64799.98120001, strong: false, record, model_version: 'gbdt-v2-1', ...tick('BTCUSDT') },
      { id: 102, symbol: 'BTCUSDT', time_ms: NOW - HOUR, direction: 'long', lean: 'long', probability: 0.63, p_up: 0.63, entry: Number(lastClose('BTCUSDT')), take_profit: 66000.04213371, stop_loss: 62999.98120001, strong: true, record, model_version: 'gbdt-v2-1', ...tick('BTCUSDT') },
    ],
    ETHUSDT: [
      // As the engine sends them: entry, take-profit and stop-loss are JSON numbers (f64).
      { id: 201, symbol: 'ETHUSDT', time_ms: NOW - HOUR, direction: 'flat', lean: 'short', probability: 0.54, p_up: 0.46, entry: 3391.2, take_profit: 3299.996120181707, stop_loss: 3440.0023120181707, strong: false, record: { ...record, beats_baselines: false, model_net_pnl_pct: -0.8 }, model_version: 'gbdt-v2-1', ...tick('ETHUSDT') },
    ],
  };
  const curve = (start, drift) => Array.from({ length: 60 }, (_, i) => [NOW - (60 - i) * 24 * HOUR, start + drift * i + Math.sin(i / 4) * 0.01]);
  const cards = {
    // docs/ipc.md's shape.
    BTCUSDT: {
      calibration: Array.from({ length: 10 }, (_, i) => ({ p_mean: 0.05 + i * 0.1, hit_rate: Math.min(1, 0.08 + i * 0.095), count: 20 + i * 3 })),
      equity: { model: curve(1, 0.0006), baselines: { buy_and_hold: curve(1, 0.0003), ema_crossover: curve(1, 0.0002), coin_flip: curve(1, -0.0004) } },
      has_edge: true,
    },
    // perpdesk-signal's ModelCard shape (what the card crate serializes today).
    ETHUSDT: {
      symbol: 'ETHUSDT', has_edge: false,
      calibration: Array.from({ length: 10 }, (_, i) => ({ lower: i / 10, upper: (i + 1) / 10, count: i === 0 ? 0 : 15, mean_forecast: i / 10 + 0.05, observed_up: 0.5 })),
      model: { name: 'model', equity: curve(1, -0.0001).map(([t, v]) => ({ time: new Date(t).toISOString(), equity: v })) },
      baselines: [{ name: 'buy_and_hold', equity: curve(1, 0.0002).map(([t, v]) => ({ time: new Date(t).toISOString(), equity: v })) }],
      model_kind: 'gbdt',
      candidates: [
        { kind: 'logistic', chosen: false, has_edge: false, metrics: { accuracy: 0.518, brier: 0.24990, base_rate_brier: 0.25017 },
          strategy: { name: 'logistic', net_pnl_pct: -89.51, trades: 1735 }, coin_flip: { name: 'coin_flip', net_pnl_pct: -84.54, trades: 1735 } },
        { kind: 'gbdt', chosen: true, has_edge: false, metrics: { accuracy: 0.5113, brier: 0.25102, base_rate_brier: 0.25017 },
          strategy: { name: 'gbdt', net_pnl_pct: -96.79, trades: 2372 }, coin_flip: { name: 'coin_flip', net_pnl_pct: -94.44, trades: 2372 } },
      ],
    },
  };

  const fake = {
    calls: [],
    // Commands asked and not yet answered: 0 once the page has heard back from everything.
    pending: 0,
    printed: 0,
    preferences: seed.preferences ?? { language: 'zh-CN', lastPanel: 'signals' },
    info: seed.info,
    failSetPreferences: seed.failSetPreferences ?? null,
    // cmd -> {code, message[, rule]}: that command rejects until cleared.
    fail: { ...(seed.fail ?? {}) },
    listeners: {},
    // The stored signals, by symbol (tests add to them).
    signals,
    // The model cards, by symbol (tests replace them, as a retraining does).
    cards,
    vault: { initialized: true, locked: false, auto_lock_minutes: 15, ...(seed.vault ?? {}) },
    password: 'correct horse battery staple',
    previousPassword: 'the password of last year 11',
    accounts: empty ? [] : [
      { id: 1, name: 'Paper', environment: 'paper', key_hint: '••••sim1', active: true, check: null },
      { id: 2, name: 'Binance testnet', environment: 'testnet', key_hint: '••••t3st', active: false, check: null },
      { id: 3, name: 'Binance live', environment: 'live', key_hint: '••••ab12', active: false, check: null },
    ],
    nextId: 10,
    limits: {
      max_position_notional: '5000', max_total_notional: '15000', max_leverage: 20, max_trades_per_day: 20,
      require_stop_loss: true, max_stop_distance_pct: '5', daily_loss_limit: '300', max_concurrent_positions: 3,
      kill_switch: false,
    },
    positions: empty ? [] : [
      { symbol: 'BTCUSDT', position_side: 'BOTH', side: 'LONG', quantity: '0.010', entry_price: '63500.04213371', mark_price: markOf('BTCUSDT'), unrealized_pnl: '12.34985000', liquidation_price: '51230.41234567', leverage: 5, margin_type: 'ISOLATED', take_profit: '66000.0', stop_loss: '62000.0', ...rules('BTCUSDT') },
    ],
    orders: empty ? [] : [
      { client_order_id: 'pd-7-entry', symbol: 'BTCUSDT', side: 'BUY', kind: 'MARKET', leg: 'entry', quantity: '0.010', price: null, trigger_price: null, state: 'FILLED', updated_ms: NOW - 3 * HOUR, ...rules('BTCUSDT') },
      { client_order_id: 'pd-7-tp', symbol: 'BTCUSDT', side: 'SELL', kind: 'TAKE_PROFIT_MARKET', leg: 'take_profit', quantity: '0.010', price: null, trigger_price: '66000.0', state: 'NEW', updated_ms: NOW - 3 * HOUR, ...rules('BTCUSDT') },
      { client_order_id: 'pd-5-entry', symbol: 'ETHUSDT', side: 'SELL', kind: 'LIMIT', leg: 'entry', quantity: '0.500', price: '3450.0', trigger_price: null, state: 'FILLED', updated_ms: NOW - 50 * HOUR, ...rules('ETHUSDT') },
    ],
    trades: empty ? [] : [
      { trade_id: 9001, symbol: 'BTCUSDT', side: 'BUY', price: '63500.0', quantity: '0.010', realized_pnl: '0', commission: '0.25400000', time_ms: NOW - 3 * HOUR, ticket: 'pd-7', origin: 'signal', ...rules('BTCUSDT') },
      { trade_id: 8001, symbol: 'ETHUSDT', side: 'SELL', price: '3450.0', quantity: '0.500', realized_pnl: '0', commission: '0.690', time_ms: NOW - 50 * HOUR, ticket: 'pd-5', origin: 'manual', ...rules('ETHUSDT') },
      { trade_id: 8002, symbol: 'ETHUSDT', side: 'BUY', price: '3380.0', quantity: '0.500', realized_pnl: '35.00', commission: '0.676', time_ms: NOW - 30 * HOUR, ticket: 'pd-5', origin: 'manual', ...rules('ETHUSDT') },
    ],
    ledgerSettings: { platform_ratio: '0.7', mode: 'high_water_mark', include_manual: false, period: 'monthly' },
    settled: false,
    // `replayNowMs` sets the replay clock elsewhere than the data's last hour (a 2022 replay).
    replay: { now_ms: seed.replayNowMs ?? NOW, speed: 60, start_ms: NOW - 300 * HOUR, end_ms: NOW + 100 * HOUR, running: true },
    autoTrade: seed.autoTrade ?? { symbols: {} },
    // The updater: `release` is what the update server would offer (null: this is the newest).
    updates: { checkOnStart: seed.updates?.checkOnStart ?? true },
    release: seed.release ?? null,
    offered: null,
    installed: null,
  };
  if (seed.activeEnvironment) fake.accounts.forEach((a) => { a.active = a.environment === seed.activeEnvironment; });
  const active = () => fake.accounts.find((a) => a.active) ?? null;
  const status = () => ({ ...fake.vault });
  const needUnlocked = () => {
    if (!fake.vault.initialized) throw err('NotInitialized', 'no master password yet');
    if (fake.vault.locked) throw err('Locked', 'the vault is locked');
  };
  // As crates/app/src/safety.rs: a change that loosens a safety setting needs the vault
  // unlocked and the master password again; tightening never does.
  const confirmLoosening = (changes, password) => {
    if (!changes.length) return;
    needUnlocked();
    if (!password) throw err('PasswordRequired', `${changes.join(', ')}: loosening a safety setting needs the master password again; nothing was changed`);
    if (password !== fake.password) throw err('WrongPassword', 'wrong master password');
  };
  const LIMIT_FIELDS = ['max_position_notional', 'max_total_notional', 'max_leverage', 'max_trades_per_day',
    'max_stop_distance_pct', 'daily_loss_limit', 'max_concurrent_positions'];
  const account = (id) => {
    const a = fake.accounts.find((x) => x.id === id);
    if (!a) throw err('NotFound', `account ${id} does not exist`);
    return a;
  };
  const filterRows = (rows, timeKey, { symbol, fromMs, toMs } = {}) => rows.filter((r) => (!symbol || r.symbol === symbol)
    && (fromMs === undefined || r[timeKey] >= fromMs) && (toMs === undefined || r[timeKey] <= toMs));
  const emit = (event, payload) => (fake.listeners[event] ?? []).forEach((h) => h({ event, payload }));

  // As the engine: a market entry is the mark price as the exchange sends it, the notional
  // its exact product with the quantity, and the filters come along for the UI's formats.
  function preview(ticket) {
    if (!market[ticket.symbol]) throw err('InvalidInput', `symbol: unknown symbol ${ticket.symbol}`);
    const entryText = ticket.order_type === 'LIMIT' ? ticket.price : markOf(ticket.symbol);
    const entry = Number(entryText);
    const buy = ticket.side === 'BUY';
    const sl = ticket.stop_loss ? Number(ticket.stop_loss) : null;
    let qty;
    if (ticket.sizing.kind === 'quantity') qty = Number(ticket.sizing.quantity);
    else if (ticket.sizing.kind === 'fixed_notional') qty = Number(ticket.sizing.usdt) / entry;
    else qty = sl ? (10000 * Number(ticket.sizing.percent) / 100) / Math.abs(entry - sl) : 0.001;
    qty = Math.max(0.001, Math.floor(qty * 1000) / 1000);
    const notionalText = mul(qty.toFixed(3), entryText);
    const notional = Number(notionalText);
    const lev = Number(ticket.leverage);
    const L = fake.limits;
    let risk = { ok: true };
    if (L.kill_switch) risk = { ok: false, rule: 'kill_switch', message: 'the kill switch is on' };
    else if (lev > L.max_leverage) risk = { ok: false, rule: 'max_leverage', message: `leverage ${lev}x is above the limit of ${L.max_leverage}x` };
    else if (L.require_stop_loss && !sl) risk = { ok: false, rule: 'require_stop_loss', message: 'a stop-loss is required' };
    else if (notional > Number(L.max_position_notional)) risk = { ok: false, rule: 'max_position_notional', message: `position notional ${notionalText} USDT is above the limit of ${L.max_position_notional} USDT` };
    const fee = notional * 0.0005;
    return {
      quantity: qty.toFixed(3), entry_price: entryText, notional: notionalText,
      margin_required: (notional / lev).toFixed(8), take_profit: ticket.take_profit ?? null, stop_loss: ticket.stop_loss ?? null,
      liquidation_price: (buy ? entry * (1 - 1 / lev + 0.004) : entry * (1 + 1 / lev - 0.004)).toFixed(8),
      worst_case_loss: sl ? (Math.abs(entry - sl) * qty + 2 * fee).toFixed(8) : (notional / lev).toFixed(8),
      reward_at_take_profit: ticket.take_profit ? (Math.abs(Number(ticket.take_profit) - entry) * qty - 2 * fee).toFixed(8) : null,
      entry_fee: fee.toFixed(8), risk, position_side: 'BOTH', ...rules(ticket.symbol),
    };
  }

  const watchRow = (symbol) => ({
    symbol, price: lastClose(symbol), change_24h_pct: market[symbol].change, signal: clone(signals[symbol].at(-1)), ...tick(symbol),
  });

  const commands = {
    app_info: () => ({ ...fake.info }),
    preferences: () => ({ ...fake.preferences }),
    set_preferences: ({ preferences }) => {
      if (fake.failSetPreferences) throw fake.failSetPreferences;
      fake.preferences = { ...preferences };
      return { ...preferences };
    },
    set_signals_paused: ({ paused }) => paused,

    vault_status: () => status(),
    vault_setup: ({ password }) => {
      if (fake.vault.initialized) throw err('Conflict', 'the vault already exists');
      if (password.length < 12) throw err('InvalidInput', 'password: too weak (add 4 or more characters, mix in digits or symbols)');
      fake.vault = { ...fake.vault, initialized: true, locked: false };
      fake.password = password;
      fake.accounts = [{ id: 1, name: 'Paper', environment: 'paper', key_hint: '••••sim1', active: true, check: null }];
      return status();
    },
    vault_unlock: ({ password }) => {
      if (password !== fake.password) throw err('WrongPassword', 'wrong master password');
      fake.vault.locked = false;
      return status();
    },
    vault_lock: () => {
      fake.vault.locked = true;
      return status();
    },
    autostart: () => Boolean(fake.autostart),
    set_autostart: ({ on }) => { fake.autostart = Boolean(on); return fake.autostart; },
    set_auto_lock: ({ minutes, password }) => {
      if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) throw err('InvalidInput', 'minutes: must be 0..=1440');
      const before = fake.vault.auto_lock_minutes;
      confirmLoosening(before !== 0 && (minutes === 0 || minutes > before) ? ['auto_lock_minutes'] : [], password);
      fake.vault.auto_lock_minutes = minutes;
      return status();
    },
    export_backup: ({ password }) => {
      if (password !== fake.password) throw err('WrongPassword', 'wrong master password');
      return { path: '/home/trader/.local/share/com.perpdesk.desktop/backups/perpdesk-2026-11-25.pdbak' };
    },
    // A path ending `-before-change.pdbak` plays a backup made under `previousPassword`,
    // before the last password change: it also needs the current password.
    import_backup: ({ path, password, currentPassword }) => {
      if (!path.endsWith('.pdbak')) throw err('InvalidInput', `path: ${path} is not a perpdesk backup`);
      if (path.endsWith('-before-change.pdbak')) {
        if (!currentPassword) throw err('PasswordRequired', 'currentPassword: this backup was made before the master password was last changed; restoring it needs the current master password too; nothing was changed');
        if (currentPassword !== fake.password || password !== fake.previousPassword) throw err('WrongPassword', 'wrong master password');
        return status();
      }
      if (password !== fake.password) throw err('WrongPassword', 'wrong master password');
      return status();
    },
    // As the engine: the new password's strength first, then the current one.
    change_master_password: ({ currentPassword, newPassword }) => {
      needUnlocked();
      if (newPassword.length < 12) throw err('InvalidInput', `newPassword: it has ${newPassword.length} characters; use at least 12 (a phrase of several words is easiest to remember)`);
      if (currentPassword !== fake.password) throw err('WrongPassword', 'wrong master password');
      fake.password = newPassword;
      return status();
    },
    note_activity: () => fake.vault.initialized && !fake.vault.locked,

    accounts: () => { needUnlocked(); return clone(fake.accounts); },
    create_paper_account: ({ name, balance }) => {
      needUnlocked();
      if (fake.accounts.some((a) => a.name === name)) throw err('Conflict', `an account named "${name}" exists`);
      const a = { id: fake.nextId++, name, environment: 'paper', key_hint: '••••sim2', active: false, check: null, balance };
      fake.accounts.push(a);
      return clone(a);
    },
    add_account: ({ name, environment, apiKey, apiSecret }) => {
      needUnlocked();
      if (fake.accounts.some((a) => a.name === name)) throw err('Conflict', `an account named "${name}" exists`);
      if (!apiKey || apiKey.length < 8) throw err('InvalidInput', 'api_key: too short');
      if (!apiSecret) throw err('InvalidInput', 'api_secret: required');
      const a = { id: fake.nextId++, name, environment, key_hint: `••••${apiKey.slice(-4)}`, active: false, check: null };
      fake.accounts.push(a);
      return clone(a);
    },
    update_account: ({ id, name, apiKey }) => {
      needUnlocked();
      const a = account(id);
      a.name = name;
      if (apiKey) a.key_hint = `••••${apiKey.slice(-4)}`;
      return clone(a);
    },
    remove_account: ({ id }) => {
      const a = account(id);
      if (a.active && fake.positions.length) throw err('Conflict', `account "${a.name}" has open positions`);
      fake.accounts = fake.accounts.filter((x) => x.id !== id);
      return null;
    },
    set_active_account: ({ id, confirmLive }) => {
      needUnlocked();
      const a = account(id);
      if (a.environment === 'live' && confirmLive !== true) throw err('InvalidInput', 'confirmLive: a live account needs confirmation');
      fake.accounts.forEach((x) => { x.active = x.id === id; });
      return clone(a);
    },
    test_connection: ({ id }) => {
      needUnlocked();
      const a = account(id);
      const live = a.environment === 'live';
      const report = {
        ok: !live, checked_at_ms: NOW, position_mode: 'one_way', multi_assets: false,
        checks: [
          { name: 'reachability', status: 'ok', detail: '42 ms' },
          { name: 'clock_offset', status: 'ok', detail: '+12 ms' },
          { name: 'signature', status: 'ok', detail: 'HMAC-SHA256 accepted' },
          { name: 'futures_permission', status: 'ok', detail: 'enableFutures = true' },
          { name: 'withdrawals_disabled', status: live ? 'fail' : 'ok', detail: live ? 'this key can withdraw: refused' : 'enableWithdrawals = false' },
          { name: 'ip_restriction', status: 'warn', detail: 'no IP whitelist on this key' },
        ],
      };
      a.check = report;
      return clone(report);
    },

    watchlist: () => (empty ? [] : Object.keys(market).map(watchRow)),
    set_watchlist: ({ symbols }) => {
      const unknown = symbols.find((x) => !market[x]);
      if (unknown) throw err('InvalidInput', `symbols: ${unknown} is not a USDⓈ-M perpetual`);
      return symbols.map(watchRow);
    },
    candles: ({ symbol }) => clone(empty ? [] : market[symbol]?.candles ?? []),
    indicators: ({ symbol }) => {
      const c = empty ? [] : market[symbol]?.candles ?? [];
      return { ema20: ema(c, 20), ema50: ema(c, 50), bb_upper: bands(c, 20, 1), bb_lower: bands(c, 20, -1), rsi14: c.map((x) => [x.t, 50]) };
    },
    signals: ({ symbol }) => clone(empty ? [] : signals[symbol] ?? []),
    model_card: ({ symbol }) => clone(empty ? { calibration: [], equity: { model: [], baselines: {} } } : fake.cards[symbol] ?? null),
    // As crates/app/src/study.rs: nothing passes, every family flat with its reasons (the
    // state of the shipped strategy); `seed.study` replaces the reply (e.g. computing).
    signal_study: () => clone(seed.study ?? (empty ? { state: 'computing', progress: [0, 3], families: [], symbols: [] } : study)),
    family_signals: ({ symbol }) => {
      if (!familyRows[symbol]) throw err('NotFound', `family signals of ${symbol} (not in the study's universe) not found`);
      return clone(familyRows[symbol]);
    },
    suggest_ticket: ({ symbol, family }) => {
      const row = (familyRows[symbol] ?? []).find((r) => r.family === family);
      if (!row || row.weight === 0) throw err('InvalidInput', `family: ${family} holds no position in ${symbol}: nothing to size`);
      const usdt = '1000';
      const ticket = { symbol, side: row.weight > 0 ? 'BUY' : 'SELL', sizing: { kind: 'fixed_notional', usdt }, leverage: 1, margin_type: 'ISOLATED', order_type: 'MARKET', price: null, take_profit: null, stop_loss: row.stop_price, signal_id: row.time_ms };
      return { ticket, family, weight: row.weight, equity: row.equity, target_notional: row.suggested_notional, capped_by: ['max_position_notional'], stop_distance: row.stop_distance, unproven: true, preview: null };
    },
    // As crates/app/src/autotrade.rs: every field required, turning a symbol on needs confirm.
    auto_trade: () => clone(fake.autoTrade),
    set_auto_trade: ({ settings, confirm, password }) => {
      const fields = ['enabled', 'usdt', 'leverage', 'margin_type', 'trade_lean'];
      for (const [symbol, x] of Object.entries(settings?.symbols ?? {})) {
        const keys = Object.keys(x).sort();
        if (keys.join() !== [...fields].sort().join()) throw err('InvalidInput', `settings: ${symbol} needs exactly ${fields.join(', ')}`);
        if (!(Number(x.usdt) > 0) || !(x.leverage >= 1 && x.leverage <= 125)) {
          throw err('InvalidInput', `symbols: ${symbol}: notional must be positive and leverage 1–125`);
        }
        if (x.enabled && !fake.autoTrade.symbols[symbol]?.enabled && confirm !== true) {
          throw err('InvalidInput', `confirm: auto-trading ${symbol} places orders without a click: confirm to turn it on`);
        }
      }
      const riskier = Object.entries(settings?.symbols ?? {}).filter(([symbol, x]) => {
        const b = fake.autoTrade.symbols[symbol];
        if (!x.enabled) return false;
        if (!b?.enabled) return true;
        return Number(x.usdt) > Number(b.usdt) || x.leverage > b.leverage || x.margin_type !== b.margin_type || (x.trade_lean && !b.trade_lean);
      });
      confirmLoosening(riskier.map(([symbol]) => `auto_trade.${symbol}`), password);
      fake.autoTrade = clone(settings);
      return clone(fake.autoTrade);
    },
    replay_status: () => {
      if (active()?.environment !== 'paper') throw err('InvalidInput', 'replay: only in paper mode');
      return { ...fake.replay };
    },
    set_replay: ({ speed, running }) => {
      if (speed !== undefined) fake.replay.speed = speed;
      if (running !== undefined) fake.replay.running = running;
      return { ...fake.replay };
    },
    advance_replay: ({ minutes }) => {
      fake.replay.now_ms += minutes * 60_000;
      return { ...fake.replay };
    },

    preview_order: ({ ticket }) => { needUnlocked(); return preview(ticket); },
    place_order: ({ ticket, confirmLive }) => {
      needUnlocked();
      if (active()?.environment === 'live' && confirmLive !== true) throw err('InvalidInput', 'confirmLive: a live order needs confirmation');
      const p = preview(ticket);
      if (!p.risk.ok) throw err('RiskRefused', p.risk.message, { rule: p.risk.rule });
      const id = `pd-${fake.nextId++}`;
      const order = (leg, kind, side) => ({ client_order_id: `${id}-${leg === 'take_profit' ? 'tp' : leg === 'stop_loss' ? 'sl' : 'entry'}`, symbol: ticket.symbol, side, kind, leg, quantity: p.quantity, price: ticket.price ?? null, trigger_price: null, state: kind === 'MARKET' ? 'FILLED' : 'NEW', updated_ms: NOW, ...rules(ticket.symbol) });
      const exit = ticket.side === 'BUY' ? 'SELL' : 'BUY';
      const result = {
        ticket_id: id,
        entry: order('entry', ticket.order_type, ticket.side),
        take_profit: ticket.take_profit ? order('take_profit', 'TAKE_PROFIT_MARKET', exit) : null,
        stop_loss: ticket.stop_loss ? order('stop_loss', 'STOP_MARKET', exit) : null,
      };
      fake.orders.unshift(...[result.entry, result.take_profit, result.stop_loss].filter(Boolean));
      return clone(result);
    },
    close_position: ({ symbol, positionSide }) => {
      const p = fake.positions.find((x) => x.symbol === symbol && x.position_side === positionSide);
      if (!p) throw err('NotFound', `no open ${symbol} position`);
      fake.positions = fake.positions.filter((x) => x !== p);
      return { client_order_id: 'pd-99-close', symbol, side: p.side === 'LONG' ? 'SELL' : 'BUY', kind: 'MARKET', leg: 'close', quantity: p.quantity, price: null, trigger_price: null, state: 'FILLED', updated_ms: NOW, ...rules(symbol) };
    },
    set_kill_switch: ({ on, password }) => {
      confirmLoosening(fake.limits.kill_switch && !on ? ['kill_switch'] : [], password);
      fake.limits.kill_switch = on;
      // As the engine: while locked there is no session; positions close at the unlock.
      if (on && !fake.vault.locked) fake.positions = [];
      return clone(fake.limits);
    },

    positions: () => clone(fake.positions),
    orders: (f) => clone(filterRows(fake.orders, 'updated_ms', f)),
    trades: (f) => clone(filterRows(fake.trades, 'time_ms', f)),
    pnl: ({ period }) => (empty ? [] : [
      { start: NOW - 48 * HOUR, realized_pnl: '35.00', commission: '1.366', funding: '-0.42', net: '33.214', period },
      { start: NOW - 24 * HOUR, realized_pnl: '0', commission: '0.254', funding: '0', net: '-0.254', period },
    ]),
    sync_now: async () => {
      needUnlocked();
      for (let done = 1; done <= 4; done += 1) {
        await new Promise((r) => setTimeout(r, 30));
        emit('app-events', [{ kind: 'sync_progress', account_id: 1, done, total: 4, message: ['orders', 'fills', 'income', 'ledger'][done - 1] }]);
      }
      return { new_fills: 2, new_income: 1, new_ledger_rows: 1 };
    },
    export_csv: ({ kind, period }) => ({ path: `/home/trader/.local/share/com.perpdesk.desktop/exports/${kind}${period ? `-${period}` : ''}-2026-11-25.csv`, rows: kind === 'trades' ? fake.trades.length : 7 }),

    ledger: () => ({
      rows: empty ? [] : [
        { trade_ref: 'pd-5', symbol: 'ETHUSDT', total_pnl: '33.214', shareable: '33.214', platform_share: '23.24980000', user_share: '9.96420000', platform_ratio: '0.7', mode: 'high_water_mark', high_water_mark_after: '33.214', time_ms: NOW - 30 * HOUR, trade_ids: [8001, 8002], income_ids: [1] },
      ],
      totals: empty ? { trades: 0, net_pnl: '0', shareable: '0', platform_share: '0', user_share: '0' }
        : { trades: 1, net_pnl: '33.214', shareable: '33.214', platform_share: '23.2498', user_share: '9.9642' },
      high_water_mark: empty ? '0' : '33.214', cumulative_net: empty ? '0' : '33.214',
      owed_now: fake.settled || empty ? { platform: '0', user: '0' } : { platform: '23.2498', user: '9.9642' },
      settings: clone(fake.ledgerSettings),
    }),
    statements: ({ period }) => (empty ? [] : [{ period_start: NOW - 30 * HOUR, trades: 1, net_pnl: '33.214', platform_share: '23.2498', user_share: '9.9642', period }]),
    ledger_settings: () => clone(fake.ledgerSettings),
    set_ledger_settings: (s) => {
      const r = Number(s.platform_ratio);
      if (!(r >= 0 && r <= 1)) throw err('InvalidInput', 'platform_ratio: must be between 0 and 1');
      const keys = ['platform_ratio', 'mode', 'include_manual', 'period'];
      confirmLoosening(keys.some((k) => String(s[k]) !== String(fake.ledgerSettings[k])) ? ['ledger'] : [], s.password);
      fake.ledgerSettings = { platform_ratio: s.platform_ratio, mode: s.mode, include_manual: s.include_manual, period: s.period };
      return clone(fake.ledgerSettings);
    },
    settle: () => {
      fake.settled = true;
      return { period_end_ms: NOW, platform: '23.2498', user: '9.9642' };
    },
    // A period since the last settlement that lost 4.50 below a mark of 33.214: nothing owed.
    profit_share_summary: () => {
      const zero = { trades: 0, net_pnl: '0', shareable: '0', platform_share: '0', user_share: '0' };
      const open = fake.settled || empty ? zero : { ...zero, trades: 2, net_pnl: '-4.50213' };
      return {
        period_net: open.net_pnl, period_trades: open.trades,
        cumulative_net: empty ? '0' : '28.71187', high_water_mark: empty ? '0' : '33.214',
        owed_now: { booked: open, pending: zero, decision: null, total: open },
        platform_ratio: fake.ledgerSettings.platform_ratio, mode: fake.ledgerSettings.mode, include_manual: fake.ledgerSettings.include_manual,
        last_settlement: empty ? null : {
          id: 3, settled_at_ms: NOW - 20 * HOUR, entries: 1, net_pnl: '33.214', platform_share: '23.2498', user_share: '9.9642', mark_after: '33.214', signed: true,
        },
        key: seed.noStatementKey ? null
          : { public_key: `ed25519:${'3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29'}`, fingerprint: '9e1c-47d2-05ab-c3f8' },
      };
    },
    verify_statement: ({ settlementId, statement }) => {
      if ((settlementId === undefined || settlementId === null) === (statement === undefined || statement === null)) {
        throw err('InvalidInput', 'statement: give a settlement id or a statement\'s text, one of the two');
      }
      if (fake.statementTampered) {
        return {
          settlement_sequence: 3, genuine: false, signed_by: '9e1c-47d2-05ab-c3f8', fills: 3, income_rows: 5, notes: [],
          problems: ['row 1 (ETHUSDT:Both:8001): the net (realised PnL − commission + funding) is 34.214 in the statement but 33.214 from the exchange\'s records'],
        };
      }
      return { settlement_sequence: 3, genuine: true, problems: [], notes: [], signed_by: '9e1c-47d2-05ab-c3f8', fills: 3, income_rows: 5 };
    },
    export_exchange_records: () => ({ path: '/home/trader/.local/share/com.perpdesk.desktop/exports/perpdesk-exchange-records-20261125-120000.json', rows: fake.trades.length + 5 }),

    // As src-tauri/src/update.rs: a check downloads nothing; install takes only what it offered.
    update_settings: () => clone(fake.updates),
    set_update_settings: ({ checkOnStart }) => {
      if (typeof checkOnStart !== 'boolean') throw err('InvalidInput', 'checkOnStart: must be true or false');
      fake.updates = { checkOnStart };
      return clone(fake.updates);
    },
    check_update: () => {
      fake.offered = fake.release ? { version: fake.release.version, currentVersion: fake.info.version, notes: fake.release.notes ?? null } : null;
      return clone(fake.offered);
    },
    install_update: () => {
      if (!fake.offered) throw err('NotFound', 'there is no update to install; check for updates first');
      fake.installed = fake.offered.version;
      return { version: fake.installed };
    },

    risk_limits: () => clone(fake.limits),
    set_risk_limits: ({ limits, password }) => {
      if (Number(limits.max_leverage) > 125) throw err('InvalidInput', 'max_leverage: must be at most 125');
      if (Number(limits.max_total_notional) < Number(limits.max_position_notional)) {
        throw err('InvalidInput', 'max_total_notional: must be at least max_position_notional');
      }
      const loosened = LIMIT_FIELDS.filter((f) => Number(limits[f]) > Number(fake.limits[f]));
      if (fake.limits.require_stop_loss && !limits.require_stop_loss) loosened.push('require_stop_loss');
      confirmLoosening(loosened, password);
      fake.limits = { ...limits, kill_switch: fake.limits.kill_switch };
      return clone(fake.limits);
    },
  };
  window.__fake = fake;
  window.__fakeEmit = emit;
  // What the shell does at start (src-tauri/src/update.rs `check_on_start`): looks only when the
  // setting is on, and tells the page only when something newer is out.
  window.__fakeStartCheck = () => {
    if (!fake.updates.checkOnStart) return false;
    const offer = commands.check_update();
    if (offer) emit('update-available', offer);
    return Boolean(offer);
  };
  // window.print would open a dialog the test cannot close; count the calls instead.
  window.print = () => { fake.printed += 1; };
  window.__TAURI__ = {
    core: {
      invoke: async (cmd, args = {}) => {
        fake.calls.push({ cmd, args: JSON.parse(JSON.stringify(args)) });
        fake.pending += 1;
        try {
          if (fake.fail[cmd]) throw { ...fake.fail[cmd] };
          const handler = commands[cmd];
          if (!handler) throw `command ${cmd} not found`;
          return await handler(args);
        } finally {
          fake.pending -= 1;
        }
      },
    },
    event: {
      listen: async (event, handler) => {
        (fake.listeners[event] ??= []).push(handler);
        return () => {};
      },
    },
  };
}

export const DEFAULT_INFO = {
  name: 'perpdesk', version: '0.1.0', mode: 'paper',
  dataDir: '/home/trader/.local/share/com.perpdesk.desktop',
  logDir: '/home/trader/.local/share/com.perpdesk.desktop/logs', signalsPaused: false,
};

/**
 * Opens the dashboard with the fake backend seeded by `seed`; waits until it is ready.
 * `errors` collects uncaught exceptions and every console error (CSP violations included).
 */
export async function openDashboard(browser, url, seed = {}) {
  // A shared context (see useBrowser) reuses the renderer and the HTTP cache: 3x faster opens.
  const page = browser.newContext
    ? await browser.newPage({ viewport: { width: 1280, height: 900 } })
    : await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // `clockMs` fixes the page's wall clock (Date), for what depends on today's date.
  if (seed.clockMs !== undefined) await page.clock.setFixedTime(seed.clockMs);
  await page.addInitScript(installFakeBackend, { info: DEFAULT_INFO, ...seed });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, errors };
}

/** Starts the server and browser once per test file and checks the console after each test. */
export function useBrowser({ before, after, afterEach }) {
  const env = {};
  // Every test, whatever it checks, must leave the console free of errors (CSP violations,
  // uncaught exceptions, failed loads).
  afterEach?.(() => {
    const errors = env.errors ?? [];
    env.errors = [];
    if (errors.length) throw new Error(`console errors: ${errors.join(' | ')}`);
  });
  before(async () => {
    env.served = await serveUi();
    env.browser = await launchBrowser();
    env.context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await env.browser?.close();
    env.served?.server.close();
  });
  return {
    // Each test gets a fresh page (and so a fresh fake backend); the previous one is closed.
    open: async (seed) => {
      await env.page?.close();
      const opened = await openDashboard(env.context, env.served.url, seed);
      env.page = opened.page;
      env.errors = opened.errors;
      return opened;
    },
  };
}

/** The fake's record of calls to `cmd`, oldest first. */
export const callsTo = (page, cmd) => page.evaluate((c) => window.__fake.calls.filter((x) => x.cmd === c), cmd);
/** Fires `app-events` with the events of `batch` (in order), as the shell sends a burst. */
export const emitAppEvents = (page, batch) => page.evaluate((b) => window.__fakeEmit('app-events', b), batch);
/** Fires `app-events` holding the one event `payload`, as the shell sends an event on its own. */
export const emitAppEvent = (page, payload) => emitAppEvents(page, [payload]);
/** Makes `cmd` reject with `error` until cleared with `null`. */
export const failNext = (page, cmd, error) => page.evaluate(([c, e]) => { window.__fake.fail[c] = e; }, [cmd, error]);

// Runs in the page: reads `what` of the element `selector` and, with `want`, says whether it
// matches. One function for both uses, because only its own source travels to the page.
function probeDom([selector, what, want]) {
  let actual;
  if (what === 'count') actual = document.querySelectorAll(selector).length;
  else {
    const el = document.querySelector(selector);
    if (what === 'visible') actual = Boolean(el?.checkVisibility());
    else if (!el) actual = null;
    else if (what === 'text') actual = el.textContent;
    else if (what === 'innerText') actual = el.innerText;
    else if (what === 'checked' || what === 'disabled' || what === 'value') actual = el[what];
    else if (what.startsWith('attr:')) actual = el.getAttribute(what.slice(5));
    else throw new Error(`probeDom: unknown ${what}`);
  }
  if (!want) return actual;
  return 're' in want ? typeof actual === 'string' && new RegExp(want.re, want.flags).test(actual) : actual === want.eq;
}

/**
 * Waits until `what` of the element `selector` is `expected` (equal, or matching a RegExp),
 * and fails with what was there if it never is. `what` is `text`, `innerText`, `checked`,
 * `disabled`, `value`, `visible`, `count` (of matches) or `attr:<name>`. The condition itself is
 * polled in the page on every frame (Playwright's waitForFunction), so a test never reads
 * the DOM before the async handler or re-render that produces the state has run.
 */
export async function expectDom(page, selector, what, expected, { timeout = 30_000 } = {}) {
  const want = expected instanceof RegExp ? { re: expected.source, flags: expected.flags } : { eq: expected };
  try {
    await page.waitForFunction(probeDom, [selector, what, want], { timeout });
  } catch (err) {
    if (err?.name !== 'TimeoutError') throw err;
    const actual = await page.evaluate(probeDom, [selector, what, null]);
    throw new AssertionError({ actual, expected, operator: 'expectDom', message: `${what} of ${selector} is ${JSON.stringify(actual)} after ${timeout} ms, expected ${expected}` });
  }
}

/**
 * Answers the master-password prompt that a loosening change opens (the fake's password
 * unless `password` is given) and waits until the dialog has closed.
 */
export async function answerPassword(page, password) {
  await page.waitForSelector('[data-testid=password-dialog][open]');
  await page.fill('[data-testid=password-input]', password ?? await page.evaluate(() => window.__fake.password));
  await page.click('[data-testid=password-ok]');
  await page.waitForFunction(() => !document.querySelector('#password-dialog').open || document.querySelector('#password-input-error').textContent !== '');
}
