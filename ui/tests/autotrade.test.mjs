import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { answerPassword, callsTo, expectDom, failNext, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onSignals = (language = 'zh-CN', extra = {}) => open({ preferences: { language, lastPanel: 'signals' }, ...extra });

const ENTRY = { enabled: false, usdt: '500', leverage: 5, margin_type: 'ISOLATED', trade_lean: false };
const sw = (symbol) => `[data-testid=auto-switch-${symbol}]`;
const lean = (symbol) => `[data-testid=auto-lean-${symbol}]`;
const stateOf = (page, symbol) => page.textContent(`[data-testid=auto-state-${symbol}]`);
const statusOf = (page, symbol) => page.textContent(`[data-testid=auto-status-${symbol}]`);

describe('auto-trade switch (signals panel)', () => {
  test('every watched symbol has a switch, off by default, labelled in both languages', async () => {
    const { page, errors } = await onSignals();
    await page.waitForSelector(sw('BTCUSDT'));
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      assert.equal(await page.isChecked(sw(symbol)), false);
      assert.equal(await stateOf(page, symbol), '已关闭');
      assert.equal(await page.getAttribute(sw(symbol), 'role'), 'switch');
      assert.equal(await page.getAttribute(sw(symbol), 'aria-label'), `${symbol} 自动交易`);
      assert.equal(await page.isDisabled(lean(symbol)), true, 'the lean choice waits for the switch');
    }
    const table = page.locator('[data-testid=auto-trade]');
    assert.match(await table.textContent(), /500\.00 USDT · 5x · 逐仓/);
    assert.match(await page.textContent('#panel-signals'), /自动交易.*默认关闭/s);

    await page.selectOption('[data-testid=language]', 'en');
    await page.waitForSelector(`${sw('BTCUSDT')}[aria-label="Auto-trade BTCUSDT"]`);
    assert.equal(await stateOf(page, 'BTCUSDT'), 'Off');
    assert.equal(await page.getAttribute(lean('ETHUSDT'), 'aria-label'), 'Also trade the unproven lean of ETHUSDT');
    assert.match(await table.textContent(), /500\.00 USDT · 5x · Isolated/);
    assert.match(await page.textContent('#panel-signals'), /Off by default/);
    assert.equal((await callsTo(page, 'auto_trade')).length >= 1, true);
    assert.equal((await callsTo(page, 'set_auto_trade')).length, 0);
    assert.deepEqual(errors, []);
  });

  test('turning on asks in red first: cancel sends nothing, confirm saves it with confirm', async () => {
    const { page, errors } = await onSignals('en');
    await page.click(sw('BTCUSDT'));
    await page.waitForSelector('[data-testid=confirm-dialog][data-danger=true]');
    assert.equal(await page.textContent('#confirm-title'), 'Turn on auto-trading for BTCUSDT?');
    const message = await page.textContent('[data-testid=confirm-message]');
    assert.match(message, /place an order by itself on every BTCUSDT signal that has a direction.*500\.00 USDT each at 5x/);
    assert.doesNotMatch(message, /real money/, 'paper mode');
    await page.click('[data-testid=confirm-cancel]');
    // The switch flipped under the click; the answer to the question puts it back.
    await expectDom(page, sw('BTCUSDT'), 'checked', false);
    assert.equal(await stateOf(page, 'BTCUSDT'), 'Off');
    assert.equal((await callsTo(page, 'set_auto_trade')).length, 0);

    await page.click(sw('BTCUSDT'));
    await page.click('[data-testid=confirm-ok]');
    // Turning it on loosens safety: the engine wants the master password again.
    await answerPassword(page);
    await page.waitForSelector('[data-testid=auto-status-BTCUSDT][data-kind=ok]');
    assert.equal(await statusOf(page, 'BTCUSDT'), 'Auto-trading BTCUSDT is on.');
    assert.equal(await stateOf(page, 'BTCUSDT'), 'On');
    assert.equal(await page.isChecked(sw('BTCUSDT')), true);
    assert.equal(await page.isDisabled(lean('BTCUSDT')), false);
    assert.equal(await page.isChecked(sw('ETHUSDT')), false, 'the other symbol is untouched');
    assert.deepEqual((await callsTo(page, 'set_auto_trade'))[1].args, {
      settings: { symbols: { BTCUSDT: { ...ENTRY, enabled: true } } }, confirm: true, password: 'correct horse battery staple',
    });

    // Turning off needs no question and no password.
    await page.click(sw('BTCUSDT'));
    await page.waitForSelector('[data-testid=auto-state-BTCUSDT]:has-text("Off")');
    assert.equal(await page.isVisible('[data-testid=confirm-dialog]'), false);
    assert.equal(await page.isVisible('[data-testid=password-dialog]'), false);
    assert.deepEqual((await callsTo(page, 'set_auto_trade'))[2].args, {
      settings: { symbols: { BTCUSDT: ENTRY } }, confirm: false,
    });
    assert.equal(await statusOf(page, 'BTCUSDT'), 'Auto-trading BTCUSDT is off.');
    assert.deepEqual(errors, []);
  });

  test('trading the unproven lean needs its own, stronger confirmation', async () => {
    const saved = { symbols: { ETHUSDT: { ...ENTRY, enabled: true, usdt: '250', leverage: 3 }, SOLUSDT: { ...ENTRY, enabled: true } } };
    const { page, errors } = await onSignals('zh-CN', { autoTrade: saved });
    await page.waitForSelector(sw('ETHUSDT'));
    assert.equal(await stateOf(page, 'ETHUSDT'), '已开启');
    assert.match(await page.textContent('[data-testid=auto-trade]'), /250\.00 USDT · 3x · 逐仓/);
    // A symbol that still trades by itself stays listed after it left the watchlist.
    assert.equal(await stateOf(page, 'SOLUSDT'), '已开启');

    await page.click(lean('ETHUSDT'));
    await page.waitForSelector('[data-testid=confirm-dialog][data-danger=true]');
    assert.equal(await page.textContent('#confirm-title'), '按未经验证的倾向自动交易 ETHUSDT？');
    assert.match(await page.textContent('[data-testid=confirm-message]'), /没有任何已证明的优势/);
    assert.equal(await page.textContent('[data-testid=confirm-ok]'), '我了解风险，开启');
    await page.click('[data-testid=confirm-cancel]');
    await expectDom(page, lean('ETHUSDT'), 'checked', false);
    assert.equal((await callsTo(page, 'set_auto_trade')).length, 0);

    await page.click(lean('ETHUSDT'));
    await page.click('[data-testid=confirm-ok]');
    await answerPassword(page);
    await page.waitForSelector('[data-testid=auto-status-ETHUSDT][data-kind=ok]');
    assert.equal(await statusOf(page, 'ETHUSDT'), 'ETHUSDT 也将按未经验证的倾向交易。');
    assert.equal(await page.isChecked(lean('ETHUSDT')), true);
    assert.deepEqual((await callsTo(page, 'set_auto_trade'))[1].args, {
      settings: { symbols: { ...saved.symbols, ETHUSDT: { ...saved.symbols.ETHUSDT, trade_lean: true } } }, confirm: true,
      password: 'correct horse battery staple',
    });

    // Switching the symbol off also drops the lean, so turning it on again asks afresh.
    await page.click(sw('ETHUSDT'));
    await page.waitForSelector('[data-testid=auto-state-ETHUSDT]:has-text("已关闭")');
    assert.deepEqual((await callsTo(page, 'set_auto_trade'))[2].args.settings.symbols.ETHUSDT,
      { ...saved.symbols.ETHUSDT, enabled: false, trade_lean: false });
    assert.equal(await page.isChecked(lean('ETHUSDT')), false);
    assert.equal(await page.isDisabled(lean('ETHUSDT')), true);
    assert.deepEqual(errors, []);
  });

  test('on a live account both warnings say that it is real money', async () => {
    const { page, errors } = await onSignals('en', { activeEnvironment: 'live' });
    await page.waitForSelector('[data-testid=mode-badge][data-mode=live]');
    await page.click(sw('ETHUSDT'));
    await page.waitForSelector('[data-testid=confirm-dialog][data-danger=true]');
    assert.match(await page.textContent('[data-testid=confirm-message]'), /This is a live account: automatic orders use real money/);
    await page.click('[data-testid=confirm-ok]');
    await answerPassword(page);
    await page.waitForSelector('[data-testid=auto-state-ETHUSDT]:has-text("On")');
    await page.click(lean('ETHUSDT'));
    await page.waitForSelector('[data-testid=confirm-dialog][data-danger=true]');
    const message = await page.textContent('[data-testid=confirm-message]');
    assert.match(message, /no proven edge.*This is a live account/s);
    await page.click('[data-testid=confirm-cancel]');
    assert.equal((await callsTo(page, 'set_auto_trade')).length, 2);
    assert.deepEqual(errors, []);
  });

  test('a refusal is shown in words next to the switch, which stays off', async () => {
    for (const [language, words, off] of [['zh-CN', '输入有误', '已关闭'], ['en', 'Invalid input', 'Off']]) {
      const { page } = await onSignals(language);
      await failNext(page, 'set_auto_trade', { code: 'InvalidInput', message: 'symbols: BTCUSDT: notional must be positive and leverage 1–125' });
      await page.click(sw('BTCUSDT'));
      await page.click('[data-testid=confirm-ok]');
      await page.waitForSelector('[data-testid=auto-status-BTCUSDT][data-kind=error]');
      assert.equal(await statusOf(page, 'BTCUSDT'), `${words}: symbols: BTCUSDT: notional must be positive and leverage 1–125`);
      assert.equal(await page.getAttribute('[data-testid=auto-status-BTCUSDT]', 'role'), 'alert');
      assert.equal(await stateOf(page, 'BTCUSDT'), off);
      assert.equal(await page.isChecked(sw('BTCUSDT')), false);
      // Once the backend accepts, the error gives way to the new state.
      await failNext(page, 'set_auto_trade', null);
      await page.click(sw('BTCUSDT'));
      await page.click('[data-testid=confirm-ok]');
      await answerPassword(page);
      await page.waitForSelector('[data-testid=auto-status-BTCUSDT][data-kind=ok]');
      assert.equal(await page.isChecked(sw('BTCUSDT')), true);
    }
  });

  test('the backend itself refuses to turn a symbol on without the confirmation', async () => {
    const { page } = await onSignals('en');
    await page.waitForSelector(sw('BTCUSDT'));
    const refused = await page.evaluate(() => window.__TAURI__.core.invoke('set_auto_trade', {
      settings: { symbols: { BTCUSDT: { enabled: true, usdt: '500', leverage: 5, margin_type: 'ISOLATED', trade_lean: false } } },
      confirm: false,
    }).then(() => null, (e) => e));
    assert.equal(refused.code, 'InvalidInput');
    assert.match(refused.message, /^confirm: /);
  });

  test('a failed load says so in the auto-trade card', async () => {
    const { page, errors } = await onSignals('en', { fail: { auto_trade: { code: 'Internal', message: 'Something went wrong inside perpdesk; the log file has the details.' } } });
    await page.waitForSelector('[data-testid=auto-error]');
    assert.equal(await page.textContent('[data-testid=auto-error]'),
      'Internal error: Something went wrong inside perpdesk; the log file has the details.');
    assert.equal(await page.locator('[data-testid=auto-trade]').count(), 0);
    assert.deepEqual(errors, []);
  });

  test('works by keyboard: Space asks, Escape cancels, the confirmed switch keeps the focus', async () => {
    const { page, errors } = await onSignals('en');
    await page.focus(sw('BTCUSDT'));
    await page.keyboard.press('Space');
    await page.waitForSelector('[data-testid=confirm-dialog][open]');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'confirm-cancel');
    await page.keyboard.press('Escape');
    // The dialog's close event comes as a task of its own after Escape: the switch is put
    // back and focused when that has run.
    await expectDom(page, sw('BTCUSDT'), 'checked', false);
    await page.waitForFunction(() => document.activeElement?.id === 'auto-BTCUSDT');
    assert.equal(await page.evaluate(() => document.querySelector('#confirm-dialog').open), false);
    await page.keyboard.press('Space');
    await page.waitForSelector('[data-testid=confirm-dialog][open]');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'confirm-ok');
    await page.keyboard.press('Enter');
    // The password prompt takes the focus, and typing and Enter answer it.
    await page.waitForSelector('[data-testid=password-dialog][open]');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'password-input');
    await page.keyboard.type('correct horse battery staple');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=auto-state-BTCUSDT]:has-text("On")');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'auto-BTCUSDT');
    assert.deepEqual(errors, []);
  });
});
