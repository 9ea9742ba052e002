import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { mkdir } from 'node:fs/promises';
import { callsTo, emitAppEvent, expectDom, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onSignals = (language = 'en', extra = {}) => open({ preferences: { language, lastPanel: 'signals' }, ...extra });
const rowText = (page, family) => page.innerText(`[data-testid=family-signals] tr[data-family=${family}]`);

describe('signal families', () => {
  test('the portfolio card beside the watchlist says nothing passes and compares with the basket', async () => {
    const { page, errors } = await onSignals();
    await page.waitForSelector('[data-testid=portfolio-flat]');
    assert.equal(await page.textContent('[data-testid=portfolio-flat]'),
      'Nothing passes the edge test: the portfolio is flat and holds nothing.');
    const rows = await page.$$eval('[data-testid=portfolio-table] tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
    assert.deepEqual(rows, ['Portfolio — — 0.0% 0%', 'Equal-weight basket 0.61 50.0% 13.9% 35%']);
    assert.match(await page.textContent('[data-testid=study-window]'), /2 symbols, strategy perpdesk-v2, 18 configurations counted/);
    // Beside, not below: the two cards share a row in a window this wide.
    const [w, p] = await page.$$eval('.side-by-side > .card', (cs) => cs.map((c) => c.getBoundingClientRect().top));
    assert.equal(Math.round(w), Math.round(p));
    assert.equal(await page.locator('[data-testid=portfolio-slot] .sparkline polyline').count(), 2);
    assert.deepEqual(errors, []);
  });

  test('each family row shows horizon, size, stop, record, why it is flat and the next signal time', async () => {
    const { page, errors } = await onSignals();
    await page.waitForSelector('[data-testid=family-signals] tr[data-family=trend_momentum_ls]');
    const trend = (await rowText(page, 'trend_momentum_ls')).replace(/\s+/g, ' ');
    assert.match(trend, /^Trend momentum, long\/short daily \(00:00 UTC\) — Flat \(lean Long\)/);
    assert.match(trend, /2,206\.00 USDT \(22% of equity\)/);
    assert.match(trend, /55,820\.4 \(14\.2%\)/);
    assert.match(trend, /Sharpe 0\.42 \[-0\.48, 1\.32\] · max drawdown 18\.3% · percentile vs random timing 61 · deflated Sharpe p 0\.47/);
    assert.match(trend, /random timing of the same positions did as well; not significant after counting every configuration tried; the Sharpe interval reaches zero; holding the basket did at least as well/);
    assert.match(trend, /2026-11-26 00:00 UTC/);
    const xs = (await rowText(page, 'xs_momentum')).replace(/\s+/g, ' ');
    assert.match(xs, /^Cross-sectional momentum weekly \(Monday 00:00 UTC\) — Flat — — .*too few independent trades/);
    assert.equal(await page.locator('[data-family=xs_momentum] [data-testid=use-size]').count(), 0);
    const pooled = (await rowText(page, 'pooled_4h')).replace(/\s+/g, ' ');
    assert.match(pooled, /^Pooled model, 4h every 4 hours \(from 00:00 UTC\) — Flat \(lean Short\)/);
    assert.match(pooled, /Sharpe -1\.07 \[-1\.79, -0\.28\] .* deflated Sharpe p 1\.00/);
    // Its interval [-1.79, -0.28] does not reach zero: it lies wholly below it, and says so.
    assert.match(pooled, /not significant after counting every configuration tried; the whole Sharpe interval is below zero; holding the basket did at least as well/);
    assert.doesNotMatch(pooled, /reaches zero/);
    // No volatility estimate on its bars, so no stop and nothing to suggest.
    assert.equal(await page.locator('[data-family=pooled_4h] [data-testid=use-size]').count(), 0);
    // Each row draws the family's equity against the basket's across its record cell.
    const drawn = await page.evaluate(() => {
      const row = document.querySelector('[data-testid=family-signals] tr[data-family=trend_momentum_ls]');
      const cell = row.querySelector('[data-field=record]').getBoundingClientRect();
      const svg = row.querySelector('svg.sparkline');
      const line = (cls) => {
        const el = svg?.querySelector(`polyline.${cls}`);
        if (!el) return null;
        const box = el.getBoundingClientRect();
        const points = el.getAttribute('points').trim().split(' ');
        return { width: box.width, height: box.height, points: points.length, last: points.at(-1), stroke: getComputedStyle(el).stroke };
      };
      return { cell: cell.width, label: svg?.getAttribute('aria-label'), family: line('family'), basket: line('basket') };
    });
    assert.equal(drawn.label, 'Equity of this family (yellow) against the equal-weight basket (grey)');
    assert.ok(drawn.family && drawn.basket, JSON.stringify(drawn));
    assert.ok(drawn.family.width > 0.8 * drawn.cell && drawn.family.height > 4, JSON.stringify(drawn));
    assert.notEqual(drawn.family.stroke, drawn.basket.stroke);
    // Every point of the study's curve (120 days in the fake), ending where the family ends.
    const study = await page.evaluate(async () => (await window.__TAURI__.core.invoke('signal_study')).families.find((f) => f.id === 'trend_momentum_ls').curve.equity.length);
    assert.equal(drawn.family.points, study);
    assert.notEqual(drawn.family.last, drawn.basket.last);
    await mkdir('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/ui-families-en.png', fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('in Chinese the reasons and the flat portfolio are in Chinese', async () => {
    const { page, errors } = await onSignals('zh-CN');
    await page.waitForSelector('[data-testid=family-signals] tr[data-family=trend_momentum_ls]');
    assert.match(await page.textContent('[data-testid=portfolio-flat]'), /没有信号族通过优势检验/);
    const trend = (await rowText(page, 'trend_momentum_ls')).replace(/\s+/g, ' ');
    assert.match(trend, /^趋势动量（多\/空） 每日（00:00 UTC）/);
    assert.match(trend, /相同仓位的随机择时表现不差于它/);
    assert.match(await rowText(page, 'pooled_4h'), /^跨品种合并模型（4 小时）\s+每 4 小时（自 00:00 UTC 起）/);
    await page.screenshot({ path: 'test-output/ui-families-zh.png', fullPage: true });
    assert.deepEqual(errors, []);
  });

  const power = {
    en: {
      trend: 'this record: 1.6 years · record a 95% test needs at this Sharpe to show it above 0: 15.4 years · to clear the deflated bar of 4.20: never',
      model: 'this record: 1.6 years · record a 95% test needs at this Sharpe to show it above 0: never · to clear the deflated bar of 4.20: never',
      modelRow: /^1h model, logistic every hour \(on the hour, UTC\) — Flat — — Sharpe -5\.39 \[-6\.36, -4\.33\] · max drawdown 93\.1% · percentile vs random timing 86 · deflated Sharpe p 1\.00 .*the probabilities do not beat the base rate/,
      never: 'never',
    },
    'zh-CN': {
      trend: '本记录：1.6 年 · 按此夏普，95% 检验要证明其高于 0 所需的记录：15.4 年 · 要越过紧缩门槛 4.20：永远不够',
      model: '本记录：1.6 年 · 按此夏普，95% 检验要证明其高于 0 所需的记录：永远不够 · 要越过紧缩门槛 4.20：永远不够',
      modelRow: /^1 小时模型（逻辑回归） 每小时（整点，UTC） — 观望 — — .*概率预测没有超过基准频率/,
      never: '永远不够',
    },
  };
  for (const language of ['en', 'zh-CN']) {
    test(`each row says how long a record at its Sharpe must be, and the 1h models have their rows (${language})`, async () => {
      const { page, errors } = await onSignals(language);
      await page.waitForSelector('[data-testid=family-signals] tr[data-family=model_1h_logistic]');
      const want = power[language];
      const line = (family) => page.$eval(`[data-testid=family-signals] tr[data-family=${family}] [data-field=power]`,
        (el) => ({ text: el.textContent.replace(/\s+/g, ' ').trim(), title: el.title, kept: [...el.querySelectorAll('.nowrap')].map((n) => n.textContent) }));
      const trend = await line('trend_momentum_ls');
      assert.equal(trend.text, want.trend);
      // Only the values are kept on one line; the words between them may wrap.
      assert.deepEqual(trend.kept, [language === 'en' ? '1.6 years' : '1.6 年', language === 'en' ? '15.4 years' : '15.4 年', '4.20', want.never]);
      assert.ok(trend.title.length > 10);
      assert.equal((await line('model_1h_logistic')).text, want.model);
      assert.equal((await line('pooled_4h')).text, want.model);
      const model = (await rowText(page, 'model_1h_logistic')).replace(/\s+/g, ' ');
      assert.match(model, want.modelRow);
      // Flat, holding nothing: no size to suggest.
      assert.equal(await page.locator('[data-family=model_1h_logistic] [data-testid=use-size]').count(), 0);
      assert.deepEqual(errors, []);
    });
  }

  for (const language of ['en', 'zh-CN']) {
    test(`at 1280×800 the family table fits its card and no text is cut or broken (${language})`, async () => {
      const { page, errors } = await onSignals(language);
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.waitForSelector('[data-testid=family-signals] tr[data-family=model_1h_logistic]');
      const bad = await page.evaluate(() => {
        const out = [];
        const table = document.querySelector('[data-testid=family-signals]');
        const wrap = table.closest('.table-wrap');
        const card = table.closest('.card');
        const round = (r) => [Math.round(r.left), Math.round(r.right)];
        // No horizontal scrolling: the whole table is drawn inside its card and the window.
        if (wrap.scrollWidth > wrap.clientWidth) out.push(`scrolls: ${wrap.scrollWidth} > ${wrap.clientWidth}`);
        const cardBox = card.getBoundingClientRect();
        if (cardBox.right > window.innerWidth) out.push(`card ends at ${cardBox.right} of ${window.innerWidth}`);
        for (const cell of table.querySelectorAll('th, td')) {
          const box = cell.getBoundingClientRect();
          if (cell.scrollWidth > cell.clientWidth) out.push(`cell overflows: ${cell.innerText}`);
          if (box.right > cardBox.right + 0.5) out.push(`cell outside the card: ${cell.innerText}`);
          // A number with its unit, a time with its zone: one line, inside its cell.
          for (const piece of cell.querySelectorAll('.nowrap, button')) {
            const p = piece.getBoundingClientRect();
            if (piece.matches('.nowrap') && piece.getClientRects().length !== 1) out.push(`broken: ${piece.textContent}`);
            if (p.left < box.left - 0.5 || p.right > box.right + 0.5) out.push(`clipped: ${piece.textContent} ${round(p)} in ${round(box)}`);
          }
        }
        return out;
      });
      assert.deepEqual(bad, []);
      assert.ok(await page.locator('[data-testid=family-signals] .nowrap').count() > 20, 'the pieces are marked');
      await mkdir('test-output', { recursive: true });
      await page.locator('[data-testid=families-slot]').screenshot({ path: `test-output/ui-families-1280-${language}.png` });
      assert.deepEqual(errors, []);
    });
  }

  test('the suggested size fills the ticket, which the user previews and may change', async () => {
    const { page, errors } = await onSignals();
    await page.click('[data-family=trend_momentum_ls] [data-testid=use-size]');
    await page.waitForSelector('[data-testid=ticket-signal]');
    assert.deepEqual((await callsTo(page, 'suggest_ticket')).at(-1).args, { symbol: 'BTCUSDT', family: 'trend_momentum_ls' });
    assert.match(await page.textContent('[data-testid=ticket-signal]'),
      /From the signal family "Trend momentum, long\/short".*Reduced by the risk limits: max_position_notional\..*Unproven/);
    assert.equal(await page.inputValue('#ticket-size'), '1000');
    assert.equal(await page.inputValue('#ticket-sl'), '55820.4');
    assert.deepEqual(errors, []);
  });

  test('while the first study runs the card shows its progress, then the record when it is ready', async () => {
    const { page, errors } = await onSignals('en', { study: { state: 'computing', progress: [1, 3], families: [], symbols: [] } });
    await expectDom(page, '[data-testid=study-progress-text]', 'text',
      "Studying the signal families on the exchange's history: step 1 of 3");
    await emitAppEvent(page, { kind: 'study_progress', done: 2, total: 3, stage: 'ETHUSDT' });
    await expectDom(page, '[data-testid=study-progress-text]', 'text',
      "Studying the signal families on the exchange's history: step 2 of 3");
    assert.equal(await page.getAttribute('[data-testid=study-progress]', 'value'), '2');
    assert.deepEqual(errors, []);
  });

  test("the next day's study runs behind the record on screen, which stays drawn until it is ready", async () => {
    const { page, errors } = await onSignals();
    await page.waitForSelector('[data-testid=portfolio-table]');
    await page.waitForSelector('[data-testid=family-signals] tbody tr');
    await page.evaluate(() => {
      window.__drawnFamilies = [document.querySelector('[data-testid=portfolio-table]'), document.querySelector('[data-testid=family-signals]')];
    });
    for (let done = 1; done <= 5; done++) await emitAppEvent(page, { kind: 'study_progress', done, total: 5, stage: 'BTCUSDT' });
    // Two frames later anything queued has been drawn: the card and the rows are the same
    // elements, and no progress bar replaced the record.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    assert.deepEqual(await page.evaluate(() => [document.querySelector('[data-testid=portfolio-table]'), document.querySelector('[data-testid=family-signals]')]
      .map((el, i) => el === window.__drawnFamilies[i])), [true, true]);
    await expectDom(page, '[data-testid=study-progress]', 'count', 0);
    // The new study is ready: the panel reads it and draws it.
    const studies = (await callsTo(page, 'signal_study')).length;
    await emitAppEvent(page, { kind: 'study_ready' });
    await page.waitForFunction((n) => window.__fake.calls.filter((c) => c.cmd === 'signal_study').length > n, studies);
    await page.waitForFunction(() => document.querySelector('[data-testid=portfolio-table]') !== window.__drawnFamilies[0]);
    assert.deepEqual(errors, []);
  });
});
