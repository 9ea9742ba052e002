// The signal families: the portfolio card beside the watchlist (members or "nothing passes",
// its equity against the equal-weight basket, drawdown, exposure) and, for the selected
// symbol, every family's signal with its horizon, volatility-targeted size, stop, record and
// the reasons it is flat. Everything drawn comes from `signal_study` and `family_signals`
// (docs/ipc.md); "Use the suggested size" asks `suggest_ticket` and hands the ticket to the
// trade panel, where the user can change it and the risk checks run on what is sent.
import { button, describeError, fmtTime, h, num, oncePerFrame, word } from '../common.js';

const SVG = 'http://www.w3.org/2000/svg';

/**
 * The reasons of a verdict in words, joined. `interval_includes_zero` means the interval's
 * lower end is not above 0; when its upper end is below 0 too, "reaches zero" would be
 * untrue, so that case says the whole interval is below zero.
 */
export function reasonsText(t, reasons, record) {
  if (!reasons?.length) return t('fam.has-edge');
  const key = (r) =>
    r === 'interval_includes_zero' && record?.sharpe_upper < 0 ? 'interval_below_zero' : r;
  return reasons.map((r) => t(`fam.reason.${key(r)}`)).join('; ');
}

/** "0.42 [−0.31, 1.10]": a Sharpe with its bootstrap interval. */
export function sharpeText(fmt, r) {
  if (!r) return '—';
  return `${fmt.fixed(r.sharpe, 2)} [${fmt.fixed(r.sharpe_lower, 2)}, ${fmt.fixed(r.sharpe_upper, 2)}]`;
}

/** A piece of text that must not break across lines (a number with its unit, a time). */
function nw(text) {
  return h('span', { class: 'nowrap', text });
}

