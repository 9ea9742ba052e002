// The command and event names, without a browser: api.js calls exactly the commands the shell
// registers and listens for exactly the events it emits, and reads are bare nouns
// (docs/ipc.md), so no command name starts with get_ or list_.
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

/** The event names the shell emits (`pub const NAME: &str = "..."` in src-tauri/src/events.rs). */
async function emitted() {
  const events = await read('../../src-tauri/src/events.rs');
  return new Set([...events.matchAll(/pub const \w+: &str = "([^"]+)";/g)].map((m) => m[1]));
}

/** The event names api.js listens for (its `EVENTS` object). */
async function listened() {
  const api = await read('../js/api.js');
  const list = api.match(/export const EVENTS = \{([^}]*)\}/);
  assert.ok(list, 'api.js has an EVENTS object');
  return new Set([...list[1].matchAll(/'([^']+)'/g)].map((m) => m[1]));
}

describe('event names', () => {
  test('api.js names exactly the events the shell emits', async () => {
    const [shell, ui] = [await emitted(), await listened()];
    assert.ok(shell.has('app-events'), `the engine's events are one batched event (${[...shell]})`);
    assert.deepEqual([...ui].sort(), [...shell].sort());
  });
});

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
