// The characters the interface can show from its own text: every i18n string in both languages,
// the static text of index.html, the string literals of ui/js (the marks the views add: — · ↑ ↓
// ✓ …) and printable ASCII (numbers, symbols, what a user types). The bundled interface font
// (ui/fonts, made by scripts/subset-font.sh) holds exactly these; font.test.mjs checks that it
// still does. Run as a script, it prints them on one line for the subset script.
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LANGUAGES, strings } from '../js/i18n/index.js';

const UI = new URL('..', import.meta.url);

/** Interface characters Noto Sans CJK has no glyph for: drawn by the next family in app.css. */
export const NOT_IN_NOTO = ['\u26d4', '\u2717']; // ⛔ ✗

/** `source` with its comments removed: a small lexer that knows strings, templates and regexes. */
export function withoutComments(source) {
  let out = '';
  let i = 0;
  // The last significant character of code, to tell a regex's `/` from a division.
  let last = '';
  const templates = []; // brace depth at each open `${`
  let depth = 0;
  const copyQuoted = (quote) => {
    const start = i++;
    while (i < source.length && source[i] !== quote) i += source[i] === '\\' ? 2 : 1;
    i++;
    out += source.slice(start, i);
  };
  const copyTemplate = () => {
    // From just after a ` or a template's closing `}` up to the template's end or its next `${`.
    const start = i;
    while (i < source.length && source[i] !== '`' && !(source[i] === '$' && source[i + 1] === '{')) {
      i += source[i] === '\\' ? 2 : 1;
    }
    if (source[i] === '`') {
      i++;
    } else if (i < source.length) {
      i += 2;
      templates.push(depth);
    }
    out += source.slice(start, i);
    last = '`';
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
      out += ' ';
    } else if (c === '"' || c === "'") {
      copyQuoted(c);
      last = c;
    } else if (c === '`') {
      out += c;
      i++;
      copyTemplate();
    } else if (c === '/' && (last === '' || '(,=:[!&|?{};+-*%<>~^'.includes(last))) {
      const start = i++;
      let inClass = false;
      while (i < source.length && (inClass || source[i] !== '/')) {
        if (source[i] === '\\') i++;
        else if (source[i] === '[') inClass = true;
        else if (source[i] === ']') inClass = false;
        i++;
      }
      i++;
      out += source.slice(start, i);
      last = '/';
    } else {
      if (c === '{') depth++;
      if (c === '}') {
        if (templates.length && templates[templates.length - 1] === depth) {
          templates.pop();
          out += c;
          i++;
          copyTemplate();
          continue;
        }
        depth--;
      }
      out += c;
      if (!/\s/.test(c)) last = c;
      i++;
    }
  }
  return out;
}

/** Every .js file under `dir` (a URL ending in /). */
async function jsFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...await jsFiles(new URL(`${entry.name}/`, dir)));
    else if (entry.name.endsWith('.js')) out.push(new URL(entry.name, dir));
  }
  return out;
}

/** The interface's characters as a sorted array of one-character strings. */
export async function interfaceChars() {
  const chars = new Set();
  const add = (text) => {
    for (const ch of text) if (ch >= ' ' && ch !== '\u007f') chars.add(ch);
  };
  for (let c = 0x20; c < 0x7f; c++) chars.add(String.fromCodePoint(c));
  for (const language of LANGUAGES) for (const s of Object.values(strings(language))) add(s);
  add((await readFile(new URL('index.html', UI), 'utf8')).replace(/<!--[\s\S]*?-->/g, ''));
  // The i18n tables are covered above through their values (their keys are ASCII).
  for (const file of await jsFiles(new URL('js/', UI))) {
    if (!file.pathname.includes('/js/i18n/')) add(withoutComments(await readFile(file, 'utf8')));
  }
  return [...chars].sort((a, b) => a.codePointAt(0) - b.codePointAt(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${(await interfaceChars()).join('')}\n`);
}
