import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { answerPassword, callsTo, emitAppEvent, expectDom, failNext, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onPanel = (lastPanel, language = 'en', extra = {}) => open({ preferences: { language, lastPanel }, ...extra });

describe('trade records', () => {
  test('shows positions and closes one after a confirmation', async () => {
    const { page, errors } = await onPanel('records', 'zh-CN');
    const row = await page.innerText('[data-testid=positions] tbody tr');
    assert.match(row, /BTCUSDT\s+多\s+0\.010\s+63,500\.0\s+\d{2},\d{3}\.\d\s+\+12\.35\s+51,230\.4\s+5x 逐仓\s+66,000\.0 \/ 62,000\.0/);
    // Prices on the 0.10 tick, the PnL to the cent; the exact values the exchange sent are the tooltips.
    const cells = page.locator('[data-testid=positions] tbody tr td');
    assert.equal(await cells.nth(3).locator('.num').getAttribute('title'), '63500.04213371');
    assert.equal(await cells.nth(5).locator('.num').getAttribute('title'), '12.34985000');
    assert.equal(await cells.nth(5).locator('.num').getAttribute('class'), 'num up');
    await page.click('[data-testid=close-BTCUSDT]');
    assert.match(await page.textContent('[data-testid=confirm-message]'), /BTCUSDT 多 0\.010/);
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=positions] td.empty');
    assert.equal(await page.textContent('[data-testid=positions] td.empty'), '暂无数据');
    assert.deepEqual((await callsTo(page, 'close_position'))[0].args, { symbol: 'BTCUSDT', positionSide: 'BOTH' });
    assert.deepEqual(errors, []);
  });

  test('filters orders and trades by symbol and UTC dates', async () => {
    const { page } = await onPanel('records');
    await page.fill('[data-testid=filter-symbol]', 'ethusdt');
    await page.fill('[data-testid=filter-from]', '2026-11-23');
    await page.fill('[data-testid=filter-to]', '2026-11-23');
    await page.click('[data-testid=filter-apply]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=trades] tbody tr').length === 1);
    const args = (await callsTo(page, 'trades')).at(-1).args;
    assert.deepEqual(args, { symbol: 'ETHUSDT', fromMs: Date.UTC(2026, 10, 23), toMs: Date.UTC(2026, 10, 24) - 1 });
    assert.deepEqual((await callsTo(page, 'orders')).at(-1).args, args);
    assert.match(await page.innerText('[data-testid=orders] tbody'), /ETHUSDT/);
    assert.doesNotMatch(await page.innerText('[data-testid=orders] tbody'), /BTCUSDT/);
  });

  test('the date filter ends on the exchange\'s day: the replay\'s in paper mode, followed as it moves', async () => {
    // Until the user picks a day the filter shows the exchange's and sends no end.
    const tradesTo = async (page) => (await callsTo(page, 'trades')).at(-1).args.toMs;
    const reload = async (page) => {
      const before = (await callsTo(page, 'trades')).length;
      await emitAppEvent(page, { kind: 'order', account_id: 1, symbol: 'BTCUSDT', client_order_id: 'pd-7-tp', leg: 'take_profit', state: 'FILLED', message: '' });
      await page.waitForFunction((n) => window.__fake.pending === 0 && window.__fake.calls.filter((c) => c.cmd === 'trades').length > n, before);
    };
    // The paper exchange replays 15 June 2022; the wall clock is years later.
    const { page, errors } = await onPanel('records', 'en', { replayNowMs: Date.UTC(2022, 5, 15, 9, 30) });
    await expectDom(page, '[data-testid=filter-to]', 'value', '2022-06-15');
    // The fake's records are dated by the wall clock, after this replayed day: the start
    // shows the exchange's day, never one after the end.
    assert.equal(await page.inputValue('[data-testid=filter-from]'), '2022-06-15');
    for (const field of ['filter-from', 'filter-to']) assert.equal(await page.getAttribute(`[data-testid=${field}]`, 'max'), '2022-06-15');
    assert.equal(await tradesTo(page), undefined);
    // A replayed day later, the next reload (an order event) follows the exchange.
    await page.evaluate(() => { window.__fake.replay.now_ms += 86_400_000; });
    await reload(page);
    await expectDom(page, '[data-testid=filter-to]', 'value', '2022-06-16');
    assert.equal(await tradesTo(page), undefined);
    // A day the user picks stays put.
    await page.fill('[data-testid=filter-to]', '2022-06-10');
    await page.click('[data-testid=filter-apply]');
    await page.waitForFunction(() => window.__fake.calls.filter((c) => c.cmd === 'trades').at(-1).args.toMs === Date.UTC(2022, 5, 11) - 1);
    await page.evaluate(() => { window.__fake.replay.now_ms += 86_400_000; });
    await reload(page);
    assert.equal(await page.inputValue('[data-testid=filter-to]'), '2022-06-10');
    assert.equal(await page.getAttribute('[data-testid=filter-to]', 'max'), '2022-06-17');
    assert.equal(await tradesTo(page), Date.UTC(2022, 5, 11) - 1);
    assert.deepEqual(errors, []);
  });

  test('with no start picked the start shows the first record\'s day and sends no start', async () => {
    const { page, errors } = await onPanel('records', 'en', { activeEnvironment: 'live' });
    // The oldest order and fill are ETHUSDT's, on 23 November (the fake's now is the 25th).
    await expectDom(page, '[data-testid=filter-from]', 'value', '2026-11-23');
    assert.equal((await callsTo(page, 'trades')).at(-1).args.fromMs, undefined);
    // Applying it unchanged (a symbol filter) still sends no start; the symbol's own first
    // record is then shown.
    await page.fill('[data-testid=filter-symbol]', 'BTCUSDT');
    await page.click('[data-testid=filter-apply]');
    await page.waitForFunction(() => window.__fake.pending === 0 && window.__fake.calls.filter((c) => c.cmd === 'trades').at(-1).args.symbol === 'BTCUSDT');
    assert.equal((await callsTo(page, 'trades')).at(-1).args.fromMs, undefined);
    await expectDom(page, '[data-testid=filter-from]', 'value', '2026-11-25');
    // A day picked is sent, and kept.
    await page.fill('[data-testid=filter-from]', '2020-01-02');
    await page.click('[data-testid=filter-apply]');
    await page.waitForFunction(() => window.__fake.calls.filter((c) => c.cmd === 'trades').at(-1).args.fromMs === Date.UTC(2020, 0, 2));
    await expectDom(page, '[data-testid=filter-from]', 'value', '2020-01-02');
    assert.deepEqual(errors, []);
  });

  test('on a live account the date filter ends on today, the exchange\'s day there too', async () => {
    const { page, errors } = await onPanel('records', 'en', { activeEnvironment: 'live', clockMs: Date.UTC(2026, 0, 2, 23, 30) });
    await expectDom(page, '[data-testid=filter-to]', 'value', '2026-01-02');
    assert.equal(await page.getAttribute('[data-testid=filter-to]', 'max'), '2026-01-02');
    assert.equal((await callsTo(page, 'trades')).at(-1).args.toMs, undefined);
    assert.equal((await callsTo(page, 'replay_status')).length, 0, 'no replay outside paper mode');
    assert.deepEqual(errors, []);
  });

  test('sync now shows a progress bar from sync_progress events, then the counts', async () => {
    const { page, errors } = await onPanel('records');
    const seen = page.waitForSelector('[data-testid=sync-progress]');
    await page.click('[data-testid=sync-now]');
    await seen;
    await page.waitForSelector('[data-testid=sync-result][data-kind=ok]');
    assert.equal(await page.textContent('[data-testid=sync-result]'), 'Sync done: 2 new fills, 1 new income rows, 1 new ledger rows.');
    // The result shows while the tables reload; the bar goes once they have.
    await expectDom(page, '[data-testid=sync-progress]', 'count', 0);
    // A progress event alone (a sync the engine started) shows the bar at its value.
    await emitAppEvent(page, { kind: 'sync_progress', account_id: 1, done: 2, total: 5, message: 'income' });
    assert.equal(await page.getAttribute('[data-testid=sync-progress]', 'value'), '2');
    assert.equal(await page.getAttribute('[data-testid=sync-progress]', 'max'), '5');
    assert.deepEqual(errors, []);
  });

  test('CSV export shows the saved path, and a failure shows its words', async () => {
    const { page } = await onPanel('records');
    await page.click('[data-testid=export-trades]');
    await page.waitForSelector('[data-testid=export-result][data-kind=ok]');
    assert.equal(await page.textContent('[data-testid=export-result]'),
      'Saved to /home/trader/.local/share/com.perpdesk.desktop/exports/trades-2026-11-25.csv (3 rows)');
    await failNext(page, 'export_csv', { code: 'Internal', message: 'could not write the file' });
    await page.click('[data-testid=export-orders]');
    await page.waitForSelector('[data-testid=export-result][data-kind=error]');
    assert.equal(await page.textContent('[data-testid=export-result]'), 'Internal error: could not write the file');
  });
});

