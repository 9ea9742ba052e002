// Interface strings. Chinese is the default, as in the original system; each language has its
// own file, and every key exists in both with the same `{placeholders}` (ui/tests/i18n.test.mjs
// checks it), so a missing translation is caught before release. `{name}` in a string is
// filled from the translator's second argument.
import en from './en.js';
import zhCN from './zh-CN.js';

export const LANGUAGES = ['zh-CN', 'en'];
export const DEFAULT_LANGUAGE = 'zh-CN';

const STRINGS = { 'zh-CN': zhCN, en };

export function strings(language) {
  return STRINGS[language] ?? STRINGS[DEFAULT_LANGUAGE];
}

/** Returns a translator for `language`; an unknown key shows itself so it is easy to spot. */
export function translator(language) {
  const table = strings(language);
  return (key, vars) => {
    const s = table[key] ?? key;
    return vars ? s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : s;
  };
}

/** Fills every `[data-i18n]` element's text and `[data-i18n-aria]` element's label under `root`. */
export function applyLanguage(root, language) {
  const t = translator(language);
  root.documentElement.lang = language;
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }
}

export const ALL_KEYS = Object.keys(STRINGS[DEFAULT_LANGUAGE]);
export const KEYS_BY_LANGUAGE = Object.fromEntries(
  Object.entries(STRINGS).map(([lang, table]) => [lang, Object.keys(table)]),
);
