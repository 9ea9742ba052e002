// The number formats, in node: exact decimal rounding and how each UI language writes them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatter, movePoint, parseDecimal, plain, priceInput, roundToIncrement, roundToPlaces, separators, sign,
} from '../js/format.js';
import { LANGUAGES } from '../js/i18n/index.js';

const zh = formatter('zh-CN');
const en = formatter('en');

describe('exact decimals', () => {
  test('reads decimal strings and numbers by their digits, exponents included', () => {
    assert.deepEqual(parseDecimal('21178.65358223'), { neg: false, coef: 2117865358223n, scale: 8 });
    assert.deepEqual(parseDecimal(20660.343120181707), { neg: false, coef: 20660343120181707n, scale: 12 });
    assert.deepEqual(parseDecimal('-0.010'), { neg: true, coef: 10n, scale: 3 });
    assert.deepEqual(parseDecimal(1e-7), { neg: false, coef: 1n, scale: 7 });
    assert.deepEqual(parseDecimal(1.5e21), { neg: false, coef: 1500000000000000000000n, scale: 0 });
    assert.deepEqual(parseDecimal('.5'), { neg: false, coef: 5n, scale: 1 });
    assert.equal(parseDecimal('-0').neg, false, 'no negative zero');
    for (const bad of ['', '.', 'abc', '1.2.3', '1,000', NaN, Infinity, null, undefined, {}, '0x10']) {
      assert.equal(parseDecimal(bad), null, String(bad));
    }
  });

  test('rounds to a tick or step half away from zero, with the increment\'s decimals', () => {
    const r = (v, inc) => plain(roundToIncrement(v, inc));
    assert.equal(r('21178.65358223', '0.10'), '21178.7');
    assert.equal(r('21178.65', '0.1'), '21178.7');
    assert.equal(r('21178.64999999', '0.1'), '21178.6');
    assert.equal(r('-21178.65', '0.1'), '-21178.7');
    assert.equal(r('3391.2', '0.01'), '3391.20');
    assert.equal(r('0.0104', '0.001'), '0.010');
    assert.equal(r('101.26', '0.5'), '101.5');
    assert.equal(r('101.24', '0.5'), '101.0');
    assert.equal(r('1234', '10'), '1230');
    assert.equal(r('-0.004', '0.01'), '0.00', 'no negative zero');
    assert.equal(r(20660.343120181707, '0.10'), '20660.3');
    assert.equal(roundToIncrement('1', '0'), null);
    assert.equal(roundToIncrement('1', '-0.1'), null);
    assert.equal(roundToIncrement('x', '0.1'), null);
  });

  test('rounds digits a float would get wrong', () => {
    // 1.005 is 1.00499999999999989… as a double, so toFixed(2) gives 1.00.
    assert.equal((1.005).toFixed(2), '1.00');
    assert.equal(plain(roundToPlaces('1.005', 2)), '1.01');
    assert.equal(plain(roundToPlaces('487.10903239129', 2)), '487.11');
    // Beyond 2^53 a Number loses the last digits; the string keeps them.
    assert.equal(plain(roundToPlaces('90071992547409931.235', 2)), '90071992547409931.24');
  });

  test('moves the decimal point exactly, for ratios typed as percents', () => {
    assert.equal(movePoint('0.7', 2), '70');
    assert.equal(movePoint('0.33333', 2), '33.333');
    assert.equal(movePoint('60', -2), '0.6');
    assert.equal(movePoint('33.333', -2), '0.33333');
    assert.equal(movePoint('5', -3), '0.005');
    assert.equal(movePoint('0', -2), '0');
    assert.equal(movePoint(undefined, 2), '');
  });

  test('knows the sign of a value', () => {
    assert.equal(sign('-0.01'), -1);
    assert.equal(sign('0.000'), 0);
    assert.equal(sign(12.35), 1);
    assert.equal(sign('n/a'), null);
  });
});

