// 分润: the ledger, totals, high-water mark, what settling now would owe, period statements,
// the settings, settle, CSV export and a printable statement (window.print with print.css).
import { movePoint } from '../format.js';
import {
  button, card, clearFieldErrors, describeError, errorToField, field, fmtTime, h, header,
  input, num, pnlCell, select, setFieldError, setStatus, table,
  fill,
} from './common.js';

export function create(ctx) {
  const { t } = ctx;
  const s = { ledger: null, statements: [], period: 'monthly', settings: null, error: null, status: {} };
  let root = null;
  let controls = {};

  async function load() {
    try {
      const [ledger, settings] = await Promise.all([ctx.api.ledger(), ctx.api.ledgerSettings()]);
      s.ledger = ledger;
      s.settings = settings ?? ledger.settings;
      if (s.settings?.period) s.period = s.settings.period;
      s.statements = await ctx.api.statements(s.period);
      s.error = null;
    } catch (err) {
      s.error = err;
      ctx.fail(err, false);
    }
    render(root);
  }

  async function loadStatements() {
    try {
      s.statements = await ctx.api.statements(s.period);
    } catch (err) {
      s.status.statements = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  function ratioPercent(settings) {
    return movePoint(settings?.platform_ratio, 2);
  }

  async function saveSettings(e) {
    e.preventDefault();
    clearFieldErrors(root);
    const pct = controls.ratio.value.trim();
    if (!/^\d+(\.\d+)?$/.test(pct) || Number(pct) > 100) {
      setFieldError(controls.ratio, t('ps.err.ratio'));
      controls.ratio.focus();
      return;
    }
    // The backend keeps the ratio as a decimal fraction ("0.7"); the user types a percent.
    const ratio = movePoint(pct, -2);
    const settings = {
      platform_ratio: ratio, mode: controls.mode.value, include_manual: controls.manual.checked, period: controls.period.value,
    };
    const st = root.querySelector('[data-testid=settings-status]');
    try {
      s.settings = await ctx.api.setLedgerSettings(settings);
      s.status.settings = { kind: 'ok', text: t('common.saved-settings') };
      await load();
    } catch (err) {
      const names = { platform_ratio: controls.ratio, ratio: controls.ratio, mode: controls.mode, period: controls.period, include_manual: controls.manual };
      if (!((err.code === 'InvalidInput' || err.code === 'Conflict') && errorToField(t, err, names))) ctx.fail(err, st);
    }
  }

  async function settle() {
    const owed = s.ledger?.owed_now ?? {};
    const yes = await ctx.confirm({
      title: t('ps.settle-title'),
      message: t('ps.settle-message', { platform: ctx.fmt.usdt(owed.platform), user: ctx.fmt.usdt(owed.user) }),
      ok: t('ps.settle'),
    });
    if (!yes) return;
    try {
      const r = await ctx.api.settle();
      s.status.settle = { kind: 'ok', text: t('ps.settled', { end: fmtTime(r.period_end_ms), platform: ctx.fmt.usdt(r.platform), user: ctx.fmt.usdt(r.user) }) };
      await load();
    } catch (err) {
      s.status.settle = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
      render(root);
    }
  }

  async function exportCsv(kind) {
    try {
      const r = await ctx.api.exportCsv(kind, kind === 'statement' ? s.period : undefined);
      s.status.export = { kind: 'ok', text: t('common.saved', { path: r.path, rows: r.rows }) };
    } catch (err) {
      s.status.export = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  function statusLine(key) {
    const p = h('p', { class: 'status-line', role: 'status', 'data-testid': `ps-${key}-status` });
    if (s.status[key]) setStatus(p, s.status[key].kind, s.status[key].text);
    return p;
  }

  function render(section) {
    if (!section) return;
    root = section;
    controls = {};
    const l = s.ledger;
    const totals = l?.totals ?? {};
    const kv = (pairs) => h('dl', { class: 'kv', 'data-testid': 'ps-summary' }, pairs.map(([k, v]) => [h('dt', { text: t(k) }), h('dd', {}, v)]));

    const ratio = input('platform_ratio', { id: 'ps-ratio', inputmode: 'decimal', value: ratioPercent(s.settings), 'data-testid': 'ps-ratio' });
    const mode = select('mode', [['settlement', t('ps.mode.settlement')], ['high_water_mark', t('ps.mode.high_water_mark')], ['per_trade', t('ps.mode.per_trade')]], { id: 'ps-mode' });
    mode.value = s.settings?.mode ?? 'settlement';
    const manual = h('input', { type: 'checkbox', id: 'ps-manual', name: 'include_manual', checked: Boolean(s.settings?.include_manual) });
    const period = select('period', ['daily', 'weekly', 'monthly'].map((p) => [p, t(`ps.period.${p}`)]), { id: 'ps-period' });
    period.value = s.settings?.period ?? s.period;
    controls = { ratio, mode, manual, period };
    const settingsForm = h('form', { 'data-testid': 'ps-settings', novalidate: true },
      h('div', { class: 'grid2' },
        field(t('ps.ratio'), ratio, { help: t('ps.ratio-help') }),
        field(t('ps.mode'), mode, { help: t('ps.mode-help') }),
        field(t('ps.period'), period),
        field(t('ps.include-manual'), manual, { help: t('ps.include-manual-help') })),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn', text: t('common.save'), 'data-testid': 'ps-save' })),
      h('p', { class: 'status-line', role: 'status', 'data-testid': 'settings-status' }));
    if (s.status.settings) setStatus(settingsForm.lastChild, s.status.settings.kind, s.status.settings.text);
    settingsForm.addEventListener('submit', saveSettings);

    const stPeriod = select('stmt-period', ['daily', 'weekly', 'monthly'].map((p) => [p, t(`ps.period.${p}`)]), { id: 'ps-stmt-period', 'aria-label': t('ps.period') });
    stPeriod.value = s.period;
    stPeriod.addEventListener('change', () => { s.period = stPeriod.value; loadStatements(); });

    const { fmt } = ctx;
    const usdt = (v) => num(fmt.usdt(v), v);
    const signed = (v) => pnlCell(fmt.usdt(v, { signed: true }), v);
    const ledgerRows = (l?.rows ?? []).map((r) => [fmtTime(r.time_ms), r.trade_ref, r.symbol, signed(r.total_pnl), usdt(r.shareable),
      usdt(r.platform_share), usdt(r.user_share), num(fmt.pct(r.platform_ratio, { fraction: true }), r.platform_ratio), t(`ps.mode.${r.mode}`), usdt(r.high_water_mark_after)]);
    const stmtRows = s.statements.map((r) => [typeof r.period_start === 'number' ? fmtTime(r.period_start).slice(0, 10) : String(r.period_start),
      fmt.number(r.trades), signed(r.net_pnl), usdt(r.platform_share), usdt(r.user_share)]);

    fill(section, ...header(t, 'profit-share'),
      s.error ? h('p', { class: 'status-line', role: 'alert', dataset: { kind: 'error' }, text: describeError(t, s.error) }) : null,
      h('div', { class: 'print-area', 'data-testid': 'ps-print-area' },
        h('h2', { class: 'print-only', text: `perpdesk — ${t('ps.statement')} (${t(`ps.period.${s.period}`)})` }),
        card(t('ps.summary'), kv([
          ['ps.trades', fmt.number(totals.trades ?? 0)], ['ps.net-pnl', signed(totals.net_pnl)], ['ps.shareable', usdt(totals.shareable)],
          ['ps.platform-share', usdt(totals.platform_share)], ['ps.user-share', usdt(totals.user_share)],
          ['ps.hwm', usdt(l?.high_water_mark)], ['ps.cumulative', signed(l?.cumulative_net)],
          ['ps.owed-platform', usdt(l?.owed_now?.platform)], ['ps.owed-user', usdt(l?.owed_now?.user)],
        ]), h('div', { class: 'row wrap no-print' },
          button(t('ps.settle'), { class: 'btn primary', 'data-testid': 'ps-settle', onclick: settle }),
          button(t('ps.export-statement'), { 'data-testid': 'ps-export-statement', onclick: () => exportCsv('statement') }),
          button(t('ps.export-ledger'), { 'data-testid': 'ps-export-ledger', onclick: () => exportCsv('ledger') }),
          button(t('ps.print'), { 'data-testid': 'ps-print', onclick: () => window.print() })),
        statusLine('settle'), statusLine('export')),
        card(t('ps.statements'), h('div', { class: 'row no-print' }, h('label', { for: 'ps-stmt-period', text: t('ps.period') }), stPeriod), statusLine('statements'),
          table(t, ['ps.period-start', 'ps.trades', 'ps.net-pnl', 'ps.platform-share', 'ps.user-share'], stmtRows, { testid: 'ps-statements' })),
        card(t('ps.ledger'), table(t, ['records.time', 'ps.trade-ref', 'trade.symbol', 'ps.pnl', 'ps.shareable', 'ps.platform-share', 'ps.user-share', 'ps.ratio-short', 'ps.mode', 'ps.hwm-after'], ledgerRows, { testid: 'ps-ledger' }))),
      h('div', { class: 'no-print' }, card(t('ps.settings'), settingsForm)));
  }

  return {
    render,
    load,
    onEvent(ev) {
      if (ev.kind === 'sync_done' && ev.new_ledger_rows > 0) load();
    },
  };
}
