import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { callsTo, failNext, useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });
const onPanel = (language = 'en', extra = {}) => open({ preferences: { language, lastPanel: 'profit-share' }, ...extra });
const KEY = 'ed25519:3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29';

describe('profit share: the period, the statement key and the check (issue 20)', () => {
  test('shows a period that ended below the mark owing nothing, the last settlement and the key (中文)', async () => {
    const { page, errors } = await onPanel('zh-CN');
    const period = await page.innerText('[data-testid=ps-period]');
    assert.match(period, /本期结果\s+-4\.50\s+上次结算以来 2 笔交易/);
    assert.match(period, /高水位（结算达到的最高点）\s+33\.21\b/);
    assert.match(period, /现在结算：应付平台\s+0\.00\b/);
    assert.match(period, /现在结算：归用户\s+0\.00\b/);
    assert.equal(await page.textContent('[data-testid=ps-last-settlement]'), '2026-11-24 16:00 UTC：平台 23.25，用户 9.96');
    assert.equal(await page.inputValue('[data-testid=ps-public-key]'), KEY);
    assert.match(await page.textContent('[data-testid=ps-fingerprint]'), /指纹 9e1c-47d2-05ab-c3f8。$/);
    assert.equal(await page.textContent('[data-testid=ps-verify]'), '核验上次结算单');
    assert.deepEqual(errors, []);
  });

  test('copies the public key to the clipboard', async () => {
    const { page, errors } = await onPanel();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.click('[data-testid=ps-copy-key]');
    await page.waitForSelector('[data-testid=ps-key-status][data-kind=ok]');
    assert.equal(await page.textContent('[data-testid=ps-key-status]'), 'Public key copied.');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), KEY);
    assert.deepEqual(errors, []);
  });

  test('verifies the last statement and lists every problem of one that does not verify', async () => {
    const { page, errors } = await onPanel();
    await page.click('[data-testid=ps-verify]');
    await page.waitForSelector('[data-testid=ps-verify-status][data-kind=ok]');
    assert.equal(await page.textContent('[data-testid=ps-verify-status]'),
      'Verified: statement #3 is signed by this key and every number agrees with the exchange\'s records (3 fills, 5 income rows).');
    assert.deepEqual((await callsTo(page, 'verify_statement'))[0].args, { settlementId: 3 });

    await page.evaluate(() => { window.__fake.statementTampered = true; });
    await page.click('[data-testid=ps-verify]');
    await page.waitForSelector('[data-testid=ps-verify-status][data-kind=error]');
    assert.equal(await page.textContent('[data-testid=ps-verify-status]'), 'Not verified: statement #3 has 1 problem(s).');
    assert.match(await page.innerText('[data-testid=ps-verify-problems]'),
      /row 1 \(ETHUSDT:Both:8001\): the net .* is 34\.214 in the statement but 33\.214 from the exchange's records/);

    await failNext(page, 'verify_statement', { code: 'NotFound', message: 'the signed statement of settlement 3 not found' });
    await page.click('[data-testid=ps-verify]');
    await page.waitForSelector('[data-testid=ps-verify-status][data-kind=error]:has-text("settlement 3 not found")');
    assert.equal(await page.isVisible('[data-testid=ps-verify-problems]'), false);
    assert.deepEqual(errors, []);
  });

  test('exports the exchange records for the platform', async () => {
    const { page, errors } = await onPanel('zh-CN');
    assert.equal(await page.textContent('[data-testid=ps-export-records]'), '导出交易所记录');
    await page.click('[data-testid=ps-export-records]');
    await page.waitForSelector('[data-testid=ps-records-status][data-kind=ok]');
    assert.match(await page.textContent('[data-testid=ps-records-status]'), /perpdesk-exchange-records-20261125-120000\.json/);
    assert.deepEqual(errors, []);
  });

  test('a failed summary leaves the ledger on screen and says why', async () => {
    const { page } = await onPanel('en', { fail: { profit_share_summary: { code: 'Internal', message: 'the summary could not be read' } } });
    await page.waitForSelector('[data-testid=ps-verify-status][data-kind=error]');
    assert.match(await page.textContent('[data-testid=ps-verify-status]'), /the summary could not be read/);
    assert.match(await page.innerText('[data-testid=ps-summary]'), /High-water mark\s+33\.21\b/);
    assert.equal(await page.isVisible('[data-testid=ps-period]'), false);
  });

  test('without a statement key yet, says when it is made; without a settlement, nothing to verify', async () => {
    const { page } = await onPanel('en', { noStatementKey: true, empty: true });
    assert.equal(await page.textContent('[data-testid=ps-no-key]'), 'Made when the vault is next unlocked.');
    assert.match(await page.innerText('[data-testid=ps-period]'), /Statement public key\s+Made when the vault is next unlocked\./);
    assert.equal(await page.textContent('[data-testid=ps-last-settlement]'), 'None yet');
    assert.equal(await page.isDisabled('[data-testid=ps-verify]'), true);
  });
});
