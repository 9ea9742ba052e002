import { field, header } from './common.js';

export function render(t) {
  return `${header(t, 'risk')}
    <div class="card"><div class="grid2">
      ${field(t, 'risk.max-position', 'number')}${field(t, 'risk.max-trades', 'number')}
      ${field(t, 'risk.max-leverage', 'number')}${field(t, 'risk.daily-loss', 'number')}
      <label class="field"><span>${t('risk.stop-loss')}</span><input type="checkbox" checked disabled></label>
    </div></div>`;
}
