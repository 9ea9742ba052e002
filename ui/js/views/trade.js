import { field, header } from './common.js';

export function render(t) {
  return `${header(t, 'trade')}
    <div class="card"><div class="grid2">
      ${field(t, 'trade.symbol')}${field(t, 'trade.side')}${field(t, 'trade.leverage', 'number')}
      ${field(t, 'trade.quantity', 'number')}${field(t, 'trade.stop-loss', 'number')}${field(t, 'trade.take-profit', 'number')}
    </div>
    <p><button class="btn" type="button" disabled>${t('trade.place')}</button></p></div>`;
}
