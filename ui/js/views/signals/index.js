// 预测信号: one panel in four parts, each in its own file: the watchlist (watchlist.js) with
// the portfolio card beside it and the selected symbol's signal families (families.js), the
// chart of the selected symbol with its latest signal and model card (chart.js), and the
// auto-trade switches (autotrade.js). This file lays them out and routes events between them.
import { card, fill, h, header } from '../common.js';
import * as autotrade from './autotrade.js';
import * as chart from './chart.js';
import * as families from './families.js';
import * as watchlist from './watchlist.js';

export { normalizeCard } from './chart.js';

export function create(ctx) {
  const { t } = ctx;
  // What the parts share: the watched symbols (with their latest signal), the symbol the
  // chart shows and the panel's section.
  const shared = { watch: [], selected: null, root: null };
  const detail = chart.create(ctx, shared);
  const auto = autotrade.create(ctx, shared);
  const fams = families.create(ctx, shared);
  const watch = watchlist.create(ctx, shared, {
    selectionChanged: () => { detail.load(); fams.selected(); },
    watchChanged: () => auto.render(),
  });

  function render(section) {
    shared.root = section;
    // A full render (language change, first show) draws the charts afresh.
    detail.forget();
    fill(section, ...header(t, 'signals'),
      h('div', { class: 'side-by-side' },
        card(t('signals.watchlist'), h('div', { 'data-testid': 'watchlist-slot' })),
        card(t('fam.portfolio-title'), h('div', { 'data-testid': 'portfolio-slot' }))),
      card(t('fam.title'), h('p', { class: 'muted', text: t('fam.lead') }), h('div', { 'data-testid': 'families-slot' })),
      h('div', { 'data-testid': 'detail-slot' }),
      card(t('signals.auto-title'), h('p', { class: 'muted', text: t('signals.auto-lead') }), h('div', { 'data-testid': 'auto-slot' })));
    watch.render();
    fams.render();
    auto.render();
    detail.render();
  }

  return {
    render,
    shown() {
      detail.shown();
    },
    /** The replay clock belongs to paper mode: shown or hidden when the active account changes. */
    async modeChanged() {
      await watch.loadReplay();
      watch.render();
    },
    async load() {
      await watch.loadReplay();
      await watch.load();
      await fams.load();
      await auto.load();
      await detail.load();
    },
    onEvent(ev) {
      fams.onEvent(ev);
      if (ev.kind === 'signal') {
        const listed = watch.signal(ev);
        if (ev.symbol === shared.selected) detail.load();
        else if (!listed || !shared.selected) {
          // The first signals can come while the panel's own load is still under way (the
          // model finishes its history at start): read the watchlist again rather than lose
          // them until the next candle closes.
          watch.load().then(() => { if (shared.selected === ev.symbol) detail.load(); });
        }
      } else if (ev.kind === 'candle') {
        watch.candle(ev);
        detail.candle(ev);
      }
    },
  };
}
