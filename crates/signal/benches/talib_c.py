"""TA-Lib C's cost per candle for the indicators the `indicators` bench measures.

Runs the C library (as compiled into the PyPI `TA-Lib` wheel) on the same 1,000,000 candles
the Rust bench builds: the real BTCUSDT 1h file (26,280 candles) chained end to end, each copy
scaled so that it starts at the previous copy's last close (no price jump at the seams).
Each call goes from numpy arrays to freshly allocated numpy outputs, the same work a batch
wrapper does; over 1M rows the Python call overhead (~1 µs) is 0.001 ns per candle.

    pip download TA-Lib --no-deps -d /tmp/w && pip install --no-deps --target /tmp/w/site /tmp/w/*.whl
    PYTHONPATH=/tmp/w/site python3 crates/signal/benches/talib_c.py [repeats]

Prints, per indicator, the median and minimum wall time and the median CPU time of this
thread (ns/candle) over the repeats. On a shared, loaded machine the wall median mostly
measures the other processes; the minimum and the CPU time are the comparable figures.
"""

import os
import statistics
import sys
import time

import numpy as np
import talib

N = 1_000_000


def load():
    shared = os.environ.get("PERPDESK_SHARED") or os.path.join(
        os.path.dirname(__file__), "../../../../shared"
    )
    path = os.path.join(shared, "data/binance_um_BTCUSDT_1h_2021-2023.csv")
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(2, 3, 4, 5))
    high, low, close, volume = (np.ascontiguousarray(raw[:, i]) for i in range(4))
    parts = {"high": [], "low": [], "close": [], "volume": []}
    scale, total = 1.0, 0
    while total < N:
        parts["high"].append(high * scale)
        parts["low"].append(low * scale)
        parts["close"].append(close * scale)
        parts["volume"].append(volume)
        total += len(close)
        scale *= close[-1] / close[0]
    return tuple(np.ascontiguousarray(np.concatenate(parts[k])[:N]) for k in ("high", "low", "close", "volume"))


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    h, l, c, v = load()
    cases = [
        ("sma20", lambda: talib.SMA(c, 20)),
        ("ema20", lambda: talib.EMA(c, 20)),
        ("rsi14", lambda: talib.RSI(c, 14)),
        ("macd_12_26_9", lambda: talib.MACD(c, 12, 26, 9)),
        ("bbands_20_2", lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0)),
        ("atr14", lambda: talib.ATR(h, l, c, 14)),
        ("adx14", lambda: talib.ADX(h, l, c, 14)),
        ("stoch_14_3_3", lambda: talib.STOCH(h, l, c, 14, 3, 0, 3, 0)),
        ("obv", lambda: talib.OBV(c, v)),
    ]
    print(f"TA-Lib C {talib.__ta_version__.decode().split()[0]} via PyPI TA-Lib {talib.__version__}, {N} candles, {repeats} runs")
    total = 0.0
    for name, f in cases:
        f()  # warm: page in the inputs, let the allocator settle
        times, cpu = [], []
        for _ in range(repeats):
            c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
            f()
            times.append((time.perf_counter_ns() - t0) / N)
            cpu.append((time.thread_time_ns() - c0) / N)
        med, best, cmed = statistics.median(times), min(times), statistics.median(cpu)
        total += best
        print(f"{name:14} wall median {med:7.2f}  min {best:7.2f}   cpu median {cmed:7.2f} ns/candle")
    print(f"{'all nine':14} sum of the wall minima {total:7.2f} ns/candle")


if __name__ == "__main__":
    main()
