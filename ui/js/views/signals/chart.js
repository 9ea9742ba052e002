// The chart of the selected symbol: candles with EMA/Bollinger overlays and signal markers,
// the latest signal (a flat one still shows which way the model leans, always beside the
// warning that no edge was proven) and the model card (calibration, equity curves, the
// models compared).
import {
  CandlestickSeries, LineSeries, createChart, createSeriesMarkers,
} from '../../../vendor/lightweight-charts/lightweight-charts.standalone.production.mjs';
import {
  button, card, describeError, fmtTime, h, noteSlow, num, select,
} from '../common.js';
import { incrementPlaces } from '../../format.js';
import { directionText, recordText } from './words.js';

const INTERVALS = ['5m', '15m', '1h', '4h', '1d'];
const LIMIT = 300;
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = { up: '#22c55e', down: '#ef4444', ema20: '#facc15', ema50: '#38bdf8', bb: '#a78bfa', text: '#e5e9f2', grid: '#1f2a44', bg: '#111a2e' };
const CURVE_COLORS = ['#facc15', '#38bdf8', '#a78bfa', '#f97316', '#94a3b8', '#22c55e'];

/**
 * The charts' locale: the UI's language, never the browser's. lightweight-charts formats the
 * time scale with `navigator.language`, which WebKitGTK takes from the process's locale; under
 * LANG=C (a fresh Debian, a container) that is "C", which `Intl` rejects, and the exception on
 * every frame left the panes undrawn (candles, lines, equity curves) in the real window.
 */
function chartLocale() {
  return document.documentElement.lang || 'en';
}
/**
 * Both charts' look. The built-in logo injects a <style> element, which the app's CSP
 * (style-src 'self') blocks; the attribution link is shown under the chart and in the footer
 * instead. Their axes and labels are canvas text in the page's own font list (the bundled
 * interface font first): the library's default list names none of it, so fontconfig drew those
 * digits from the system CJK collection, which WebKit then kept mapped.
 */
function chartLayout() {
  return {
    background: { color: COLORS.bg }, textColor: COLORS.text, attributionLogo: false,
    fontFamily: getComputedStyle(document.body).fontFamily,
  };
}
const OVERLAYS = [['ema20', COLORS.ema20, 'EMA20'], ['ema50', COLORS.ema50, 'EMA50'], ['bb_upper', COLORS.bb, 'BB+'], ['bb_lower', COLORS.bb, 'BB−']];

const sec = (ms) => Math.floor(Number(ms) / 1000);

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

function toMs(time) {
  return typeof time === 'number' ? time : Date.parse(time);
}

/**
 * Reads the model card in either shape: docs/ipc.md's (`calibration[].p_mean/hit_rate`,
 * `equity.model`, `equity.baselines{name: [[t, v]]}`) or perpdesk-signal's `ModelCard`
 * (`calibration[].mean_forecast/observed_up`, `model.equity[{time, equity}]`, `baselines[]`).
 */
export function normalizeCard(c) {
  if (!c) return null;
  const calibration = (c.calibration ?? [])
    .map((b) => ({ p: b.p_mean ?? b.mean_forecast, hit: b.hit_rate ?? b.observed_up, count: b.count ?? 0 }))
    .filter((b) => b.count > 0 && Number.isFinite(b.p) && Number.isFinite(b.hit));
  const curves = {};
  if (c.equity?.model) {
    curves.model = c.equity.model;
    Object.assign(curves, c.equity.baselines ?? {});
  } else if (c.model?.equity) {
    curves.model = c.model.equity.map((p) => [toMs(p.time), p.equity]);
    for (const b of c.baselines ?? []) curves[b.name] = (b.equity ?? []).map((p) => [toMs(p.time), p.equity]);
  }
  // Every model kind evaluated on the same out-of-sample windows (perpdesk-signal's
  // `candidates`); docs/ipc.md's older shape has none.
  const candidates = (c.candidates ?? []).map((k) => ({
    kind: String(k.kind ?? ''),
    chosen: k.chosen === true,
    hasEdge: k.has_edge === true,
    accuracy: k.metrics?.accuracy,
    brier: k.metrics?.brier,
    baseBrier: k.metrics?.base_rate_brier,
    net: k.strategy?.net_pnl_pct,
    trades: k.strategy?.trades,
    coinNet: k.coin_flip?.net_pnl_pct,
  }));
  return { calibration, curves, hasEdge: c.has_edge ?? null, candidates };
}

