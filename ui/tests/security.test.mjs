import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { answerPassword, callsTo, emitAppEvent, failNext, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onConfig = (language) => open({ preferences: { language, lastPanel: 'api-config' } });
const CURRENT = 'correct horse battery staple';
const NEXT = 'a brand new passphrase 2026 ok';

async function fillPasswords(page, current, next, again = next) {
  await page.fill('[data-testid=current-password]', current);
  await page.fill('[data-testid=new-password]', next);
  await page.fill('[data-testid=new-password2]', again);
  await page.click('[data-testid=change-password-submit]');
}

describe('changing the master password', () => {
  test('English: missing, differing and unchanged passwords are caught beside their fields before anything is sent', async () => {
    const { page, errors } = await onConfig('en');
    assert.equal(await page.textContent('[data-testid=change-password] h3'), 'Change master password');
    await page.click('[data-testid=change-password-submit]');
    assert.equal(await page.textContent('#cfg-current-pw-error'), 'Enter the password.');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'cfg-current-pw');
    await page.fill('[data-testid=current-password]', CURRENT);
    await page.click('[data-testid=change-password-submit]');
    assert.equal(await page.textContent('#cfg-current-pw-error'), '');
    assert.equal(await page.textContent('#cfg-new-pw-error'), 'Enter the password.');
    await fillPasswords(page, CURRENT, NEXT, `${NEXT}x`);
    assert.equal(await page.textContent('#cfg-new-pw2-error'), 'The two passwords differ.');
    assert.equal(await page.getAttribute('[data-testid=new-password2]', 'aria-invalid'), 'true');
    await fillPasswords(page, CURRENT, CURRENT);
    assert.equal(await page.textContent('#cfg-new-pw-error'), 'The new password is the same as the current one.');
    assert.equal((await callsTo(page, 'change_master_password')).length, 0);
    assert.deepEqual(errors, []);
  });

  test('English: the engine\'s strength verdict and a wrong current password show under their fields; success clears the form', async () => {
    const { page, errors } = await onConfig('en');
    await fillPasswords(page, CURRENT, 'short1!');
    await page.waitForSelector('#cfg-new-pw-error:has-text("at least 12")');
    assert.match(await page.textContent('#cfg-new-pw-error'), /^Invalid input: newPassword: it has 7 characters; use at least 12/);
    assert.equal(await page.textContent('#cfg-current-pw-error'), '');
    await fillPasswords(page, 'not my password at all', NEXT);
    await page.waitForSelector('#cfg-current-pw-error:has-text("wrong")');
    assert.equal(await page.textContent('#cfg-current-pw-error'), 'Wrong password: wrong master password');
    assert.equal(await page.textContent('#cfg-new-pw-error'), '', 'the earlier strength message is gone');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'cfg-current-pw');
    assert.equal(await page.isEnabled('[data-testid=change-password-submit]'), true);

    await fillPasswords(page, CURRENT, NEXT);
    await page.waitForSelector('[data-testid=password-status][data-kind=ok]');
    assert.equal(await page.textContent('[data-testid=password-status]'),
      'Master password changed. Backup files made earlier still open with the old password (restoring one here also needs the current password): make a fresh backup under the new password now.');
    // The fresh backup it offers takes the (new) password in the export form.
    await page.click('[data-testid=fresh-backup]');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'cfg-backup-pw');
    for (const id of ['current-password', 'new-password', 'new-password2']) {
      assert.equal(await page.inputValue(`[data-testid=${id}]`), '', `${id} is emptied`);
    }
    assert.deepEqual((await callsTo(page, 'change_master_password')).at(-1).args, { currentPassword: CURRENT, newPassword: NEXT });
    assert.equal(await page.evaluate(() => window.__fake.password), NEXT);
    assert.deepEqual(errors, []);
  });

  test('中文: labels, the mismatch, a wrong password and success in Chinese', async () => {
    const { page, errors } = await onConfig('zh-CN');
    const form = await page.innerText('[data-testid=change-password]');
    for (const words of ['修改主密码', '当前主密码', '新主密码', '再次输入新主密码', '旧密码继续有效']) {
      assert.ok(form.includes(words), `${words} in ${form}`);
    }
    await fillPasswords(page, CURRENT, NEXT, 'something else entirely');
    assert.equal(await page.textContent('#cfg-new-pw2-error'), '两次输入的密码不一致。');
    await fillPasswords(page, CURRENT, CURRENT);
    assert.equal(await page.textContent('#cfg-new-pw-error'), '新密码与当前密码相同。');
    await fillPasswords(page, 'wrong wrong wrong 1', NEXT);
    await page.waitForSelector('#cfg-current-pw-error:has-text("密码错误")');
    assert.equal(await page.textContent('#cfg-current-pw-error'), '密码错误: wrong master password');
    await fillPasswords(page, CURRENT, 'short');
    await page.waitForSelector('#cfg-new-pw-error:has-text("输入有误")');
    assert.match(await page.textContent('#cfg-new-pw-error'), /^输入有误: newPassword: it has 5 characters/);
    await fillPasswords(page, CURRENT, NEXT);
    await page.waitForSelector('[data-testid=password-status][data-kind=ok]');
    assert.equal(await page.textContent('[data-testid=password-status]'), '主密码已修改。之前导出的备份文件仍可用旧密码打开（在此恢复时还需要当前密码）：请现在用新密码做一份新备份。');
    assert.equal(await page.textContent('[data-testid=fresh-backup]'), '立即新建备份');
    assert.deepEqual(errors, []);
  });

  for (const [language, words] of [['en', /made before the master password was last changed/], ['zh-CN', /上次修改主密码之前制作/]]) {
    test(`a backup from before the change asks for the current password too (${language})`, async () => {
      const { page, errors } = await onConfig(language);
      const path = '/home/trader/perpdesk-backup-before-change.pdbak';
      await page.fill('[data-testid=import-path]', path);
      await page.fill('[data-testid=import-password]', 'the password of last year 11');
      await page.click('[data-testid=import-backup]');
      await page.waitForSelector('[data-testid=password-dialog][open]');
      assert.match(await page.textContent('[data-testid=password-message]'), words);
      // Without the current password nothing is restored.
      await page.click('[data-testid=password-cancel]');
      await page.waitForSelector('[data-testid=import-status][data-kind=error]');
      assert.match(await page.textContent('[data-testid=import-status]'), /currentPassword/);
      await page.fill('[data-testid=import-path]', path);
      await page.fill('[data-testid=import-password]', 'the password of last year 11');
      await page.click('[data-testid=import-backup]');
      await answerPassword(page, CURRENT);
      await page.waitForSelector('[data-testid=import-status][data-kind=ok]');
      assert.deepEqual((await callsTo(page, 'import_backup')).map((c) => c.args.currentPassword ?? null), [null, null, CURRENT]);
      assert.equal((await callsTo(page, 'import_backup'))[2].args.password, 'the password of last year 11');
      assert.deepEqual(errors, []);
    });
  }

  test('a failure that is not about a field is shown under the form; Locked opens the unlock dialog', async () => {
    const { page, errors } = await onConfig('en');
    await failNext(page, 'change_master_password', { code: 'Conflict', message: 'the stored secret of account "Binance live" cannot be opened with the current password; nothing was changed' });
    await fillPasswords(page, CURRENT, NEXT);
    await page.waitForSelector('[data-testid=password-status][data-kind=error]');
    assert.match(await page.textContent('[data-testid=password-status]'), /^Conflict: the stored secret of account "Binance live".*nothing was changed$/);
    assert.equal(await page.isVisible('#error-banner'), false, 'shown beside the form, not as a banner');
    await failNext(page, 'change_master_password', null);
    await page.evaluate(() => { window.__fake.vault.locked = true; });
    await page.click('[data-testid=change-password-submit]');
    await page.waitForSelector('[data-testid=unlock]');
    assert.equal(await page.evaluate(() => window.__fake.password), CURRENT, 'nothing changed');
    assert.deepEqual(errors, []);
  });
});

