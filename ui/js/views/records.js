import { header, table } from './common.js';

export function render(t) {
  return `${header(t, 'records')}
    <div class="card"><h2>${t('records.positions')}</h2>${table(t, ['trade.symbol', 'trade.side', 'trade.quantity'])}</div>
    <div class="card"><h2>${t('records.orders')}</h2>${table(t, ['signals.time', 'trade.symbol', 'trade.side', 'trade.quantity'])}</div>
    <div class="card"><h2>${t('records.fills')}</h2>${table(t, ['signals.time', 'trade.symbol', 'trade.side', 'trade.quantity'])}</div>`;
}
