// The only file that talks to the Rust side. Everything else imports `api` from here, so the UI
// tests can swap the backend by faking `window.__TAURI__` and nothing else. Command names and
// argument shapes follow docs/ipc.md; decimals travel as strings and are never parsed here.

/** A failed command, as the shell reports it: a stable code and a sentence for the user. */
export class ApiError extends Error {
  constructor(code, message, rule = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    // Only `RiskRefused` carries the name of the rule that refused.
    this.rule = rule;
  }
}

function tauri() {
  const t = window.__TAURI__;
  if (!t?.core?.invoke) {
    throw new ApiError('NoBackend', 'perpdesk must be opened as the desktop app');
  }
  return t;
}

function toApiError(err) {
  if (err instanceof ApiError) return err;
  if (err && typeof err === 'object' && typeof err.code === 'string') {
    return new ApiError(err.code, String(err.message ?? err.code), err.rule ?? null);
  }
  // Tauri reports some failures (an unknown command, a denied permission) as a bare string.
  return new ApiError('Internal', String(err));
}

/**
 * `args` plus the master password when one was typed: a change that loosens a safety setting
 * is refused with `PasswordRequired` until the user types it again (docs/ipc.md).
 */
const withPassword = (args, password) => (password ? { ...args, password } : args);

async function call(command, args) {
  try {
    return await tauri().core.invoke(command, args);
  } catch (err) {
    throw toApiError(err);
  }
}

/** Event names, mirrored from src-tauri/src/events.rs. `appEvents` carries an array of the engine's events, in order. */
export const EVENTS = { signalsPaused: 'signals-paused', appEvents: 'app-events', navigate: 'navigate', updateAvailable: 'update-available' };

export const api = {
  appInfo: () => call('app_info'),
  preferences: () => call('preferences'),
  setPreferences: (preferences) => call('set_preferences', { preferences }),
  setSignalsPaused: (paused) => call('set_signals_paused', { paused }),

  vaultStatus: () => call('vault_status'),
  vaultSetup: (password) => call('vault_setup', { password }),
  vaultUnlock: (password) => call('vault_unlock', { password }),
  vaultLock: () => call('vault_lock'),
  setAutoLock: (minutes, password) => call('set_auto_lock', withPassword({ minutes }, password)),
  autostart: () => call('autostart'),
  setAutostart: (on) => call('set_autostart', { on }),
  updateSettings: () => call('update_settings'),
  setUpdateSettings: (checkOnStart) => call('set_update_settings', { checkOnStart }),
  checkUpdate: () => call('check_update'),
  installUpdate: () => call('install_update'),
  exportBackup: (password) => call('export_backup', { password }),
  /** `currentPassword` only for a backup made before the last master-password change. */
  importBackup: (path, password, currentPassword) =>
    call('import_backup', currentPassword ? { path, password, currentPassword } : { path, password }),
  changeMasterPassword: (currentPassword, newPassword) =>
    call('change_master_password', { currentPassword, newPassword }),
  /** Restarts the vault's idle time; main.js calls it on input, at most every 30 s. */
  noteActivity: () => call('note_activity'),

  accounts: () => call('accounts'),
  createPaperAccount: (name, balance) => call('create_paper_account', { name, balance }),
  addAccount: (name, environment, apiKey, apiSecret) =>
    call('add_account', { name, environment, apiKey, apiSecret }),
  /** `apiKey`/`apiSecret` are sent only when the user typed a new pair. */
  updateAccount: (id, name, apiKey, apiSecret) => {
    const args = { id, name };
    if (apiKey) args.apiKey = apiKey;
    if (apiSecret) args.apiSecret = apiSecret;
    return call('update_account', args);
  },
  removeAccount: (id) => call('remove_account', { id }),
  setActiveAccount: (id, confirmLive) => call('set_active_account', { id, confirmLive }),
  testConnection: (id) => call('test_connection', { id }),

  watchlist: () => call('watchlist'),
  setWatchlist: (symbols) => call('set_watchlist', { symbols }),
  candles: (symbol, interval, limit) => call('candles', { symbol, interval, limit }),
  indicators: (symbol, interval, limit) => call('indicators', { symbol, interval, limit }),
  signals: (symbol, limit) => call('signals', { symbol, limit }),
  modelCard: (symbol) => call('model_card', { symbol }),
  signalStudy: () => call('signal_study'),
  familySignals: (symbol) => call('family_signals', { symbol }),
  suggestTicket: (symbol, family) => call('suggest_ticket', { symbol, family }),
  autoTrade: () => call('auto_trade'),
  /** Replaces the auto-trade settings; `confirm` must be true to turn a symbol on. */
  setAutoTrade: (settings, confirm, password) =>
    call('set_auto_trade', withPassword({ settings, confirm }, password)),
  replayStatus: () => call('replay_status'),
  /** `changes` holds `speed` and/or `running`. */
  setReplay: (changes) => call('set_replay', changes),
  advanceReplay: (minutes) => call('advance_replay', { minutes }),

  previewOrder: (ticket) => call('preview_order', { ticket }),
  placeOrder: (ticket, confirmLive) => call('place_order', { ticket, confirmLive }),
  closePosition: (symbol, positionSide) => call('close_position', { symbol, positionSide }),
  setKillSwitch: (on, password) => call('set_kill_switch', withPassword({ on }, password)),

  positions: () => call('positions'),
  orders: (filter) => call('orders', filter),
  trades: (filter) => call('trades', filter),
  pnl: (period) => call('pnl', { period }),
  syncNow: () => call('sync_now'),
  exportCsv: (kind, period) => call('export_csv', period ? { kind, period } : { kind }),

  ledger: () => call('ledger'),
  statements: (period) => call('statements', { period }),
  ledgerSettings: () => call('ledger_settings'),
  setLedgerSettings: (settings, password) => call('set_ledger_settings', withPassword(settings, password)),
  settle: () => call('settle'),
  profitShareSummary: () => call('profit_share_summary'),
  verifyStatement: (settlementId) => call('verify_statement', { settlementId }),
  exportExchangeRecords: () => call('export_exchange_records'),

  riskLimits: () => call('risk_limits'),
  setRiskLimits: (limits, password) => call('set_risk_limits', withPassword({ limits }, password)),

  /** Calls `handler(payload)` on each event; resolves to an unsubscribe function. */
  on: async (event, handler) => {
    try {
      return await tauri().event.listen(event, (e) => handler(e.payload));
    } catch (err) {
      throw toApiError(err);
    }
  },
};