/** `text` with its parenthesised tail kept on one line: "daily (00:00 UTC)". */
function withTail(text) {
  const i = text.search(/[(（]/);
  return i > 0 ? [text.slice(0, i), nw(text.slice(i))] : [text];
}

/** The record as pieces that wrap only between them: each label stays with its number. */
function recordParts(t, fmt, r) {
  const items = [
    `${t('fam.sharpe')} ${sharpeText(fmt, r)}`,
    `${t('fam.max-dd')} ${fmt.pct(r.max_drawdown, { fraction: true, digits: 1 })}`,
    `${t('fam.percentile')} ${fmt.fixed(r.percentile, 0)}`,
    `${t('fam.dsr-p')} ${fmt.fixed(r.dsr_p, 2)}`,
  ];
  return items.flatMap((item, i) => [...(i ? [' · '] : []), nw(item)]);
}

function horizonText(t, days) {
  if (days >= 7) return t('fam.weekly');
  if (days >= 1) return t('fam.daily');
  // A bar of one hour or less: the 1h model families.
  return days <= 1 / 24 + 1e-9 ? t('fam.hourly') : t('fam.every-4h');
}

/** Years of record as words: "5.3 years", or "never" where no length would do. */
function yearsText(t, fmt, years) {
  return years == null ? t('fam.trl-never') : t('fam.trl-years', { n: fmt.fixed(years, 1) });
}

/** How long a record at this Sharpe must be for the test (the minimum track record length),
 * against 0 and against the deflated bar, beside this record's own length; only the numbers
 * are kept on one line. */
function powerLine(t, fmt, r) {
  if (r.record_years == null) return '';
  const items = [
    ['fam.trl-have', { years: yearsText(t, fmt, r.record_years) }],
    ['fam.trl-zero', { years: yearsText(t, fmt, r.min_years_vs_zero) }],
    ['fam.trl-bar', { bar: fmt.fixed(r.dsr_bar, 2), years: yearsText(t, fmt, r.min_years_vs_bar) }],
  ];
  const parts = items.flatMap(([key, vars], i) => {
    // Each placeholder becomes a marker, so the template's words wrap and its values do not.
    const marked = t(key, Object.fromEntries(Object.keys(vars).map((k) => [k, `\u0001${k}\u0001`])));
    const pieces = marked.split('\u0001').map((piece, j) => (j % 2 ? nw(vars[piece]) : piece)).filter((x) => x !== '');
    return [...(i ? [' · '] : []), ...pieces];
  });
  return h('div', { class: 'muted small', 'data-field': 'power', title: t('fam.trl-label') }, parts);
}

/** A small line chart of the curves given as `[values, class]`, on one shared scale. */
function sparkline(series, label) {
  const all = series.flatMap(([v]) => v).filter((x) => Number.isFinite(x));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 240 60');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  if (all.length < 2) return svg;
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || 1;
  for (const [values, cls] of series) {
    if (values.length < 2) continue;
    const pts = values.map((v, i) => `${((i / (values.length - 1)) * 240).toFixed(1)},${(58 - ((v - lo) / span) * 56).toFixed(1)}`);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', pts.join(' '));
    line.setAttribute('class', cls);
    svg.append(line);
  }
  return svg;
}

export function create(ctx, shared) {
  const { t } = ctx;
  const s = { study: null, studyError: null, rows: null, rowsFor: null, rowsError: null, busy: null, status: null };

  async function loadStudy() {
    try {
      s.study = await ctx.api.signalStudy();
      s.studyError = null;
    } catch (err) {
      s.studyError = err;
    }
  }

  async function loadRows() {
    const symbol = shared.selected;
    if (!symbol || s.study?.state !== 'ready') {
      s.rows = null;
      return;
    }
    try {
      s.rows = await ctx.api.familySignals(symbol);
      s.rowsFor = symbol;
      s.rowsError = null;
    } catch (err) {
      s.rows = null;
      s.rowsError = err;
    }
  }

  async function load() {
    await loadStudy();
    await loadRows();
    render();
  }

  async function useSuggested(row) {
    s.busy = row.family;
    s.status = null;
    render();
    try {
      const sug = await ctx.api.suggestTicket(row.symbol, row.family);
      ctx.views.trade.prefillTicket(sug.ticket, {
        flat: sug.unproven,
        text: `${t('fam.from-family', { family: word(t, 'fam.id', sug.family) })}`
          + (sug.capped_by.length ? ` ${t('fam.capped', { rules: sug.capped_by.join(', ') })}` : '')
          + (sug.unproven ? ` ${t('signals.unproven')}` : ''),
      });
      ctx.navigate('trade');
    } catch (err) {
      s.status = describeError(t, err);
      ctx.fail(err, false);
    }
    s.busy = null;
    render();
  }

  function portfolioCard() {
    const st = s.study;
    const { fmt } = ctx;
    if (s.studyError) return [h('p', { class: 'status-line', dataset: { kind: 'error' }, role: 'alert', text: describeError(t, s.studyError) })];
    if (!st || st.state === 'computing') {
      const [done, total] = st?.progress ?? [0, 0];
      return [
        h('p', { class: 'muted', 'data-testid': 'study-progress-text', text: t('fam.computing', { done, total }) }),
        h('progress', { 'data-testid': 'study-progress', max: String(total || 1), value: String(done), 'aria-label': t('fam.computing-label') }),
      ];
    }
    if (st.state === 'failed') return [h('p', { class: 'status-line', dataset: { kind: 'error' }, role: 'alert', text: `${t('fam.failed')} ${st.error ?? ''}` })];
    const p = st.portfolio;
    const b = st.basket;
    const parts = [];
    if (p.flat) {
      parts.push(h('p', { class: 'warn-box', 'data-testid': 'portfolio-flat', text: t('fam.nothing-passes') }));
    } else {
      parts.push(h('p', { class: 'ok-box', 'data-testid': 'portfolio-members', text: `${t('fam.members')}: ${p.members.map((m) => word(t, 'fam.id', m)).join(', ')}` }));
    }
    const last = (c) => (c?.exposure?.length ? c.exposure[c.exposure.length - 1] : null);
    const rows = [
      [t('fam.portfolio'), p.record ? sharpeText(fmt, p.record) : '—', p.record ? fmt.pct(p.record.max_drawdown, { fraction: true, digits: 1 }) : '—',
        p.record ? fmt.pct(p.record.total_return, { fraction: true, digits: 1 }) : fmt.pct(0, { fraction: true, digits: 1 }), fmt.pct(p.curve ? last(p.curve) : 0, { fraction: true, digits: 0 })],
      [t('fam.basket'), fmt.fixed(b.sharpe, 2), fmt.pct(b.max_drawdown, { fraction: true, digits: 1 }), fmt.pct(b.total_return, { fraction: true, digits: 1 }), fmt.pct(last(b.curve), { fraction: true, digits: 0 })],
    ];
    parts.push(h('table', { class: 'compact', 'data-testid': 'portfolio-table' },
      h('thead', {}, h('tr', {}, ['', 'fam.sharpe-ci', 'fam.max-dd', 'fam.total', 'fam.exposure'].map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i ? h('td', { class: 'num', text: c }) : h('th', { scope: 'row', text: c }))))))));
    const flatLine = b.curve.equity.map(() => 1);
    parts.push(sparkline([[b.curve.equity, 'basket'], [p.curve ? p.curve.equity : flatLine, 'portfolio']], t('fam.curve-label')));
    parts.push(h('p', { class: 'muted small', text: t('fam.curve-legend') }));
    parts.push(h('p', { class: 'muted small', 'data-testid': 'study-window',
      text: t('fam.window', { from: fmtTime(st.from_ms).slice(0, 10), to: fmtTime(st.to_ms).slice(0, 10), n: st.symbols.length, strategy: st.strategy, trials: st.trials }) }));
    return parts;
  }

  /** The family's equity on the study's universe against the equal-weight basket, or nothing
   * before the study is ready. */
  function familyCurve(id) {
    const f = s.study?.families?.find((x) => x.id === id);
    const basket = s.study?.basket?.curve?.equity;
    if (!f?.curve?.equity?.length || !basket?.length) return '';
    const svg = sparkline([[basket, 'basket'], [f.curve.equity, 'family']], t('fam.row-curve-label'));
    svg.classList.add('mini');
    svg.setAttribute('preserveAspectRatio', 'none');
    return svg;
  }

  function familyRows() {
    const { fmt } = ctx;
    if (s.rowsError) return [h('p', { class: 'status-line', dataset: { kind: 'error' }, role: 'alert', text: describeError(t, s.rowsError) })];
    if (!s.rows) return [h('p', { class: 'muted', text: t('fam.waiting') })];
    const head = ['fam.family', 'fam.horizon', 'signals.direction', 'fam.size', 'fam.stop', 'fam.record', 'fam.why-flat', 'fam.next', ''];
    const body = s.rows.map((r) => {
      // Each number keeps its unit and each time its zone on one line (the table must read at
      // 1280 px in both languages); the lines break only between such pieces.
      const dir = r.direction === 'flat'
        ? [nw(`— ${t('dir.flat')}`), ...(r.lean !== 'flat' ? [' ', nw(`(${t('signals.lean')} ${t(`dir.${r.lean}`)})`)] : [])]
        : [nw(`${r.direction === 'long' ? '↑' : '↓'} ${t(`dir.${r.direction}`)}`)];
      const size = r.weight === 0
        ? '—'
        : h('span', {}, r.suggested_notional ? h('span', { class: 'nowrap' }, num(`${fmt.usdt(r.suggested_notional)} USDT`, r.suggested_notional)) : '',
          ' ', nw(`(${fmt.pct(Math.abs(r.weight), { fraction: true, digits: 0 })} ${t('fam.of-equity')})`));
      const stop = r.stop_price
        ? h('span', {}, h('span', { class: 'nowrap' }, num(fmt.price(r.stop_price), r.stop_price)), ' ', nw(`(${fmt.pct(r.stop_distance, { fraction: true, digits: 1 })})`))
        : '—';
      const [day, time] = fmtTime(r.next_decision_ms).split(' ');
      const next = time ? [nw(day), ' ', nw(`${time} UTC`)] : [day];
      return h('tr', { 'data-family': r.family }, [
        h('td', { text: word(t, 'fam.id', r.family) }),
        h('td', {}, withTail(horizonText(t, r.horizon_days))),
        h('td', { 'data-field': 'direction' }, dir),
        h('td', { 'data-field': 'size' }, size),
        h('td', { 'data-field': 'stop' }, stop),
        h('td', { 'data-field': 'record' }, recordParts(t, fmt, r.record), powerLine(t, fmt, r.record), familyCurve(r.family)),
        h('td', { 'data-field': 'why', text: r.record.edge ? t('fam.has-edge') : reasonsText(t, r.record.reasons, r.record) }),
        h('td', { 'data-field': 'next' }, next),
        // Without a volatility estimate on the family's bars there is no size to suggest.
        h('td', {}, r.weight !== 0 && r.annual_vol != null ? button(t(r.direction === 'flat' ? 'fam.use-size-lean' : 'fam.use-size'), {
          class: r.direction === 'flat' ? 'btn small' : 'btn small primary', 'data-testid': 'use-size',
          disabled: s.busy !== null, onclick: () => useSuggested(r),
        }) : ''),
      ]);
    });
    const parts = [h('div', { class: 'table-wrap' }, h('table', { class: 'families', 'data-testid': 'family-signals' },
      h('thead', {}, h('tr', {}, head.map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
      h('tbody', {}, body)))];
    parts.push(h('p', { class: 'muted small', text: t('fam.next-help') }));
    if (s.status) parts.push(h('p', { class: 'status-line', dataset: { kind: 'error' }, role: 'alert', text: s.status }));
    return parts;
  }

  function renderPortfolio() {
    const pslot = shared.root?.querySelector('[data-testid=portfolio-slot]');
    if (pslot) pslot.replaceChildren(...portfolioCard());
  }

  function render() {
    renderPortfolio();
    const fslot = shared.root?.querySelector('[data-testid=families-slot]');
    if (fslot) fslot.replaceChildren(...familyRows());
  }

  // A study's progress redraws the portfolio card's bar at most once a frame; the family rows
  // do not change with it.
  const queueProgress = oncePerFrame(() => renderPortfolio(), 'study-progress');

  return {
    load,
    render,
    /** The chart moved to another symbol: its families' rows. */
    async selected() {
      await loadRows();
      render();
    },
    onEvent(ev) {
      if (ev.kind === 'study_progress') {
        // After a daily close the next study runs behind the one on screen, which stays
        // until the new one is ready: nothing drawn changes meanwhile, so the card and every
        // family's row are not redrawn at each of its steps (the replay's busiest moment).
        if (s.study?.state === 'ready') return;
        s.study = { ...(s.study ?? {}), state: 'computing', progress: [ev.done, ev.total] };
        queueProgress();
      } else if (ev.kind === 'study_ready') {
        load();
      }
    },
  };
}
