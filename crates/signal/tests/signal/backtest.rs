//! The backtest on hand-built candles, with PnL, fees and funding computed by hand.

use chrono::{DateTime, TimeZone, Utc};
use perpdesk_signal::backtest::{BacktestConfig, ExitReason, FundingRates, Side, backtest};
use perpdesk_signal::{Ohlcv, OosPrediction};

/// Hourly candles from `(open, high, low, close)`, the first opening at `start_hour` UTC.
fn candles(start_hour: u32, bars: &[(f64, f64, f64, f64)]) -> Ohlcv {
    let t0 = Utc
        .with_ymd_and_hms(2024, 1, 1, start_hour, 0, 0)
        .single()
        .expect("valid time");
    Ohlcv {
        open_time: (0..bars.len())
            .map(|i| t0 + chrono::Duration::hours(i as i64))
            .collect(),
        open: bars.iter().map(|b| b.0).collect(),
        high: bars.iter().map(|b| b.1).collect(),
        low: bars.iter().map(|b| b.2).collect(),
        close: bars.iter().map(|b| b.3).collect(),
        volume: vec![1.0; bars.len()],
    }
}

fn preds(x: &Ohlcv, from: usize, p: &[(usize, f64)]) -> Vec<OosPrediction> {
    (from..x.len())
        .map(|i| OosPrediction {
            index: i,
            open_time: x.open_time[i],
            p_up: p.iter().find(|q| q.0 == i).map_or(0.5, |q| q.1),
        })
        .collect()
}

fn cfg() -> BacktestConfig {
    BacktestConfig {
        threshold: 0.6,
        tp_atr: 1.0,
        sl_atr: 1.0,
        atr_period: 1,
        horizon: 3,
        leverage: 2.0,
        taker_fee: 0.0005,
        slippage: 0.001,
        default_funding_rate: 0.0001,
        bars_per_year: 8760.0,
        seed: 7,
        maint_margin_rate: 0.004,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

// ATR(1) at bar 1 is its true range: max(102 - 98, |102 - 100|, |98 - 100|) = 4.
const BARS: [(f64, f64, f64, f64); 5] = [
    (100.0, 101.0, 99.0, 100.0),
    (100.0, 102.0, 98.0, 100.0),
    (100.0, 103.0, 99.0, 102.0),
    (102.0, 105.0, 101.0, 104.0),
    (104.0, 104.0, 104.0, 104.0),
];

#[test]
fn long_take_profit_by_hand() {
    let x = candles(1, &BARS);
    let r = backtest(
        &x,
        &preds(&x, 1, &[(1, 0.7)]),
        cfg(),
        &FundingRates::default(),
    )
    .expect("backtest");
    let m = &r.model;
    assert_eq!(m.trades, 1);
    let t = m.trade_log[0];
    assert_eq!((t.side, t.entry_index, t.exit_index), (Side::Long, 1, 3));
    assert_eq!(t.exit, ExitReason::TakeProfit);
    // Entry at the signal bar's close plus slippage; notional 2 × equity 1.
    let entry = 100.0 * 1.001;
    let qty = 2.0 / entry;
    let tp = entry + 4.0;
    let exit = tp * (1.0 - 0.001);
    let fees = 0.0005 * qty * entry + 0.0005 * qty * exit;
    let net = qty * (exit - entry) - fees;
    assert!(close(t.entry_price, entry) && close(t.exit_price, exit));
    assert!(close(t.fees, fees), "{} vs {fees}", t.fees);
    assert!(close(t.funding, 0.0), "no funding time crossed");
    assert!(close(m.net_pnl_pct, net * 100.0));
    assert!(close(m.win_rate, 1.0));
    // Open during bars 2 and 3 of the 4 tested bars.
    assert!(close(m.exposure, 0.5));
    assert_eq!(m.equity.len(), 4);
}

#[test]
fn short_pays_no_funding_receives_it_and_series_overrides_default() {
    // Bars open at 22:00, 23:00, 00:00 (funding), 01:00, 02:00. Nothing hits a barrier.
    let bars = [
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 102.0, 98.0, 100.0),
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 101.0, 99.0, 100.0),
    ];
    let x = candles(22, &bars);
    let p = preds(&x, 1, &[(1, 0.3)]);
    let c = BacktestConfig {
        horizon: 2,
        ..cfg()
    };
    let entry = 100.0 * (1.0 - 0.001);
    let qty = 2.0 / entry;
    for (rates, rate) in [
        (FundingRates::default(), 0.0001),
        (
            FundingRates::new(&[(x.open_time[2], 0.0003)]).expect("rates"),
            0.0003,
        ),
    ] {
        let r = backtest(&x, &p, c, &rates).expect("backtest");
        let t = r.model.trade_log[0];
        assert_eq!((t.side, t.exit), (Side::Short, ExitReason::Horizon));
        assert_eq!(t.exit_index, 3, "closes at the close of entry + horizon");
        // A short receives funding: negative payment, at the funding bar's open.
        assert!(close(t.funding, -rate * qty * 100.0), "{}", t.funding);
        let exit = 100.0 * 1.001;
        let fees = 0.0005 * qty * (entry + exit);
        let net = -qty * (exit - entry) - fees + rate * qty * 100.0;
        assert!(close(r.model.net_pnl_pct, net * 100.0));
    }
}