/** A model kind's name in the UI language; an unknown kind shows as the engine named it. */
function kindName(t, kind) {
  const key = `signals.kind-${kind}`;
  const name = t(key);
  return name === key ? kind : name;
}

/** The models side by side: the numbers the choice between them was made on. */
function candidatesTable(t, fmt, candidates) {
  const head = ['model', 'accuracy', 'brier', 'net', 'trades', 'coin', 'edge']
    .map((k) => h('th', { scope: 'col', text: t(`signals.cand-${k}`) }));
  const rows = candidates.map((k) => h('tr', { dataset: { kind: k.kind, chosen: String(k.chosen) } },
    h('td', {}, kindName(t, k.kind), k.chosen ? ' ' : null,
      k.chosen ? h('span', { class: 'chosen-tag', text: t('signals.cand-chosen') }) : null),
    h('td', { class: 'num', text: fmt.fixed(k.accuracy, 4) }),
    h('td', { class: 'num', text: `${fmt.fixed(k.brier, 5)} / ${fmt.fixed(k.baseBrier, 5)}` }),
    h('td', { class: 'num', text: fmt.pct(k.net) }),
    h('td', { class: 'num', text: fmt.number(k.trades) }),
    h('td', { class: 'num', text: fmt.pct(k.coinNet) }),
    h('td', { text: k.hasEdge ? t('signals.cand-yes') : t('signals.cand-no') })));
  return h('figure', { class: 'candidates' },
    h('table', { 'data-testid': 'model-candidates' }, h('thead', {}, h('tr', {}, ...head)), h('tbody', {}, ...rows)),
    h('figcaption', { text: t('signals.candidates') }));
}

/**
 * Shows all of `chart`'s data across its pane, now and once the pane has a width. A chart made
 * while the dashboard is hidden (a signal loading it behind the unlock dialog at a returning
 * start) has no width, so its first fit packs the candles at the narrowest spacing, and a pane
 * that grows keeps its spacing: the candles sat bunched at the right with empty time before
 * them. Resizes after that keep the visible range (`lockVisibleTimeRangeOnResize`), so
 * live updates and a resized window leave the user's view where it was.
 */
function fitToPane(chart) {
  const scale = chart.timeScale();
  scale.applyOptions({ lockVisibleTimeRangeOnResize: true });
  scale.fitContent();
  let sized = scale.width() > 0;
  scale.subscribeSizeChange((width) => {
    if (sized || width <= 0) return;
    sized = true;
    scale.fitContent();
  });
}

/** Strictly increasing times, as the chart requires; later duplicates win. */
function lineData(points) {
  const out = [];
  for (const [t, v] of points ?? []) {
    const time = sec(t);
    const item = v === null || v === undefined ? { time } : { time, value: Number(v) };
    if (out.length && out.at(-1).time >= time) {
      if (out.at(-1).time === time) out[out.length - 1] = item;
      continue;
    }
    out.push(item);
  }
  return out;
}

/**
 * The chart part of the signals panel: it shows `shared.selected` inside `shared.root`.
 * `load` reads the symbol again (one load at a time), `candle` puts a streamed candle into the
 * drawn chart, `forget` drops the charts before a full render, `shown` draws what waited for
 * the panel to be visible.
 */
