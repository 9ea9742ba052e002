// Interface strings. Chinese is the default, as in the original system; every key exists in
// both languages (ui/tests checks it), so a missing translation is caught before release.
export const LANGUAGES = ['zh-CN', 'en'];
export const DEFAULT_LANGUAGE = 'zh-CN';

const STRINGS = {
  'zh-CN': {
    'app.subtitle': '永续合约预测与代理交易',
    'app.language': '语言',
    'nav.api-config': 'API 配置',
    'nav.signals': '预测信号',
    'nav.trade': '交易执行',
    'nav.records': '交易记录',
    'nav.profit-share': '利润分成',
    'nav.risk': '风控设置',
    'mode.paper': '模拟盘',
    'mode.testnet': '测试网',
    'mode.live': '实盘',
    'signals.running': '信号运行中',
    'signals.paused': '信号已暂停',
    'status.not-connected': '尚未接入',
    'footer.version': '版本',
    'footer.data-dir': '数据目录',
    'error.prefix': '出错',
    'api-config.title': 'API 配置',
    'api-config.lead': '绑定币安 U 本位合约 API 密钥。只接受交易与读取权限；带提现权限的密钥会被拒绝。密钥加密保存在本机，不会显示在界面上。',
    'api-config.key': 'API Key',
    'api-config.secret': 'Secret Key',
    'api-config.password': '主密码',
    'api-config.bind': '验证并绑定',
    'api-config.permissions': '密钥权限',
    'signals.title': '预测信号',
    'signals.lead': '每根 K 线收盘时，由技术指标和机器学习模型给出方向与校准后的概率；每个信号都附带样本外实测战绩。',
    'signals.symbol': '交易对',
    'signals.direction': '方向',
    'signals.probability': '概率',
    'signals.track-record': '样本外战绩',
    'signals.time': '时间',
    'trade.title': '交易执行',
    'trade.lead': '一键下单：先设置杠杆与保证金模式，同时挂上止盈止损。下单前先过风控检查。',
    'trade.symbol': '交易对',
    'trade.side': '方向',
    'trade.leverage': '杠杆',
    'trade.quantity': '数量',
    'trade.stop-loss': '止损价',
    'trade.take-profit': '止盈价',
    'trade.place': '下单',
    'records.title': '交易记录',
    'records.lead': '订单、成交、持仓、资金费与手续费均从交易所同步；盈亏由这些记录计算，绝不估算。',
    'records.orders': '订单',
    'records.fills': '成交',
    'records.positions': '持仓',
    'profit-share.title': '利润分成',
    'profit-share.lead': '扣除手续费与资金费后、超过历史高水位的净已实现利润，默认按平台 70% / 用户 30% 分成。每条账目都对应交易所的成交与资金流水。',
    'profit-share.ratio': '分成比例（平台）',
    'profit-share.hwm': '高水位',
    'profit-share.ledger': '分成账本',
    'risk.title': '风控设置',
    'risk.lead': '每笔订单离开本机之前都要通过这些检查。',
    'risk.max-position': '最大持仓名义价值',
    'risk.max-trades': '每日最多交易次数',
    'risk.max-leverage': '最大杠杆',
    'risk.stop-loss': '强制止损',
    'risk.daily-loss': '每日亏损上限',
    'table.empty': '暂无数据',
  },
  en: {
    'app.subtitle': 'Perpetual futures signals & proxy trading',
    'app.language': 'Language',
    'nav.api-config': 'API configuration',
    'nav.signals': 'Prediction signals',
    'nav.trade': 'Trade execution',
    'nav.records': 'Trade records',
    'nav.profit-share': 'Profit sharing',
    'nav.risk': 'Risk settings',
    'mode.paper': 'Paper',
    'mode.testnet': 'Testnet',
    'mode.live': 'Live',
    'signals.running': 'Signals running',
    'signals.paused': 'Signals paused',
    'status.not-connected': 'Not connected yet',
    'footer.version': 'Version',
    'footer.data-dir': 'Data folder',
    'error.prefix': 'Error',
    'api-config.title': 'API configuration',
    'api-config.lead': 'Bind a Binance USDⓈ-M API key. Only trade and read permissions are accepted; a key that can withdraw is refused. The key is encrypted on this machine and never shown in the UI.',
    'api-config.key': 'API key',
    'api-config.secret': 'Secret key',
    'api-config.password': 'Master password',
    'api-config.bind': 'Verify and bind',
    'api-config.permissions': 'Key permissions',
    'signals.title': 'Prediction signals',
    'signals.lead': 'On every candle close, technical indicators and a machine-learned model give a direction with a calibrated probability; every signal carries its measured out-of-sample track record.',
    'signals.symbol': 'Symbol',
    'signals.direction': 'Direction',
    'signals.probability': 'Probability',
    'signals.track-record': 'Out-of-sample record',
    'signals.time': 'Time',
    'trade.title': 'Trade execution',
    'trade.lead': 'One click places the order: leverage and margin type are set first, take-profit and stop-loss attached. Every order passes the risk check first.',
    'trade.symbol': 'Symbol',
    'trade.side': 'Side',
    'trade.leverage': 'Leverage',
    'trade.quantity': 'Quantity',
    'trade.stop-loss': 'Stop-loss price',
    'trade.take-profit': 'Take-profit price',
    'trade.place': 'Place order',
    'records.title': 'Trade records',
    'records.lead': 'Orders, fills, positions, funding and commission are synced from the exchange; PnL is computed from them, never guessed.',
    'records.orders': 'Orders',
    'records.fills': 'Fills',
    'records.positions': 'Positions',
    'profit-share.title': 'Profit sharing',
    'profit-share.lead': 'Net realized profit after commission and funding, above the high-water mark, is split platform 70% / user 30% by default. Every ledger row ties to the exchange\'s trade and income records.',
    'profit-share.ratio': 'Platform share',
    'profit-share.hwm': 'High-water mark',
    'profit-share.ledger': 'Profit-share ledger',
    'risk.title': 'Risk settings',
    'risk.lead': 'Every order passes these checks before it leaves this machine.',
    'risk.max-position': 'Max position notional',
    'risk.max-trades': 'Max trades per day',
    'risk.max-leverage': 'Max leverage',
    'risk.stop-loss': 'Mandatory stop-loss',
    'risk.daily-loss': 'Daily loss limit',
    'table.empty': 'No data yet',
  },
};

export function strings(language) {
  return STRINGS[language] ?? STRINGS[DEFAULT_LANGUAGE];
}

/** Returns a translator for `language`; an unknown key shows itself so it is easy to spot. */
export function translator(language) {
  const table = strings(language);
  return (key) => table[key] ?? key;
}

/** Fills every `[data-i18n]` element under `root`. */
export function applyLanguage(root, language) {
  const t = translator(language);
  root.documentElement.lang = language;
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
}

export const ALL_KEYS = Object.keys(STRINGS[DEFAULT_LANGUAGE]);
export const KEYS_BY_LANGUAGE = Object.fromEntries(
  Object.entries(STRINGS).map(([lang, table]) => [lang, Object.keys(table)]),
);
