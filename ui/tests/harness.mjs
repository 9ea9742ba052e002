// Serves ui/ on 127.0.0.1 and opens it in Debian's Chromium with a fake desktop backend in
// place of window.__TAURI__, so the dashboard is tested the way a person sees it.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const UI_DIR = fileURLToPath(new URL('..', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' };

export async function serveUi() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const file = join(UI_DIR, path === '/' ? 'index.html' : path);
    if (!file.startsWith(UI_DIR)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Root needs --no-sandbox; the rest stop Chromium from dialling Google on a closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Runs in the page before any of its scripts. It mimics the shell: commands answer like
// src-tauri/src/commands, failures reject with {code, message}, events can be fired by tests.
function installFakeBackend(seed) {
  const fake = {
    calls: [],
    preferences: seed.preferences ?? { language: 'zh-CN', lastPanel: 'signals' },
    info: seed.info,
    failSetPreferences: seed.failSetPreferences ?? null,
    listeners: {},
  };
  const commands = {
    app_info: () => ({ ...fake.info }),
    get_preferences: () => ({ ...fake.preferences }),
    set_preferences: ({ preferences }) => {
      if (fake.failSetPreferences) throw fake.failSetPreferences;
      fake.preferences = { ...preferences };
      return { ...preferences };
    },
    set_signals_paused: ({ paused }) => paused,
  };
  window.__fake = fake;
  window.__fakeEmit = (event, payload) => (fake.listeners[event] ?? []).forEach((h) => h({ event, payload }));
  window.__TAURI__ = {
    core: {
      invoke: async (cmd, args = {}) => {
        fake.calls.push({ cmd, args: JSON.parse(JSON.stringify(args)) });
        const handler = commands[cmd];
        if (!handler) throw `command ${cmd} not found`;
        return handler(args);
      },
    },
    event: {
      listen: async (event, handler) => {
        (fake.listeners[event] ??= []).push(handler);
        return () => {};
      },
    },
  };
}

export const DEFAULT_INFO = {
  name: 'perpdesk', version: '0.1.0', mode: 'paper',
  dataDir: '/home/trader/.local/share/com.perpdesk.desktop',
  logDir: '/home/trader/.local/share/com.perpdesk.desktop/logs', signalsPaused: false,
};

/** Opens the dashboard with the fake backend seeded by `seed`; waits until it is ready. */
export async function openDashboard(browser, url, seed = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.addInitScript(installFakeBackend, { info: DEFAULT_INFO, ...seed });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, errors };
}
