// 分润: the ledger, totals, high-water mark, what settling now would owe, period statements,
// the settings, settle, CSV export and a printable statement (window.print with print.css);
// the period so far, the statement key to give the platform and the check of the last
// signed statement against the synced exchange records (issue 20).
import { movePoint } from '../format.js';
import {
  button, card, clearFieldErrors, describeError, errorToField, field, fmtTime, h, header,
  input, num, pnlCell, select, setFieldError, setStatus, table,
  fill,
} from './common.js';

export function create(ctx) {
  const { t } = ctx;
  const s = { ledger: null, summary: null, check: null, statements: [], period: 'monthly', settings: null, error: null, status: {} };
  let root = null;
  let controls = {};

  async function load() {
    try {
      // The summary is read on its own: the ledger stays on screen if it fails.
      const summary = ctx.api.profitShareSummary().then((v) => { s.summary = v; }, (err) => {
        s.summary = null;
        s.status.verify = { kind: 'error', text: describeError(t, err) };
        ctx.fail(err, false);
      });
      const [ledger, settings] = await Promise.all([ctx.api.ledger(), ctx.api.ledgerSettings()]);
      await summary;
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

  async function copyKey() {
    const key = s.summary?.key?.public_key;
    if (!key) return;
    try {
      await navigator.clipboard.writeText(key);
      s.status.key = { kind: 'ok', text: t('ps.copied') };
    } catch {
      // WebKitGTK may refuse the async clipboard; a selected read-only field copies too.
      const el = root.querySelector('[data-testid=ps-public-key]');
      el?.select();
      const copied = el ? document.execCommand('copy') : false;
      s.status.key = copied ? { kind: 'ok', text: t('ps.copied') } : { kind: 'error', text: t('ps.copy-failed') };
    }
    render(root);
  }

  async function verifyLast() {
    const last = s.summary?.last_settlement;
    if (!last) return;
    try {
      const r = await ctx.api.verifyStatement(last.id);
      s.check = r;
      s.status.verify = r.genuine
        ? { kind: 'ok', text: t('ps.verified', { n: r.settlement_sequence, fills: r.fills, income: r.income_rows }) }
        : { kind: 'error', text: t('ps.not-verified', { n: r.settlement_sequence, count: r.problems.length }) };
    } catch (err) {
      s.check = null;
      s.status.verify = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  async function exportRecords() {
    try {
      const r = await ctx.api.exportExchangeRecords();
      s.status.records = { kind: 'ok', text: t('common.saved', { path: r.path, rows: r.rows }) };
    } catch (err) {
      s.status.records = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  function periodCard() {
    const { fmt } = ctx;
    const p = s.summary;
    if (!p) return s.status.verify ? statusLine('verify') : null;
    const owed = p.owed_now?.total ?? {};
    const last = p.last_settlement;
    const key = p.key;
    const keyCell = key
      ? h('dd', {},
        h('div', { class: 'row' },
          // 72 characters: `ed25519:` and 64 hex digits, all visible to read and compare.
          h('input', { id: 'ps-public-key', type: 'text', readonly: true, size: 74, value: key.public_key, 'data-testid': 'ps-public-key', spellcheck: 'false', 'aria-label': t('ps.public-key') }),
          button(t('ps.copy-key'), { 'data-testid': 'ps-copy-key', onclick: copyKey })),
        h('small', { class: 'help', 'data-testid': 'ps-fingerprint', text: t('ps.public-key-help', { fingerprint: key.fingerprint }) }))
      : h('dd', { class: 'help', 'data-testid': 'ps-no-key', text: t('ps.no-key') });
    const dl = h('dl', { class: 'kv', 'data-testid': 'ps-period' },
      h('dt', { text: t('ps.period-net') }),
      h('dd', {}, pnlCell(fmt.usdt(p.period_net, { signed: true }), p.period_net), ' ',
        h('small', { text: t('ps.period-trades', { n: fmt.number(p.period_trades) }) })),
      h('dt', { text: t('ps.mark') }), h('dd', {}, num(fmt.usdt(p.high_water_mark), p.high_water_mark)),
      h('dt', { text: t('ps.owed-platform') }), h('dd', {}, num(fmt.usdt(owed.platform_share), owed.platform_share)),
      h('dt', { text: t('ps.owed-user') }), h('dd', {}, num(fmt.usdt(owed.user_share), owed.user_share)),
      h('dt', { text: t('ps.last-settlement') }),
      h('dd', { 'data-testid': 'ps-last-settlement', text: last
        ? t('ps.last-settlement-value', { time: fmtTime(last.settled_at_ms), platform: fmt.usdt(last.platform_share), user: fmt.usdt(last.user_share) })
        : t('ps.none') }),
      h('dt', { text: t('ps.public-key') }), keyCell);
    const problems = s.check && !s.check.genuine
      ? h('ul', { 'data-testid': 'ps-verify-problems' }, s.check.problems.map((text) => h('li', { text })))
      : null;
    return h('div', { class: 'no-print' }, card(t('ps.period-card'), dl, statusLine('key'),
      h('div', { class: 'row wrap' },
        button(t('ps.verify'), { class: 'btn primary', 'data-testid': 'ps-verify', disabled: !(last && last.signed), onclick: verifyLast }),
        button(t('ps.export-records'), { 'data-testid': 'ps-export-records', onclick: exportRecords })),
      statusLine('verify'), problems, statusLine('records')));
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
      periodCard(),
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