export function create(ctx, shared) {
  const { t } = ctx;
  const s = { interval: '1h', candles: [], indicators: null, signals: [], card: null, cardFor: null, chartError: null };
  let chart = null;
  let candleSeries = null;
  let equityChart = null;
  let chartsDirty = false;
  // The drawn charts' series, so a refresh of the same symbol and interval updates their
  // data in place: rebuilding a chart on every signal cost frames of 100 ms and more while a
  // replayed day streamed in, and threw away the user's zoom and scroll each time.
  let overlaySeries = new Map();
  let seriesMarkers = null;
  let equitySeries = new Map();

  /** A signal's tick size, else its watchlist row's (docs/ipc.md); undefined when neither has one. */
  function tickSize(sig) {
    return sig?.tick_size ?? shared.watch.find((w) => w.symbol === sig?.symbol)?.tick_size;
  }

  function latestSignal() {
    return [...s.signals].sort((a, b) => b.time_ms - a.time_ms)[0] ?? null;
  }

  // One load of the selected symbol at a time; what asks meanwhile gets one more load after
  // it, so a burst of signals (a replayed day) costs two loads, not one per signal.
  let symbolLoad = null;
  let symbolAgain = false;
  function loadSymbol() {
    if (symbolLoad) {
      symbolAgain = true;
      return symbolLoad;
    }
    symbolLoad = (async () => {
      do {
        symbolAgain = false;
        await fetchSymbol();
      } while (symbolAgain);
    })().finally(() => { symbolLoad = null; });
    return symbolLoad;
  }

  let retryLoad = null;
  async function fetchSymbol() {
    const symbol = shared.selected;
    if (!symbol) return;
    try {
      const [candles, indicators, sigs] = await Promise.all([
        ctx.api.candles(symbol, s.interval, LIMIT),
        ctx.api.indicators(symbol, s.interval, LIMIT),
        ctx.api.signals(symbol, 50),
      ]);
      // The engine's signal loop answers: the header can say signals run.
      ctx.signalsReady();
      // The model card (its evaluation and curves: 276 KB for BTCUSDT) changes only with the
      // model, so it is read again only for another symbol or when the signals name a new
      // model version.
      const newest = sigs.reduce((a, g) => (!a || g.time_ms > a.time_ms ? g : a), null);
      const cardFor = `${symbol}|${newest?.model_version ?? ''}`;
      const card = cardFor === s.cardFor ? s.card : normalizeCard(await ctx.api.modelCard(symbol));
      if (symbol !== shared.selected) return;
      Object.assign(s, { candles, indicators, signals: sigs, card, cardFor, chartError: null });
    } catch (err) {
      if (err?.code === 'NotFound') {
        // The model is still loading its history (the first start evaluates it): not an
        // error to show, and its first signals may already have been announced, so ask
        // again shortly instead of waiting for the next candle.
        clearTimeout(retryLoad);
        retryLoad = setTimeout(() => { if (symbol === shared.selected) loadSymbol(); }, 1000);
        return;
      }
      s.chartError = err;
      ctx.fail(err, false);
    }
    renderDetail();
  }

  function drawChart(container) {
    chart?.remove();
    chart = null;
    container.replaceChildren();
    if (!s.candles.length) {
      container.replaceChildren(h('p', { class: 'empty', text: t('signals.no-candles') }));
      return;
    }
    // The price axis and crosshair read like every other price: on the symbol's tick (the
    // chart's own 2 decimals without one).
    const tick = shared.watch.find((w) => w.symbol === shared.selected)?.tick_size;
    const places = incrementPlaces(tick);
    chart = createChart(container, {
      autoSize: true,
      layout: chartLayout(),
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      // One object: a second `localization` key would replace the locale, not add to it.
      localization: {
        locale: chartLocale(),
        ...(places === null ? {} : { priceFormatter: (p) => ctx.fmt.price(p, tick) }),
      },
      // The latest candle's signal label ("? 54%") is centred on it; room to its right keeps
      // the label from being cut at the price scale. Pixels, so it holds at any bar spacing.
      timeScale: { timeVisible: true, secondsVisible: false, rightOffsetPixels: 40 },
    });
    candleSeries = chart.addSeries(CandlestickSeries, {
      upColor: COLORS.up, downColor: COLORS.down, borderVisible: false, wickUpColor: COLORS.up, wickDownColor: COLORS.down,
      ...(places === null ? {} : { priceFormat: { type: 'price', precision: places, minMove: Number(tick) } }),
    });
    candleSeries.setData(candleData());
    const ind = s.indicators ?? {};
    overlaySeries = new Map();
    for (const [key, color, title] of OVERLAYS) {
      if (!ind[key]) continue;
      const line = chart.addSeries(LineSeries, { color, lineWidth: 1, title, priceLineVisible: false, lastValueVisible: false });
      line.setData(lineData(ind[key]));
      overlaySeries.set(key, line);
    }
    seriesMarkers = createSeriesMarkers(candleSeries, signalMarkers());
    fitToPane(chart);
  }

  function candleData() {
    return s.candles.map((c) => ({ time: sec(c.t), open: +c.o, high: +c.h, low: +c.l, close: +c.c }));
  }

  /** New data into the drawn chart; false when its overlays no longer match (redraw then). */
  function updateChart() {
    const ind = s.indicators ?? {};
    const keys = OVERLAYS.map(([key]) => key).filter((key) => ind[key]);
    if (!chart || !s.candles.length || keys.length !== overlaySeries.size || !keys.every((k) => overlaySeries.has(k))) return false;
    candleSeries.setData(candleData());
    for (const key of keys) overlaySeries.get(key).setData(lineData(ind[key]));
    seriesMarkers?.setMarkers(signalMarkers());
    return true;
  }

  function signalMarkers() {
    const first = s.candles.length ? sec(s.candles[0].t) : 0;
    return [...s.signals].filter((g) => sec(g.time_ms) >= first).sort((a, b) => a.time_ms - b.time_ms).map((g) => {
      const flat = g.direction === 'flat';
      const long = (flat ? g.lean : g.direction) === 'long';
      return {
        time: sec(g.time_ms),
        position: long ? 'belowBar' : 'aboveBar',
        color: flat ? '#8a96b2' : long ? COLORS.up : COLORS.down,
        shape: flat ? 'circle' : long ? 'arrowUp' : 'arrowDown',
        // A marker's label has room for whole percents; the signal's detail has two decimals.
        text: `${flat ? '?' : long ? 'L' : 'S'} ${ctx.fmt.pct(g.probability, { fraction: true, digits: 0 })}`,
      };
    });
  }

  function calibrationSvg(cal) {
    const size = 220;
    const pad = 28;
    const scale = (v) => pad + v * (size - 2 * pad);
    const flip = (v) => size - scale(v);
    const plot = svg('svg', { viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: 'img', 'aria-label': t('signals.calibration'), 'data-testid': 'calibration-plot' });
    plot.append(svg('rect', { x: pad, y: pad, width: size - 2 * pad, height: size - 2 * pad, fill: 'none', stroke: COLORS.grid }));
    plot.append(svg('line', { x1: scale(0), y1: flip(0), x2: scale(1), y2: flip(1), stroke: '#8a96b2', 'stroke-dasharray': '4 3' }));
    const max = Math.max(1, ...cal.map((b) => b.count));
    for (const b of cal) {
      const dot = svg('circle', { cx: scale(b.p), cy: flip(b.hit), r: 2.5 + 4 * Math.sqrt(b.count / max), fill: COLORS.ema20 });
      dot.append(svg('title', {}, `${t('signals.forecast')} ${ctx.fmt.pct(b.p, { fraction: true })} → ${t('signals.observed')} ${ctx.fmt.pct(b.hit, { fraction: true })} (n=${ctx.fmt.number(b.count)})`));
      plot.append(dot);
    }
    plot.append(svg('text', { x: size / 2, y: size - 6, 'text-anchor': 'middle', fill: COLORS.text, 'font-size': 10 }, t('signals.forecast')));
    plot.append(svg('text', { x: 10, y: size / 2, fill: COLORS.text, 'font-size': 10, transform: `rotate(-90 10 ${size / 2})`, 'text-anchor': 'middle' }, t('signals.observed')));
    return plot;
  }

  function drawEquity(container) {
    equityChart?.remove();
    equityChart = null;
    container.replaceChildren();
    const curves = Object.entries(s.card?.curves ?? {}).filter(([, pts]) => pts?.length);
    if (!curves.length) {
      container.replaceChildren(h('p', { class: 'empty', text: t('signals.no-card') }));
      return;
    }
    equityChart = createChart(container, {
      autoSize: true,
      layout: chartLayout(),
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      localization: { locale: chartLocale() },
    });
    equitySeries = new Map();
    curves.forEach(([name, pts], i) => {
      const line = equityChart.addSeries(LineSeries, {
        color: CURVE_COLORS[i % CURVE_COLORS.length], lineWidth: name === 'model' ? 3 : 1,
        title: name === 'model' ? t('signals.model') : name, priceLineVisible: false,
      });
      line.setData(lineData(pts));
      equitySeries.set(name, line);
    });
    fitToPane(equityChart);
  }

  /** A new model card's curves into the drawn equity chart; false when they are other curves (redraw then). */
  function updateEquity() {
    const curves = Object.entries(s.card?.curves ?? {}).filter(([, pts]) => pts?.length);
    const names = [...equitySeries.keys()];
    if (!equityChart || !curves.length || curves.length !== names.length || curves.some(([name], i) => name !== names[i])) return false;
    for (const [name, pts] of curves) equitySeries.get(name).setData(lineData(pts));
    equityChart.timeScale().fitContent();
    return true;
  }

  /** The latest signal's box: its direction, levels and record, and the button that trades it. */
  function signalBoxFor(sig) {
    const { fmt } = ctx;
    if (!sig) return h('p', { class: 'empty', 'data-testid': 'signal-detail', text: t('signals.no-signal') });
    const flat = sig.direction === 'flat';
    const tick = tickSize(sig);
    return h('div', { 'data-testid': 'signal-detail' },
      h('p', { class: 'big', text: `${sig.symbol} · ${directionText(t, sig)} · ${fmt.pct(sig.probability, { fraction: true })}${sig.strong ? ` · ${t('signals.strong')}` : ''}` }),
      flat ? h('p', { class: 'warn-box', role: 'note', 'data-testid': 'unproven', text: `⚠ ${t('signals.unproven')} ${t('signals.lean')}: ${t(`dir.${sig.lean}`)}` }) : null,
      h('dl', { class: 'kv' },
        h('dt', { text: t('signals.time') }), h('dd', { text: `${fmtTime(sig.time_ms)} UTC` }),
        h('dt', { text: t('signals.p-up') }), h('dd', { text: fmt.pct(sig.p_up, { fraction: true }) }),
        h('dt', { text: t('trade.entry') }), h('dd', { 'data-field': 'entry' }, num(fmt.price(sig.entry, tick), sig.entry)),
        h('dt', { text: t('trade.take-profit') }), h('dd', { 'data-field': 'take-profit' }, num(fmt.price(sig.take_profit, tick), sig.take_profit)),
        h('dt', { text: t('trade.stop-loss') }), h('dd', { 'data-field': 'stop-loss' }, num(fmt.price(sig.stop_loss, tick), sig.stop_loss)),
        h('dt', { text: t('signals.track-record') }), h('dd', { text: recordText(t, fmt, sig.record) })),
      button(flat ? t('signals.trade-lean') : t('signals.trade'), {
        class: flat ? 'btn' : 'btn primary', 'data-testid': 'trade-signal',
        onclick: () => { ctx.views.trade.prefill(sig, tick); ctx.navigate('trade'); },
      }));
  }

  /** The model card's parts that follow its data: the no-edge warning, the calibration plot, the candidates. */
  function fillModelCard() {
    const cal = s.card?.calibration ?? [];
    view.warnSlot.replaceChildren(...(s.card?.hasEdge === false ? [h('p', { class: 'warn-box', text: t('signals.no-edge') })] : []));
    view.calFigure.replaceChildren(cal.length ? calibrationSvg(cal) : h('p', { class: 'empty', text: t('signals.no-card') }), h('figcaption', { text: t('signals.calibration') }));
    view.candSlot.replaceChildren(...(s.card?.candidates?.length ? [candidatesTable(t, ctx.fmt, s.card.candidates)] : []));
  }

  // The detail as drawn: its frame (cards, interval choice, chart box) is built once per
  // symbol and interval; a refresh of the same symbol (every signal of it, every candle
  // close) replaces only the parts whose data changed. Rebuilding the whole detail on each
  // signal moved the chart's canvas, recreated the calibration plot and the candidates table
  // and reflowed the page: the web process's main thread was busy ~360 ms at each of the
  // selected symbol's closes (frames of 170-250 ms while candles streamed).
  let view = null;

  function frameFor(slot, key) {
    const chartBox = h('div', { class: 'chart', 'data-testid': 'chart', role: 'img', 'aria-label': `${t('signals.chart')} ${shared.selected ?? ''}` });
    const intervalSel = select('interval', INTERVALS.map((i) => [i, i]), { id: 'signals-interval', 'aria-label': t('signals.interval') });
    intervalSel.value = s.interval;
    intervalSel.addEventListener('change', () => { s.interval = intervalSel.value; loadSymbol(); });
    const errSlot = h('div', {});
    const signalCard = card(t('signals.latest'));
    const warnSlot = h('div', {});
    const calFigure = h('figure', {});
    const equityBox = h('div', { class: 'chart small', 'data-testid': 'equity-chart', role: 'img', 'aria-label': t('signals.equity') });
    const candSlot = h('div', {});
    const modelCard = card(t('signals.model-card'), warnSlot,
      h('div', { class: 'model-card' }, calFigure, h('figure', { class: 'grow' }, equityBox, h('figcaption', { text: t('signals.equity') }))),
      candSlot);
    slot.replaceChildren(
      card(`${t('signals.chart')} ${shared.selected ?? ''}`, errSlot, h('div', { class: 'row' }, h('label', { for: 'signals-interval', text: t('signals.interval') }), intervalSel,
        h('span', { class: 'muted legend', text: t('signals.legend') })), chartBox,
        h('p', { class: 'muted legend' }, `${t('footer.charts')} `, h('a', { href: 'https://www.tradingview.com/', target: '_blank', rel: 'noopener noreferrer', text: 'TradingView Lightweight Charts™' }))),
      h('div', { class: 'grid2' }, signalCard, modelCard));
    // A new frame has an empty chart box: whatever chart was drawn belonged to the old one.
    forgetCharts();
    return {
      slot, key, chartBox, errSlot, signalCard, warnSlot, calFigure, equityBox, candSlot,
      errFor: undefined, signalFor: undefined, cardFor: undefined,
    };
  }

  /** Replaces a card's content under its title. */
  function refill(cardEl, ...children) {
    cardEl.replaceChildren(cardEl.firstElementChild, ...children.flat());
  }

  function renderDetail() {
    const start = performance.now();
    drawDetail();
    noteSlow('chart', start);
  }

  function drawDetail() {
    const slot = shared.root?.querySelector('[data-testid=detail-slot]');
    if (!slot) return;
    const key = `${shared.selected}|${s.interval}`;
    if (!view || view.slot !== slot || view.key !== key || !slot.contains(view.chartBox)) view = frameFor(slot, key);
    if (view.errFor !== s.chartError) {
      view.errFor = s.chartError;
      view.errSlot.replaceChildren(...(s.chartError ? [h('p', { class: 'status-line', dataset: { kind: 'error' }, role: 'alert', text: describeError(t, s.chartError) })] : []));
    }
    const sig = latestSignal();
    const signalFor = sig ? `${JSON.stringify(sig)}|${tickSize(sig) ?? ''}` : '';
    if (view.signalFor !== signalFor) {
      view.signalFor = signalFor;
      refill(view.signalCard, signalBoxFor(sig));
    }
    // A new model card (another model version, about once a day) redraws its plot and table;
    // its equity curves go into the drawn equity chart, which is not made again.
    const newCard = view.cardFor !== s.card;
    if (newCard) {
      view.cardFor = s.card;
      fillModelCard();
    }
    // Charts are drawn only while the panel is on screen (and again when it is shown): a
    // canvas in a hidden panel has no size and costs time for nothing.
    chartsDirty = shared.root.hidden;
    if (chartsDirty) {
      forgetCharts();
      return;
    }
    if (!chart || !s.candles.length || !updateChart()) drawChart(view.chartBox);
    if (!equityChart || (newCard && !updateEquity())) drawEquity(view.equityBox);
  }

  function forgetCharts() {
    chart?.remove();
    equityChart?.remove();
    chart = null;
    equityChart = null;
    candleSeries = null;
    seriesMarkers = null;
    overlaySeries = new Map();
    equitySeries = new Map();
  }

  /** A streamed candle of the selected symbol goes into the drawn chart in place. */
  function candle(ev) {
    if (ev.symbol === shared.selected && candleSeries) {
      const c = { t: ev.open_time_ms, o: ev.open, h: ev.high, l: ev.low, c: ev.close, v: ev.volume };
      if (!s.candles.length || s.candles.at(-1).t <= c.t) {
        if (s.candles.length && s.candles.at(-1).t === c.t) s.candles[s.candles.length - 1] = c;
        else s.candles.push(c);
        candleSeries.update({ time: sec(c.t), open: +c.o, high: +c.h, low: +c.l, close: +c.c });
      }
    }
  }

  return {
    load: loadSymbol,
    render: renderDetail,
    forget() {
      forgetCharts();
      view = null;
    },
    candle,
    shown() {
      if (chartsDirty) renderDetail();
    },
  };
}
