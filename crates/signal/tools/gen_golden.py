#!/usr/bin/env python3
# Regenerates tests/golden/btcusdt_1h_first2000.json from the TA-Lib C library (PyPI wheel `TA-Lib`).
# Kept for provenance only: the tests read the committed JSON and never need Python or the wheel.
# Usage: python3 -m pip install TA-Lib && python3 tools/gen_golden.py
import csv, json, math, os, sys
import numpy as np
import talib

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get("PERPDESK_SHARED", os.path.join(here, "..", "..", "..", "..", "shared"))
path = os.path.join(shared, "data", "binance_um_BTCUSDT_1h_2021-2023.csv")
rows = []
with open(path) as f:
    for r in csv.DictReader(f):
        rows.append(r)
        if len(rows) == 2000:
            break
h = np.array([float(r["high"]) for r in rows])
l = np.array([float(r["low"]) for r in rows])
c = np.array([float(r["close"]) for r in rows])
v = np.array([float(r["volume"]) for r in rows])

def clean(a):
    return [None if math.isnan(x) else float(x) for x in a]

macd, macds, macdh = talib.MACD(c, 12, 26, 9)
up, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
sk, sd = talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
out = {
    "source": "binance_um_BTCUSDT_1h_2021-2023.csv, first 2000 rows",
    "generator": "TA-Lib C library via PyPI TA-Lib " + talib.__version__ + " (tools/gen_golden.py)",
    "first_open_time_ms": int(rows[0]["open_time_ms"]),
    "rows": len(rows),
    "sma20": clean(talib.SMA(c, 20)),
    "ema20": clean(talib.EMA(c, 20)),
    "rsi14": clean(talib.RSI(c, 14)),
    "atr14": clean(talib.ATR(h, l, c, 14)),
    "adx14": clean(talib.ADX(h, l, c, 14)),
    "obv": clean(talib.OBV(c, v)),
    "macd": clean(macd), "macd_signal": clean(macds), "macd_hist": clean(macdh),
    "bb_upper": clean(up), "bb_middle": clean(mid), "bb_lower": clean(lo),
    "stoch_k": clean(sk), "stoch_d": clean(sd),
}
dst = os.path.join(here, "..", "tests", "golden", "btcusdt_1h_first2000.json")
with open(dst, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", dst)
