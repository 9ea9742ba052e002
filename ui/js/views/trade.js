// 交易执行: the manual ticket. Enter (or "Preview") asks the backend for a preview with the
// risk check; "Confirm" places exactly the ticket that was previewed. Any edit after a
// preview throws the preview away, so what is confirmed is always what was shown.
import { priceInput } from '../format.js';
import {
  button, card, clearFieldErrors, describeError, errorToField, field, h, header,
  input, isPositiveDecimal, num, select, setFieldError, setStatus,
  word,
  fill,
} from './common.js';

const SYMBOL_RE = /^[A-Z0-9]{5,20}$/;

export function create(ctx) {
  const { t } = ctx;
  // The ticket survives re-renders (language switch) and is filled by "trade this signal".
  const s = {
    symbol: 'BTCUSDT', side: 'BUY', sizingKind: 'fixed_notional', sizingValue: '500', leverage: '5',
    marginType: 'ISOLATED', orderType: 'MARKET', price: '', takeProfit: '', stopLoss: '',
    signalId: null, signalNote: null,
  };
  let preview = null; // {ticket, result}
  let result = null; // {kind, text}
  let root = null;
  let controls = {};

  function ticketFromState() {
    const sizing = { kind: s.sizingKind };
    if (s.sizingKind === 'risk_percent') sizing.percent = s.sizingValue.trim();
    else if (s.sizingKind === 'fixed_notional') sizing.usdt = s.sizingValue.trim();
    else sizing.quantity = s.sizingValue.trim();
    const ticket = {
      symbol: s.symbol.trim(), side: s.side, sizing, leverage: Number(s.leverage),
      margin_type: s.marginType, order_type: s.orderType,
    };
    if (s.orderType === 'LIMIT') ticket.price = s.price.trim();
    if (s.takeProfit.trim()) ticket.take_profit = s.takeProfit.trim();
    if (s.stopLoss.trim()) ticket.stop_loss = s.stopLoss.trim();
    if (s.signalId !== null) ticket.signal_id = s.signalId;
    return ticket;
  }

  /** Client-side checks; returns {field: message}. The backend checks again. */
  function validate() {
    const e = {};
    if (!SYMBOL_RE.test(s.symbol.trim())) e.symbol = t('trade.err.symbol');
    const v = s.sizingValue.trim();
    if (!isPositiveDecimal(v)) e.sizingValue = t('trade.err.positive');
    else if (s.sizingKind === 'risk_percent' && Number(v) > 100) e.sizingValue = t('trade.err.percent');
    const lev = Number(s.leverage);
    if (!/^\d+$/.test(s.leverage.trim()) || lev < 1 || lev > 125) e.leverage = t('trade.err.leverage');
    if (s.orderType === 'LIMIT' && !isPositiveDecimal(s.price.trim())) e.price = t('trade.err.price');
    if (s.takeProfit.trim() && !isPositiveDecimal(s.takeProfit.trim())) e.takeProfit = t('trade.err.positive');
    if (s.stopLoss.trim() && !isPositiveDecimal(s.stopLoss.trim())) e.stopLoss = t('trade.err.positive');
    // With a limit price we know the entry, so TP and SL must sit on the right sides of it.
    const entry = s.orderType === 'LIMIT' && !e.price ? Number(s.price) : null;
    const buy = s.side === 'BUY';
    if (entry !== null && !e.takeProfit && s.takeProfit.trim()) {
      const tp = Number(s.takeProfit);
      if (buy ? tp <= entry : tp >= entry) e.takeProfit = t(buy ? 'trade.err.tp-above' : 'trade.err.tp-below');
    }
    if (entry !== null && !e.stopLoss && s.stopLoss.trim()) {
      const sl = Number(s.stopLoss);
      if (buy ? sl >= entry : sl <= entry) e.stopLoss = t(buy ? 'trade.err.sl-below' : 'trade.err.sl-above');
    }
    return e;
  }

  function showValidation(errors) {
    clearFieldErrors(root);
    for (const [name, msg] of Object.entries(errors)) setFieldError(controls[name], msg);
    const first = Object.keys(errors)[0];
    if (first) controls[first].focus();
  }

  function invalidatePreview() {
    if (!preview && !result) return;
    preview = null;
    result = null;
    renderPreview();
  }

  async function doPreview() {
    const errors = validate();
    showValidation(errors);
    if (Object.keys(errors).length) return;
    const ticket = ticketFromState();
    const status = root.querySelector('[data-testid=preview-status]');
    setStatus(status, 'info', t('trade.previewing'));
    try {
      const r = await ctx.api.previewOrder(ticket);
      preview = { ticket, result: r };
      result = null;
      setStatus(status, 'info', '');
      renderPreview();
      root.querySelector('[data-testid=confirm-order]')?.focus();
    } catch (err) {
      preview = null;
      renderPreview();
      if (err.code === 'InvalidInput' && errorToField(t, err, backendNames())) {
        setStatus(status, 'error', '');
      } else {
        ctx.fail(err, status);
      }
    }
  }

  function backendNames() {
    return {
      symbol: controls.symbol, percent: controls.sizingValue, usdt: controls.sizingValue,
      quantity: controls.sizingValue, sizing: controls.sizingValue, leverage: controls.leverage,
      price: controls.price, take_profit: controls.takeProfit, 'take-profit': controls.takeProfit,
      stop_loss: controls.stopLoss, 'stop-loss': controls.stopLoss,
    };
  }

  async function doConfirm() {
    if (!preview?.result?.risk?.ok) return;
    const live = ctx.mode() === 'live';
    if (live) {
      const yes = await ctx.confirm({
        title: t('trade.live-title'),
        message: t('trade.live-message', { side: t(`side.${preview.ticket.side}`), qty: ctx.fmt.qty(preview.result.quantity, preview.result.step_size), symbol: preview.ticket.symbol }),
        ok: t('trade.live-ok'),
        danger: true,
      });
      if (!yes) return;
    }
    const btn = root.querySelector('[data-testid=confirm-order]');
    btn.disabled = true;
    try {
      const placed = await ctx.api.placeOrder(preview.ticket, live);
      const legs = [placed.entry, placed.take_profit, placed.stop_loss].filter(Boolean)
        .map((o) => `${word(t, 'leg', o.leg)} ${o.client_order_id} ${word(t, 'state', o.state)}`);
      result = { kind: 'ok', text: `${t('trade.placed', { id: placed.ticket_id })} ${legs.join(' · ')}` };
      preview = null;
      s.signalId = null;
      s.signalNote = null;
    } catch (err) {
      result = { kind: 'error', text: describeError(t, err), risk: err.code === 'RiskRefused' };
      // The words go next to the button; `false` keeps the banner out of it.
      ctx.fail(err, false);
    }
    renderPreview();
    root.querySelector('[data-testid=order-result]')?.focus();
  }

  function renderPreview() {
    const box = root?.querySelector('[data-testid=preview]');
    if (!box) return;
    box.replaceChildren();
    if (preview) {
      const r = preview.result;
      const { fmt } = ctx;
      const tick = r.tick_size;
      const rows = [
        ['trade.quantity', r.quantity, fmt.qty(r.quantity, r.step_size)], ['trade.entry', r.entry_price, fmt.price(r.entry_price, tick)],
        ['trade.notional', r.notional, fmt.usdt(r.notional)], ['trade.margin', r.margin_required, fmt.usdt(r.margin_required)],
        ['trade.take-profit', r.take_profit, fmt.price(r.take_profit, tick)], ['trade.stop-loss', r.stop_loss, fmt.price(r.stop_loss, tick)],
        ['trade.liquidation', r.liquidation_price, fmt.price(r.liquidation_price, tick)], ['trade.worst-loss', r.worst_case_loss, fmt.usdt(r.worst_case_loss)],
        ['trade.reward', r.reward_at_take_profit, fmt.usdt(r.reward_at_take_profit)], ['trade.fee', r.entry_fee, fmt.fee(r.entry_fee)],
      ];
      box.append(h('dl', { class: 'kv' }, rows.map(([k, exact, shown]) => [h('dt', { text: t(k) }), h('dd', { 'data-field': k }, num(shown, exact))])));
      const risk = r.risk ?? { ok: false, message: '?' };
      box.append(risk.ok
        ? h('p', { class: 'ok-box', 'data-testid': 'risk-result', text: `✓ ${t('trade.risk-ok')}` })
        : h('p', { class: 'risk-box', role: 'alert', 'data-testid': 'risk-result', text: `✗ ${t('trade.risk-refused')} [${risk.rule ?? '?'}]: ${risk.message ?? ''}` }));
      if (ctx.mode() === 'live') box.append(h('p', { class: 'risk-box', text: t('trade.live-warning') }));
    }
    const confirm = button(t('trade.confirm'), {
      class: ctx.mode() === 'live' ? 'btn danger' : 'btn primary',
      'data-testid': 'confirm-order',
      disabled: !preview?.result?.risk?.ok,
      onclick: doConfirm,
    });
    const out = h('p', { class: `status-line ${result?.risk ? 'risk-box' : ''}`, role: 'status', tabindex: '-1', 'data-testid': 'order-result' });
    if (result) setStatus(out, result.kind, result.text);
    box.append(h('div', { class: 'row' }, confirm), out);
  }

  function bind(name, control) {
    controls[name] = control;
    control.value = s[name];
    control.addEventListener('input', () => {
      s[name] = control.value;
      setFieldError(control, null);
      invalidatePreview();
    });
    control.addEventListener('change', () => {
      s[name] = control.value;
      invalidatePreview();
      if (name === 'orderType' || name === 'sizingKind') render(root);
    });
    return control;
  }

  function render(section) {
    root = section;
    controls = {};
    const sizingLabel = t(`trade.sizing.${s.sizingKind}.value`);
    const form = h('form', { 'data-testid': 'ticket', novalidate: true },
      s.signalNote ? h('p', { class: s.signalNote.flat ? 'warn-box' : 'ok-box', 'data-testid': 'ticket-signal', text: s.signalNote.text }) : null,
      h('div', { class: 'grid3' },
        field(t('trade.symbol'), bind('symbol', input('symbol', { id: 'ticket-symbol', 'data-testid': 'ticket-symbol' }))),
        field(t('trade.side'), bind('side', select('side', [['BUY', t('side.BUY')], ['SELL', t('side.SELL')]], { id: 'ticket-side', 'data-testid': 'ticket-side' }))),
        field(t('trade.sizing'), bind('sizingKind', select('sizingKind', ['risk_percent', 'fixed_notional', 'quantity'].map((k) => [k, t(`trade.sizing.${k}`)]), { id: 'ticket-sizing', 'data-testid': 'ticket-sizing' }))),
        field(sizingLabel, bind('sizingValue', input('sizingValue', { id: 'ticket-size', inputmode: 'decimal', 'data-testid': 'ticket-size' })), { help: t(`trade.sizing.${s.sizingKind}.help`) }),
        field(t('trade.leverage'), bind('leverage', input('leverage', { id: 'ticket-leverage', inputmode: 'numeric', 'data-testid': 'ticket-leverage' }))),
        field(t('trade.margin-type'), bind('marginType', select('marginType', [['ISOLATED', t('margin.ISOLATED')], ['CROSS', t('margin.CROSS')]], { id: 'ticket-margin', 'data-testid': 'ticket-margin' }))),
        field(t('trade.order-type'), bind('orderType', select('orderType', [['MARKET', t('otype.MARKET')], ['LIMIT', t('otype.LIMIT')]], { id: 'ticket-type', 'data-testid': 'ticket-type' }))),
        field(t('trade.price'), bind('price', input('price', { id: 'ticket-price', inputmode: 'decimal', 'data-testid': 'ticket-price', disabled: s.orderType !== 'LIMIT' })), { help: s.orderType === 'LIMIT' ? null : t('trade.price-market') }),
        field(t('trade.take-profit'), bind('takeProfit', input('takeProfit', { id: 'ticket-tp', inputmode: 'decimal', 'data-testid': 'ticket-tp' }))),
        field(t('trade.stop-loss'), bind('stopLoss', input('stopLoss', { id: 'ticket-sl', inputmode: 'decimal', 'data-testid': 'ticket-sl' }))),
      ),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn', 'data-testid': 'preview-order', text: t('trade.preview') }),
        h('span', { class: 'status-line', role: 'status', 'data-testid': 'preview-status' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      doPreview();
    });
    fill(section, ...header(t, 'trade'),
      card(t('trade.ticket'), form),
      card(t('trade.preview-title'), h('div', { 'data-testid': 'preview', 'aria-live': 'polite' })));
    renderPreview();
  }

  return {
    render,
    /**
     * Fills the ticket from a signal: the lean's side, a market entry, TP and SL on the
     * symbol's tick (`tick` when the signal carries none).
     */
    prefill(signal, tick) {
      const price = (v) => priceInput(v, signal.tick_size ?? tick);
      const side = signal.lean ?? signal.direction;
      Object.assign(s, {
        // A market entry: the signal is for the candle that just closed, and a limit at its
        // close would often never fill; the preview shows the actual entry before the click.
        symbol: signal.symbol, side: side === 'short' ? 'SELL' : 'BUY', orderType: 'MARKET',
        price: '', takeProfit: price(signal.take_profit), stopLoss: price(signal.stop_loss),
        signalId: signal.id ?? null,
        signalNote: {
          flat: signal.direction === 'flat',
          text: signal.direction === 'flat'
            ? `${t('trade.from-signal', { id: signal.id })} ${t('signals.unproven')}`
            : t('trade.from-signal', { id: signal.id }),
        },
      });
      preview = null;
      result = null;
      if (root) render(root);
    },
    /**
     * Fills the ticket with one a signal family suggested (`suggest_ticket`): its side, its
     * volatility-targeted notional, leverage and stop; the user may change any field.
     */
    prefillTicket(ticket, note) {
      Object.assign(s, {
        symbol: ticket.symbol, side: ticket.side, sizingKind: 'fixed_notional', sizingValue: String(ticket.sizing.usdt),
        leverage: String(ticket.leverage), marginType: ticket.margin_type, orderType: 'MARKET', price: '',
        takeProfit: ticket.take_profit ?? '', stopLoss: ticket.stop_loss ?? '',
        signalId: ticket.signal_id ?? null, signalNote: note,
      });
      preview = null;
      result = null;
      if (root) render(root);
    },
    /** A preview made for another account (or mode) is not the one to confirm. */
    modeChanged() {
      preview = null;
      result = null;
      if (root) render(root);
    },
    onEvent(ev) {
      // A new preview is needed when the kill switch or a limit changed under the ticket.
      if (ev.kind === 'risk' && preview) invalidatePreview();
    },
  };
}
