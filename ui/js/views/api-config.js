// API配置: accounts (paper, testnet, live) with only the key's last four characters shown,
// add/edit/remove, a connection test whose checks are rows with icons and words, the active
// account (a live one needs a red confirmation), lock, auto-lock, the master password and
// backups.
import {
  button, card, clearFieldErrors, describeError, errorToField, field, fmtTime, h, header, input,
  isPositiveDecimal, select, setFieldError, setStatus, table,
  word,
  fill,
} from './common.js';

const ICON = { ok: '✓', warn: '!', fail: '✗' };

export function create(ctx) {
  const { t } = ctx;
  const s = {
    accounts: [], error: null, editing: null, // null | 'new' | account id
    reports: {}, rowStatus: {}, status: {}, autoLock: null,
    form: { name: '', environment: 'paper', balance: '10000', apiKey: '', apiSecret: '' },
  };
  let root = null;

  async function load() {
    try {
      const [accounts, vault] = await Promise.all([ctx.api.accounts(), ctx.api.vaultStatus()]);
      s.accounts = accounts;
      s.autoLock = vault.auto_lock_minutes;
      // Not every shell offers it (the browser tests' fake may not): then the switch hides.
      s.autostart = await ctx.api.autostart().catch(() => null);
      s.updates = await ctx.api.updateSettings().catch(() => null);
      s.error = null;
      const active = accounts.find((a) => a.active);
      if (active) ctx.setMode(active.environment);
    } catch (err) {
      s.error = err;
      ctx.fail(err, false);
    }
    render(root);
  }

  async function setActive(a) {
    const live = a.environment === 'live';
    if (live) {
      const yes = await ctx.confirm({ title: t('cfg.live-title'), message: t('cfg.live-message', { name: a.name }), ok: t('cfg.live-ok'), danger: true });
      if (!yes) return;
    }
    try {
      await ctx.api.setActiveAccount(a.id, live);
      s.rowStatus[a.id] = { kind: 'ok', text: t('cfg.now-active') };
      await load();
    } catch (err) {
      s.rowStatus[a.id] = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
      render(root);
    }
  }

  async function testConnection(a) {
    s.rowStatus[a.id] = { kind: 'info', text: t('cfg.testing') };
    render(root);
    try {
      s.reports[a.id] = await ctx.api.testConnection(a.id);
      // The list shows the latest check without reloading every account.
      a.check = s.reports[a.id];
      delete s.rowStatus[a.id];
    } catch (err) {
      s.rowStatus[a.id] = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  async function remove(a) {
    const yes = await ctx.confirm({ title: t('cfg.remove-title'), message: t('cfg.remove-message', { name: a.name }), ok: t('cfg.remove'), danger: a.environment === 'live' });
    if (!yes) return;
    try {
      await ctx.api.removeAccount(a.id);
      await load();
    } catch (err) {
      s.rowStatus[a.id] = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
      render(root);
    }
  }

  function edit(target) {
    s.editing = target;
    if (target === 'new') s.form = { name: '', environment: 'paper', balance: '10000', apiKey: '', apiSecret: '' };
    else {
      const a = s.accounts.find((x) => x.id === target);
      s.form = { name: a.name, environment: a.environment, balance: '', apiKey: '', apiSecret: '' };
    }
    render(root);
    root.querySelector('#acct-name')?.focus();
  }

  async function submitAccount(e, controls) {
    e.preventDefault();
    clearFieldErrors(root);
    const f = s.form;
    const isNew = s.editing === 'new';
    const errors = {};
    if (!f.name.trim()) errors.name = t('cfg.err.name');
    if (isNew && f.environment === 'paper' && !isPositiveDecimal(f.balance.trim())) errors.balance = t('trade.err.positive');
    if (isNew && f.environment !== 'paper') {
      if (!f.apiKey.trim()) errors.apiKey = t('cfg.err.key');
      if (!f.apiSecret.trim()) errors.apiSecret = t('cfg.err.secret');
    }
    if (!isNew && Boolean(f.apiKey.trim()) !== Boolean(f.apiSecret.trim())) errors[f.apiKey.trim() ? 'apiSecret' : 'apiKey'] = t('cfg.err.pair');
    for (const [k, m] of Object.entries(errors)) setFieldError(controls[k], m);
    const first = Object.keys(errors)[0];
    if (first) {
      controls[first].focus();
      return;
    }
    try {
      if (!isNew) await ctx.api.updateAccount(s.editing, f.name.trim(), f.apiKey.trim(), f.apiSecret.trim());
      else if (f.environment === 'paper') await ctx.api.createPaperAccount(f.name.trim(), f.balance.trim());
      else await ctx.api.addAccount(f.name.trim(), f.environment, f.apiKey.trim(), f.apiSecret.trim());
      s.editing = null;
      s.form.apiKey = '';
      s.form.apiSecret = '';
      await load();
    } catch (err) {
      const names = { name: controls.name, balance: controls.balance, api_key: controls.apiKey, apiKey: controls.apiKey, key: controls.apiKey, api_secret: controls.apiSecret, apiSecret: controls.apiSecret, secret: controls.apiSecret };
      for (const k of Object.keys(names)) if (!names[k]) delete names[k];
      if (!((err.code === 'InvalidInput' || err.code === 'Conflict') && errorToField(t, err, names))) {
        // A Conflict without a field name is about the account name (the only unique one).
        if (err.code === 'Conflict') setFieldError(controls.name, describeError(t, err));
        else ctx.fail(err, root.querySelector('[data-testid=account-form-status]'));
      }
    }
  }

  async function run(key, fn, okText) {
    try {
      const r = await fn();
      s.status[key] = { kind: 'ok', text: okText(r) };
    } catch (err) {
      s.status[key] = { kind: 'error', text: describeError(t, err) };
      ctx.fail(err, false);
    }
    render(root);
  }

  function statusLine(key, st) {
    const p = h('p', { class: 'status-line', role: 'status', 'data-testid': `${key}-status` });
    if (st) setStatus(p, st.kind, st.text);
    return p;
  }

  function reportBlock(a) {
    const r = s.reports[a.id];
    if (!r) return null;
    const rows = r.checks.map((c) => [
      h('span', { class: `check ${c.status}`, text: `${ICON[c.status] ?? '?'} ${t(`check.${c.status}`)}` }),
      word(t, 'check.name', c.name), c.detail ?? '']);
    return h('div', { class: 'report', 'data-testid': `report-${a.id}` },
      h('p', { class: r.ok ? 'ok-box' : 'risk-box', text: `${r.ok ? '✓' : '✗'} ${a.name}: ${t(r.ok ? 'cfg.report-ok' : 'cfg.report-fail')} · ${fmtTime(r.checked_at_ms)} UTC` }),
      table(t, ['cfg.check-status', 'cfg.check-name', 'cfg.check-detail'], rows, { testid: `checks-${a.id}` }),
      h('p', { class: 'muted', text: `${t('cfg.position-mode')}: ${r.position_mode ? t(`cfg.pm.${r.position_mode}`) : '—'} · ${t('cfg.multi-assets')}: ${r.multi_assets === null || r.multi_assets === undefined ? '—' : t(r.multi_assets ? 'common.yes' : 'common.no')}` }));
  }

  function accountForm() {
    const isNew = s.editing === 'new';
    const f = s.form;
    const controls = {};
    const bind = (name, control) => {
      controls[name] = control;
      control.value = f[name];
      control.addEventListener('input', () => { f[name] = control.value; });
      return control;
    };
    const env = bind('environment', select('environment', ['paper', 'testnet', 'live'].map((e) => [e, t(`mode.${e}`)]), { id: 'acct-env', disabled: !isNew }));
    env.addEventListener('change', () => { f.environment = env.value; render(root); root.querySelector('#acct-env')?.focus(); });
    const needsKeys = f.environment !== 'paper';
    const form = h('form', { 'data-testid': 'account-form', novalidate: true },
      h('div', { class: 'grid2' },
        field(t('cfg.name'), bind('name', input('name', { id: 'acct-name', 'data-testid': 'acct-name' }))),
        field(t('cfg.environment'), env, { help: t(`cfg.env-help.${f.environment}`) }),
        isNew && !needsKeys ? field(t('cfg.balance'), bind('balance', input('balance', { id: 'acct-balance', inputmode: 'decimal', 'data-testid': 'acct-balance' }))) : null,
        needsKeys ? field(t('api-config.key'), bind('apiKey', input('apiKey', { id: 'acct-key', 'data-testid': 'acct-key' })), { help: isNew ? null : t('cfg.keep-key') }) : null,
        needsKeys ? field(t('api-config.secret'), bind('apiSecret', input('apiSecret', { id: 'acct-secret', type: 'password', autocomplete: 'new-password', 'data-testid': 'acct-secret' }))) : null),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn primary', text: t(isNew ? 'cfg.add' : 'common.save'), 'data-testid': 'acct-save' }),
        button(t('common.cancel'), { onclick: () => { s.editing = null; render(root); } })),
      h('p', { class: 'status-line', role: 'status', 'data-testid': 'account-form-status' }));
    form.addEventListener('submit', (e) => submitAccount(e, controls));
    return card(t(isNew ? 'cfg.add-title' : 'cfg.edit-title'), form);
  }

  /**
   * Current password, new one twice. Missing, differing and unchanged passwords are caught
   * here; strength and the current password are the engine's to judge, and each answer shows
   * under the field it is about. Success re-renders, which also empties the fields.
   */
  function passwordForm() {
    const pw = (name, id, autocomplete) => input(name, { id, type: 'password', autocomplete, 'data-testid': name });
    const current = pw('current-password', 'cfg-current-pw', 'current-password');
    const next = pw('new-password', 'cfg-new-pw', 'new-password');
    const again = pw('new-password2', 'cfg-new-pw2', 'new-password');
    const submit = h('button', { type: 'submit', class: 'btn', text: t('cfg.change-password'), 'data-testid': 'change-password-submit' });
    const status = statusLine('password', s.status.password);
    // After a change the backups on disk still open with the old password: offer a new one.
    const fresh = s.offerFreshBackup
      ? button(t('cfg.fresh-backup'), { class: 'btn small', 'data-testid': 'fresh-backup', onclick: () => document.getElementById('cfg-backup-pw')?.focus() })
      : null;
    const form = h('form', { 'data-testid': 'change-password', novalidate: true },
      h('h3', { text: t('cfg.change-password') }),
      h('p', { class: 'muted', text: t('cfg.change-password-help') }),
      field(t('cfg.current-password'), current),
      field(t('cfg.new-password'), next, { help: t('gate.password-help') }),
      field(t('cfg.new-password-again'), again),
      h('p', {}, submit), status, fresh);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      for (const c of [current, next, again]) setFieldError(c, null);
      let bad = null;
      if (!current.value) bad = [current, t('gate.password-required')];
      else if (!next.value) bad = [next, t('gate.password-required')];
      else if (next.value !== again.value) bad = [again, t('gate.password-mismatch')];
      else if (next.value === current.value) bad = [next, t('cfg.err.same-password')];
      if (bad) {
        setFieldError(bad[0], bad[1]);
        bad[0].focus();
        return;
      }
      submit.disabled = true;
      setStatus(status, 'info', t('cfg.changing-password'));
      try {
        await ctx.api.changeMasterPassword(current.value, next.value);
        s.status.password = { kind: 'ok', text: t('cfg.password-changed') };
        s.offerFreshBackup = true;
        render(root);
      } catch (err) {
        submit.disabled = false;
        setStatus(status, 'info', '');
        if (err.code === 'WrongPassword') {
          setFieldError(current, describeError(t, err));
          current.focus();
        } else if (err.code === 'InvalidInput') {
          setFieldError(next, describeError(t, err));
          next.focus();
        } else {
          setStatus(status, 'error', describeError(t, err));
          ctx.fail(err, false);
        }
      }
    });
    return form;
  }

  function securityCard() {
    const minutes = input('minutes', { id: 'cfg-autolock', inputmode: 'numeric', value: s.autoLock ?? '', 'data-testid': 'autolock' });
    const autoForm = h('form', { class: 'row wrap', novalidate: true }, field(t('cfg.autolock'), minutes, { help: t('cfg.autolock-help') }),
      h('button', { type: 'submit', class: 'btn', text: t('common.save'), 'data-testid': 'autolock-save' }));
    autoForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = minutes.value.trim();
      if (!/^\d+$/.test(v) || Number(v) > 1440) {
        setFieldError(minutes, t('cfg.err.autolock'));
        minutes.focus();
        return;
      }
      setFieldError(minutes, null);
      await run('autolock', async () => { const st = await ctx.api.setAutoLock(Number(v)); s.autoLock = st.auto_lock_minutes; return st; }, () => t('common.saved-settings'));
    });
    const expPw = input('backup-password', { id: 'cfg-backup-pw', type: 'password', autocomplete: 'current-password', 'data-testid': 'backup-password' });
    const impPath = input('backup-path', { id: 'cfg-import-path', 'data-testid': 'import-path' });
    const impPw = input('import-password', { id: 'cfg-import-pw', type: 'password', autocomplete: 'current-password', 'data-testid': 'import-password' });
    const expForm = h('form', { novalidate: true }, field(t('cfg.backup-password'), expPw, { help: t('cfg.backup-help') }),
      h('button', { type: 'submit', class: 'btn', text: t('cfg.export-backup'), 'data-testid': 'export-backup' }), statusLine('backup', s.status.backup));
    expForm.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!expPw.value) { setFieldError(expPw, t('gate.password-required')); expPw.focus(); return; }
      run('backup', () => ctx.api.exportBackup(expPw.value), (r) => t('cfg.backup-saved', { path: r.path }));
    });
    const impForm = h('form', { novalidate: true }, field(t('cfg.import-path'), impPath), field(t('cfg.backup-password'), impPw),
      h('button', { type: 'submit', class: 'btn', text: t('cfg.import-backup'), 'data-testid': 'import-backup' }), statusLine('import', s.status.import));
    impForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!impPath.value.trim()) { setFieldError(impPath, t('cfg.err.path')); impPath.focus(); return; }
      if (!impPw.value) { setFieldError(impPw, t('gate.password-required')); impPw.focus(); return; }
      await run('import', () => ctx.api.importBackup(impPath.value.trim(), impPw.value), () => t('cfg.imported'));
      await load();
    });
    return card(t('cfg.security'),
      h('div', { class: 'row wrap' }, button(t('cfg.lock-now'), { 'data-testid': 'lock-now', onclick: async () => {
        try { await ctx.api.vaultLock(); ctx.fail({ code: 'Locked', message: t('banner.locked') }, false); } catch (err) { ctx.fail(err); }
      } })),
      autoForm, statusLine('autolock', s.status.autolock),
      passwordForm(),
      s.autostart === null || s.autostart === undefined ? null : (() => {
        const box = h('input', { type: 'checkbox', id: 'cfg-autostart', checked: Boolean(s.autostart), 'data-testid': 'autostart' });
        box.addEventListener('change', () => run('autostart', async () => { s.autostart = await ctx.api.setAutostart(box.checked); return s.autostart; }, () => t('common.saved-settings')));
        return h('div', {}, h('div', { class: 'row' }, box, h('label', { for: 'cfg-autostart', text: t('cfg.autostart') })), statusLine('autostart', s.status.autostart));
      })(),
      s.updates === null || s.updates === undefined ? null : (() => {
        const box = h('input', { type: 'checkbox', id: 'cfg-updates', checked: Boolean(s.updates.checkOnStart), 'data-testid': 'updates-on-start' });
        box.addEventListener('change', () => run('updates', async () => { s.updates = await ctx.api.setUpdateSettings(box.checked); }, () => t('common.saved-settings')));
        const check = button(t('cfg.check-updates'), { class: 'btn small', 'data-testid': 'check-updates',
          onclick: () => run('updates', async () => ctx.offerUpdate(await ctx.api.checkUpdate()), (text) => text) });
        return h('div', {}, h('div', { class: 'row' }, box, h('label', { for: 'cfg-updates', text: t('cfg.updates-on-start') }), check),
          statusLine('updates', s.status.updates));
      })(),
      h('div', { class: 'grid2' }, expForm, impForm));
  }

  function render(section) {
    if (!section) return;
    root = section;
    const rows = s.accounts.map((a) => [
      a.name,
      h('span', { class: 'badge', dataset: { mode: a.environment }, text: t(`mode.${a.environment}`) }),
      h('code', { text: a.key_hint ?? '—' }),
      a.active ? h('strong', { text: `● ${t('cfg.active')}` }) : '—',
      a.check ? `${a.check.ok ? '✓' : '✗'} ${t(a.check.ok ? 'check.ok' : 'check.fail')} ${fmtTime(a.check.checked_at_ms)}` : '—',
      h('td', { class: 'actions' },
        a.active ? null : button(t('cfg.activate'), { class: a.environment === 'live' ? 'btn small danger' : 'btn small', 'aria-label': `${t('cfg.activate')} ${a.name}`, 'data-testid': `activate-${a.id}`, onclick: () => setActive(a) }),
        button(t('cfg.test'), { class: 'btn small', 'aria-label': `${t('cfg.test')} ${a.name}`, 'data-testid': `test-${a.id}`, onclick: () => testConnection(a) }),
        button(t('cfg.edit'), { class: 'btn small', 'aria-label': `${t('cfg.edit')} ${a.name}`, 'data-testid': `edit-${a.id}`, onclick: () => edit(a.id) }),
        button(t('cfg.remove'), { class: 'btn small', 'aria-label': `${t('cfg.remove')} ${a.name}`, 'data-testid': `remove-${a.id}`, onclick: () => remove(a) }),
        s.rowStatus[a.id] ? h('div', { class: 'status-line', role: 'status', dataset: { kind: s.rowStatus[a.id].kind }, 'data-testid': `row-status-${a.id}`, text: s.rowStatus[a.id].text }) : null),
    ]);
    const reports = s.accounts.map(reportBlock).filter(Boolean);
    fill(section, ...header(t, 'api-config'),
      s.error ? h('p', { class: 'status-line', role: 'alert', dataset: { kind: 'error' }, text: describeError(t, s.error) }) : null,
      card(t('cfg.accounts'), table(t, ['cfg.name', 'cfg.environment', 'cfg.key-hint', 'cfg.active', 'cfg.last-check', 'records.actions'], rows, { testid: 'accounts' }),
        h('div', { class: 'row' }, button(t('cfg.add-title'), { class: 'btn primary', 'data-testid': 'add-account', onclick: () => edit('new') })),
        ...reports),
      s.editing !== null ? accountForm() : null,
      securityCard());
  }

  return {
    render,
    load,
    onEvent(ev) {
      if (ev.kind === 'connection') load();
    },
  };
}
