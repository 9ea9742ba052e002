import { header, table } from './common.js';

export function render(t) {
  return `${header(t, 'profit-share')}
    <div class="card"><div class="grid2">
      <div class="field"><span>${t('profit-share.ratio')}</span><strong>70%</strong></div>
      <div class="field"><span>${t('profit-share.hwm')}</span><strong>—</strong></div>
    </div></div>
    <div class="card"><h2>${t('profit-share.ledger')}</h2>${table(t, ['signals.time', 'trade.symbol', 'profit-share.ratio'])}</div>`;
}
