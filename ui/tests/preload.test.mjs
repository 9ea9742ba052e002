// The page's start without a browser: index.html preloads every module main.js imports,
// directly or not, so the first screen waits for one round of fetches instead of one per
// import level, and the interface font's faces, which it waits for too. A module or face
// added without its preload still works, only later; this says so.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

const UI = new URL('../', import.meta.url);

/** The modules `path` (relative to ui/) imports statically, as paths relative to ui/. */
async function importsOf(path) {
  const text = await readFile(new URL(path, UI), 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*'([^']+)'/gms)].map((m) => m[1]);
  return specs.map((spec) => new URL(spec, new URL(path, UI)).pathname.slice(UI.pathname.length));
}

test('index.html preloads exactly the modules main.js needs', async () => {
  const needed = new Set();
  const queue = ['js/main.js'];
  while (queue.length) {
    for (const dep of await importsOf(queue.pop())) {
      if (!needed.has(dep)) {
        needed.add(dep);
        queue.push(dep);
      }
    }
  }
  assert.ok(needed.size > 10, `the import graph was read (${needed.size} modules)`);
  const html = await readFile(new URL('index.html', UI), 'utf8');
  const preloaded = new Set([...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]));
  assert.deepEqual([...needed].filter((m) => !preloaded.has(m)).sort(), [], 'imported but not preloaded');
  assert.deepEqual([...preloaded].filter((m) => !needed.has(m)).sort(), [], 'preloaded but never imported');
});

test('index.html preloads every face of the interface font', async () => {
  const css = await readFile(new URL('css/app.css', UI), 'utf8');
  const faces = [...css.matchAll(/@font-face\s*{[^}]*url\("\.\.\/([^"]+)"\)/g)].map((m) => m[1]);
  assert.equal(faces.length, 2, 'regular and bold');
  const html = await readFile(new URL('index.html', UI), 'utf8');
  for (const face of faces) {
    assert.ok(
      html.includes(`<link rel="preload" href="${face}" as="font" type="font/woff2" crossorigin>`),
      `${face} is preloaded (as a font, crossorigin, or the browser fetches it twice)`,
    );
  }
});
