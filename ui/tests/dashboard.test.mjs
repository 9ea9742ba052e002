import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { mkdir, readFile } from 'node:fs/promises';
import { DEFAULT_INFO, emitAppEvent, expectDom, useBrowser } from './harness.mjs';

const PANELS = ['api-config', 'signals', 'trade', 'records', 'profit-share', 'risk'];
const { open } = useBrowser({ before, after, afterEach });

const visiblePanels = (page) =>
  page.$$eval('section.panel', (els) => els.filter((e) => !e.hidden).map((e) => e.dataset.panel));
const navLabels = (page) => page.$$eval('#nav button', (els) => els.map((e) => e.textContent));

/** Every visible control that has neither a <label for>, a wrapping label nor an aria-label. */
const unlabelled = (page) => page.$$eval('input, select, button, textarea', (els) => els
  .filter((e) => e.offsetParent !== null)
  .filter((e) => {
    if (e.getAttribute('aria-label') || e.closest('label')) return false;
    if (e.tagName === 'BUTTON') return !e.textContent.trim();
    return !(e.id && document.querySelector(`label[for="${e.id}"]`));
  })
  .map((e) => e.outerHTML.slice(0, 120)));

describe('dashboard', () => {
  test('opens in Chinese on the signals panel with the paper badge', async () => {
    const { page, errors } = await open();
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.deepEqual(await navLabels(page), ['API 配置', '预测信号', '交易执行', '交易记录', '利润分成', '风控设置']);
    assert.deepEqual(await visiblePanels(page), ['signals']);
    assert.equal(await page.textContent('[data-testid=mode-badge]'), '模拟盘');
    assert.equal(await page.getAttribute('[data-testid=mode-badge]', 'data-mode'), 'paper');
    assert.equal(await page.textContent('[data-testid=version]'), '版本 0.1.0');
    assert.match(await page.textContent('[data-testid=data-dir]'), /com\.perpdesk\.desktop/);
    assert.match(await page.textContent('[data-testid=attribution]'), /TradingView/);
    assert.equal(await page.textContent('h1:visible'), '预测信号');
    assert.equal(await page.isVisible('[data-testid=error-banner]'), false);
    await mkdir('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/ui-dashboard-zh.png', fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('every panel renders in both languages without unlabelled controls or console errors', async () => {
    const { page, errors } = await open();
    for (const language of ['zh-CN', 'en']) {
      await page.selectOption('[data-testid=language]', language);
      for (const panel of PANELS) {
        await page.click(`#nav button[data-panel=${panel}]`);
        const text = await page.innerText(`#panel-${panel}`);
        // An untranslated key shows itself ("trade.preview"); none may be left on screen.
        assert.doesNotMatch(text, /\b(?:trade|signals|records|ps|risk|cfg|common|code|check)\.[a-z-]+/, `${language} ${panel}`);
        if (language === 'en') assert.doesNotMatch(text, /[\u4e00-\u9fff]{2,}/, `Chinese left in en ${panel}`);
        assert.deepEqual(await unlabelled(page), [], `${language} ${panel}`);
      }
    }
    await page.screenshot({ path: 'test-output/ui-dashboard-en.png', fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('switching to English relabels everything and saves the choice', async () => {
    const { page } = await open();
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
    const { page } = await open();
    for (const panel of PANELS) {
      await page.click(`#nav button[data-panel=${panel}]`);
      assert.deepEqual(await visiblePanels(page), [panel]);
      assert.equal(await page.getAttribute(`#nav button[data-panel=${panel}]`, 'aria-current'), 'page');
      assert.equal(await page.locator('#nav button[aria-current]').count(), 1);
      await page.waitForFunction((p) => window.__fake.preferences.lastPanel === p, panel);
    }
    assert.equal(await page.textContent('#panel-risk h1'), '风控设置');
  });

  test('the shell\'s navigate event switches the panel', async () => {
    const { page } = await open();
    await page.evaluate(() => window.__fakeEmit('navigate', 'records'));
    assert.deepEqual(await visiblePanels(page), ['records']);
    await page.evaluate(() => window.__fakeEmit('navigate', { panel: 'risk' }));
    assert.deepEqual(await visiblePanels(page), ['risk']);
  });

  test('restores the saved language and panel at start', async () => {
    const { page } = await open({ preferences: { language: 'en', lastPanel: 'profit-share' } });
    assert.deepEqual(await visiblePanels(page), ['profit-share']);
    assert.equal(await page.inputValue('[data-testid=language]'), 'en');
    assert.equal(await page.textContent('h1:visible'), 'Profit sharing');
  });

  test('shows the backend error code and message when saving fails', async () => {
    const { page } = await open({
      failSetPreferences: { code: 'InvalidInput', message: 'preferences: unknown variant `xx`' },
    });
    await page.click('#nav button[data-panel=trade]');
    await page.waitForSelector('[data-testid=error-banner]:visible');
    assert.equal(await page.textContent('[data-testid=error-banner]'),
      '出错 [InvalidInput]: preferences: unknown variant `xx`');
    assert.deepEqual(await visiblePanels(page), ['trade']);
  });

  test('the mode badge and pause state follow the backend and tray events', async () => {
    const { page } = await open({ info: { ...DEFAULT_INFO, mode: 'live' } });
    // The active account (paper in the fake) decides the mode once the vault is open.
    assert.equal(await page.textContent('[data-testid=mode-badge]'), '模拟盘');
    assert.equal(await page.textContent('[data-testid=signals-state]'), '信号运行中');
    await page.evaluate(() => window.__fakeEmit('signals-paused', { paused: true }));
    assert.equal(await page.textContent('[data-testid=signals-state]'), '信号已暂停');
    assert.equal(await page.getAttribute('[data-testid=signals-state]', 'data-state'), 'paused');
  });

  test('the header tells locked, loading, running and paused apart', async () => {
    const pill = '[data-testid=signals-state]';
    const says = async (page, state, text) => {
      await expectDom(page, pill, 'attr:data-state', state);
      assert.equal(await page.textContent(pill), text);
    };
    // Before the vault is open nothing of the dashboard shows, so signals are not "running".
    const { page, errors } = await open({ vault: { initialized: true, locked: true } });
    await says(page, 'locked', '已锁定，解锁后查看信号');
    await page.evaluate(() => window.__fakeEmit('signals-paused', { paused: true }));
    await says(page, 'locked', '已锁定，解锁后查看信号');
    await page.evaluate(() => window.__fakeEmit('signals-paused', { paused: false }));
    // Unlocked while the model still loads its history: its commands answer NotFound.
    await page.evaluate(() => {
      window.__fake.fail.signals = { code: 'NotFound', message: 'Not found: signals (the model is still loading history; try again shortly)' };
    });
    await page.fill('[data-testid=gate-password]', 'correct horse battery staple');
    await page.click('[data-testid=gate-submit]');
    await says(page, 'loading', '信号模型加载中');
    await page.selectOption('[data-testid=language]', 'en');
    await says(page, 'loading', 'Signals loading');
    // The model is ready: the panel's next try gets the signals.
    await page.evaluate(() => { delete window.__fake.fail.signals; });
    await says(page, 'running', 'Signals running');
    await page.evaluate(() => window.__fakeEmit('signals-paused', { paused: true }));
    await says(page, 'paused', 'Signals paused');
    await emitAppEvent(page, { kind: 'locked' });
    await says(page, 'locked', 'Locked: unlock to see signals');
    assert.deepEqual(errors, []);
  });

  test('a first run is locked until the vault exists; a signal event says the model runs', async () => {
    const { page, errors } = await open({
      vault: { initialized: false, locked: true },
      fail: { signals: { code: 'NotFound', message: 'Not found: signals (the model is still loading history; try again shortly)' } },
    });
    await expectDom(page, '[data-testid=signals-state]', 'attr:data-state', 'locked');
    await page.fill('[data-testid=gate-password]', 'a much longer passphrase 7!');
    await page.fill('[data-testid=gate-password2]', 'a much longer passphrase 7!');
    await page.press('[data-testid=gate-password2]', 'Enter');
    await expectDom(page, '[data-testid=signals-state]', 'attr:data-state', 'loading');
    // A signal is announced: the model runs, whatever the panel's last try found.
    await emitAppEvent(page, { kind: 'signal', symbol: 'BTCUSDT', direction: 'long', probability: 0.6, time_ms: Date.UTC(2026, 10, 25, 12), strong: false });
    await expectDom(page, '[data-testid=signals-state]', 'text', '信号运行中');
    assert.deepEqual(errors, []);
  });

  test('connection and liquidation events raise banners and clear them again', async () => {
    const { page, errors } = await open();
    await emitAppEvent(page, { kind: 'connection', account_id: 1, connected: false, message: 'user stream closed' });
    assert.match(await page.textContent('[data-testid=conn-banner]'), /连接已断开.*user stream closed/);
    await emitAppEvent(page, { kind: 'connection', account_id: 1, connected: true, message: '' });
    assert.equal(await page.isVisible('[data-testid=conn-banner]'), false);
    await emitAppEvent(page, { kind: 'liquidation_warning', account_id: 1, symbol: 'BTCUSDT', mark_price: '52000', liquidation_price: '51230.4' });
    assert.match(await page.textContent('[data-testid=liq-banner]'), /BTCUSDT.*52,000.*51,230\.4/);
    assert.deepEqual(errors, []);
  });

  test('the vendored chart library is the pinned npm build with its licence and notice', async () => {
    const root = new URL('../../', import.meta.url);
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8'));
    assert.match(pkg.dependencies['lightweight-charts'], /^5\.\d+\.\d+$/);
    const vendored = await readFile(new URL('ui/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs', root), 'utf8');
    assert.ok(vendored.includes(`Lightweight Charts™ v${pkg.dependencies['lightweight-charts']}`));
    assert.match(await readFile(new URL('ui/vendor/lightweight-charts/LICENSE', root), 'utf8'), /Apache License/);
    assert.match(await readFile(new URL('ui/vendor/lightweight-charts/NOTICE', root), 'utf8'), /TradingView/);
  });
});
