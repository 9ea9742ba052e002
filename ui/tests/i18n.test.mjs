// The interface strings, without a browser: both languages have the same keys with the same
// `{placeholders}`, and every key the code asks for exists.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { ALL_KEYS, KEYS_BY_LANGUAGE, LANGUAGES, strings, translator } from '../js/i18n/index.js';

const placeholders = (s) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();

/** Every .js file under `dir` (a URL ending in /), as paths relative to it. */
async function jsFiles(dir, prefix = '') {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...await jsFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`));
    else if (entry.name.endsWith('.js')) out.push(`${prefix}${entry.name}`);
  }
  return out;
}

describe('interface strings', () => {
  test('both languages have exactly the same keys', () => {
    assert.deepEqual(Object.keys(KEYS_BY_LANGUAGE).sort(), [...LANGUAGES].sort());
    for (const [language, keys] of Object.entries(KEYS_BY_LANGUAGE)) {
      assert.deepEqual([...keys].sort(), [...ALL_KEYS].sort(), `${language} is missing or has extra keys`);
    }
  });

  test('each key has the same placeholders in both languages', () => {
    const [first, ...others] = LANGUAGES;
    for (const key of ALL_KEYS) {
      const want = placeholders(strings(first)[key]);
      for (const language of others) {
        assert.deepEqual(placeholders(strings(language)[key]), want, `${key}: {placeholders} differ between ${first} and ${language}`);
      }
    }
  });

  test('no string is empty and English has no Chinese left in it', () => {
    for (const language of LANGUAGES) {
      for (const [key, s] of Object.entries(strings(language))) assert.ok(typeof s === 'string' && s.trim(), `${language} ${key}`);
    }
    for (const [key, s] of Object.entries(strings('en'))) {
      if (key === 'lang.zh-CN') continue;
      assert.doesNotMatch(s, /[\u4e00-\u9fff]/, `en ${key}`);
    }
  });

  test('the translator fills placeholders and shows an unknown key as itself', () => {
    assert.equal(translator('en')('common.saved', { path: '/tmp/x.csv', rows: 3 }), strings('en')['common.saved'].replace('{path}', '/tmp/x.csv').replace('{rows}', '3'));
    assert.equal(translator('en')('no.such-key'), 'no.such-key');
    assert.equal(translator('xx')('nav.signals'), strings('zh-CN')['nav.signals']);
  });

  test('every key the code uses exists', async () => {
    const dir = new URL('../js/', import.meta.url);
    const files = (await jsFiles(dir)).filter((f) => !f.startsWith('i18n/'));
    assert.ok(files.includes('views/signals/chart.js'), 'the scan reaches the panels in subfolders');
    const known = new Set(ALL_KEYS);
    for (const f of files) {
      const src = await readFile(new URL(f, dir), 'utf8');
      for (const [, key] of src.matchAll(/\bt\('([a-zA-Z0-9._-]+)'/g)) assert.ok(known.has(key), `${f}: ${key}`);
    }
  });
});
