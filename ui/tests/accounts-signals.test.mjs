import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { callsTo, emitAppEvent, emitAppEvents, expectDom, failNext, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onPanel = (lastPanel, language = 'en', extra = {}) => open({ preferences: { language, lastPanel }, ...extra });

describe('API configuration', () => {
  test('lists accounts with environment badges and only the key hint; checks are rows with icons and words', async () => {
    const { page, errors } = await onPanel('api-config', 'zh-CN');
    const table = await page.innerText('[data-testid=accounts]');
    assert.match(table, /Paper\s+模拟盘\s+••••sim1\s+● 当前账户/);
    assert.match(table, /Binance live\s+实盘\s+••••ab12/);
    await page.click('[data-testid=test-3]');
    await page.waitForSelector('[data-testid=checks-3]');
    const rows = await page.$$eval('[data-testid=checks-3] tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
    assert.equal(rows.length, 6);
    assert.equal(rows[0], '✓ 正常 网络连通 42 ms');
    assert.equal(rows[4], '✗ 失败 未开启提现权限 this key can withdraw: refused');
    assert.equal(rows[5], '! 警告 IP 白名单 no IP whitelist on this key');
    assert.match(await page.textContent('[data-testid=report-3]'), /Binance live: 连接检测未通过.*单向持仓/);
    assert.match(await page.innerText('[data-testid=accounts]'), /Binance live[^\n]*✗ 失败 2026-11-25 12:00/);
    assert.deepEqual(errors, []);
  });

  test('adding a testnet account checks key and secret, then shows a name conflict next to the name', async () => {
    const { page } = await onPanel('api-config');
    await page.click('[data-testid=add-account]');
    await page.selectOption('#acct-env', 'testnet');
    await page.fill('[data-testid=acct-name]', 'Binance testnet');
    await page.click('[data-testid=acct-save]');
    assert.equal(await page.textContent('#acct-key-error'), 'Enter the API key.');
    assert.equal(await page.textContent('#acct-secret-error'), 'Enter the secret key.');
    await page.fill('[data-testid=acct-key]', 'abcdefgh1234WXYZ');
    await page.fill('[data-testid=acct-secret]', 's3cret-s3cret');
    await page.click('[data-testid=acct-save]');
    await page.waitForSelector('#acct-name-error:has-text("exists")');
    assert.equal(await page.textContent('#acct-name-error'), 'Conflict: an account named "Binance testnet" exists');
    await page.fill('[data-testid=acct-name]', 'Second testnet');
    await page.click('[data-testid=acct-save]');
    await page.waitForSelector('[data-testid=accounts] :text("••••WXYZ")');
    assert.deepEqual((await callsTo(page, 'add_account')).at(-1).args,
      { name: 'Second testnet', environment: 'testnet', apiKey: 'abcdefgh1234WXYZ', apiSecret: 's3cret-s3cret' });
    // The secret never comes back to the page.
    assert.doesNotMatch(await page.content(), /s3cret-s3cret/);
  });

  test('a paper account needs a name and a positive balance', async () => {
    const { page } = await onPanel('api-config');
    await page.click('[data-testid=add-account]');
    await page.fill('[data-testid=acct-balance]', '0');
    await page.click('[data-testid=acct-save]');
    assert.equal(await page.textContent('#acct-name-error'), 'Enter a name.');
    assert.equal(await page.textContent('#acct-balance-error'), 'Enter a number above 0.');
    await page.fill('[data-testid=acct-name]', 'Paper 2');
    await page.fill('[data-testid=acct-balance]', '2500.5');
    await page.press('[data-testid=acct-balance]', 'Enter');
    await page.waitForSelector('[data-testid=accounts] :text("Paper 2")');
    assert.deepEqual((await callsTo(page, 'create_paper_account')).at(-1).args, { name: 'Paper 2', balance: '2500.5' });
  });

  test('making a live account active needs a red confirmation and switches the mode badge', async () => {
    const { page } = await onPanel('api-config');
    await page.click('[data-testid=activate-3]');
    await page.waitForSelector('[data-testid=confirm-dialog][data-danger=true]');
    assert.match(await page.textContent('[data-testid=confirm-message]'), /real money/);
    await page.click('[data-testid=confirm-cancel]');
    assert.equal((await callsTo(page, 'set_active_account')).length, 0);
    await page.click('[data-testid=activate-3]');
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=mode-badge][data-mode=live]');
    assert.equal(await page.textContent('[data-testid=mode-badge]'), 'Live');
    assert.deepEqual((await callsTo(page, 'set_active_account'))[0].args, { id: 3, confirmLive: true });
    // The paper replay clock disappears with paper mode.
    await page.click('#nav button[data-panel=signals]');
    await expectDom(page, '[data-testid=replay]', 'count', 0);
    await page.click('#nav button[data-panel=api-config]');
    await page.click('[data-testid=activate-2]');
    await page.waitForSelector('[data-testid=mode-badge][data-mode=testnet]');
    assert.deepEqual((await callsTo(page, 'set_active_account'))[1].args, { id: 2, confirmLive: false });
  });

  test('removing the active account with open positions shows the Conflict in its row', async () => {
    const { page } = await onPanel('api-config');
    await page.click('[data-testid=remove-1]');
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=row-status-1]');
    assert.equal(await page.textContent('[data-testid=row-status-1]'), 'Conflict: account "Paper" has open positions');
  });

  test('start with the system is off by default and can be turned on', async () => {
    const { page, errors } = await onPanel('api-config');
    await page.waitForSelector('[data-testid=autostart]');
    assert.equal(await page.isChecked('[data-testid=autostart]'), false);
    await page.check('[data-testid=autostart]');
    await page.waitForSelector('[data-testid=autostart-status][data-kind=ok]');
    assert.deepEqual((await callsTo(page, 'set_autostart')).at(-1).args, { on: true });
    assert.deepEqual(errors, []);
  });

  test('auto-lock, backup export and import validate and show their results', async () => {
    const { page, errors } = await onPanel('api-config');
    await page.fill('[data-testid=autolock]', '2000');
    await page.click('[data-testid=autolock-save]');
    assert.equal(await page.textContent('#cfg-autolock-error'), 'Enter a whole number from 0 to 1440 (0 = never).');
    // A shorter auto-lock tightens: saved without the password.
    await page.fill('[data-testid=autolock]', '5');
    await page.click('[data-testid=autolock-save]');
    await page.waitForSelector('[data-testid=autolock-status][data-kind=ok]');
    assert.deepEqual((await callsTo(page, 'set_auto_lock'))[0].args, { minutes: 5 });
    await page.fill('[data-testid=backup-password]', 'correct horse battery staple');
    await page.click('[data-testid=export-backup]');
    await page.waitForSelector('[data-testid=backup-status][data-kind=ok]');
    assert.match(await page.textContent('[data-testid=backup-status]'), /^Backup saved to \/home\/trader\/.*\.pdbak$/);
    await page.fill('[data-testid=import-path]', '/tmp/notes.txt');
    await page.fill('[data-testid=import-password]', 'correct horse battery staple');
    await page.click('[data-testid=import-backup]');
    await page.waitForSelector('[data-testid=import-status][data-kind=error]');
    assert.equal(await page.textContent('[data-testid=import-status]'), 'Invalid input: path: /tmp/notes.txt is not a perpdesk backup');
    assert.deepEqual(errors, []);
  });
});

