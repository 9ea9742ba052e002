//! A simulator with a manual clock on 127.0.0.1:0 (`perpdesk_sim::testing`) and signed
//! clients for its accounts.
//!
//! Tests drive the engine against the real simulator over HTTP; nothing of our own client
//! is mocked.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use perpdesk_binance::rest::LocalClock;
use perpdesk_binance::{BaseUrls, Client, HmacSigner, RestClient, RestConfig};
use perpdesk_sim::server::Running;
use perpdesk_sim::testing::TestSim;
pub use perpdesk_sim::testing::{START, advance, data_dir};
use rust_decimal::Decimal;

pub const KEY: &str = "engine-key";
pub const SECRET: &str = "engine-secret";

/// Starts a simulator with one funded account (`KEY`/`SECRET`, 10,000 USDT).
pub async fn start_sim() -> Running {
    TestSim::new()
        .account(KEY, SECRET, Decimal::new(10_000, 0))
        .start()
        .await
}

/// A client for `KEY` whose local clock is the simulator's clock (as if synced).
pub fn client(sim: &Running) -> Client {
    client_with(sim, KEY, SECRET)
}

/// A client for any key of the simulator, on the simulator's clock.
pub fn client_with(sim: &Running, key: &str, secret: &str) -> Client {
    let urls = BaseUrls {
        rest: sim.url(),
        spot_rest: Some(sim.url()),
        streams: sim.url().replace("http://", "ws://"),
    };
    let shared = sim.shared.clone();
    let clock: LocalClock = Arc::new(move || shared.clock.now_ms());
    let rest = RestClient::with_clock(
        &urls,
        Some(Arc::new(HmacSigner::new(key, secret))),
        RestConfig::default(),
        clock,
    )
    .expect("client");
    Client::new(Arc::new(rest))
}

/// A password as the engine takes it.
pub fn pw(s: &str) -> perpdesk_vault::SecretString {
    perpdesk_vault::SecretString::new(s.to_owned())
}

/// A strong master password for tests.
pub const PASSWORD: &str = "correct horse battery staple 42";

/// An engine whose paper exchange is `sim`, after the first-run flow (vault + funded paper
/// account), with a cheap KDF and an in-memory database.
pub async fn engine_on(sim: Running) -> perpdesk_app::Engine {
    engine_with(sim, None).await
}

/// Like [`engine_on`] with a database file (restart tests).
pub async fn engine_with(sim: Running, db: Option<PathBuf>) -> perpdesk_app::Engine {
    use perpdesk_app::{Engine, EngineConfig, Events};
    let config = EngineConfig {
        database: db,
        kdf: perpdesk_vault::KdfParams::insecure_for_tests(),
        rest: RestConfig::default(),
    };
    let engine = Engine::open(
        config,
        Some(perpdesk_app::venue::PaperVenue::from_running(sim)),
        Events::new(),
    )
    .await
    .expect("engine opens");
    let status = engine.vault_status().await.expect("status");
    if status.initialized {
        engine
            .vault_unlock(perpdesk_vault::SecretString::new(PASSWORD.into()))
            .await
            .expect("unlock");
    } else {
        engine
            .first_run(perpdesk_vault::SecretString::new(PASSWORD.into()))
            .await
            .expect("first run");
    }
    engine
}

/// A market ticket with a stop and a target `pct` percent away from `entry`.
pub fn ticket(
    side: perpdesk_core::Side,
    usdt: rust_decimal::Decimal,
    entry: rust_decimal::Decimal,
    sl_pct: rust_decimal::Decimal,
    tp_pct: rust_decimal::Decimal,
) -> perpdesk_app::trading::Ticket {
    let sign = side.sign();
    let hundred = rust_decimal::Decimal::ONE_HUNDRED;
    perpdesk_app::trading::Ticket {
        symbol: "BTCUSDT".into(),
        side,
        sizing: perpdesk_core::Sizing::FixedNotional { usdt },
        leverage: 5,
        margin_type: perpdesk_core::MarginType::Isolated,
        order_type: perpdesk_app::trading::EntryType::Market,
        price: None,
        take_profit: Some((entry * (hundred + sign * tp_pct) / hundred).round_dp(1)),
        stop_loss: Some((entry * (hundred - sign * sl_pct) / hundred).round_dp(1)),
        signal_id: Some(1),
    }
}

/// The entry price a market ticket would use now (the mark, as the engine previews it).
pub async fn previewed_mark(engine: &perpdesk_app::Engine) -> Decimal {
    let mut probe = ticket(
        perpdesk_core::Side::Buy,
        Decimal::from(500),
        Decimal::ONE,
        Decimal::ONE,
        Decimal::ONE,
    );
    probe.stop_loss = None;
    probe.take_profit = None;
    engine
        .preview_order(&probe)
        .await
        .expect("preview")
        .preview
        .entry_price
}

/// The forms a leaked secret could take in a file: itself, lower and upper hex, and base64
/// from each of the three byte alignments (so an encoded copy starting anywhere is found).
pub fn secret_forms(secret: &str) -> Vec<String> {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    // Base64 without padding, from each of the three alignments, so an encoded copy
    // starting anywhere is found.
    let b64 = |bytes: &[u8]| {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .fold(0_u32, |acc, b| (acc << 8) | u32::from(*b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        // The last group depends on what follows; drop it.
        out.truncate(out.len().saturating_sub(4));
        out
    };
    let bytes = secret.as_bytes();
    vec![
        secret.to_owned(),
        hex.clone(),
        hex.to_uppercase(),
        b64(bytes),
        b64(&bytes[1..]),
        b64(&bytes[2..]),
    ]
}

/// A one-click market order's outcome: the entry filled, its stop-loss and take-profit
/// working on the exchange.
pub fn assert_bracket_working(placed: &perpdesk_app::trading::PlacedTicket) {
    use perpdesk_core::OrderState;
    assert_eq!(placed.entry.state, OrderState::Filled);
    assert_eq!(
        placed.stop_loss.as_ref().map(|o| o.state),
        Some(OrderState::New)
    );
    assert_eq!(
        placed.take_profit.as_ref().map(|o| o.state),
        Some(OrderState::New)
    );
}

/// The test binary's log: the app's own file logger ([`perpdesk_app::logging`]) at every
/// level, with panics logged as the desktop app logs them, into a folder that lives as long as
/// the process. Installed once, process-wide (a thread-local subscriber misses callsites whose
/// interest another test's thread cached first); other tests' lines land there too, which only
/// widens a scan. Returns the folder.
pub fn file_log() -> &'static Path {
    use tracing_subscriber::prelude::*;
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("log folder");
        let files = perpdesk_app::logging::LogFiles::open(dir.path(), 7).expect("log files");
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::TRACE)
            .with(perpdesk_app::logging::file_layer(files));
        tracing::subscriber::set_global_default(subscriber).expect("only file_log sets one");
        perpdesk_app::logging::log_panics();
        dir
    })
    .path()
}

/// Every file under `dir` (recursively) with its bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                // A file removed between listing and reading (a -wal at checkpoint) is gone.
                out.push((path, bytes));
            }
        }
    }
    out
}

/// Fails naming `what` when any of `forms` occurs in `haystack`.
pub fn assert_absent(what: &str, haystack: &[u8], forms: &[String]) {
    for form in forms {
        assert!(
            !haystack.windows(form.len()).any(|w| w == form.as_bytes()),
            "a secret (as {}…) appears in {what}",
            &form[..4]
        );
    }
}
