import { api, EVENTS } from './api.js';
import { formatter } from './format.js';
import { DEFAULT_LANGUAGE, LANGUAGES, applyLanguage, translator } from './i18n/index.js';
import { describeError, field, h, input, noteSlow, setFieldError, setStatus } from './views/common.js';
import * as apiConfig from './views/api-config.js';
import * as profitShare from './views/profit-share.js';
import * as records from './views/records.js';
import * as risk from './views/risk.js';
import * as signals from './views/signals/index.js';
import * as trade from './views/trade.js';

const FACTORIES = {
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
  // Whether the vault's state is known yet, and whether the engine's signal loop has loaded
  // its history (its signal commands answer NotFound until then).
  vaultKnown: false,
  signalLoopReady: false,
  mode: 'paper',
  // 'first-run', 'unlock' or null when the dashboard is open.
  gate: null,
  lockedByEvent: false,
};

const $ = (sel) => document.querySelector(sel);
const t = (key, vars) => translator(state.preferences.language)(key, vars);
const formatters = new Map();
/** The number formats of the current UI language (ui/js/format.js). */
function fmt() {
  const { language } = state.preferences;
  if (!formatters.has(language)) formatters.set(language, formatter(language));
  return formatters.get(language);
}

function showError(err) {
  const banner = $('#error-banner');
  banner.textContent = `${t('error.prefix')} [${err.code ?? 'Internal'}]: ${err.message}`;
  banner.hidden = false;
}

function clearError() {
  $('#error-banner').hidden = true;
}

function setBanner(id, text) {
  const el = document.getElementById(id);
  el.textContent = text ?? '';
  el.hidden = !text;
}

/**
 * Offers a newer release (from the check at start or the settings' button): nothing is
 * downloaded unless the user says yes, and the shell verifies the release signature before it
 * installs. Resolves to a sentence for the user; a failure rejects with the ApiError.
 */
async function offerUpdate(offer) {
  if (!offer) return t('update.none');
  const notes = offer.notes ? `\n\n${offer.notes}` : '';
  const yes = await confirmDialog({
    title: t('update.title'),
    message: t('update.message', { version: offer.version, current: offer.currentVersion }) + notes,
    ok: t('update.install'),
  });
  if (!yes) return t('update.later');
  const done = await api.installUpdate();
  return t('update.installed', { version: done.version });
}

/** A modal yes/no question; `danger` paints it red. Resolves to true only on the OK button. */
function confirmDialog({ title, message, ok, danger = false }) {
  const dialog = $('#confirm-dialog');
  dialog.dataset.danger = String(danger);
  $('#confirm-title').textContent = title;
  $('#confirm-message').textContent = message;
  $('#confirm-ok').textContent = ok ?? t('common.confirm');
  $('#confirm-cancel').textContent = t('common.cancel');
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.removeEventListener('close', onClose);
      $('#confirm-ok').onclick = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    // As in the password prompt: the close event of the previous question (answered just
    // before this one opened) may arrive now; only a close that left the dialog shut is a no.
    const onClose = () => {
      if (!dialog.open) done(false);
    };
    dialog.addEventListener('close', onClose);
    $('#confirm-ok').onclick = () => done(true);
    $('#confirm-cancel').onclick = () => done(false);
    dialog.showModal();
    $('#confirm-cancel').focus();
  });
}

/**
 * Asks for the master password again, for a change that loosens a safety setting; `error`
 * is the previous try's wrong-password message. Resolves to the password, or null when the
 * user cancels (the change then stays refused).
 */
function passwordDialog({ message, error }) {
  const dialog = $('#password-dialog');
  const field = $('#password-input');
  $('#password-title').textContent = t('password-prompt.title');
  $('#password-message').textContent = message;
  $('#password-label').textContent = t('gate.password');
  $('#password-ok').textContent = t('password-prompt.ok');
  $('#password-cancel').textContent = t('common.cancel');
  field.value = '';
  setFieldError(field, error);
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.removeEventListener('close', onClose);
      $('#password-form').onsubmit = null;
      field.value = '';
      if (dialog.open) dialog.close();
      resolve(value);
    };
    // The close event of the previous prompt (a wrong password asks again) may arrive after
    // this one opened: only a close that left the dialog shut is a cancel.
    const onClose = () => {
      if (!dialog.open) done(null);
    };
    dialog.addEventListener('close', onClose);
    $('#password-form').onsubmit = (e) => {
      e.preventDefault();
      if (!field.value) {
        setFieldError(field, t('gate.password-required'));
        field.focus();
        return;
      }
      done(field.value);
    };
    $('#password-cancel').onclick = () => done(null);
    dialog.showModal();
    field.focus();
  });
}

