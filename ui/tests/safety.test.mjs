// Loosening a safety setting asks for the master password again (issue 16, item 3): the
// prompt is drawn in both languages, cancelling it leaves the change refused and nothing
// saved, a wrong password is said under the field, and tightening never asks.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { answerPassword, callsTo, expectDom, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onPanel = (lastPanel, language, extra = {}) => open({ preferences: { language, lastPanel }, ...extra });

describe('loosening a safety setting needs the master password', () => {
  for (const [language, title, refused] of [
    ['zh-CN', '请用主密码确认', /^需要主密码: max_leverage: /],
    ['en', 'Confirm with the master password', /^Master password needed: max_leverage: /],
  ]) {
    test(`a higher limit draws the prompt; cancelled, it is refused and nothing is saved (${language})`, async () => {
      const { page, errors } = await onPanel('risk', language);
      await page.fill('#risk-max_leverage', '50');
      await page.click('[data-testid=risk-save]');
      await page.waitForSelector('[data-testid=password-dialog][open]');
      assert.equal(await page.textContent('#password-title'), title);
      assert.match(await page.textContent('[data-testid=password-message]'), /max_leverage/);
      assert.equal(await page.getAttribute('[data-testid=password-input]', 'type'), 'password');
      assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'password-input');
      await page.click('[data-testid=password-cancel]');
      await expectDom(page, '[data-testid=risk-save-status]', 'text', refused);
      assert.equal(await page.isVisible('[data-testid=password-dialog]'), false);
      const calls = await callsTo(page, 'set_risk_limits');
      assert.equal(calls.length, 1);
      assert.equal(calls[0].args.password, undefined);
      assert.equal(await page.evaluate(() => window.__fake.limits.max_leverage), 20, 'nothing saved');
      assert.deepEqual(errors, []);
    });
  }

  test('a wrong password is shown under the field; the right one saves', async () => {
    const { page, errors } = await onPanel('risk', 'en');
    await page.fill('#risk-max_leverage', '50');
    await page.click('[data-testid=risk-save]');
    await answerPassword(page, 'not it at all');
    await expectDom(page, '[data-testid=password-error]', 'text', 'Wrong password: wrong master password');
    assert.equal(await page.evaluate(() => window.__fake.limits.max_leverage), 20);
    await answerPassword(page);
    await page.waitForSelector('[data-testid=risk-save-status][data-kind=ok]');
    assert.equal(await page.evaluate(() => window.__fake.limits.max_leverage), 50);
    assert.deepEqual((await callsTo(page, 'set_risk_limits')).map((c) => c.args.password ?? null),
      [null, 'not it at all', 'correct horse battery staple']);
    assert.deepEqual(errors, []);
  });

  test('tightening saves at once, without the prompt', async () => {
    const { page, errors } = await onPanel('risk', 'en');
    await page.fill('#risk-max_leverage', '3');
    await page.click('[data-testid=risk-save]');
    await page.waitForSelector('[data-testid=risk-save-status][data-kind=ok]');
    assert.equal(await page.isVisible('[data-testid=password-dialog]'), false);
    assert.deepEqual((await callsTo(page, 'set_risk_limits')).map((c) => c.args.password ?? null), [null]);
    assert.deepEqual(errors, []);
  });

  test('turning auto-lock off asks too', async () => {
    const { page, errors } = await onPanel('api-config', 'zh-CN');
    await page.fill('[data-testid=autolock]', '0');
    await page.click('[data-testid=autolock-save]');
    await page.waitForSelector('[data-testid=password-dialog][open]');
    assert.match(await page.textContent('[data-testid=password-message]'), /放宽安全设置（auto_lock_minutes）/);
    await answerPassword(page);
    await page.waitForSelector('[data-testid=autolock-status][data-kind=ok]');
    assert.equal(await page.evaluate(() => window.__fake.vault.auto_lock_minutes), 0);
    assert.deepEqual(errors, []);
  });
});

describe('the kill switch and the yes/no question', () => {
  test('a close event left over from the previous question does not answer the next one', async () => {
    const { page, errors } = await onPanel('risk', 'en');
    await page.click('[data-testid=kill-on]');
    await page.waitForSelector('[data-testid=confirm-dialog][open]');
    // The close event of a question answered just before this one opened, arriving late.
    await page.evaluate(() => document.querySelector('#confirm-dialog').dispatchEvent(new Event('close')));
    assert.equal(await page.isVisible('[data-testid=confirm-dialog]'), true, 'still asking');
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=kill-state].risk-box');
    assert.deepEqual((await callsTo(page, 'set_kill_switch')).map((c) => c.args.on), [true]);
    assert.deepEqual(errors, []);
  });

  for (const [language, says] of [
    ['en', /^Kill switch on: new positions are refused now\. The vault is locked, so your positions are closed when you unlock it/],
    ['zh-CN', /^紧急停止已启用：新开仓立即被拒绝。保险库已锁定，持仓将在您解锁时最先被平掉。$/],
  ]) {
    test(`turned on after the vault locked, it says the positions close at the unlock (${language})`, async () => {
      const { page, errors } = await onPanel('risk', language);
      await page.evaluate(() => { window.__fake.vault.locked = true; });
      await page.click('[data-testid=kill-on]');
      await page.click('[data-testid=confirm-ok]');
      await expectDom(page, '[data-testid=risk-save-status]', 'text', says);
      assert.equal(await page.getAttribute('[data-testid=risk-save-status]', 'data-kind'), 'info');
      assert.equal(await page.evaluate(() => window.__fake.positions.length > 0), true, 'nothing closed yet');
      assert.deepEqual(errors, []);
    });
  }
});
