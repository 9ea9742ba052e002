import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { callsTo, emitAppEvent, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });

describe('first run and unlock', () => {
  test('first run: language, password twice with strength feedback, then the signals panel in paper mode', async () => {
    const { page, errors } = await open({ vault: { initialized: false, locked: true }, preferences: { language: 'zh-CN', lastPanel: 'risk' } });
    assert.equal(await page.isVisible('[data-testid=first-run]'), true);
    assert.equal(await page.isVisible('.layout'), false);
    // The language choice relabels the form at once.
    await page.selectOption('[data-testid=gate-language]', 'en');
    assert.equal(await page.textContent('[data-testid=first-run] h1'), 'Welcome to perpdesk');
    await page.click('[data-testid=gate-submit]');
    assert.equal(await page.textContent('#gate-password-error'), 'Enter the password.');
    await page.fill('[data-testid=gate-password]', 'short');
    await page.fill('[data-testid=gate-password2]', 'different');
    await page.click('[data-testid=gate-submit]');
    assert.equal(await page.textContent('#gate-password2-error'), 'The two passwords differ.');
    assert.equal((await callsTo(page, 'vault_setup')).length, 0);
    // The backend judges strength; its InvalidInput message shows under the password.
    await page.fill('[data-testid=gate-password2]', 'short');
    await page.click('[data-testid=gate-submit]');
    await page.waitForSelector('#gate-password-error:has-text("too weak")');
    assert.match(await page.textContent('#gate-password-error'), /^Invalid input: password: too weak/);
    await page.fill('[data-testid=gate-password]', 'a much longer passphrase 7!');
    await page.fill('[data-testid=gate-password2]', 'a much longer passphrase 7!');
    await page.press('[data-testid=gate-password2]', 'Enter');
    await page.waitForSelector('#panel-signals:visible');
    assert.equal(await page.isVisible('[data-testid=gate]'), false);
    assert.equal(await page.textContent('[data-testid=mode-badge]'), 'Paper');
    assert.equal(await page.textContent('h1:visible'), 'Prediction signals');
    await page.waitForFunction(() => window.__fake.preferences.language === 'en' && window.__fake.preferences.lastPanel === 'signals');
    assert.deepEqual((await callsTo(page, 'vault_setup')).at(-1).args, { password: 'a much longer passphrase 7!' });
    assert.deepEqual(errors, []);
  });

  test('unlock: a wrong password is shown under the field, the right one opens the dashboard', async () => {
    const { page, errors } = await open({ vault: { initialized: true, locked: true } });
    assert.equal(await page.isVisible('[data-testid=unlock]'), true);
    assert.equal((await callsTo(page, 'accounts')).length, 0);
    await page.fill('[data-testid=gate-password]', 'nope');
    await page.press('[data-testid=gate-password]', 'Enter');
    await page.waitForSelector('#gate-password-error:has-text("wrong master password")');
    assert.equal(await page.textContent('#gate-password-error'), '密码错误: wrong master password');
    assert.equal(await page.getAttribute('[data-testid=gate-password]', 'aria-invalid'), 'true');
    await page.fill('[data-testid=gate-password]', 'correct horse battery staple');
    await page.click('[data-testid=gate-submit]');
    await page.waitForSelector('#panel-signals:visible');
    await page.waitForSelector('[data-testid=watchlist] button[data-symbol=BTCUSDT]');
    assert.deepEqual(errors, []);
  });

  test('a locked event (auto-lock) brings back the unlock dialog with a banner, and lock now does too', async () => {
    const { page } = await open();
    await emitAppEvent(page, { kind: 'locked' });
    assert.equal(await page.isVisible('[data-testid=unlock]'), true);
    assert.match(await page.textContent('[data-testid=unlock]'), /密钥库已锁定/);
    await page.evaluate(() => { window.__fake.vault.locked = false; });
    await page.fill('[data-testid=gate-password]', 'correct horse battery staple');
    await page.click('[data-testid=gate-submit]');
    await page.waitForSelector('.layout:visible');
    await page.click('#nav button[data-panel=api-config]');
    await page.click('[data-testid=lock-now]');
    await page.waitForSelector('[data-testid=unlock]');
    assert.equal((await callsTo(page, 'vault_lock')).length, 1);
  });

  test('a command answering Locked opens the unlock dialog', async () => {
    const { page } = await open({ preferences: { language: 'en', lastPanel: 'trade' } });
    await page.evaluate(() => { window.__fake.vault.locked = true; });
    await page.fill('[data-testid=ticket-sl]', '60000');
    await page.click('[data-testid=preview-order]');
    await page.waitForSelector('[data-testid=unlock]');
    assert.equal(await page.textContent('[data-testid=unlock] h1'), 'Unlock perpdesk');
  });
});