describe('number formats in both languages', () => {
  test('both languages group thousands with a comma and mark decimals with a point', () => {
    for (const language of LANGUAGES) assert.deepEqual(separators(language), { group: ',', decimal: '.' }, language);
  });

  test('prices go to the tick: the preview reads 21,178.7, not 21178.65358223', () => {
    for (const f of [zh, en]) {
      assert.equal(f.price('21178.65358223', '0.10'), '21,178.7');
      assert.equal(f.price(20660.343120181707, '0.10'), '20,660.3');
      assert.equal(f.price('3391.2', '0.01'), '3,391.20');
      assert.equal(f.price('0.0001234567', '0.0000001'), '0.0001235');
      assert.equal(f.price('1234567.5', '1'), '1,234,568');
    }
  });

  test('a price without a tick keeps 8 significant digits and no more decimals than it had', () => {
    assert.equal(en.price('21178.65358223'), '21,178.654');
    assert.equal(en.price('63500.0'), '63,500.0');
    assert.equal(en.price('0.000123456789'), '0.00012345679');
    assert.equal(en.price(20660.343120181707, null), '20,660.343');
    assert.equal(en.price('64210', ''), '64,210');
  });

  test('quantities go to the step, or keep their own decimals (at most 8) without one', () => {
    assert.equal(zh.qty('0.0104', '0.001'), '0.010');
    assert.equal(zh.qty('1500', '1'), '1,500');
    assert.equal(zh.qty('0.010'), '0.010');
    assert.equal(zh.qty('0.123456789012'), '0.12345679');
  });

  test('USDT amounts have 2 decimals; signed ones carry + or -', () => {
    assert.equal(en.usdt('487.10903239129'), '487.11');
    assert.equal(en.usdt('10000'), '10,000.00');
    assert.equal(en.usdt('23.24980000'), '23.25');
    assert.equal(en.usdt('12.35', { signed: true }), '+12.35');
    assert.equal(en.usdt('-0.254', { signed: true }), '-0.25');
    assert.equal(en.usdt('0.004', { signed: true }), '0.00', 'rounds to zero: no sign');
    assert.equal(en.usdt('-0.004', { signed: true }), '0.00');
  });

  test('fees and funding show 2 to 4 decimals, enough for the smallest fee', () => {
    assert.equal(zh.fee('0.0025'), '0.0025');
    assert.equal(zh.fee('0.25400000'), '0.254');
    assert.equal(zh.fee('0.69'), '0.69');
    assert.equal(zh.fee('1'), '1.00');
    assert.equal(zh.fee('0.02536123'), '0.0254');
    assert.equal(zh.fee('-0.42', { signed: true }), '-0.42');
    assert.equal(zh.fee('1234.5'), '1,234.50');
  });

  test('percentages have 2 decimals; a fraction is read as a share of 100 without multiplying', () => {
    assert.equal(en.pct(1.84, { signed: true }), '+1.84%');
    assert.equal(en.pct('-2.31', { signed: true }), '-2.31%');
    assert.equal(en.pct(0.63, { fraction: true }), '63.00%');
    assert.equal(en.pct(0.541, { fraction: true }), '54.10%');
    assert.equal(en.pct(0.57, { fraction: true }), '57.00%', '0.57 × 100 is 56.99999999999999 as a float');
    assert.equal(en.pct('0.7', { fraction: true }), '70.00%');
    assert.equal(en.pct(1, { fraction: true }), '100.00%');
    assert.equal(en.pct(0.6349, { fraction: true, digits: 0 }), '63%');
    assert.equal(en.pct(-89.51), '-89.51%');
  });

  test('statistics and counts', () => {
    assert.equal(en.fixed(0.518, 4), '0.5180');
    assert.equal(en.fixed(0.2499, 5), '0.24990');
    assert.equal(en.number(1735), '1,735');
    assert.equal(en.number(60), '60');
    assert.equal(en.number(0.5), '0.5');
  });

  test('absent values read as a dash and text that is no number is shown unchanged', () => {
    for (const fn of ['price', 'qty', 'usdt', 'fee', 'pct', 'number']) {
      assert.equal(en[fn](null), '—', fn);
      assert.equal(en[fn](undefined), '—', fn);
      assert.equal(en[fn](''), '—', fn);
      assert.equal(en[fn](NaN), '—', fn);
      assert.equal(en[fn]('n/a'), 'n/a', fn);
    }
  });

  test('a ticket field gets a price on the tick in plain digits', () => {
    assert.equal(priceInput(20660.343120181707, '0.10'), '20660.3');
    assert.equal(priceInput(66000, '0.10'), '66000.0');
    assert.equal(priceInput('63100.0'), '63100.0');
    assert.equal(priceInput(20660.343120181707), '20660.343');
    assert.equal(priceInput('x', '0.1'), '');
  });
});
