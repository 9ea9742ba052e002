// The bundled interface font (ui/fonts, scripts/subset-font.sh) holds every character the
// interface shows from its own strings, so adding a string without regenerating the font is
// caught here, not by a trader seeing a glyph from another font. The font files are read as
// the webview reads them: WOFF2, brotli-compressed tables, the character map parsed by hand.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { brotliDecompressSync } from 'node:zlib';
import { after, afterEach, before, describe, test } from 'node:test';
import { launchBrowser, openDashboard, serveUi, useBrowser } from './harness.mjs';
import { NOT_IN_NOTO, interfaceChars } from './interface-chars.mjs';

const UI = new URL('..', import.meta.url);
const FACES = [['regular', 400], ['bold', 700]];

// WOFF2's table directory names the common tables by an index into this list (spec 5.1).
const KNOWN_TAGS = ('cmap head hhea hmtx maxp name OS/2 post cvt  fpgm glyf loca prep CFF  VORG EBDT '
  + 'EBLC gasp hdmx kern LTSH PCLT VDMX vhea vmtx BASE GDEF GPOS GSUB EBSC JSTF MATH CBDT CBLC COLR '
  + 'CPAL SVG  sbix acnt avar bdat bloc bsln cvar fdsc feat fmtx fvar gvar hsty just lcar mort morx '
  + 'opbd prop trak Zapf Silf Glat Gloc Feat Sill').match(/.{4}\s?/g).map((t) => t.slice(0, 4));

/** The tables of a WOFF2 file by tag, each as a DataView of its (untransformed) bytes. */
export function woff2Tables(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint32(0), 0x774f4632, 'not a WOFF2 file (wOF2 signature)');
  const numTables = view.getUint16(12);
  const compressedSize = view.getUint32(20);
  let pos = 48;
  const base128 = () => {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = view.getUint8(pos++);
      value = value * 128 + (b & 0x7f);
      if (!(b & 0x80)) return value;
    }
    throw new Error('UIntBase128 longer than 5 bytes');
  };
  const entries = [];
  for (let i = 0; i < numTables; i++) {
    const flags = view.getUint8(pos++);
    let tag = KNOWN_TAGS[flags & 0x3f];
    if ((flags & 0x3f) === 63) {
      tag = String.fromCharCode(...bytes.subarray(pos, pos + 4));
      pos += 4;
    }
    const version = flags >> 6;
    const origLength = base128();
    // glyf and loca are transformed at version 0; every other table at any version but 0.
    const transformed = tag === 'glyf' || tag === 'loca' ? version === 0 : version !== 0;
    entries.push({ tag, length: transformed ? base128() : origLength, transformed });
  }
  // The tables follow one another without padding in a single brotli stream.
  const data = brotliDecompressSync(bytes.subarray(pos, pos + compressedSize));
  const tables = new Map();
  let offset = 0;
  for (const { tag, length, transformed } of entries) {
    if (!transformed) tables.set(tag, new DataView(data.buffer, data.byteOffset + offset, length));
    offset += length;
  }
  assert.equal(offset, data.length, 'the table directory does not add up to the decompressed data');
  return tables;
}

/** The code points the font maps to a glyph other than .notdef, from its Unicode cmap. */
export function mappedCodePoints(cmap) {
  const subtables = new Map();
  for (let i = 0; i < cmap.getUint16(2); i++) {
    const at = 4 + i * 8;
    subtables.set(`${cmap.getUint16(at)}/${cmap.getUint16(at + 2)}`, cmap.getUint32(at + 4));
  }
  const out = new Set();
  const full = subtables.get('3/10') ?? subtables.get('0/4');
  if (full !== undefined && cmap.getUint16(full) === 12) {
    const groups = cmap.getUint32(full + 12);
    for (let g = 0; g < groups; g++) {
      const at = full + 16 + g * 12;
      const [start, end, glyph] = [cmap.getUint32(at), cmap.getUint32(at + 4), cmap.getUint32(at + 8)];
      for (let c = start; c <= end; c++) if (glyph + c - start !== 0) out.add(c);
    }
    return out;
  }
  const bmp = subtables.get('3/1') ?? subtables.get('0/3');
  assert.ok(bmp !== undefined, 'the font has no Unicode cmap');
  assert.equal(cmap.getUint16(bmp), 4, 'the BMP cmap is not format 4');
  const segments = cmap.getUint16(bmp + 6) / 2;
  const ends = bmp + 14;
  const starts = ends + segments * 2 + 2;
  const deltas = starts + segments * 2;
  const rangeOffsets = deltas + segments * 2;
  for (let s = 0; s < segments; s++) {
    const [start, end] = [cmap.getUint16(starts + s * 2), cmap.getUint16(ends + s * 2)];
    const delta = cmap.getUint16(deltas + s * 2);
    const rangeOffset = cmap.getUint16(rangeOffsets + s * 2);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let glyph = 0;
      if (rangeOffset === 0) {
        glyph = (c + delta) & 0xffff;
      } else {
        const raw = cmap.getUint16(rangeOffsets + s * 2 + rangeOffset + (c - start) * 2);
        glyph = raw === 0 ? 0 : (raw + delta) & 0xffff;
      }
      if (glyph !== 0) out.add(c);
    }
  }
  return out;
}