#[test]
fn funding_is_charged_at_the_series_own_times_and_the_default_outside_it() {
    // Bars open 02:00 … 10:00; a short opens at the close of the 03:00 bar (04:00) and closes
    // at the close of the 10:00 bar. Funding falls at the opens of the 04:00 and 08:00 bars.
    let x = candles(2, &[(100.0, 101.0, 99.0, 100.0); 9]);
    let p = preds(&x, 1, &[(1, 0.3)]);
    let c = BacktestConfig {
        horizon: 7,
        ..cfg()
    };
    let at = |h: u32| {
        Utc.with_ymd_and_hms(2024, 1, 1, h, 0, 0)
            .single()
            .expect("time")
    };
    let qty = 2.0 / (100.0 * (1.0 - 0.001));
    let four_hourly = [
        (at(0), 0.0002),
        (at(4), 0.0003),
        (at(8), 0.0005),
        (at(12), 0.0007),
    ];
    // A series on 4h funding covering the trade: charged at 04:00 and 08:00 (the old rule
    // charged 08:00 only).
    // A series ending at 04:00: its 04:00 rate, then the default at 08:00.
    // No series: the default at 08:00 only.
    for (rates, paid) in [
        (&four_hourly[..], 0.0003 + 0.0005),
        (&four_hourly[..2], 0.0003 + 0.0001),
        (&[][..], 0.0001),
    ] {
        let rates = FundingRates::new(rates).expect("rates");
        let r = backtest(&x, &p, c, &rates).expect("backtest");
        let t = r.model.trade_log[0];
        assert_eq!(
            (t.side, t.exit, t.exit_index),
            (Side::Short, ExitReason::Horizon, 8)
        );
        assert!(
            close(t.funding, -paid * qty * 100.0),
            "{} vs {paid}",
            t.funding
        );
    }
}

#[test]
fn stop_is_assumed_first_when_a_bar_touches_both() {
    let mut bars = BARS;
    bars[2] = (100.0, 110.0, 90.0, 100.0);
    let x = candles(1, &bars);
    let r = backtest(
        &x,
        &preds(&x, 1, &[(1, 0.9)]),
        cfg(),
        &FundingRates::default(),
    )
    .expect("backtest");
    let t = r.model.trade_log[0];
    assert_eq!((t.exit, t.exit_index), (ExitReason::StopLoss, 2));
    assert!(close(t.exit_price, (100.1 - 4.0) * (1.0 - 0.001)));
}

