// The page keeps its own work that held its thread longer than a frame as `performance`
// measures (`noteSlow` in views/common.js), which the desktop measurement sets beside its long
// frames: what is kept, what is not, and that the record stays bounded.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { useBrowser } from './harness.mjs';

const { open } = useBrowser({ before, after, afterEach });

test('work longer than a frame (16 ms) is kept under its name, a frame or less is not', async () => {
  const { page } = await open();
  const kept = await page.evaluate(async () => {
    const { noteSlow, oncePerFrame } = await import('/js/views/common.js');
    const busy = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
    // Given times, so a busy machine pausing the page cannot make the short one long.
    const at = performance.now();
    noteSlow('test-long', at - 40, at);
    noteSlow('test-short', at - 2, at);
    noteSlow('test-frame', at - 16, at);
    // A redraw queued once a frame is timed under the name it was made with.
    await new Promise((resolve) => {
      oncePerFrame(() => { busy(30); setTimeout(resolve, 0); }, 'test-draw')();
    });
    return performance.getEntriesByType('measure')
      .filter((m) => m.name.startsWith('perpdesk:slow:test-'))
      .map((m) => [m.name, m.duration]);
  });
  const names = kept.map(([name]) => name);
  assert.deepEqual(names.sort(), ['perpdesk:slow:test-draw', 'perpdesk:slow:test-long']);
  for (const [name, ms] of kept) assert.ok(ms >= 30, `${name} lasted ${ms} ms`);
});

test('the record of slow work stays bounded', async () => {
  const { page } = await open();
  const count = await page.evaluate(async () => {
    const { noteSlow } = await import('/js/views/common.js');
    for (let i = 0; i < 450; i += 1) noteSlow('test-many', performance.now() - 20);
    return performance.getEntriesByType('measure').filter((m) => m.name.startsWith('perpdesk:slow:')).length;
  });
  assert.ok(count >= 1 && count <= 200, `${count} kept`);
});
