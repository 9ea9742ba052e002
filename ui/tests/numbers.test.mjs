// Numbers as the dashboard draws them (ui/js/format.js), read off the page in both languages:
// prices on the tick, quantities on the step, USDT to the cent, fees to what they need,
// percentages to 2 decimals, the exact value in the tooltip, and sensible text when the
// backend sends no tick or step.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
// The mark price of the example: a market entry of 500 USDT buys 0.023 BTC, whose
// notional is 487.10903239129 USDT exactly.
const MARK = { BTCUSDT: '21178.65358223' };

/** Previews a 500 USDT market buy of BTCUSDT with a stop-loss. */
async function previewBtc(page) {
  await page.selectOption('[data-testid=ticket-sizing]', 'fixed_notional');
  await page.fill('[data-testid=ticket-size]', '500');
  await page.fill('[data-testid=ticket-sl]', '20500');
  await page.click('[data-testid=preview-order]');
  await page.waitForSelector('[data-testid=risk-result]');
}

/** The preview's fields as `{label key: [shown text, tooltip]}`. */
const previewFields = (page) => page.$$eval('[data-testid=preview] dd[data-field]', (dds) => Object.fromEntries(
  dds.map((dd) => [dd.dataset.field, [dd.textContent, dd.querySelector('.num')?.getAttribute('title') ?? null]]),
));

describe('numbers a trader can read', () => {
  for (const language of ['zh-CN', 'en']) {
    test(`the preview rounds to the tick, the step and the cent, exact values in the tooltips (${language})`, async () => {
      const { page, errors } = await open({ preferences: { language, lastPanel: 'trade' }, marks: MARK });
      await previewBtc(page);
      const f = await previewFields(page);
      assert.deepEqual(f['trade.entry'], ['21,178.7', '21178.65358223']);
      assert.deepEqual(f['trade.quantity'], ['0.023', null], 'already on the step: no tooltip needed');
      assert.deepEqual(f['trade.notional'], ['487.11', '487.10903239129']);
      assert.deepEqual(f['trade.margin'], ['97.42', '97.42180648']);
      assert.deepEqual(f['trade.stop-loss'], ['20,500.0', '20500']);
      assert.equal(f['trade.take-profit'][0], '—');
      assert.match(f['trade.liquidation'][0], /^17,\d{3}\.\d$/);
      assert.match(f['trade.worst-loss'][0], /^\d+\.\d{2}$/);
      // 0.05% of 487.109…: 0.2436 USDT, where two decimals would say 0.24.
      assert.deepEqual(f['trade.fee'], ['0.2436', '0.24355452']);
      assert.deepEqual(errors, []);
    });
  }

  test('records and the profit share read the same way in both languages', async () => {
    for (const language of ['zh-CN', 'en']) {
      const { page, errors } = await open({ preferences: { language, lastPanel: 'records' } });
      await page.waitForSelector('[data-testid=trades] tbody tr:nth-child(3)');
      const fills = await page.$$eval('[data-testid=trades] tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(3, 7).map((td) => td.innerText)));
      assert.deepEqual(fills, [
        ['63,500.0', '0.010', '0.00', '0.254'],
        ['3,450.00', '0.500', '0.00', '0.69'],
        ['3,380.00', '0.500', '+35.00', '0.676'],
      ], language);
      const pnl = await page.$$eval('[data-testid=pnl] tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(1).map((td) => td.innerText)));
      assert.deepEqual(pnl[0], ['+35.00', '1.366', '-0.42', '+33.21'], language);
      assert.equal(await page.getAttribute('[data-testid=pnl] tbody tr:first-child td:last-child .num', 'title'), '33.214');

      await page.click('#nav button[data-panel=profit-share]');
      await page.waitForSelector('[data-testid=ps-ledger] tbody tr');
      const row = await page.$$eval('[data-testid=ps-ledger] tbody tr td', (tds) => tds.slice(3, 8).map((td) => td.innerText));
      assert.deepEqual(row, ['+33.21', '33.21', '23.25', '9.96', '70.00%'], language);
      assert.equal(await page.getAttribute('[data-testid=ps-ledger] tbody tr td:nth-child(6) .num', 'title'), '23.24980000');
      assert.deepEqual(errors, []);
    }
  });

  test('the signals panel: prices on the tick, percentages to 2 decimals, in both languages', async () => {
    for (const [language, long] of [['zh-CN', '做多'], ['en', 'Long']]) {
      const { page, errors } = await open({ preferences: { language, lastPanel: 'signals' } });
      await page.waitForSelector('[data-testid=signal-detail] [data-field=entry]');
      const detail = await page.textContent('[data-testid=signal-detail]');
      assert.match(detail, new RegExp(`BTCUSDT · ↑ ${long} · 63\\.00%`));
      assert.equal(await page.textContent('[data-testid=signal-detail] [data-field=take-profit]'), '66,000.0');
      const eth = await page.innerText('[data-testid=watchlist] tbody tr:nth-child(2)');
      assert.match(eth, /^ETHUSDT\s+\d,\d{3}\.\d{2}\s+-2\.31%/, language);
      assert.deepEqual(errors, []);
    }
  });

  test('without tick and step sizes from the backend the numbers still read sensibly', async () => {
    const { page, errors } = await open({ preferences: { language: 'en', lastPanel: 'trade' }, marks: MARK, noFilters: true });
    await previewBtc(page);
    const f = await previewFields(page);
    // 8 significant digits for a price, the quantity as sent, USDT still to the cent.
    assert.deepEqual(f['trade.entry'], ['21,178.654', '21178.65358223']);
    assert.equal(f['trade.quantity'][0], '0.023');
    assert.equal(f['trade.notional'][0], '487.11');

    await page.click('#nav button[data-panel=records]');
    await page.waitForSelector('[data-testid=positions] tbody tr td:nth-child(4) .num');
    const position = await page.$$eval('[data-testid=positions] tbody tr td', (tds) => tds.slice(2, 7).map((td) => td.innerText));
    assert.deepEqual(position, ['0.010', '63,500.042', '21,178.654', '+12.35', '51,230.412']);

    await page.click('#nav button[data-panel=signals]');
    await page.waitForSelector('[data-testid=signal-detail] [data-field=take-profit]');
    assert.equal(await page.textContent('[data-testid=signal-detail] [data-field=take-profit]'), '66,000.042');
    // A ticket filled from such a signal still gets a plain price the exchange can read.
    await page.click('[data-testid=trade-signal]');
    await page.waitForSelector('#panel-trade:visible');
    assert.equal(await page.inputValue('[data-testid=ticket-tp]'), '66000.042');
    assert.deepEqual(errors, []);
  });
});
