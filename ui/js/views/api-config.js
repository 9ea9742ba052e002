import { field, header } from './common.js';

export function render(t) {
  return `${header(t, 'api-config')}
    <div class="card"><div class="grid2">
      ${field(t, 'api-config.key')}
      ${field(t, 'api-config.secret', 'password')}
      ${field(t, 'api-config.password', 'password')}
    </div>
    <p><button class="btn" type="button" disabled>${t('api-config.bind')}</button></p></div>
    <div class="card"><h2>${t('api-config.permissions')}</h2><p class="muted">—</p></div>`;
}