describe('profit share', () => {
  test('shows totals, high-water mark and what settling now would owe; settles after a confirmation', async () => {
    const { page, errors } = await onPanel('profit-share', 'zh-CN');
    const summary = await page.innerText('[data-testid=ps-summary]');
    assert.match(summary, /高水位\s+33\.21\b/);
    assert.match(summary, /现在结算：应付平台\s+23\.25\b/);
    assert.match(summary, /现在结算：归用户\s+9\.96\b/);
    assert.match(await page.innerText('[data-testid=ps-ledger] tbody'), /pd-5\s+ETHUSDT\s+\+33\.21\s+33\.21\s+23\.25\s+9\.96\s+70\.00%\s+高水位/);
    await page.click('[data-testid=ps-settle]');
    assert.match(await page.textContent('[data-testid=confirm-message]'), /平台 23\.25 USDT，用户 9\.96 USDT/);
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=ps-settle-status][data-kind=ok]');
    assert.match(await page.textContent('[data-testid=ps-settle-status]'), /已结算至 2026-11-25 12:00 UTC/);
    assert.match(await page.innerText('[data-testid=ps-summary]'), /现在结算：应付平台\s+0\.00\b/);
    assert.deepEqual(errors, []);
  });

  test('settings take the ratio as a percent, validate it, and show backend refusals by the field', async () => {
    const { page } = await onPanel('profit-share');
    assert.equal(await page.inputValue('[data-testid=ps-ratio]'), '70');
    await page.fill('[data-testid=ps-ratio]', '150');
    await page.click('[data-testid=ps-save]');
    assert.equal(await page.textContent('#ps-ratio-error'), 'Enter a number from 0 to 100.');
    assert.equal((await callsTo(page, 'set_ledger_settings')).length, 0);
    await page.fill('[data-testid=ps-ratio]', '60');
    await page.selectOption('#ps-mode', 'per_trade');
    await page.check('#ps-manual');
    await page.click('[data-testid=ps-save]');
    // The split and the basis are confirmed with the master password.
    await answerPassword(page);
    await page.waitForSelector('[data-testid=settings-status][data-kind=ok]');
    assert.deepEqual((await callsTo(page, 'set_ledger_settings'))[1].args,
      { platform_ratio: '0.6', mode: 'per_trade', include_manual: true, period: 'monthly', password: 'correct horse battery staple' });
    await failNext(page, 'set_ledger_settings', { code: 'InvalidInput', message: 'platform_ratio: the platform share may not change mid-period' });
    await page.fill('[data-testid=ps-ratio]', '50');
    await page.click('[data-testid=ps-save]');
    await page.waitForSelector('#ps-ratio-error:has-text("mid-period")');
  });

  test('statements by period, statement CSV and the printable statement', async () => {
    const { page, errors } = await onPanel('profit-share');
    await page.selectOption('#ps-stmt-period', 'daily');
    await page.waitForFunction(() => window.__fake.calls.some((c) => c.cmd === 'statements' && c.args.period === 'daily'));
    await page.click('[data-testid=ps-export-statement]');
    await page.waitForSelector('[data-testid=ps-export-status][data-kind=ok]');
    assert.match(await page.textContent('[data-testid=ps-export-status]'), /exports\/statement-daily-2026-11-25\.csv \(7 rows\)$/);
    assert.deepEqual((await callsTo(page, 'export_csv')).at(-1).args, { kind: 'statement', period: 'daily' });
    await page.click('[data-testid=ps-print]');
    assert.equal(await page.evaluate(() => window.__fake.printed), 1);
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.isVisible('nav.sidebar'), false);
    assert.equal(await page.isVisible('[data-testid=ps-settle]'), false);
    assert.equal(await page.isVisible('[data-testid=ps-print-area]'), true);
    assert.equal(await page.isVisible('[data-testid=ps-settings]'), false);
    assert.match(await page.innerText('[data-testid=ps-print-area]'), /Profit-share statement \(Daily\)/);
    await page.pdf({ path: 'test-output/ui-statement.pdf' }).catch(() => {});
    await page.emulateMedia({ media: 'screen' });
    assert.deepEqual(errors, []);
  });
});

