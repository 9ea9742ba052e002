import { header, table } from './common.js';

export function render(t) {
  return `${header(t, 'signals')}
    <div class="card">${table(t, ['signals.time', 'signals.symbol', 'signals.direction', 'signals.probability', 'signals.track-record'])}</div>`;
}
