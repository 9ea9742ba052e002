// The only file that talks to the Rust side. Everything else imports `api` from here, so the UI
// tests can swap the backend by faking `window.__TAURI__` and nothing else.

/** A failed command, as the shell reports it: a stable code and a sentence for the user. */
export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
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
    return new ApiError(err.code, String(err.message ?? err.code));
  }
  // Tauri reports some failures (an unknown command, a denied permission) as a bare string.
  return new ApiError('Internal', String(err));
}

async function call(command, args) {
  try {
    return await tauri().core.invoke(command, args);
  } catch (err) {
    throw toApiError(err);
  }
}

/** Event names, mirrored from src-tauri/src/events.rs. */
export const EVENTS = { signalsPaused: 'signals-paused' };

export const api = {
  appInfo: () => call('app_info'),
  getPreferences: () => call('get_preferences'),
  setPreferences: (preferences) => call('set_preferences', { preferences }),
  setSignalsPaused: (paused) => call('set_signals_paused', { paused }),
  /** Calls `handler(payload)` on each event; resolves to an unsubscribe function. */
  on: async (event, handler) => {
    try {
      return await tauri().event.listen(event, (e) => handler(e.payload));
    } catch (err) {
      throw toApiError(err);
    }
  },
};
