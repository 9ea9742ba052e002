// Small builders shared by the panel views. Views only ever insert our own translated
// strings, never data from outside, so building HTML from templates is safe here; views that
// show exchange data will use textContent.
export function header(t, panel) {
  return `<h1>${t(`${panel}.title`)}</h1>
    <p class="lead">${t(`${panel}.lead`)}</p>
    <p><span class="status" data-testid="${panel}-status">${t('status.not-connected')}</span></p>`;
}

export function field(t, key, type = 'text') {
  return `<label class="field"><span>${t(key)}</span><input type="${type}" disabled></label>`;
}

export function table(t, keys) {
  const cols = keys.map((k) => `<th>${t(k)}</th>`).join('');
  return `<table><thead><tr>${cols}</tr></thead>
    <tbody><tr><td class="empty" colspan="${keys.length}">${t('table.empty')}</td></tr></tbody></table>`;
}