/**
 * Runs `send(password)` once without a password; when the engine answers `PasswordRequired`
 * (the change loosens a safety setting, or a backup predates the last password change), asks
 * for the master password and sends again, until it is right or the user cancels, which
 * rejects with the engine's refusal.
 */
async function withPassword(send, messageKey = 'password-prompt.message') {
  try {
    return await send(undefined);
  } catch (refusal) {
    if (refusal.code !== 'PasswordRequired') throw refusal;
    let error = null;
    for (;;) {
      const password = await passwordDialog({ message: t(messageKey, { changes: refusal.message.split(':')[0] }), error });
      if (password === null) throw refusal;
      try {
        return await send(password);
      } catch (err) {
        if (err.code !== 'WrongPassword') throw err;
        error = describeError(t, err);
      }
    }
  }
}

/** The API the panels use: the safety settings ask for the password when they must. */
const guardedApi = {
  ...api,
  setRiskLimits: (limits) => withPassword((pw) => api.setRiskLimits(limits, pw)),
  setKillSwitch: (on) => withPassword((pw) => api.setKillSwitch(on, pw)),
  setAutoTrade: (settings, confirm) => withPassword((pw) => api.setAutoTrade(settings, confirm, pw)),
  setAutoLock: (minutes) => withPassword((pw) => api.setAutoLock(minutes, pw)),
  setLedgerSettings: (settings) => withPassword((pw) => api.setLedgerSettings(settings, pw)),
  // A backup from before the last password change also needs the current password.
  importBackup: (path, password) =>
    withPassword((current) => api.importBackup(path, password, current), 'password-prompt.backup-message'),
};

const ctx = {
  api: guardedApi,
  t,
  get fmt() {
    return fmt();
  },
  confirm: confirmDialog,
  offerUpdate,
  mode: () => state.mode,
  setMode(mode) {
    const changed = state.mode !== (mode ?? 'paper');
    state.mode = mode ?? 'paper';
    renderBadges();
    if (changed) for (const view of Object.values(ctx.views)) view.modeChanged?.();
  },
  navigate: (panel) => showPanel(panel, true),
  /**
   * The engine's signal loop answers (or announced a signal). Once started it runs until
   * the app quits, so the header never goes back to `loading`.
   */
  signalsReady() {
    if (state.signalLoopReady) return;
    state.signalLoopReady = true;
    renderBadges();
  },
  views: {},
  /**
   * Shows a failed command in words next to what caused it (`node`), and reacts to the codes
   * that change the whole screen: `Locked` opens the unlock dialog, `NotInitialized` first run,
   * `Unavailable` also raises the connection banner. `node === false` means the caller shows
   * the words itself.
   */
  fail(err, node) {
    const text = describeError(t, err);
    if (node) setStatus(node, 'error', text);
    if (err.code === 'Locked') openGate('unlock');
    else if (err.code === 'NotInitialized') openGate('first-run');
    else if (err.code === 'Unavailable') setBanner('conn-banner', `${t('banner.disconnected')} ${err.message}`);
    else if (node === undefined || node === null) showError(err);
    return text;
  },
};

/**
 * What the header says about signals: `locked` while the vault is closed (the dashboard and
 * its signals are behind the unlock dialog), `loading` until the engine's model has its
 * history, then `paused` or `running`.
 */
function signalsState() {
  if (!state.vaultKnown) return 'loading';
  if (state.gate) return 'locked';
  if (state.signalsPaused) return 'paused';
  return state.signalLoopReady ? 'running' : 'loading';
}

function renderBadges() {
  const badge = $('#mode-badge');
  badge.dataset.mode = state.mode;
  badge.textContent = t(`mode.${state.mode}`);
  const pill = $('#signals-state');
  const signals = signalsState();
  pill.dataset.state = signals;
  pill.textContent = t(`signals.${signals}`);
}

function renderChrome() {
  const { language } = state.preferences;
  applyLanguage(document, language);
  $('#language').value = language;
  renderBadges();
  if (state.info) {
    $('#version').textContent = `${t('footer.version')} ${state.info.version}`;
    $('#data-dir').textContent = `${t('footer.data-dir')}: ${state.info.dataDir}`;
  }
  for (const [name, view] of Object.entries(ctx.views)) {
    view.render(document.getElementById(`panel-${name}`));
  }
  if (state.gate) renderGate();
}

