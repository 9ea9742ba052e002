// The shell sends the engine's events that were waiting together as one `app-events` array
// (src-tauri/src/notify.rs `next_batch`): a candle close brings a candle and a signal per
// watched symbol at once. The page must show a batch exactly as it showed the same events
// sent one by one, in their order, and draw the watchlist once for it.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { emitAppEvent, emitAppEvents, expectDom, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onSignals = () => open({ preferences: { language: 'en', lastPanel: 'signals' } });

const AT = Date.UTC(2026, 10, 25, 12);
const candle = (symbol, close) => ({ kind: 'candle', symbol, open_time_ms: AT, open: close, high: close, low: close, close, volume: '10' });
const signal = (symbol, direction, probability) => ({ kind: 'signal', symbol, direction, probability, time_ms: AT, strong: false });

/** A candle close of both watched symbols, with a dropped stream and a liquidation warning. */
const CLOSE = [
  candle('BTCUSDT', '66050.0'),
  signal('BTCUSDT', 'short', 0.57),
  candle('ETHUSDT', '3412.5'),
  signal('ETHUSDT', 'long', 0.61),
  { kind: 'connection', account_id: 1, connected: false, message: 'user stream closed' },
  { kind: 'liquidation_warning', account_id: 1, symbol: 'BTCUSDT', mark_price: '52000', liquidation_price: '51230.4' },
];

const row = (n) => `[data-testid=watchlist] tbody tr:nth-child(${n})`;

/** Two frames from now: a redraw queued before has run by then. */
const twoFrames = (page) => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

/** Waits until the page has settled: the watchlist drawn, every command answered and drawn. */
async function settled(page) {
  await page.waitForSelector(row(2));
  await page.waitForFunction(() => window.__fake.pending === 0);
  await twoFrames(page);
}

/** What the page shows of the close, once the watchlist has drawn both signals (next frame). */
async function shown(page) {
  await page.waitForFunction(([btc, eth]) => /57\.00%/.test(document.querySelector(btc)?.innerText ?? '')
    && /61\.00%/.test(document.querySelector(eth)?.innerText ?? ''), [row(1), row(2)]);
  return page.evaluate(([btc, eth]) => ({
    btc: document.querySelector(btc).innerText,
    eth: document.querySelector(eth).innerText,
    connection: document.querySelector('[data-testid=conn-banner]').textContent,
    liquidation: document.querySelector('[data-testid=liq-banner]').textContent,
    pill: document.querySelector('[data-testid=signals-state]').dataset.state,
  }), [row(1), row(2)]);
}

describe('batched engine events', () => {
  test('a close sent as one batch shows what its events showed one by one', async () => {
    const single = await onSignals();
    await settled(single.page);
    for (const ev of CLOSE) await emitAppEvent(single.page, ev);
    const oneByOne = await shown(single.page);

    const { page, errors } = await onSignals();
    await settled(page);
    await emitAppEvents(page, CLOSE);
    const batched = await shown(page);

    assert.deepEqual(single.errors, []);
    assert.deepEqual(batched, oneByOne);
    // Each symbol's row has its candle's price and its signal, in the symbol's own ticks.
    assert.match(batched.btc, /^BTCUSDT\s+66,050\.0\s/);
    assert.match(batched.btc, /↓ Short\s+57\.00%/);
    assert.match(batched.eth, /^ETHUSDT\s+3,412\.50\s/);
    assert.match(batched.eth, /↑ Long\s+61\.00%/);
    assert.match(batched.connection, /user stream closed/);
    assert.match(batched.liquidation, /BTCUSDT.*52,000.*51,230\.4/);
    assert.equal(batched.pill, 'running');
    assert.deepEqual(errors, []);
  });

  test('the events of a batch take effect in their order', async () => {
    const { page, errors } = await onSignals();
    await settled(page);
    const down = { kind: 'connection', account_id: 1, connected: false, message: 'user stream closed' };
    const up = { kind: 'connection', account_id: 1, connected: true, message: '' };
    // Two candles of one symbol: the later close is the price; the stream dropped, then back.
    await emitAppEvents(page, [candle('BTCUSDT', '66010.0'), down, candle('BTCUSDT', '66020.0'), up]);
    await expectDom(page, row(1), 'innerText', /^BTCUSDT\s+66,020\.0\s/);
    assert.equal(await page.isVisible('[data-testid=conn-banner]'), false);
    // The same two connection events the other way round leave the banner up.
    await emitAppEvents(page, [up, down]);
    assert.equal(await page.isVisible('[data-testid=conn-banner]'), true);
    assert.match(await page.textContent('[data-testid=conn-banner]'), /user stream closed/);
    assert.deepEqual(errors, []);
  });

  test('a batch redraws each watchlist row once, whatever number of its events name it', async () => {
    const { page, errors } = await onSignals();
    await settled(page);
    // Counts the rows the watchlist replaces from here on (a redraw replaces a changed row).
    await page.evaluate((css) => {
      window.__replaced = [];
      const body = document.querySelector(css).closest('tbody');
      new MutationObserver((records) => {
        for (const r of records) for (const n of r.removedNodes) window.__replaced.push(n.querySelector('button[data-symbol]')?.dataset.symbol);
      }).observe(body, { childList: true });
    }, row(1));
    await emitAppEvents(page, CLOSE);
    await shown(page);
    // The loads the selected symbol's signal started have answered, and whatever they queued
    // has been drawn: a second redraw of a row would be counted.
    await settled(page);
    assert.deepEqual(await page.evaluate(() => window.__replaced.sort()), ['BTCUSDT', 'ETHUSDT']);
    assert.deepEqual(errors, []);
  });

  test('an event that fails does not stop the rest of its batch', async () => {
    const { page, errors } = await onSignals();
    await settled(page);
    // A failure reported by the page is an error the harness collects; this one is expected.
    await page.evaluate(() => {
      window.__reported = [];
      window.addEventListener('error', (e) => { window.__reported.push(String(e.error?.message ?? e.message)); e.preventDefault(); });
    });
    // The signal's `record` getter throws when the watchlist reads it: the signal's handler
    // fails part way; the candle after it must still move its row.
    await page.evaluate(() => {
      const broken = { kind: 'signal', symbol: 'ETHUSDT', direction: 'long', probability: 0.61, time_ms: Date.UTC(2026, 10, 25, 12), strong: false };
      Object.defineProperty(broken, 'record', { get() { throw new Error('unreadable record'); }, enumerable: true });
      window.__fakeEmit('app-events', [broken, { kind: 'candle', symbol: 'BTCUSDT', open_time_ms: Date.UTC(2026, 10, 25, 12), open: '66030.0', high: '66030.0', low: '66030.0', close: '66030.0', volume: '10' }]);
    });
    await expectDom(page, row(1), 'innerText', /^BTCUSDT\s+66,030\.0\s/);
    assert.deepEqual(await page.evaluate(() => window.__reported), ['unreadable record']);
    assert.deepEqual(errors, []);
  });
});