#[test]
fn later_candles_do_not_change_earlier_results() {
    let x = candles(1, &BARS);
    let p = preds(&x, 1, &[(1, 0.7)]);
    let a = backtest(&x, &p, cfg(), &FundingRates::default()).expect("a");
    let mut y = x.clone();
    // Crash the last bar: the equity before it must not move.
    y.open[4] = 50.0;
    y.high[4] = 50.0;
    y.low[4] = 40.0;
    y.close[4] = 45.0;
    let b = backtest(&y, &p, cfg(), &FundingRates::default()).expect("b");
    for r in [(&a.model, &b.model)]
        .into_iter()
        .chain(a.baselines.iter().zip(&b.baselines))
    {
        assert_eq!(r.0.equity[..3], r.1.equity[..3], "{}", r.0.name);
    }
}

#[test]
fn baselines_are_named_seeded_and_the_coin_flips_as_often() {
    // A seeded zig-zag long enough for every rule to trade.
    let mut s = 1u64;
    let mut price = 100.0;
    let bars: Vec<_> = (0..600)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let r = ((s >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.02;
            let open = price;
            price *= 1.0 + r;
            (
                open,
                open.max(price) * 1.002,
                open.min(price) * 0.998,
                price,
            )
        })
        .collect();
    let x = candles(0, &bars);
    let p: Vec<_> = preds(&x, 100, &[])
        .into_iter()
        .map(|mut q| {
            q.p_up = if q.index % 7 == 0 { 0.8 } else { 0.5 };
            q
        })
        .collect();
    let a = backtest(&x, &p, cfg(), &FundingRates::default()).expect("a");
    let b = backtest(&x, &p, cfg(), &FundingRates::default()).expect("b");
    assert_eq!(a, b);
    let names: Vec<_> = a.baselines.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "buy_and_hold",
            "ema_20_50_cross",
            "rsi14_reversion",
            "coin_flip"
        ]
    );
    assert!(a.model.trades > 10);
    let coin = &a.baselines[3];
    assert!(coin.trades <= a.model.trades && coin.trades * 10 >= a.model.trades * 9);
    assert_eq!(a.baselines[0].trades, 1);
    let _: DateTime<Utc> = a.start;
}

#[test]
fn bad_input_is_an_error() {
    let x = candles(1, &BARS);
    let rates = FundingRates::default();
    assert!(backtest(&x, &[], cfg(), &rates).is_err(), "no forecasts");
    let bad = BacktestConfig {
        threshold: 0.5,
        ..cfg()
    };
    assert!(backtest(&x, &preds(&x, 1, &[]), bad, &rates).is_err());
    let out_of_range = [OosPrediction {
        index: 99,
        open_time: x.open_time[0],
        p_up: 0.9,
    }];
    assert!(backtest(&x, &out_of_range, cfg(), &rates).is_err());
    assert!(FundingRates::new(&[(x.open_time[0], f64::NAN)]).is_err());
    use perpdesk_signal::{parse_funding, parse_klines};
    assert!(parse_klines("nope\n1,2,3").is_err());
    assert!(parse_klines("open_time_ms,open,high,low,close,volume\n1,2,3,x,4,5").is_err());
    assert_eq!(
        parse_klines("open_time_ms,open,high,low,close,volume,q\n0,1,2,0.5,1.5,10,\n")
            .expect("one candle")
            .len(),
        1
    );
    assert!(parse_funding("funding_time_ms,funding_rate\n0,NaN").is_err());
}

#[test]
fn a_signal_on_the_last_bar_is_not_traded() {
    let x = candles(1, &BARS);
    let r = backtest(
        &x,
        &preds(&x, 1, &[(4, 0.9)]),
        cfg(),
        &FundingRates::default(),
    )
    .expect("backtest");
    assert_eq!(r.model.trades, 0, "no later bar to exit on");
}

