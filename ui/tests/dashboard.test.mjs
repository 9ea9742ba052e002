import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdir } from 'node:fs/promises';
import { ALL_KEYS, KEYS_BY_LANGUAGE } from '../js/i18n.js';
import { DEFAULT_INFO, launchBrowser, openDashboard, serveUi } from './harness.mjs';

const PANELS = ['api-config', 'signals', 'trade', 'records', 'profit-share', 'risk'];
let browser;
let served;

before(async () => {
  served = await serveUi();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  served?.server.close();
});

const visiblePanels = (page) =>
  page.$$eval('section.panel', (els) => els.filter((e) => !e.hidden).map((e) => e.dataset.panel));
const navLabels = (page) => page.$$eval('#nav button', (els) => els.map((e) => e.textContent));

describe('dashboard', () => {
  test('opens in Chinese on the signals panel with the paper badge', async () => {
    const { page, errors } = await openDashboard(browser, served.url);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.deepEqual(await navLabels(page), ['API 配置', '预测信号', '交易执行', '交易记录', '利润分成', '风控设置']);
    assert.deepEqual(await visiblePanels(page), ['signals']);
    assert.equal(await page.textContent('[data-testid=mode-badge]'), '模拟盘');
    assert.equal(await page.getAttribute('[data-testid=mode-badge]', 'data-mode'), 'paper');
    assert.equal(await page.textContent('[data-testid=version]'), '版本 0.1.0');
    assert.match(await page.textContent('[data-testid=data-dir]'), /com\.perpdesk\.desktop/);
    assert.equal(await page.textContent('h1:visible'), '预测信号');
    assert.equal(await page.isVisible('[data-testid=error-banner]'), false);
    await mkdir('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/ui-dashboard-zh.png' });
    assert.deepEqual(errors, []);
  });

  test('switching to English relabels everything and saves the choice', async () => {
    const { page } = await openDashboard(browser, served.url);
    await page.selectOption('[data-testid=language]', 'en');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.deepEqual(await navLabels(page), ['API configuration', 'Prediction signals', 'Trade execution',
      'Trade records', 'Profit sharing', 'Risk settings']);
    assert.equal(await page.textContent('[data-testid=mode-badge]'), 'Paper');
    assert.equal(await page.textContent('h1:visible'), 'Prediction signals');
    await page.waitForFunction(() => window.__fake.preferences.language === 'en');
    const saved = await page.evaluate(() => window.__fake.calls.filter((c) => c.cmd === 'set_preferences'));
    assert.deepEqual(saved.at(-1).args, { preferences: { language: 'en', lastPanel: 'signals' } });
  });

  test('each navigation entry shows exactly its panel and remembers it', async () => {
    const { page } = await openDashboard(browser, served.url);
    for (const panel of PANELS) {
      await page.click(`#nav button[data-panel=${panel}]`);
      assert.deepEqual(await visiblePanels(page), [panel]);
      assert.equal(await page.getAttribute(`#nav button[data-panel=${panel}]`, 'aria-current'), 'page');
      assert.equal(await page.locator('#nav button[aria-current]').count(), 1);
      await page.waitForFunction((p) => window.__fake.preferences.lastPanel === p, panel);
    }
    assert.equal(await page.textContent('#panel-risk h1'), '风控设置');
    assert.equal(await page.textContent('[data-testid=risk-status]'), '尚未接入');
  });

  test('restores the saved language and panel at start', async () => {
    const { page } = await openDashboard(browser, served.url, {
      preferences: { language: 'en', lastPanel: 'profit-share' },
    });
    assert.deepEqual(await visiblePanels(page), ['profit-share']);
    assert.equal(await page.inputValue('[data-testid=language]'), 'en');
    assert.equal(await page.textContent('h1:visible'), 'Profit sharing');
    assert.equal(await page.textContent('[data-testid=profit-share-status]'), 'Not connected yet');
  });

  test('shows the backend error code and message when saving fails', async () => {
    const { page } = await openDashboard(browser, served.url, {
      failSetPreferences: { code: 'InvalidInput', message: 'preferences: unknown variant `xx`' },
    });
    await page.click('#nav button[data-panel=trade]');
    await page.waitForSelector('[data-testid=error-banner]:visible');
    assert.equal(await page.textContent('[data-testid=error-banner]'),
      '出错 [InvalidInput]: preferences: unknown variant `xx`');
    assert.deepEqual(await visiblePanels(page), ['trade']);
  });

  test('the mode badge and pause state follow the backend and tray events', async () => {
    const { page } = await openDashboard(browser, served.url, { info: { ...DEFAULT_INFO, mode: 'live' } });
    assert.equal(await page.textContent('[data-testid=mode-badge]'), '实盘');
    assert.equal(await page.getAttribute('[data-testid=mode-badge]', 'data-mode'), 'live');
    assert.equal(await page.textContent('[data-testid=signals-state]'), '信号运行中');
    await page.evaluate(() => window.__fakeEmit('signals-paused', { paused: true }));
    assert.equal(await page.textContent('[data-testid=signals-state]'), '信号已暂停');
    assert.equal(await page.getAttribute('[data-testid=signals-state]', 'data-state'), 'paused');
  });

  test('every interface string exists in both languages', () => {
    for (const [language, keys] of Object.entries(KEYS_BY_LANGUAGE)) {
      assert.deepEqual([...keys].sort(), [...ALL_KEYS].sort(), `${language} is missing or has extra keys`);
    }
  });
});
