// The words for a signal and its track record, shared by the watchlist and the chart's detail.
/** "↑ 做多", or for a flat signal the word "flat" with the way the model leans. */
export function directionText(t, sig) {
  if (!sig) return '—';
  if (sig.direction === 'flat') return `— ${t('dir.flat')} (${t('signals.lean')} ${t(`dir.${sig.lean}`)})`;
  return `${sig.direction === 'long' ? '↑' : '↓'} ${t(`dir.${sig.direction}`)}`;
}

/** The model's out-of-sample record in one line, ending in whether it beat every baseline. */
export function recordText(t, fmt, rec) {
  if (!rec) return '—';
  const beat = rec.beats_baselines && rec.beats_base_rate ? `✓ ${t('signals.edge-yes')}` : `✗ ${t('signals.edge-no')}`;
  return `${t('signals.accuracy')} ${fmt.pct(rec.accuracy, { fraction: true })} · ${t('signals.net')} ${fmt.pct(rec.model_net_pnl_pct)} · ${t('signals.best-baseline')} ${rec.best_baseline} ${fmt.pct(rec.best_baseline_net_pnl_pct)} · ${beat}`;
}
