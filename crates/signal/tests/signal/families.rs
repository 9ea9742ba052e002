//! The signal families: each rule on hand-made prices, and the no-look-ahead property of
//! every family of the shipped strategy (signals, sizes and book weights).

use chrono::{DateTime, Duration, Utc};
use perpdesk_signal::bars::Panel;
use perpdesk_signal::families::{Family, Rebalance, Rule, RuleFamily, Sides, funding_carry};
use perpdesk_signal::portfolio::{asset_vol, book, targets};
use perpdesk_signal::strategy::Strategy;
use perpdesk_signal::universe::{FundingSeries, Hourly, SymbolSeries, Universe};
use proptest::prelude::*;

pub const SHIPPED: &str = include_str!("../../strategies/perpdesk-v1.json");

fn day0() -> DateTime<Utc> {
    "2024-01-01T00:00:00Z".parse().expect("time")
}

/// A symbol with one candle per day at 23:00 (so each daily bar has its close), from day
/// `start` on, closing at `closes[i]`.
pub fn daily_symbol(name: &str, start: usize, closes: &[f64]) -> SymbolSeries {
    let times: Vec<DateTime<Utc>> = (0..closes.len())
        .map(|i| day0() + Duration::days((start + i) as i64) + Duration::hours(23))
        .collect();
    SymbolSeries {
        symbol: name.to_string(),
        hourly: Hourly {
            open_time: times,
            open: closes.to_vec(),
            high: closes.to_vec(),
            low: closes.to_vec(),
            close: closes.to_vec(),
            volume: vec![1.0; closes.len()],
        },
        funding: FundingSeries::default(),
    }
}

fn panel(symbols: Vec<SymbolSeries>) -> Panel {
    Panel::new(
        &Universe {
            symbols,
            funding_without_candles: vec![],
        },
        Duration::days(1),
    )
    .expect("panel")
}

fn run(f: &RuleFamily, p: &Panel) -> Vec<Vec<f64>> {
    let vol = asset_vol(
        p,
        &Strategy::from_json(SHIPPED)
            .expect("shipped")
            .strategy
            .vol_target,
    );
    f.run(p, &vol).expect("family").signal
}