describe('risk settings', () => {
  test('every limit is editable with an explanation; values keep their types', async () => {
    const { page, errors } = await onPanel('risk');
    for (const name of ['max_position_notional', 'max_total_notional', 'max_leverage', 'max_trades_per_day',
      'require_stop_loss', 'max_stop_distance_pct', 'daily_loss_limit', 'max_concurrent_positions']) {
      assert.ok(await page.isVisible(`#risk-${name}`), name);
      assert.ok((await page.textContent(`#risk-${name}-help`)).length > 10, name);
    }
    await page.fill('#risk-max_leverage', '10');
    await page.fill('#risk-daily_loss_limit', '150.5');
    await page.uncheck('#risk-require_stop_loss');
    await page.click('[data-testid=risk-save]');
    // Dropping the stop-loss requirement loosens safety.
    await answerPassword(page);
    await page.waitForSelector('[data-testid=risk-save-status][data-kind=ok]');
    assert.deepEqual((await callsTo(page, 'set_risk_limits'))[1].args.limits, {
      max_position_notional: '5000', max_total_notional: '15000', max_leverage: 10, max_trades_per_day: 20,
      require_stop_loss: false, max_stop_distance_pct: '5', daily_loss_limit: '150.5', max_concurrent_positions: 3,
      kill_switch: false,
    });
    assert.deepEqual(errors, []);
  });

  test('client checks and the backend\'s InvalidInput both land next to the field', async () => {
    const { page } = await onPanel('risk', 'zh-CN');
    await page.fill('#risk-max_trades_per_day', '2.5');
    await page.fill('#risk-max_position_notional', 'lots');
    await page.click('[data-testid=risk-save]');
    assert.equal(await page.textContent('#risk-max_trades_per_day-error'), '请输入不小于 0 的整数。');
    assert.equal(await page.textContent('#risk-max_position_notional-error'), '请输入不小于 0 的数字。');
    await page.fill('#risk-max_trades_per_day', '5');
    await page.fill('#risk-max_position_notional', '20000');
    await page.click('[data-testid=risk-save]');
    await page.waitForSelector('#risk-max_total_notional-error:has-text("at least")');
    assert.equal(await page.textContent('#risk-max_total_notional-error'), '输入有误: max_total_notional: must be at least max_position_notional');
    assert.equal(await page.textContent('#risk-max_position_notional-error'), '');
  });

  test('the kill switch asks in red that it flattens every position, then shows its state', async () => {
    const { page } = await onPanel('risk');
    await page.click('[data-testid=kill-on]');
    await page.waitForSelector('[data-testid=confirm-dialog][data-danger=true]');
    assert.match(await page.textContent('[data-testid=confirm-message]'), /flattens every position/);
    await page.click('[data-testid=confirm-cancel]');
    assert.equal((await callsTo(page, 'set_kill_switch')).length, 0);
    await page.click('[data-testid=kill-on]');
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=kill-state].risk-box');
    assert.match(await page.textContent('[data-testid=kill-state]'), /Kill switch ON/);
    await page.click('[data-testid=kill-off]');
    await answerPassword(page);
    await page.waitForSelector('[data-testid=kill-state].ok-box');
    assert.deepEqual((await callsTo(page, 'set_kill_switch')).map((c) => [c.args.on, Boolean(c.args.password)]),
      [[true, false], [false, false], [false, true]]);
  });
});

describe('empty states', () => {
  test('every table says there is no data yet, in both languages', async () => {
    const { page, errors } = await onPanel('records', 'zh-CN', { empty: true });
    for (const [panel, tables] of [['records', ['positions', 'orders', 'trades', 'pnl']], ['profit-share', ['ps-ledger', 'ps-statements']],
      ['signals', ['watchlist']], ['api-config', ['accounts']]]) {
      await page.click(`#nav button[data-panel=${panel}]`);
      for (const tid of tables) assert.equal(await page.textContent(`[data-testid=${tid}] td.empty`), '暂无数据', tid);
    }
    await page.selectOption('[data-testid=language]', 'en');
    await page.click('#nav button[data-panel=records]');
    assert.equal(await page.textContent('[data-testid=orders] td.empty'), 'No data yet');
    await page.click('#nav button[data-panel=signals]');
    assert.equal(await page.textContent('[data-testid=signal-detail]'), 'No signal yet');
    assert.deepEqual(errors, []);
  });
});