function showPanel(panel, save = false) {
  const name = FACTORIES[panel] ? panel : 'signals';
  for (const section of document.querySelectorAll('section.panel')) {
    section.hidden = section.dataset.panel !== name;
  }
  for (const b of document.querySelectorAll('#nav button')) {
    if (b.dataset.panel === name) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  state.preferences.lastPanel = name;
  ctx.views[name]?.shown?.();
  if (save) savePreferences();
}

async function savePreferences() {
  try {
    state.preferences = await api.setPreferences(state.preferences);
    clearError();
  } catch (err) {
    showError(err);
  }
}

function openGate(kind) {
  state.gate = kind;
  $('.layout').hidden = true;
  $('#gate').hidden = false;
  renderBadges();
  renderGate();
}

async function closeGate() {
  state.gate = null;
  state.lockedByEvent = false;
  $('#gate').hidden = true;
  $('.layout').hidden = false;
  renderBadges();
  setBanner('locked-banner', null);
  await loadAll();
}

/** The first-run form (language, master password twice) or the unlock form. */
function renderGate() {
  const root = $('#gate');
  root.replaceChildren();
  const firstRun = state.gate === 'first-run';
  const password = input('password', { id: 'gate-password', type: 'password', autocomplete: firstRun ? 'new-password' : 'current-password', 'data-testid': 'gate-password' });
  const again = input('password2', { id: 'gate-password2', type: 'password', autocomplete: 'new-password', 'data-testid': 'gate-password2' });
  const status = h('p', { class: 'status-line', role: 'status', 'data-testid': 'gate-status' });
  const submit = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'gate-submit', text: t(firstRun ? 'gate.create' : 'gate.unlock') });
  const lang = h('select', { id: 'gate-language', 'data-testid': 'gate-language' },
    LANGUAGES.map((l) => h('option', { value: l, text: t(`lang.${l}`) })));
  lang.value = state.preferences.language;
  lang.addEventListener('change', () => {
    state.preferences.language = lang.value;
    renderChrome();
    document.getElementById('gate-language')?.focus();
  });
  const form = h('form', { class: 'gate-card card', 'data-testid': firstRun ? 'first-run' : 'unlock', novalidate: true },
    h('h1', { text: t(firstRun ? 'gate.first-run-title' : 'gate.unlock-title') }),
    h('p', { class: 'lead', text: t(firstRun ? 'gate.first-run-lead' : 'gate.unlock-lead') }),
    state.lockedByEvent && !firstRun ? h('p', { class: 'warn-box', text: t('banner.locked') }) : null,
    firstRun ? field(t('gate.language'), lang) : null,
    field(t('gate.password'), password, { help: firstRun ? t('gate.password-help') : null }),
    firstRun ? field(t('gate.password-again'), again) : null,
    h('p', {}, submit), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setFieldError(password, null);
    if (firstRun) setFieldError(again, null);
    if (!password.value) {
      setFieldError(password, t('gate.password-required'));
      password.focus();
      return;
    }
    if (firstRun && password.value !== again.value) {
      setFieldError(again, t('gate.password-mismatch'));
      again.focus();
      return;
    }
    submit.disabled = true;
    setStatus(status, 'info', t(firstRun ? 'gate.creating' : 'gate.unlocking'));
    try {
      if (firstRun) {
        await api.vaultSetup(password.value);
        // A new vault starts on the funded paper account, so the user lands in paper mode.
        state.mode = 'paper';
        state.preferences.lastPanel = 'signals';
        await savePreferences();
      } else {
        await api.vaultUnlock(password.value);
      }
      setStatus(status, 'ok', '');
      await closeGate();
      showPanel(state.preferences.lastPanel);
    } catch (err) {
      submit.disabled = false;
      setStatus(status, 'info', '');
      // Weak passwords (InvalidInput) and wrong ones both belong under the password field.
      if (err.code === 'InvalidInput' || err.code === 'WrongPassword') {
        setFieldError(password, describeError(t, err));
        password.focus();
      } else {
        ctx.fail(err, status);
      }
    }
  });
  root.append(form);
  password.focus();
}

async function loadAll() {
  try {
    const accounts = await api.accounts();
    const active = accounts.find((a) => a.active);
    if (active) state.mode = active.environment;
  } catch (err) {
    ctx.fail(err);
  }
  renderBadges();
  await Promise.all(Object.values(ctx.views).map((v) => v.load?.()));
}

function onAppEvent(ev) {
  if (!ev || typeof ev !== 'object') return;
  const start = performance.now();
  switch (ev.kind) {
    case 'signal':
      ctx.signalsReady();
      break;
    case 'connection':
      setBanner('conn-banner', ev.connected ? null : `${t('banner.disconnected')} ${ev.message ?? ''}`);
      break;
    case 'locked':
      state.lockedByEvent = true;
      setBanner('locked-banner', t('banner.locked'));
      openGate('unlock');
      break;
    case 'liquidation_warning':
      // Without the event's `tick_size` the prices keep 8 significant digits (ui/js/format.js).
      setBanner('liq-banner', t('banner.liquidation', { symbol: ev.symbol, mark: fmt().price(ev.mark_price, ev.tick_size), liq: fmt().price(ev.liquidation_price, ev.tick_size) }));
      break;
    default:
      break;
  }
  for (const view of Object.values(ctx.views)) view.onEvent?.(ev);
  noteSlow(`event:${ev.kind}`, start);
}

