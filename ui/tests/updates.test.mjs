import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { callsTo, expectDom, failNext, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onPanel = (lastPanel, language, extra = {}) => open({ preferences: { language, lastPanel }, ...extra });
const RELEASE = { version: '0.1.1', notes: 'Faster charts.' };

const WORDS = {
  'zh-CN': {
    setting: '启动时检查新版本（只检查；安装前一定先询问）', check: '检查更新', title: '有新版本', install: '下载并安装',
    offer: /perpdesk 0\.1\.1 已发布（当前 0\.1\.0）/, installed: '已安装 0.1.1，重启 perpdesk 后生效。',
    later: '未安装；可随时在此再次检查。', none: '已是最新版本。',
  },
  en: {
    setting: 'Look for a new version at start (only looks; installing always asks first)', check: 'Check for updates',
    title: 'Update available', install: 'Download and install', offer: /perpdesk 0\.1\.1 is out \(you have 0\.1\.0\)/,
    installed: 'Version 0.1.1 is installed; it runs from the next start.',
    later: 'Not installed; you can check again here at any time.', none: 'perpdesk is up to date.',
  },
};

describe('updates', () => {
  for (const [language, w] of Object.entries(WORDS)) {
    test(`${language}: looking for updates at start is on by default and can be turned off`, async () => {
      const { page, errors } = await onPanel('api-config', language);
      await expectDom(page, '[data-testid=updates-on-start]', 'checked', true);
      await expectDom(page, 'label[for=cfg-updates]', 'text', w.setting);
      await expectDom(page, '[data-testid=check-updates]', 'text', w.check);
      await page.uncheck('[data-testid=updates-on-start]');
      await expectDom(page, '[data-testid=updates-status]', 'attr:data-kind', 'ok');
      assert.deepEqual((await callsTo(page, 'set_update_settings')).at(-1).args, { checkOnStart: false });
      // Off means the shell does not even look at the next start.
      assert.equal(await page.evaluate(() => window.__fakeStartCheck()), false);
      assert.equal(await page.isVisible('[data-testid=confirm-dialog]'), false);
      assert.deepEqual(errors, []);
    });

    test(`${language}: an update found at start is asked about and installed only after yes`, async () => {
      const { page, errors } = await onPanel('signals', language, { release: RELEASE });
      assert.equal(await page.evaluate(() => window.__fakeStartCheck()), true);
      await expectDom(page, '[data-testid=confirm-dialog]', 'visible', true);
      await expectDom(page, '#confirm-title', 'text', w.title);
      await expectDom(page, '[data-testid=confirm-message]', 'text', w.offer);
      await expectDom(page, '[data-testid=confirm-message]', 'text', /Faster charts\./);
      await expectDom(page, '[data-testid=confirm-ok]', 'text', w.install);
      assert.deepEqual(await callsTo(page, 'install_update'), [], 'nothing is downloaded before the answer');
      await page.click('[data-testid=confirm-ok]');
      await expectDom(page, '[data-testid=update-banner]', 'text', w.installed);
      assert.equal((await callsTo(page, 'install_update')).length, 1);
      assert.deepEqual(errors, []);
    });

    test(`${language}: saying not now installs nothing`, async () => {
      const { page, errors } = await onPanel('signals', language, { release: RELEASE });
      await page.evaluate(() => window.__fakeStartCheck());
      await expectDom(page, '[data-testid=confirm-dialog]', 'visible', true);
      await page.click('#confirm-cancel');
      await expectDom(page, '[data-testid=update-banner]', 'text', w.later);
      assert.deepEqual(await callsTo(page, 'install_update'), []);
      assert.deepEqual(errors, []);
    });

    test(`${language}: the check button says when this is the newest version`, async () => {
      const { page, errors } = await onPanel('api-config', language);
      await page.click('[data-testid=check-updates]');
      await expectDom(page, '[data-testid=updates-status]', 'text', w.none);
      assert.equal(await page.isVisible('[data-testid=confirm-dialog]'), false);
      assert.deepEqual(errors, []);
    });
  }

  test('a download that fails the signature check is reported and nothing is installed', async () => {
    const { page, errors } = await onPanel('api-config', 'en', { release: RELEASE });
    const message = "the downloaded update is not signed by perpdesk's release key, so it was not installed (signature mismatch)";
    await failNext(page, 'install_update', { code: 'Internal', message });
    await page.click('[data-testid=check-updates]');
    await expectDom(page, '[data-testid=confirm-dialog]', 'visible', true);
    await page.click('[data-testid=confirm-ok]');
    await expectDom(page, '[data-testid=updates-status]', 'attr:data-kind', 'error');
    await expectDom(page, '[data-testid=updates-status]', 'text', `Internal error: ${message}`);
    assert.equal(await page.evaluate(() => window.__fake.installed), null);
    assert.deepEqual(errors, []);
  });
});