#[test]
fn breakout_turns_on_a_new_high_and_holds_until_a_new_low() {
    let closes = [10.0, 11.0, 12.0, 11.5, 11.6, 10.0, 9.0, 9.5];
    let p = panel(vec![daily_symbol("A", 0, &closes)]);
    let f = RuleFamily {
        id: "b".into(),
        rule: Rule::TrendBreakout {
            horizons: vec![2],
            sides: Sides::LongShort,
        },
    };
    // t=2: 12 > max(10, 11) → long; held until t=5: 10 < min(11.5, 11.6) → short.
    assert_eq!(
        run(&f, &p)[0],
        vec![0.0, 0.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0]
    );
    let lf = RuleFamily {
        id: "b".into(),
        rule: Rule::TrendBreakout {
            horizons: vec![2],
            sides: Sides::LongFlat,
        },
    };
    assert_eq!(
        run(&lf, &p)[0],
        vec![0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    );
}

#[test]
fn reversal_longs_the_losers_and_shorts_the_winners_at_the_weekly_close() {
    // Six assets over 40 days; asset i moves by (i − 2.5)% a day, so asset 0 fell most.
    let symbols: Vec<SymbolSeries> = (0..6)
        .map(|i| {
            let step = 1.0 + (i as f64 - 2.5) / 100.0 + if i % 2 == 0 { 0.01 } else { -0.01 };
            let closes: Vec<f64> = (0..40)
                .map(|d| 100.0 * step.powi(d) * if d % 2 == 0 { 1.02 } else { 0.98 })
                .collect();
            daily_symbol(&format!("S{i}USDT"), 0, &closes)
        })
        .collect();
    let p = panel(symbols);
    let f = RuleFamily {
        id: "r".into(),
        rule: Rule::XsReversal {
            lookback: 7,
            buckets: 3,
            min_assets: 6,
            rebalance: Rebalance::Weekly,
        },
    };
    let s = run(&f, &p);
    // 2024-01-01 is a Monday: the Sunday bars are days 6, 13, 20, 27, 34. Volatility needs
    // 20 returns (days 1 to 20), so the first ranking is day 20.
    let first = (0..40)
        .find(|&t| s.iter().any(|a| a[t] != 0.0))
        .expect("a ranking");
    assert_eq!(first, 20);
    let at: Vec<f64> = s.iter().map(|a| a[20]).collect();
    let week = |i: usize| p.close[i][20].expect("close") / p.close[i][13].expect("close") - 1.0;
    let mut order: Vec<usize> = (0..6).collect();
    order.sort_by(|&x, &y| week(x).total_cmp(&week(y)));
    assert_eq!(at.iter().filter(|&&w| w == 1.0).count(), 2);
    assert_eq!(at.iter().filter(|&&w| w == -1.0).count(), 2);
    assert_eq!(
        (at[order[0]], at[order[1]]),
        (1.0, 1.0),
        "the two worst weeks go long"
    );
    assert_eq!((at[order[4]], at[order[5]]), (-1.0, -1.0));
    // Held until the next Sunday, then re-ranked.
    for t in 20..27 {
        assert_eq!(s.iter().map(|a| a[t]).collect::<Vec<_>>(), at);
    }
}

#[test]
fn funding_contrarian_needs_a_real_week_and_fades_the_crowded_side() {
    let closes: Vec<f64> = (0..30).map(|d| 100.0 + d as f64).collect();
    let mut s = daily_symbol("FUNDUSDT", 0, &closes);
    // 8-hourly events from day 5 00:00 to day 26 16:00: 0.05% until day 15, then −0.02%.
    let events: Vec<(DateTime<Utc>, f64)> = (15..81)
        .map(|k| {
            let t = day0() + Duration::hours(8 * k);
            (t, if k < 45 { 0.0005 } else { -0.0002 })
        })
        .collect();
    s.funding = FundingSeries::new("FUNDUSDT", &events).expect("series");
    let p = panel(vec![s]);
    let f = RuleFamily {
        id: "f".into(),
        rule: Rule::FundingContrarian {
            window_days: 7,
            short_above: 0.0003,
            long_below: -0.0001,
        },
    };
    let sig = run(&f, &p)[0].clone();
    // The series starts at day 5 00:00: the first full week ends at day 11's close.
    assert!(sig[..11].iter().all(|&x| x == 0.0), "{sig:?}");
    assert_eq!(sig[11], -1.0, "a week of 0.05% per 8h: short");
    // After day 15 the average falls; a week of −0.02% is a crowded short: long.
    assert_eq!(sig[22], 1.0);
    assert_eq!(sig[26], 1.0);
    assert_eq!(
        sig[27], 0.0,
        "more than 8h without a settlement: the series has ended"
    );
    let carry = funding_carry(
        &FundingSeries::new("X", &events).expect("series"),
        p.close_time(11),
    );
    assert!(carry.real && (carry.annualised - 0.0005 * 3.0 * 365.0).abs() < 1e-12);
    let default = funding_carry(&FundingSeries::default(), p.close_time(11));
    assert!(!default.real && (default.annualised - 0.0001 * 3.0 * 365.0).abs() < 1e-12);
}

/// A universe of `n` symbols over `days` with random-walk closes from `seed`; some listed
/// late, one with an 8h and one with a 4h funding series.
fn random_universe(seed: u64, n: usize, days: usize) -> Universe {
    let mut x = seed | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let symbols = (0..n)
        .map(|i| {
            let start = if i < 2 { 0 } else { (rnd() * 60.0) as usize };
            let mut c = 100.0;
            let closes: Vec<f64> = (start..days)
                .map(|_| {
                    c *= 1.0 + (rnd() - 0.5) * 0.1;
                    c
                })
                .collect();
            let mut s = daily_symbol(&format!("R{i}USDT"), start, &closes);
            let every = match i {
                0 => Some(8),
                1 => Some(4),
                _ => None,
            };
            if let Some(h) = every {
                let events: Vec<_> = (0..(days as i64 * 24 / h))
                    .map(|k| (day0() + Duration::hours(h * k), (rnd() - 0.3) * 0.002))
                    .collect();
                s.funding = FundingSeries::new(&s.symbol, &events).expect("series");
            }
            s
        })
        .collect();
    Universe {
        symbols,
        funding_without_candles: vec![],
    }
}

/// The universe with every price and funding rate after `cut` replaced.
pub fn rewrite_after(u: &Universe, cut: DateTime<Utc>, factor: f64) -> Universe {
    let mut u = u.clone();
    for s in &mut u.symbols {
        for i in 0..s.hourly.len() {
            if s.hourly.open_time[i] >= cut {
                let c = s.hourly.close[i] * factor * (1.0 + (i % 7) as f64 / 10.0);
                s.hourly.open[i] = c;
                s.hourly.high[i] = c;
                s.hourly.low[i] = c;
                s.hourly.close[i] = c;
            }
        }
        let events: Vec<_> = s
            .funding
            .events()
            .iter()
            .map(|&(t, r)| (t, if t > cut { -r * factor } else { r }))
            .collect();
        s.funding = FundingSeries::new(&s.symbol, &events).expect("series");
    }
    u
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Changing the data after the close of bar `t` never changes a signal or target at or
    /// before `t`, nor a book weight at or before `t + 1` (held over the bar after `t`).
    #[test]
    fn no_family_looks_ahead(seed in 1u64.., n in 6usize..9, cut in 140usize..230, factor in 0.3f64..3.0) {
        let strategy = Strategy::from_json(SHIPPED).expect("shipped").strategy;
        let u = random_universe(seed, n, 240);
        let p = Panel::new(&u, Duration::days(1)).expect("panel");
        let changed = rewrite_after(&u, p.close_time(cut), factor);
        let q = Panel::new(&changed, Duration::days(1)).expect("panel");
        prop_assert!(p.close.iter().zip(&q.close).any(|(a, b)| a[cut + 1..] != b[cut + 1..]));
        let vp = asset_vol(&p, &strategy.vol_target);
        let vq = asset_vol(&q, &strategy.vol_target);
        for a in 0..n {
            prop_assert_eq!(&vp[a][..=cut], &vq[a][..=cut]);
        }
        let window = perpdesk_signal::bars::Window { from: p.times[0], to: p.times[p.len() - 1] };
        let costs = perpdesk_signal::edge::Costs { taker_fee: 0.0005, slippage: 0.0001 };
        for f in &strategy.families {
            let sp = f.run(&p, &vp).expect("family").signal;
            let sq = f.run(&q, &vq).expect("family").signal;
            let tp = targets(&p, &sp, &strategy.vol_target, &strategy.limits).expect("targets");
            let tq = targets(&q, &sq, &strategy.vol_target, &strategy.limits).expect("targets");
            let bp = book(&p, &tp, window, costs, None).expect("book");
            let bq = book(&q, &tq, window, costs, None).expect("book");
            for a in 0..n {
                prop_assert_eq!(&sp[a][..=cut], &sq[a][..=cut], "{} signal of asset {}", f.id, a);
                prop_assert_eq!(&tp[a][..=cut], &tq[a][..=cut], "{} target of asset {}", f.id, a);
                prop_assert_eq!(&bp.weights[a][..=cut + 1], &bq.weights[a][..=cut + 1], "{} weight", f.id);
            }
        }
    }
}