/// Leverage 10, stop 5 ATRs away: the liquidation price comes first.
fn leveraged() -> BacktestConfig {
    BacktestConfig {
        leverage: 10.0,
        sl_atr: 5.0,
        ..cfg()
    }
}

#[test]
fn liquidation_by_hand_loses_the_margin_and_ends_trading() {
    let mut bars = BARS;
    bars[2] = (100.0, 103.0, 90.0, 95.0);
    let x = candles(1, &bars);
    // Signals on every bar: none may trade after the liquidation.
    let r = backtest(
        &x,
        &preds(&x, 1, &[(1, 0.7), (2, 0.7), (3, 0.7)]),
        leveraged(),
        &FundingRates::default(),
    )
    .expect("backtest");
    let entry = 100.0 * 1.001;
    let qty = 10.0 / entry;
    let cash = 1.0 - 0.0005 * qty * entry;
    // C + q (LP − EP) = mmr · q · LP  ⇒  LP = (q·EP − C) / (q (1 − mmr)) ≈ 90.50.
    let lp: f64 = (qty * entry - cash) / (qty * (1.0 - 0.004));
    assert!((lp - 90.503).abs() < 1e-3, "{lp}");
    let m = &r.model;
    assert_eq!(m.trades, 1);
    let t = m.trade_log[0];
    assert_eq!((t.exit, t.exit_index), (ExitReason::Liquidation, 2));
    assert!(close(t.exit_price, lp));
    assert!(close(t.net_return, -1.0));
    assert!(close(t.fees, 0.0005 * qty * entry));
    assert!(close(m.net_pnl_pct, -100.0));
    assert!(m.equity[1..].iter().all(|p| p.equity == 0.0));
    // Buy-and-hold at the same leverage meets the same fate.
    let hold = &r.baselines[0];
    assert_eq!(hold.trade_log[0].exit, ExitReason::Liquidation);
    assert!(close(hold.net_pnl_pct, -100.0));
}

#[test]
fn a_stop_before_the_liquidation_price_fills_first_unless_the_bar_gaps_through() {
    let mut bars = BARS;
    bars[2] = (100.0, 103.0, 90.0, 95.0);
    let x = candles(1, &bars);
    let tight = BacktestConfig {
        sl_atr: 2.0,
        ..leveraged()
    };
    let p = preds(&x, 1, &[(1, 0.7)]);
    let r = backtest(&x, &p, tight, &FundingRates::default()).expect("backtest");
    let t = r.model.trade_log[0];
    assert_eq!(t.exit, ExitReason::StopLoss);
    assert!(close(t.exit_price, (100.1 - 8.0) * (1.0 - 0.001)));
    assert!(r.model.net_pnl_pct > -100.0);

    // Opening below the liquidation price: liquidated even though the stop was nearer.
    bars[2] = (85.0, 86.0, 84.0, 85.0);
    let gap = candles(1, &bars);
    let r = backtest(&gap, &p, tight, &FundingRates::default()).expect("backtest");
    assert_eq!(r.model.trade_log[0].exit, ExitReason::Liquidation);
    assert!(close(r.model.net_pnl_pct, -100.0));
}

#[test]
fn without_leverage_the_same_crash_is_only_a_loss() {
    let mut bars = BARS;
    bars[2] = (100.0, 103.0, 90.0, 95.0);
    let x = candles(1, &bars);
    let one = BacktestConfig {
        leverage: 1.0,
        ..leveraged()
    };
    let r = backtest(
        &x,
        &preds(&x, 1, &[(1, 0.7)]),
        one,
        &FundingRates::default(),
    )
    .expect("backtest");
    assert_ne!(r.model.trade_log[0].exit, ExitReason::Liquidation);
    assert!(r.model.net_pnl_pct > -20.0);
    let bad = BacktestConfig {
        maint_margin_rate: -0.1,
        ..one
    };
    assert!(backtest(&x, &preds(&x, 1, &[]), bad, &FundingRates::default()).is_err());
}
