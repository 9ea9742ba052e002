// Auto-trade: a switch per symbol (off by default) that lets the engine place an order on
// every signal with a direction, and a separate, stronger choice to trade a flat signal's
// unproven lean. Turning either on asks first, in red; live money makes the warning stronger.
import { describeError, h, setStatus, table } from '../common.js';

/**
 * The engine's settings for a symbol it has no auto-trade entry for yet
 * (`AutoTradeSymbol::default` in crates/app/src/autotrade.rs); the first switch-on saves them.
 */
const AUTO_DEFAULTS = { enabled: false, usdt: '500', leverage: 5, margin_type: 'ISOLATED', trade_lean: false };

/** The auto-trade part of the signals panel; it lists `shared.watch` and the saved symbols. */
export function create(ctx, shared) {
  const { t } = ctx;
  // The saved settings, a failed load, the symbol being saved and, per symbol, the outcome
  // shown next to its switch.
  const s = { auto: null, autoError: null, autoBusy: null, autoStatus: {} };

  async function load() {
    try {
      s.auto = await ctx.api.autoTrade();
      s.autoError = null;
    } catch (err) {
      s.autoError = err;
      ctx.fail(err, false);
    }
    render();
  }

  const autoEntry = (symbol) => ({ ...AUTO_DEFAULTS, ...(s.auto?.symbols?.[symbol] ?? {}) });

  /** Saves `change` to one symbol's entry; the outcome is shown next to its switch. */
  async function saveAuto(symbol, change, confirm, okKey, focusId) {
    const symbols = { ...(s.auto?.symbols ?? {}), [symbol]: { ...autoEntry(symbol), ...change } };
    s.autoBusy = symbol;
    render();
    try {
      s.auto = await ctx.api.setAutoTrade({ symbols }, confirm);
      s.autoStatus[symbol] = { kind: 'ok', text: t(okKey, { symbol }) };
    } catch (err) {
      s.autoStatus[symbol] = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    s.autoBusy = null;
    render(focusId);
  }

  /** Live money makes every warning stronger. */
  function withLiveWarning(message) {
    return ctx.mode() === 'live' ? `${message} ${t('signals.auto-live-warning')}` : message;
  }

  async function switchAuto(symbol, on, focusId) {
    if (!on) {
      // Off also drops the unproven-lean choice, so turning it on again asks about it afresh.
      await saveAuto(symbol, { enabled: false, trade_lean: false }, false, 'signals.auto-saved-off', focusId);
      return;
    }
    const entry = autoEntry(symbol);
    const yes = await ctx.confirm({
      title: t('signals.auto-on-title', { symbol }),
      message: withLiveWarning(t('signals.auto-on-message', { symbol, usdt: ctx.fmt.usdt(entry.usdt), leverage: entry.leverage })),
      ok: t('signals.auto-on-ok'),
      danger: true,
    });
    if (!yes) {
      render(focusId);
      return;
    }
    await saveAuto(symbol, { enabled: true }, true, 'signals.auto-saved-on', focusId);
  }

  async function switchLean(symbol, on, focusId) {
    if (!on) {
      await saveAuto(symbol, { trade_lean: false }, false, 'signals.auto-lean-saved-off', focusId);
      return;
    }
    const yes = await ctx.confirm({
      title: t('signals.auto-lean-title', { symbol }),
      message: withLiveWarning(t('signals.auto-lean-message')),
      ok: t('signals.auto-lean-ok'),
      danger: true,
    });
    if (!yes) {
      render(focusId);
      return;
    }
    await saveAuto(symbol, { trade_lean: true }, true, 'signals.auto-lean-saved-on', focusId);
  }

  function render(focusId) {
    const slot = shared.root?.querySelector('[data-testid=auto-slot]');
    if (!slot) return;
    if (s.autoError && !s.auto) {
      slot.replaceChildren(h('p', { class: 'status-line', dataset: { kind: 'error' }, role: 'alert', 'data-testid': 'auto-error', text: describeError(t, s.autoError) }));
      return;
    }
    // A symbol that trades by itself stays listed after it leaves the watchlist, so it can
    // still be turned off.
    const symbols = [...new Set([...shared.watch.map((w) => w.symbol), ...Object.keys(s.auto?.symbols ?? {})])];
    const rows = symbols.map((symbol) => {
      const entry = autoEntry(symbol);
      const busy = s.autoBusy !== null || !s.auto;
      const id = `auto-${symbol}`;
      const sw = h('input', {
        type: 'checkbox', role: 'switch', id, checked: entry.enabled, disabled: busy,
        'aria-label': t('signals.auto-switch', { symbol }), 'data-testid': `auto-switch-${symbol}`,
        onchange: (e) => switchAuto(symbol, e.target.checked, id),
      });
      const leanId = `auto-lean-${symbol}`;
      const lean = h('input', {
        type: 'checkbox', id: leanId, checked: entry.trade_lean, disabled: busy || !entry.enabled,
        'aria-label': t('signals.auto-lean-switch', { symbol }), 'data-testid': `auto-lean-${symbol}`,
        onchange: (e) => switchLean(symbol, e.target.checked, leanId),
      });
      const status = h('span', { class: 'status-line', role: 'status', 'data-testid': `auto-status-${symbol}` });
      const st = s.autoStatus[symbol];
      if (st) {
        setStatus(status, st.kind, st.text);
        if (st.kind === 'error') status.setAttribute('role', 'alert');
      }
      return [
        symbol,
        h('div', { class: 'row wrap' },
          h('label', { class: 'switch', 'data-state': entry.enabled ? 'on' : 'off' }, sw,
            h('span', { 'data-testid': `auto-state-${symbol}`, text: t(entry.enabled ? 'signals.auto-on' : 'signals.auto-off') })),
          status),
        t('signals.auto-size', { usdt: ctx.fmt.usdt(entry.usdt), leverage: entry.leverage, margin: t(`margin.${entry.margin_type}`) }),
        h('label', {}, lean, h('span', { text: t('signals.auto-lean') })),
      ];
    });
    slot.replaceChildren(table(t, ['signals.symbol', 'signals.auto-state', 'signals.auto-order', 'signals.auto-lean-col'], rows, { testid: 'auto-trade' }));
    if (focusId) document.getElementById(focusId)?.focus();
  }

  return { load, render };
}
