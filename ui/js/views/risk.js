// 风控设置: every RiskLimits field with a line saying what it does, client-side checks, the
// backend's InvalidInput shown next to the field it names, and the kill switch.
import {
  button, card, clearFieldErrors, describeError, errorToField, field, h, header, input,
  setFieldError, setStatus,
  fill,
} from './common.js';

// [name, kind]: decimal (a decimal string), int (a whole number), bool.
const FIELDS = [
  ['max_position_notional', 'decimal'], ['max_total_notional', 'decimal'], ['max_leverage', 'int'],
  ['max_trades_per_day', 'int'], ['require_stop_loss', 'bool'], ['max_stop_distance_pct', 'decimal'],
  ['daily_loss_limit', 'decimal'], ['max_concurrent_positions', 'int'],
];

export function create(ctx) {
  const { t } = ctx;
  let limits = null;
  let error = null;
  let status = null;
  let root = null;
  let controls = {};

  async function load() {
    try {
      limits = await ctx.api.riskLimits();
      error = null;
    } catch (err) {
      error = err;
      ctx.fail(err, false);
    }
    render(root);
  }

  /** Reads the form; returns [limits, errors]. Values keep the type the backend sent. */
  function read() {
    const out = { ...limits };
    const errors = {};
    for (const [name, kind] of FIELDS) {
      const c = controls[name];
      if (kind === 'bool') {
        out[name] = c.checked;
        continue;
      }
      const v = c.value.trim();
      if (kind === 'int') {
        if (!/^\d+$/.test(v)) errors[name] = t('risk.err.int');
        else if (name === 'max_leverage' && (Number(v) < 1 || Number(v) > 125)) errors[name] = t('trade.err.leverage');
        out[name] = typeof limits[name] === 'string' ? v : Number(v);
      } else {
        if (!/^\d+(\.\d+)?$/.test(v)) errors[name] = t('risk.err.decimal');
        else if (name === 'max_stop_distance_pct' && Number(v) > 100) errors[name] = t('trade.err.percent');
        out[name] = typeof limits[name] === 'number' ? Number(v) : v;
      }
    }
    return [out, errors];
  }

  async function save(e) {
    e.preventDefault();
    clearFieldErrors(root);
    const [next, errors] = read();
    for (const [name, msg] of Object.entries(errors)) setFieldError(controls[name], msg);
    const first = Object.keys(errors)[0];
    if (first) {
      controls[first].focus();
      return;
    }
    try {
      limits = await ctx.api.setRiskLimits(next);
      status = { kind: 'ok', text: t('common.saved-settings') };
      render(root);
    } catch (err) {
      if (!(err.code === 'InvalidInput' && errorToField(t, err, controls))) {
        ctx.fail(err, root.querySelector('[data-testid=risk-save-status]'));
      }
    }
  }

  async function killSwitch(on) {
    if (on) {
      const yes = await ctx.confirm({ title: t('risk.kill-title'), message: t('risk.kill-message'), ok: t('risk.kill-ok'), danger: true });
      if (!yes) return;
    }
    try {
      limits = await ctx.api.setKillSwitch(on);
      // Locked meanwhile (auto-lock): the switch is saved and blocks orders, but there is no
      // session to close positions with until the next unlock, which closes them first.
      const waits = on && (await ctx.api.vaultStatus().catch(() => null))?.locked === true;
      status = waits
        ? { kind: 'info', text: t('risk.kill-on-at-unlock') }
        : { kind: 'ok', text: t(on ? 'risk.kill-on-done' : 'risk.kill-off-done') };
    } catch (err) {
      status = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  function render(section) {
    if (!section) return;
    root = section;
    controls = {};
    if (!limits) {
      fill(section, ...header(t, 'risk'),
        error ? h('p', { class: 'status-line', role: 'alert', dataset: { kind: 'error' }, text: describeError(t, error) }) : h('p', { class: 'empty', text: t('common.loading') }));
      return;
    }
    const fields = FIELDS.map(([name, kind]) => {
      const c = kind === 'bool'
        ? h('input', { type: 'checkbox', name, id: `risk-${name}`, checked: Boolean(limits[name]) })
        : input(name, { id: `risk-${name}`, value: String(limits[name] ?? ''), inputmode: kind === 'int' ? 'numeric' : 'decimal', 'data-testid': `risk-${name}` });
      controls[name] = c;
      return field(t(`risk.f.${name}`), c, { help: t(`risk.h.${name}`) });
    });
    const form = h('form', { 'data-testid': 'risk-form', novalidate: true }, h('div', { class: 'grid2' }, fields),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', text: t('common.save'), 'data-testid': 'risk-save' })),
      h('p', { class: 'status-line', role: 'status', 'data-testid': 'risk-save-status' }));
    if (status) setStatus(form.lastChild, status.kind, status.text);
    form.addEventListener('submit', save);
    const on = Boolean(limits.kill_switch);
    fill(section, ...header(t, 'risk'),
      card(t('risk.kill'),
        h('p', { class: on ? 'risk-box' : 'ok-box', 'data-testid': 'kill-state', text: on ? `⛔ ${t('risk.kill-is-on')}` : `✓ ${t('risk.kill-is-off')}` }),
        h('p', { class: 'muted', text: t('risk.kill-help') }),
        on ? button(t('risk.kill-off'), { 'data-testid': 'kill-off', onclick: () => killSwitch(false) })
          : button(t('risk.kill-on'), { class: 'btn danger', 'data-testid': 'kill-on', onclick: () => killSwitch(true) })),
      card(t('risk.limits'), form));
  }

  return {
    render,
    load,
    onEvent(ev) {
      if (ev.kind === 'risk') load();
    },
  };
}