/** The English (Windows) name record `id` of the font's name table. */
function nameRecord(name, id) {
  const count = name.getUint16(2);
  const strings = name.getUint16(4);
  for (let i = 0; i < count; i++) {
    const at = 6 + i * 12;
    const [platform, , language, nameId, length, offset] = [0, 2, 4, 6, 8, 10].map((o) => name.getUint16(at + o));
    if (platform === 3 && language === 0x409 && nameId === id) {
      let s = '';
      for (let j = 0; j < length; j += 2) s += String.fromCharCode(name.getUint16(strings + offset + j));
      return s;
    }
  }
  return undefined;
}

async function face(file) {
  return woff2Tables(await readFile(new URL(`fonts/perpdesk-sans-${file}.woff2`, UI)));
}

describe('the bundled interface font', () => {
  test('holds every character of both languages\' strings, the page\'s text and the marks the views add, in both weights', async () => {
    const chars = await interfaceChars();
    // The check is not vacuous: Chinese, English and the views' own marks are all in the set.
    for (const ch of ['交', '易', 'A', '7', '—', '↑', '·']) assert.ok(chars.includes(ch), `${ch} missing from the interface's characters`);
    for (const [file] of FACES) {
      const mapped = mappedCodePoints((await face(file)).get('cmap'));
      const missing = chars.filter((ch) => !mapped.has(ch.codePointAt(0)) && !NOT_IN_NOTO.includes(ch));
      assert.deepEqual(missing, [], `perpdesk-sans-${file}.woff2 lacks these interface characters: run scripts/subset-font.sh`);
      // The ones the font cannot have stay few and known: each is truly absent.
      for (const ch of NOT_IN_NOTO) assert.ok(!mapped.has(ch.codePointAt(0)), `${ch} is in the font now: drop it from NOT_IN_NOTO`);
    }
  });

  test('is named as app.css asks, under a name that is neither a reserved nor a trademarked one', async () => {
    const css = await readFile(new URL('css/app.css', UI), 'utf8');
    const [, families] = css.match(/:root\s*\{[^}]*?font-family:\s*([^;]+);/);
    const list = families.split(',').map((f) => f.trim().replace(/^"|"$/g, ''));
    assert.equal(list[0], 'Perpdesk Sans');
    assert.ok(list.includes('Noto Sans CJK SC'), 'the system CJK font stays the fallback for other text');
    for (const [file, weight] of FACES) {
      assert.match(css, new RegExp(`@font-face \\{ font-family: "Perpdesk Sans"; font-weight: ${weight}; src: url\\("../fonts/perpdesk-sans-${file}.woff2"\\) format\\("woff2"\\); \\}`));
      const name = (await face(file)).get('name');
      for (const id of [1, 4, 6, 16]) {
        const value = nameRecord(name, id);
        assert.ok(value?.startsWith('Perpdesk') || value?.startsWith('PerpdeskSans'), `name ${id} of ${file}: ${value}`);
        assert.doesNotMatch(value, /Source|Noto/);
      }
      assert.match(nameRecord(name, 13), /SIL Open Font License/);
    }
    assert.match(await readFile(new URL('fonts/OFL.txt', UI), 'utf8'), /SIL OPEN FONT LICENSE Version 1\.1/);
  });
});

describe('the interface font in the page', () => {
  const { open } = useBrowser({ before, after, afterEach });

  for (const language of ['zh-CN', 'en']) {
    test(`${language}: both weights load under the app's CSP and draw the text`, async () => {
      const { page } = await open({ preferences: { language } });
      await page.waitForSelector('[data-testid=mode-badge]');
      const loaded = await page.evaluate(async () => {
        await document.fonts.ready;
        // Bold text on screen (the brand) and regular (the nav) ask for both faces.
        const faces = [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'Perpdesk Sans');
        await Promise.all(faces.map((f) => f.load()));
        return faces.map((f) => `${f.weight}:${f.status}`).sort();
      });
      assert.deepEqual(loaded, ['400:loaded', '700:loaded']);
      assert.ok(await page.evaluate(() => document.fonts.check('14px "Perpdesk Sans"', '交易记录 Records')));
    });
  }
});

describe('the page waits for the interface font', () => {
  let served;
  let browser;
  before(async () => {
    served = await serveUi();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    served?.server.close();
  });

  test('nothing is laid out while a face is still loading, and the page shows once both are there', async () => {
    const context = await browser.newContext();
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    let asked;
    const askedFor = new Promise((resolve) => { asked = resolve; });
    await context.route('**/fonts/perpdesk-sans-bold.woff2', async (route) => {
      asked();
      await held;
      await route.continue();
    });
    const opening = openDashboard(context, served.url, {});
    await askedFor;
    const page = context.pages()[0];
    // The first backend call is out and the regular face may well be in; the body stays hidden.
    await page.waitForFunction(() => window.__fake?.calls.some((c) => c.cmd === 'app_info') ?? false);
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).display), 'none');
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('fonts-loading')), true);
    release();
    const { errors } = await opening;
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).display), 'grid');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a face that fails to load still shows the page, in the system fonts behind it', async () => {
    const context = await browser.newContext();
    await context.route('**/fonts/*.woff2', (route) => route.fulfill({ status: 404, body: '' }));
    const { page } = await openDashboard(context, served.url, {});
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('fonts-loading')), false);
    assert.ok((await page.textContent('[data-testid=mode-badge]')).trim());
    await context.close();
  });
});