/**
 * The engine's events that were waiting together in the shell (a candle close brings a candle
 * and a signal per watched symbol), in order. One evaluation per burst instead of one per
 * event is the point: each is a script run on the web process's main thread, and ~60 at a close
 * made frames over 50 ms. The watchlist and the study's bar queue their drawing once a frame
 * (`oncePerFrame`), so a burst draws them once, on the next frame.
 */
function onAppEvents(events) {
  if (!Array.isArray(events)) return;
  const start = performance.now();
  for (const ev of events) {
    // One event's failure is reported as its own uncaught error was, and the rest still run.
    try {
      onAppEvent(ev);
    } catch (err) {
      reportError(err);
    }
  }
  noteSlow(`batch:${events.length}`, start);
}

// Auto-lock counts from the user's last input, so the dashboard reports input (at most every
// 30 s; a burst costs one call). Nothing is reported while the gate is up: there is no open
// vault to keep, and a locked vault is never revived by activity. When a report finds the
// vault already expired, the engine sends the `locked` event, which opens the gate.
const ACTIVITY_EVERY_MS = 30_000;
let lastActivity = 0;
function noteActivity() {
  if (state.gate || Date.now() - lastActivity < ACTIVITY_EVERY_MS) return;
  lastActivity = Date.now();
  // A failure here changes nothing the user did; the next real command reports it.
  api.noteActivity().catch(() => {});
}

/**
 * Loads both faces of the interface font, then lets the page be laid out (index.html starts
 * with `fonts-loading`, which hides the body). Text laid out while the font loads is measured
 * with the next family in app.css, the full system CJK collection, and WebKit then keeps those
 * pages mapped for the session: the cost the bundled subset is there to avoid. A failed load
 * shows the page anyway, in the fallback fonts.
 */
async function interfaceFontReady() {
  try {
    await Promise.all(['400', '700'].map((weight) => document.fonts.load(`${weight} 14px "Perpdesk Sans"`, '交A')));
  } catch {
    // The fallback families draw the same text.
  } finally {
    document.documentElement.classList.remove('fonts-loading');
  }
}

// Steps of the start as `performance` marks (ms after navigation start), which the desktop
// measurement prints beside the total: where a slow start spends its time.
const mark = (step) => performance.mark(`perpdesk:${step}`);

async function start() {
  mark('script');
  const fontReady = interfaceFontReady();
  try {
    const [info, preferences] = await Promise.all([api.appInfo(), api.preferences()]);
    mark('settings');
    state.info = info;
    state.signalsPaused = info.signalsPaused;
    state.mode = info.mode ?? 'paper';
    state.preferences = preferences;
  } catch (err) {
    showError(err);
  }
  await fontReady;
  mark('font');
  for (const [name, factory] of Object.entries(FACTORIES)) ctx.views[name] = factory.create(ctx);
  renderChrome();
  showPanel(state.preferences.lastPanel);
  mark('chrome');

  $('#nav').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-panel]');
    if (b) showPanel(b.dataset.panel, true);
  });
  for (const type of ['pointerdown', 'pointermove', 'keydown', 'wheel']) {
    document.addEventListener(type, noteActivity, { capture: true, passive: true });
  }
  $('#language').addEventListener('change', (e) => {
    state.preferences.language = e.target.value;
    renderChrome();
    savePreferences();
  });
  // Each registration is a round trip to the shell: all at once, and all done before the
  // vault's state is read, so no event after that read is missed.
  try {
    await Promise.all([
      api.on(EVENTS.signalsPaused, ({ paused }) => {
        state.signalsPaused = paused;
        renderBadges();
      }),
      api.on(EVENTS.appEvents, onAppEvents),
      // The shell sends a panel name; an object `{panel}` is accepted too.
      api.on(EVENTS.navigate, (p) => showPanel(typeof p === 'string' ? p : p?.panel)),
      api.on(EVENTS.updateAvailable, (offer) => {
        offerUpdate(offer).then((text) => setBanner('update-banner', text), showError);
      }),
    ]);
  } catch (err) {
    showError(err);
  }

  mark('listening');
  let status = null;
  try {
    status = await api.vaultStatus();
  } catch (err) {
    ctx.fail(err);
  }
  mark('vault');
  state.vaultKnown = true;
  renderBadges();
  if (status && !status.initialized) openGate('first-run');
  else if (status && status.locked) openGate('unlock');
  else await loadAll();
  // Milliseconds from navigation start to the first interactive screen (gate or dashboard):
  // the desktop measurement (tests/e2e/examples/desktop_perf.rs) reads it.
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = 'true';
}

start();
