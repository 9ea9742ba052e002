import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { callsTo, expectDom, failNext, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onTrade = (language = 'zh-CN', extra = {}) => open({ preferences: { language, lastPanel: 'trade' }, ...extra });

describe('trade execution', () => {
  test('client-side validation puts each message next to its field and sends nothing', async () => {
    const { page, errors } = await onTrade();
    await page.fill('[data-testid=ticket-symbol]', 'btc usdt');
    await page.fill('[data-testid=ticket-leverage]', '200');
    await page.fill('[data-testid=ticket-size]', '-1');
    await page.selectOption('[data-testid=ticket-type]', 'LIMIT');
    await page.fill('[data-testid=ticket-tp]', '60000');
    await page.click('[data-testid=preview-order]');
    assert.match(await page.textContent('#ticket-symbol-error'), /BTCUSDT/);
    assert.equal(await page.textContent('#ticket-leverage-error'), '杠杆应为 1 到 125 的整数。');
    assert.equal(await page.textContent('#ticket-size-error'), '请输入大于 0 的数字。');
    assert.equal(await page.textContent('#ticket-price-error'), '限价单需要大于 0 的价格。');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'ticket-symbol');
    await page.fill('[data-testid=ticket-symbol]', 'BTCUSDT');
    await page.fill('[data-testid=ticket-leverage]', '5');
    await page.fill('[data-testid=ticket-size]', '1');
    await page.fill('[data-testid=ticket-price]', '64000');
    await page.fill('[data-testid=ticket-sl]', '65000');
    await page.click('[data-testid=preview-order]');
    assert.equal(await page.textContent('#ticket-tp-error'), '做多时止盈价应高于开仓价。');
    assert.equal(await page.textContent('#ticket-sl-error'), '做多时止损价应低于开仓价。');
    assert.equal((await callsTo(page, 'preview_order')).length, 0);
    assert.deepEqual(errors, []);
  });

  test('preview then confirm places exactly the previewed ticket and shows the result', async () => {
    const { page, errors } = await onTrade('en');
    await page.selectOption('[data-testid=ticket-sizing]', 'fixed_notional');
    await page.fill('[data-testid=ticket-size]', '500');
    await page.fill('[data-testid=ticket-tp]', '70000');
    await page.fill('[data-testid=ticket-sl]', '62000');
    assert.equal(await page.isDisabled('[data-testid=confirm-order]'), true);
    await page.click('[data-testid=preview-order]');
    await page.waitForSelector('[data-testid=risk-result]');
    const preview = page.locator('[data-testid=preview]');
    for (const label of ['Quantity', 'Entry price', 'Take-profit price', 'Stop-loss price', 'Liquidation price',
      'Worst-case loss (incl. fees)', 'Margin required', 'Fee']) {
      assert.match(await preview.textContent(), new RegExp(label.replace(/[()]/g, '\\$&')));
    }
    assert.equal(await page.textContent('[data-field="trade.quantity"]'), '0.007');
    assert.equal(await page.textContent('[data-testid=risk-result]'), '✓ Risk check passed');
    assert.deepEqual((await callsTo(page, 'preview_order'))[0].args, { ticket: {
      symbol: 'BTCUSDT', side: 'BUY', sizing: { kind: 'fixed_notional', usdt: '500' }, leverage: 5,
      margin_type: 'ISOLATED', order_type: 'MARKET', take_profit: '70000', stop_loss: '62000' } });
    await page.click('[data-testid=confirm-order]');
    await page.waitForSelector('[data-testid=order-result][data-kind=ok]');
    assert.match(await page.textContent('[data-testid=order-result]'), /^Order placed \(ticket pd-\d+\): entry pd-\d+-entry filled · take-profit .* open · stop-loss .* open$/);
    const placed = await callsTo(page, 'place_order');
    assert.deepEqual(placed[0].args, { ticket: (await callsTo(page, 'preview_order'))[0].args.ticket, confirmLive: false });
    assert.deepEqual(errors, []);
  });

  test('an edit after the preview throws it away, so a stale preview cannot be confirmed', async () => {
    const { page } = await onTrade();
    await page.fill('[data-testid=ticket-sl]', '62000');
    await page.click('[data-testid=preview-order]');
    await page.waitForSelector('[data-testid=risk-result]');
    assert.equal(await page.isDisabled('[data-testid=confirm-order]'), false);
    await page.fill('[data-testid=ticket-leverage]', '6');
    assert.equal(await page.isDisabled('[data-testid=confirm-order]'), true);
    assert.equal(await page.locator('[data-testid=risk-result]').count(), 0);
  });

  test('a risk refusal names the rule and numbers in red and keeps Confirm disabled', async () => {
    const { page, errors } = await onTrade('en');
    await page.fill('[data-testid=ticket-leverage]', '50');
    await page.fill('[data-testid=ticket-sl]', '62000');
    await page.click('[data-testid=preview-order]');
    await page.waitForSelector('[data-testid=risk-result].risk-box');
    assert.equal(await page.textContent('[data-testid=risk-result]'),
      '✗ Refused by risk check [max_leverage]: leverage 50x is above the limit of 20x');
    assert.equal(await page.$eval('[data-testid=risk-result]', (e) => getComputedStyle(e).color), 'rgb(254, 202, 202)');
    assert.equal(await page.isDisabled('[data-testid=confirm-order]'), true);
    assert.deepEqual(errors, []);
  });

  test('errors from place_order are shown in words next to the button', async () => {
    const { page } = await onTrade('en');
    await page.fill('[data-testid=ticket-sl]', '62000');
    await page.click('[data-testid=preview-order]');
    await page.waitForSelector('[data-testid=risk-result]');
    await failNext(page, 'place_order', { code: 'ExchangeRejected', message: 'Binance -2019: Margin is insufficient.' });
    await page.click('[data-testid=confirm-order]');
    await page.waitForSelector('[data-testid=order-result][data-kind=error]');
    assert.equal(await page.textContent('[data-testid=order-result]'), 'Rejected by the exchange: Binance -2019: Margin is insufficient.');
    await failNext(page, 'place_order', { code: 'RiskRefused', rule: 'max_trades_per_day', message: '20 trades today, the limit is 20' });
    await page.click('[data-testid=preview-order]');
    // The new preview replaces the result line; confirming before it arrives would confirm
    // the old preview, and the new one would then wipe the answer.
    await expectDom(page, '[data-testid=order-result]', 'text', '');
    await page.click('[data-testid=confirm-order]');
    await page.waitForSelector('[data-testid=order-result].risk-box');
    assert.equal(await page.textContent('[data-testid=order-result]'), 'Refused by risk check [max_trades_per_day]: 20 trades today, the limit is 20');
  });

  test('InvalidInput from the preview is shown next to the field it names', async () => {
    const { page } = await onTrade('en');
    await page.fill('[data-testid=ticket-symbol]', 'XYZUSDT');
    await page.fill('[data-testid=ticket-sl]', '1');
    await page.click('[data-testid=preview-order]');
    await page.waitForSelector('#ticket-symbol-error:has-text("unknown symbol")');
    assert.equal(await page.textContent('#ticket-symbol-error'), 'Invalid input: symbol: unknown symbol XYZUSDT');
  });

  test('in live mode Confirm asks again in red; cancel sends nothing, confirm sends confirmLive', async () => {
    const { page } = await onTrade('en', { activeEnvironment: 'live' });
    await page.waitForSelector('[data-testid=mode-badge][data-mode=live]');
    await page.fill('[data-testid=ticket-sl]', '62000');
    await page.click('[data-testid=preview-order]');
    await page.waitForSelector('[data-testid=risk-result]');
    assert.match(await page.textContent('[data-testid=preview]'), /Live mode: this order uses real money/);
    await page.click('[data-testid=confirm-order]');
    await page.waitForSelector('[data-testid=confirm-dialog][data-danger=true]');
    assert.match(await page.textContent('[data-testid=confirm-message]'), /real money: Buy \/ long 0\.\d+ BTCUSDT/);
    await page.click('[data-testid=confirm-cancel]');
    assert.equal((await callsTo(page, 'place_order')).length, 0);
    await page.click('[data-testid=confirm-order]');
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=order-result][data-kind=ok]');
    assert.equal((await callsTo(page, 'place_order'))[0].args.confirmLive, true);
  });

  test('the whole trade flow works by keyboard: Tab through the ticket, Enter to preview, Enter to confirm', async () => {
    const { page, errors } = await onTrade('en');
    await page.focus('[data-testid=ticket-symbol]');
    const order = [];
    for (let i = 0; i < 10; i += 1) {
      order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.dataset.testid));
      await page.keyboard.press('Tab');
    }
    assert.deepEqual(order, ['ticket-symbol', 'ticket-side', 'ticket-sizing', 'ticket-size', 'ticket-leverage',
      'ticket-margin', 'ticket-type', 'ticket-tp', 'ticket-sl', 'preview-order']);
    // The disabled limit price is skipped; after the stop-loss comes the Preview button.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'ticket-sl');
    await page.keyboard.type('62000');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=risk-result]');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'confirm-order');
    // Keyboard focus is drawn (focus-visible outline).
    assert.notEqual(await page.$eval('[data-testid=confirm-order]', (e) => getComputedStyle(e).outlineStyle), 'none');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=order-result][data-kind=ok]');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'order-result');
    assert.deepEqual(errors, []);
  });

  test('"trade this signal" on a flat signal prefills the lean with the unproven warning', async () => {
    const { page, errors } = await open({ preferences: { language: 'en', lastPanel: 'signals' } });
    await page.click('[data-testid=watchlist] button[data-symbol=ETHUSDT]');
    await page.waitForSelector('[data-testid=unproven]');
    assert.match(await page.textContent('[data-testid=unproven]'), /Unproven: no out-of-sample edge.*lean: Short/);
    assert.match(await page.textContent('[data-testid=watchlist]'), /Flat \(lean Short\)/);
    await page.click('[data-testid=trade-signal]');
    await page.waitForSelector('#panel-trade:visible');
    assert.equal(await page.inputValue('[data-testid=ticket-side]'), 'SELL');
    assert.equal(await page.inputValue('[data-testid=ticket-type]'), 'MARKET');
    // The signal's f64 levels (3299.996120181707, 3440.0023120181707) on ETHUSDT's 0.01 tick.
    assert.equal(await page.inputValue('[data-testid=ticket-tp]'), '3300.00');
    assert.equal(await page.inputValue('[data-testid=ticket-sl]'), '3440.00');
    assert.match(await page.textContent('[data-testid=ticket-signal]'), /From signal #201\. Unproven/);
    await page.click('[data-testid=preview-order]');
    await page.waitForSelector('[data-testid=risk-result]');
    const ticket = (await callsTo(page, 'preview_order'))[0].args.ticket;
    assert.equal(ticket.signal_id, 201);
    assert.equal(ticket.symbol, 'ETHUSDT');
    assert.equal(ticket.order_type, 'MARKET');
    assert.equal(ticket.price, undefined);
    assert.deepEqual(errors, []);
  });
});