describe('prediction signals', () => {
  test('shows the watchlist, the candle chart with overlays and the model card', async () => {
    const { page, errors } = await onPanel('signals', 'zh-CN');
    const rows = await page.$$eval('[data-testid=watchlist] tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')));
    assert.equal(rows.length, 2);
    assert.match(rows[0], /^BTCUSDT \d{2},\d{3}\.\d \+1\.84% ↑ 做多 63\.00% 准确率 54\.10% · 净收益 3\.20% · 最佳基准 ema_crossover 1\.10% · ✓ 优于所有基准/);
    assert.match(rows[1], /ETHUSDT \d,\d{3}\.\d{2} -2\.31% — 观望 \(倾向 做空\) 54\.00%/);
    await page.waitForSelector('[data-testid=chart] canvas');
    await page.waitForSelector('[data-testid=equity-chart] canvas');
    assert.equal(await page.locator('[data-testid=calibration-plot] circle').count(), 10);
    const ind = await callsTo(page, 'indicators');
    assert.deepEqual(ind[0].args, { symbol: 'BTCUSDT', interval: '1h', limit: 300 });
    assert.match(await page.textContent('[data-testid=signal-detail]'), /BTCUSDT · ↑ 做多 · 63\.00% · 强信号/);
    // The engine's f64 take-profit (66000.04213371) on BTCUSDT's 0.10 tick; the exact value in the tooltip.
    const tp = page.locator('[data-testid=signal-detail] [data-field=take-profit] .num');
    assert.equal(await tp.textContent(), '66,000.0');
    assert.equal(await tp.getAttribute('title'), '66000.04213371');
    assert.equal(await page.textContent('[data-testid=signal-detail] [data-field=stop-loss]'), '63,000.0');
    // The ETH card arrives in perpdesk-signal's own ModelCard shape; empty buckets are skipped.
    await page.click('[data-testid=watchlist] button[data-symbol=ETHUSDT]');
    await page.waitForSelector('[data-testid=unproven]');
    assert.equal(await page.locator('[data-testid=calibration-plot] circle').count(), 9);
    // Both models' out-of-sample numbers side by side, the one in use marked.
    const models = await page.$$eval('[data-testid=model-candidates] tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
    assert.deepEqual(models, [
      '逻辑回归 0.5180 0.24990 / 0.25017 -89.51% 1,735 -84.54% 否',
      '梯度提升树 (LightGBM) 采用 0.5113 0.25102 / 0.25017 -96.79% 2,372 -94.44% 否',
    ]);
    assert.equal(await page.getAttribute('[data-testid=model-candidates] tr[data-chosen=true]', 'data-kind'), 'gbdt');
    await page.screenshot({ path: 'test-output/ui-signals-eth.png', fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('signal and candle events update the watchlist', async () => {
    const { page, errors } = await onPanel('signals');
    await page.waitForSelector('[data-testid=chart] canvas');
    await emitAppEvent(page, { kind: 'candle', symbol: 'ETHUSDT', open_time_ms: Date.UTC(2026, 10, 25, 12), open: '3400', high: '3420', low: '3390', close: '3412.5', volume: '10' });
    await emitAppEvent(page, { kind: 'signal', symbol: 'ETHUSDT', direction: 'long', probability: 0.61, time_ms: Date.UTC(2026, 10, 25, 12), strong: false });
    // The watchlist redraws on the next frame.
    await page.waitForFunction(() => /61\.00%/.test(document.querySelector('[data-testid=watchlist] tbody tr:nth-child(2)')?.innerText ?? ''));
    const eth = await page.innerText('[data-testid=watchlist] tbody tr:nth-child(2)');
    assert.match(eth, /3,412\.50/);
    assert.match(eth, /↑ Long/);
    assert.match(eth, /61\.00%/);
    await emitAppEvent(page, { kind: 'candle', symbol: 'BTCUSDT', open_time_ms: Date.UTC(2026, 10, 25, 12), open: '65900', high: '66100', low: '65800', close: '66050.0', volume: '10' });
    await page.waitForFunction(() => /66,050\.0/.test(document.querySelector('[data-testid=watchlist] tbody tr:nth-child(1)')?.innerText ?? ''));
    // A retrained model's first signal brings its record: the row shows it without a reload.
    assert.match(eth, /-0\.80%/);
    const reads = (await callsTo(page, 'watchlist')).length;
    const retrained = { accuracy: 0.5771, model_net_pnl_pct: 4.25, best_baseline: 'always long', best_baseline_net_pnl_pct: 1.5, beats_baselines: false, beats_base_rate: true };
    await emitAppEvent(page, { kind: 'signal', symbol: 'ETHUSDT', direction: 'flat', probability: 0.52, time_ms: Date.UTC(2026, 10, 25, 13), strong: false, record: retrained });
    await page.waitForFunction(() => /57\.71%/.test(document.querySelector('[data-testid=watchlist] tbody tr:nth-child(2)')?.innerText ?? ''));
    const after = await page.innerText('[data-testid=watchlist] tbody tr:nth-child(2)');
    assert.match(after, /net 4\.25%/);
    assert.doesNotMatch(after, /-0\.80%/);
    assert.equal((await callsTo(page, 'watchlist')).length, reads, 'from the event, not a second read');
    assert.deepEqual(errors, []);
  });

  test('what the user types into the watchlist form survives candles streaming in', async () => {
    const { page, errors } = await onPanel('signals');
    await page.waitForSelector('[data-testid=watchlist] tbody tr:nth-child(2)');
    await page.click('[data-testid=watch-symbols]');
    await page.fill('[data-testid=watch-symbols]', 'BTCUSDT, ETHUSDT, SOL');
    await page.evaluate(() => { window.__ethRow = document.querySelector('[data-testid=watchlist] tbody tr:nth-child(2)'); });
    // A streamed minute: a candle of BTCUSDT only, drawn on the next frame.
    await emitAppEvent(page, { kind: 'candle', symbol: 'BTCUSDT', open_time_ms: Date.UTC(2026, 10, 25, 12), open: '65900', high: '66100', low: '65800', close: '66070.0', volume: '10' });
    await page.waitForFunction(() => /66,070\.0/.test(document.querySelector('[data-testid=watchlist] tbody tr:nth-child(1)')?.innerText ?? ''));
    // The field still holds the unfinished list and the focus; the row whose data did not
    // change is the element drawn before.
    assert.equal(await page.inputValue('[data-testid=watch-symbols]'), 'BTCUSDT, ETHUSDT, SOL');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'watch-symbols');
    assert.equal(await page.evaluate(() => document.querySelector('[data-testid=watchlist] tbody tr:nth-child(2)') === window.__ethRow), true);
    assert.deepEqual(errors, []);
  });

  test('a burst of signals refreshes the chart in place, with one load after the one under way', async () => {
    const { page, errors } = await onPanel('signals');
    await page.waitForSelector('[data-testid=chart] canvas');
    await page.waitForFunction(() => window.__fake.calls.filter((c) => c.cmd === 'candles').length === 1);
    // The detail's parts as drawn before the burst: the burst changes only the signal.
    await page.evaluate(() => {
      window.__drawn = Object.fromEntries(['[data-testid=chart]', '[data-testid=calibration-plot]', '[data-testid=equity-chart]', '#signals-interval', '[data-testid=signal-detail]']
        .map((css) => [css, document.querySelector(css)]));
      window.__chartBox = window.__drawn['[data-testid=chart]'];
    });
    // A replayed day: 24 signals for the selected symbol in one batch, faster than the loads
    // they cause can answer.
    await emitAppEvents(page, Array.from({ length: 24 }, (_, hour) => (
      { kind: 'signal', symbol: 'BTCUSDT', direction: 'long', probability: 0.6, time_ms: Date.UTC(2026, 10, 25, hour), strong: false })));
    // Once the fake has answered everything, the panel has stopped loading: the first load at
    // start, then the one the burst started and one more after it.
    await page.waitForFunction(() => window.__fake.pending === 0 && window.__fake.calls.filter((c) => c.cmd === 'candles').length >= 3);
    const loads = await page.evaluate(() => window.__fake.calls.filter((c) => c.cmd === 'candles').length);
    assert.equal(loads, 3, `${loads} loads for 24 signals`);
    // The model card did not change, so it was read once.
    assert.equal((await callsTo(page, 'model_card')).length, 1);
    // The signals named no new data (the fake's list did not grow), so every part of the
    // detail is the element drawn before: rebuilding the model card, the interval choice and
    // the chart's frame on every signal cost the real window frames of 170-250 ms while
    // candles streamed.
    const kept = await page.evaluate(() => Object.entries(window.__drawn)
      .filter(([css, el]) => el !== null && document.querySelector(css) === el).map(([css]) => css));
    assert.deepEqual(kept, ['[data-testid=chart]', '[data-testid=calibration-plot]', '[data-testid=equity-chart]', '#signals-interval', '[data-testid=signal-detail]']);
    // Where the model's curve (the first, yellow) ends on the equity chart: its height at the
    // pane's right edge, as a fraction of the pane (0 top, 1 bottom), read from the canvas.
    const modelCurveEnd = (half) => page.waitForFunction((want) => {
      const canvases = [...document.querySelectorAll('[data-testid=equity-chart] canvas')];
      const pane = canvases.sort((a, b) => b.width * b.height - a.width * a.height)[0];
      if (!pane || !pane.width || !pane.height) return null;
      const { width, height } = pane;
      const data = pane.getContext('2d').getImageData(0, 0, width, height).data;
      for (let x = width - 1; x >= width * 0.8; x -= 1) {
        const ys = [];
        for (let y = 0; y < height; y += 1) {
          const i = (y * width + x) * 4;
          if (Math.abs(data[i] - 0xfa) + Math.abs(data[i + 1] - 0xcc) + Math.abs(data[i + 2] - 0x15) < 40) ys.push(y);
        }
        if (ys.length) {
          const end = ys.reduce((a, b) => a + b, 0) / ys.length / height;
          // Drawn in the wanted half (the chart redraws on a frame of its own): done.
          return (want === 'upper' ? end < 0.5 : end > 0.5) ? { end } : null;
        }
      }
      return null;
    }, half).then((h) => h.jsonValue()).then((r) => r.end);
    // The best curve of the card: it ends in the pane's upper half (waits until it is drawn
    // there; a timeout is the failure).
    const before = await modelCurveEnd('upper');
    // A signal from a retrained model, whose curve now falls below every baseline: its card is
    // read again.
    await page.evaluate(() => {
      const card = window.__fake.cards.BTCUSDT;
      card.equity.model = card.equity.model.map(([t, v], i) => [t, v - 0.0015 * i]);
    });
    await page.evaluate(() => {
      const last = window.__fake.signals.BTCUSDT.at(-1);
      window.__fake.signals.BTCUSDT.push({ ...last, id: 103, time_ms: last.time_ms + 3600000, model_version: 'gbdt-v2-2' });
      window.__fakeEmit('app-events', [{ kind: 'signal', symbol: 'BTCUSDT', direction: 'long', probability: 0.6, time_ms: last.time_ms + 3600000, strong: false }]);
    });
    await page.waitForFunction(() => window.__fake.calls.filter((c) => c.cmd === 'model_card').length === 2);
    // Drawn with the new signal (12:00), the same chart element is still on screen (not
    // rebuilt), with its canvas.
    await expectDom(page, '[data-testid=signal-detail]', 'text', /2026-11-25 12:00 UTC/);
    assert.equal(await page.evaluate(() => document.querySelector('[data-testid=chart]') === window.__chartBox), true);
    // The new card's calibration plot is drawn afresh; its curves (the same ones) go into the
    // equity chart already on screen, which keeps its canvas.
    assert.equal(await page.evaluate(() => document.querySelector('[data-testid=calibration-plot]') === window.__drawn['[data-testid=calibration-plot]']), false);
    assert.equal(await page.evaluate(() => document.querySelector('[data-testid=equity-chart]') === window.__drawn['[data-testid=equity-chart]']), true);
    // ...and draws the new curve: its end moves down into the pane's lower half.
    const after = await modelCurveEnd('lower');
    assert.ok(after > before, `the new model's curve ends at ${after} (before ${before})`);
    await page.waitForSelector('[data-testid=chart] canvas');
    // A different interval is a different chart.
    await page.selectOption('#signals-interval', '4h');
    await page.waitForFunction(() => window.__fake.calls.some((c) => c.cmd === 'candles' && c.args.interval === '4h'));
    await page.waitForFunction(() => document.querySelector('[data-testid=chart]') !== window.__chartBox);
    await page.waitForSelector('[data-testid=chart] canvas');
    assert.deepEqual(errors, []);
  });

  test('the watchlist can be edited and the paper replay paused', async () => {
    const { page } = await onPanel('signals');
    assert.match(await page.textContent('[data-testid=replay]'), /Replay clock 2026-11-25 12:00 UTC · ×60 · running/);
    await page.click('[data-testid=replay-toggle]');
    await page.waitForSelector('[data-testid=replay]:has-text("paused")');
    assert.deepEqual((await callsTo(page, 'set_replay'))[0].args, { running: false });
    await page.click('[data-testid=replay-day]');
    await page.waitForFunction(() => document.querySelector('[data-testid=replay]').textContent.includes('11-26'));
    assert.deepEqual((await callsTo(page, 'advance_replay'))[0].args, { minutes: 1440 });
    await page.fill('[data-testid=watch-symbols]', 'ethusdt, DOGE');
    await page.click('[data-testid=watch-save]');
    assert.equal(await page.textContent('#watch-symbols-error'), 'Enter at least one symbol like BTCUSDT.');
    await page.fill('[data-testid=watch-symbols]', 'ethusdt, SOLUSDT');
    await page.click('[data-testid=watch-save]');
    await page.waitForSelector('[data-testid=watch-status][data-kind=error]');
    assert.equal(await page.textContent('[data-testid=watch-status]'), 'Invalid input: symbols: SOLUSDT is not a USDⓈ-M perpetual');
    await page.fill('[data-testid=watch-symbols]', 'ethusdt');
    await page.click('[data-testid=watch-save]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=watchlist] tbody tr').length === 1);
    assert.deepEqual((await callsTo(page, 'set_watchlist')).at(-1).args, { symbols: ['ETHUSDT'] });
    await page.waitForSelector('[data-testid=unproven]');
  });

  test('while the model is still loading the panel waits for it instead of showing an error', async () => {
    const loading = { code: 'NotFound', message: 'Not found: signals (the model is still loading history; try again shortly)' };
    const { page, errors } = await onPanel('signals', 'en', { fail: { signals: loading } });
    await page.waitForFunction(() => window.__fake.calls.filter((c) => c.cmd === 'signals').length >= 2);
    assert.equal(await page.isHidden('[data-testid=error-banner]'), true);
    // The model is ready: the next retry shows the latest signal, with no event needed.
    await page.evaluate(() => { delete window.__fake.fail.signals; });
    await page.waitForSelector('[data-testid=signal-detail] [data-testid=trade-signal]');
    assert.match(await page.textContent('[data-testid=signal-detail]'), /BTCUSDT/);
    assert.deepEqual(errors, []);
  });

  test('a failing watchlist is explained in words where the table is', async () => {
    const { page } = await onPanel('signals', 'en', { fail: { watchlist: { code: 'Unavailable', message: 'market data timed out' } } });
    assert.match(await page.textContent('[data-testid=watchlist-slot]'), /Exchange unavailable: market data timed out/);
    assert.match(await page.textContent('[data-testid=conn-banner]'), /Disconnected.*market data timed out/);
    assert.match(await page.textContent('[data-testid=watchlist]'), /No data yet/);
  });
});
