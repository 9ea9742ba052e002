// The command names, without a browser: api.js calls exactly the commands the shell registers,
// and reads are bare nouns (docs/ipc.md), so no command name starts with get_ or list_.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';

const read = (path) => readFile(new URL(path, import.meta.url), 'utf8');

/** The commands in the shell's `generate_handler!` list (`commands::<area>::<name>`). */
async function registered() {
  const lib = await read('../../src-tauri/src/lib.rs');
  const list = lib.match(/generate_handler!\[([^\]]*)\]/);
  assert.ok(list, 'src-tauri/src/lib.rs has a generate_handler! list');
  return new Set([...list[1].matchAll(/commands::\w+::(\w+)/g)].map((m) => m[1]));
}

/** The commands api.js invokes (`call('<name>'`). */
async function called() {
  const api = await read('../js/api.js');
  return new Set([...api.matchAll(/\bcall\('(\w+)'/g)].map((m) => m[1]));
}

describe('command names', () => {
  test('api.js calls only commands the shell registers, and every one of them', async () => {
    const [shell, ui] = [await registered(), await called()];
    assert.ok(shell.size > 40, `the handler list was read (${shell.size} commands)`);
    assert.deepEqual([...ui].filter((c) => !shell.has(c)).sort(), [], 'called but not registered');
    assert.deepEqual([...shell].filter((c) => !ui.has(c)).sort(), [], 'registered but never called');
  });

  test('no command is named in the get_ or list_ style', async () => {
    for (const name of [...await registered(), ...await called()]) {
      assert.doesNotMatch(name, /^(get|list)_/, `${name}: a read is a bare noun (docs/ipc.md)`);
    }
  });
});
