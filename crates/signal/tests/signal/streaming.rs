//! Streaming indicators agree with the batch ones on all 26,280 BTCUSDT 1h candles.

use perpdesk_core::Interval;
use perpdesk_signal::Ohlcv;
use perpdesk_signal::indicators::{self, Series};
use perpdesk_signal::stream::{
    AtrStream, BollingerStream, EmaStream, MacdStream, RocStream, RollingVolStream, RsiStream,
    SmaStream, VolumeZStream, VwapStream,
};

use crate::common::{btc_1h, close_enough};

fn data() -> Ohlcv {
    Ohlcv::from_candles(&btc_1h(), Interval::H1).expect("valid candles")
}

fn assert_same(name: &str, stream: &Series, batch: &Series) {
    assert_eq!(stream.len(), batch.len());
    let mut some = 0;
    for (i, (s, b)) in stream.iter().zip(batch).enumerate() {
        match (s, b) {
            (None, None) => {}
            (Some(s), Some(b)) => {
                assert!(
                    close_enough(*s, *b, 1e-9),
                    "{name}[{i}]: stream {s}, batch {b}"
                );
                some += 1;
            }
            _ => panic!("{name}[{i}]: stream {s:?}, batch {b:?}"),
        }
    }
    assert!(some > 26_000, "{name}: {some} values");
}

#[test]
fn close_only_streams_equal_batch() {
    let x = data();
    let c = &x.close;
    let mut sma = SmaStream::new(20).unwrap();
    let mut ema = EmaStream::new(20).unwrap();
    let mut rsi = RsiStream::new(14).unwrap();
    let mut vol = RollingVolStream::new(24).unwrap();
    let mut roc = RocStream::new(4).unwrap();
    let run = |f: &mut dyn FnMut(f64) -> Option<f64>| c.iter().map(|&v| f(v)).collect::<Series>();
    assert_same(
        "sma",
        &run(&mut |v| sma.update(v).unwrap()),
        &indicators::sma(c, 20).unwrap(),
    );
    assert_same(
        "ema",
        &run(&mut |v| ema.update(v).unwrap()),
        &indicators::ema(c, 20).unwrap(),
    );
    assert_same(
        "rsi",
        &run(&mut |v| rsi.update(v).unwrap()),
        &indicators::rsi(c, 14).unwrap(),
    );
    assert_same(
        "vol",
        &run(&mut |v| vol.update(v).unwrap()),
        &indicators::rolling_volatility(c, 24).unwrap(),
    );
    assert_same(
        "roc",
        &run(&mut |v| roc.update(v).unwrap()),
        &indicators::roc(c, 4).unwrap(),
    );
}

#[test]
fn multi_output_streams_equal_batch() {
    let x = data();
    let c = &x.close;
    let mut macd = MacdStream::new(12, 26, 9).unwrap();
    let mut bb = BollingerStream::new(20, 2.0).unwrap();
    let (mut m, mut s, mut h) = (Vec::new(), Vec::new(), Vec::new());
    let (mut up, mut mid, mut lo, mut pb, mut bw) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &v in c {
        let mv = macd.update(v).unwrap();
        m.push(mv.map(|x| x.macd));
        s.push(mv.map(|x| x.signal));
        h.push(mv.map(|x| x.hist));
        let b = bb.update(v).unwrap();
        up.push(b.map(|x| x.upper));
        mid.push(b.map(|x| x.middle));
        lo.push(b.map(|x| x.lower));
        pb.push(b.map(|x| x.percent_b));
        bw.push(b.and_then(|x| x.bandwidth));
    }
    let bm = indicators::macd(c, 12, 26, 9).unwrap();
    assert_same("macd", &m, &bm.macd);
    assert_same("macd signal", &s, &bm.signal);
    assert_same("macd hist", &h, &bm.hist);
    let bb = indicators::bollinger(c, 20, 2.0).unwrap();
    assert_same("bb upper", &up, &bb.upper);
    assert_same("bb middle", &mid, &bb.middle);
    assert_same("bb lower", &lo, &bb.lower);
    assert_same("bb %b", &pb, &bb.percent_b);
    assert_same("bb bandwidth", &bw, &bb.bandwidth);
}

#[test]
fn ohlcv_streams_equal_batch() {
    let x = data();
    let mut atr = AtrStream::new(14).unwrap();
    let mut vz = VolumeZStream::new(20).unwrap();
    let mut vw = VwapStream::new(24).unwrap();
    let (mut a, mut z, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..x.len() {
        a.push(atr.update(x.high[i], x.low[i], x.close[i]).unwrap());
        z.push(vz.update(x.volume[i]).unwrap());
        w.push(
            vw.update(x.high[i], x.low[i], x.close[i], x.volume[i])
                .unwrap(),
        );
    }
    assert_same(
        "atr",
        &a,
        &indicators::atr(&x.high, &x.low, &x.close, 14).unwrap(),
    );
    assert_same(
        "volume z",
        &z,
        &indicators::volume_zscore(&x.volume, 20).unwrap(),
    );
    assert_same(
        "vwap",
        &w,
        &indicators::vwap(&x.high, &x.low, &x.close, &x.volume, 24).unwrap(),
    );
}

#[test]
fn a_rejected_bar_leaves_the_stream_unchanged() {
    let mut a = EmaStream::new(3).unwrap();
    let mut b = EmaStream::new(3).unwrap();
    for v in [1.0, 2.0, 3.0, 4.0] {
        a.update(v).unwrap();
        b.update(v).unwrap();
    }
    assert!(a.update(f64::NAN).is_err());
    assert_eq!(a.update(5.0).unwrap(), b.update(5.0).unwrap());
}

#[test]
fn feature_stream_equals_batch_features() {
    let x = data();
    let text = std::fs::read_to_string(
        crate::common::shared_dir().join("data/binance_um_BTCUSDT_funding_2021-2023.csv"),
    )
    .expect("funding file");
    let events = perpdesk_signal::parse_funding(&text).expect("funding");
    let rates = perpdesk_signal::FundingRates::new(&events).expect("rates");
    let batch = perpdesk_signal::compute_features_with_funding(&x, &rates).expect("features");
    let mut s = perpdesk_signal::FeatureStream::new().expect("stream");
    let mut rows = batch.rows.iter();
    let mut settled = events.iter().peekable();
    for i in 0..x.len() {
        // The live loop learns each rate when it settles, before the candle opening then.
        while let Some((_, r)) = settled.next_if(|(t, _)| *t <= x.open_time[i]) {
            s.set_funding_rate(*r).expect("finite rate");
        }
        let live = s
            .update(x.high[i], x.low[i], x.close[i], x.volume[i])
            .unwrap();
        match live {
            None => assert!(i < perpdesk_signal::WARMUP, "no live row at {i}"),
            Some(v) => {
                let b = rows.next().unwrap();
                assert_eq!(b.index, i);
                for (j, (l, b)) in v.iter().zip(&b.values).enumerate() {
                    assert!(
                        close_enough(*l, *b, 1e-9),
                        "row {i} feature {j}: {l} vs {b}"
                    );
                }
            }
        }
    }
    assert!(rows.next().is_none());
    assert!(s.update(1.0, 1.0, f64::NAN, 1.0).is_err());
    assert!(s.update(1.0, 1.0, 0.0, 1.0).is_err());
}