describe('auto-lock follows the user', () => {
  test('input reports activity at most every 30 s, and none while the unlock dialog is up', async () => {
    const { page, errors } = await onConfig('en');
    // Date.now moves only when the test says so: on a busy machine the steps below take
    // seconds of real time, which must not count towards the 30 s.
    await page.evaluate(() => {
      const start = Date.now();
      window.__skew = 0;
      Date.now = () => start + window.__skew;
    });
    const pings = async () => (await callsTo(page, 'note_activity')).length;
    await page.mouse.move(10, 10);
    await page.waitForFunction(() => window.__fake.calls.some((c) => c.cmd === 'note_activity'));
    for (let i = 0; i < 5; i += 1) {
      await page.mouse.move(20 + i * 10, 30);
      await page.keyboard.press('Shift');
    }
    await page.mouse.wheel(0, 50);
    assert.equal(await pings(), 1, 'a burst of input is one call');
    await page.evaluate(() => { window.__skew = 29_000; });
    await page.keyboard.press('Shift');
    assert.equal(await pings(), 1, 'still within 30 s');
    await page.evaluate(() => { window.__skew = 31_000; });
    await page.keyboard.press('Shift');
    await page.waitForFunction(() => window.__fake.calls.filter((c) => c.cmd === 'note_activity').length === 2);

    // The vault locked itself meanwhile: the next report finds out, and the engine's `locked`
    // event opens the unlock dialog.
    await page.evaluate(() => { window.__fake.vault.locked = true; window.__skew = 62_000; });
    await page.mouse.move(200, 200);
    await page.waitForFunction(() => window.__fake.calls.filter((c) => c.cmd === 'note_activity').length === 3);
    await emitAppEvent(page, { kind: 'locked' });
    await page.waitForSelector('[data-testid=unlock]');
    assert.match(await page.textContent('[data-testid=unlock]'), /The vault is locked/);
    // No reports while the dialog is up.
    await page.evaluate(() => { window.__skew = 120_000; });
    await page.keyboard.press('Shift');
    assert.equal(await pings(), 3);
    assert.deepEqual(errors, []);
  });
});
