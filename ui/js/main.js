import { api, EVENTS } from './api.js';
import { DEFAULT_LANGUAGE, applyLanguage, translator } from './i18n.js';
import * as apiConfig from './views/api-config.js';
import * as profitShare from './views/profit-share.js';
import * as records from './views/records.js';
import * as risk from './views/risk.js';
import * as signals from './views/signals.js';
import * as trade from './views/trade.js';

const VIEWS = {
  'api-config': apiConfig,
  signals,
  trade,
  records,
  'profit-share': profitShare,
  risk,
};

const state = {
  preferences: { language: DEFAULT_LANGUAGE, lastPanel: 'signals' },
  info: null,
  signalsPaused: false,
};

const $ = (sel) => document.querySelector(sel);

function showError(err) {
  const banner = $('#error-banner');
  const t = translator(state.preferences.language);
  banner.textContent = `${t('error.prefix')} [${err.code ?? 'Internal'}]: ${err.message}`;
  banner.hidden = false;
}

function clearError() {
  $('#error-banner').hidden = true;
}

function renderChrome() {
  const { language } = state.preferences;
  const t = translator(language);
  applyLanguage(document, language);
  $('#language').value = language;
  const mode = state.info?.mode ?? 'paper';
  const badge = $('#mode-badge');
  badge.dataset.mode = mode;
  badge.textContent = t(`mode.${mode}`);
  const pill = $('#signals-state');
  pill.dataset.state = state.signalsPaused ? 'paused' : 'running';
  pill.textContent = t(state.signalsPaused ? 'signals.paused' : 'signals.running');
  if (state.info) {
    $('#version').textContent = `${t('footer.version')} ${state.info.version}`;
    $('#data-dir').textContent = `${t('footer.data-dir')}: ${state.info.dataDir}`;
  }
  for (const [name, view] of Object.entries(VIEWS)) {
    document.getElementById(`panel-${name}`).innerHTML = view.render(t);
  }
}

function showPanel(panel) {
  const name = VIEWS[panel] ? panel : 'signals';
  for (const section of document.querySelectorAll('section.panel')) {
    section.hidden = section.dataset.panel !== name;
  }
  for (const button of document.querySelectorAll('#nav button')) {
    if (button.dataset.panel === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  state.preferences.lastPanel = name;
}

async function savePreferences() {
  try {
    state.preferences = await api.setPreferences(state.preferences);
    clearError();
  } catch (err) {
    showError(err);
  }
}

async function start() {
  try {
    const [info, preferences] = await Promise.all([api.appInfo(), api.getPreferences()]);
    state.info = info;
    state.signalsPaused = info.signalsPaused;
    state.preferences = preferences;
  } catch (err) {
    showError(err);
  }
  renderChrome();
  showPanel(state.preferences.lastPanel);

  $('#nav').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-panel]');
    if (!button) return;
    showPanel(button.dataset.panel);
    savePreferences();
  });
  $('#language').addEventListener('change', (e) => {
    state.preferences.language = e.target.value;
    renderChrome();
    savePreferences();
  });
  try {
    await api.on(EVENTS.signalsPaused, ({ paused }) => {
      state.signalsPaused = paused;
      renderChrome();
    });
  } catch (err) {
    showError(err);
  }
  document.body.dataset.ready = 'true';
}

start();
