//! The watchlist's bound: a user can watch every symbol the paper exchange lists (the wide
//! universe, ~30), and a list longer than the bound is refused with a reason, changing nothing.

use perpdesk_app::runtime::{MAX_WATCHLIST, WatchRow};
use perpdesk_app::venue::{PaperSymbol, PaperVenue};
use perpdesk_app::{AppError, Engine, EngineConfig, ErrorCode, Events};

use crate::support::{PASSWORD, data_dir, pw};

/// A first-run engine (cheap KDF, in-memory database) on `paper`.
async fn engine_on(paper: PaperVenue) -> Engine {
    let config = EngineConfig {
        database: None,
        kdf: perpdesk_vault::KdfParams::insecure_for_tests(),
        rest: perpdesk_binance::RestConfig::default(),
    };
    let engine = Engine::open(config, Some(paper), Events::new())
        .await
        .expect("engine opens");
    engine.first_run(pw(PASSWORD)).await.expect("first run");
    engine
}

fn names(rows: &[WatchRow]) -> Vec<String> {
    rows.iter().map(|r| r.symbol.clone()).collect()
}

#[tokio::test]
async fn a_user_watches_every_symbol_the_paper_exchange_lists() {
    let paper = PaperVenue::start(&data_dir(), None, None)
        .await
        .expect("paper starts");
    // What the exchange lists at the replay's start (symbols whose data starts later, as
    // 1000PEPEUSDT in 2023, list when it does).
    let listed: Vec<String> = crate::support::client(paper.running())
        .listed_symbols()
        .await
        .expect("exchange info")
        .iter()
        .map(ToString::to_string)
        .collect();
    let universe = paper.symbols();
    assert!(
        listed.len() > 20 && universe.len() <= MAX_WATCHLIST,
        "the paper universe ({} listed of {}) fits the watchlist ({MAX_WATCHLIST})",
        listed.len(),
        universe.len()
    );
    let engine = engine_on(paper).await;
    let rows = engine.set_watchlist(&listed).await.expect("watches all");
    assert_eq!(names(&rows), listed);
    assert!(
        rows.iter().all(|r| r.price.is_some()),
        "every row has a price: {rows:?}"
    );
}

#[tokio::test]
async fn thirty_symbols_are_watched_and_a_thirty_first_is_refused() {
    // 31 listed symbols: the two real series again under other names.
    let list: Vec<PaperSymbol> = (0..=MAX_WATCHLIST)
        .map(|i| {
            let source = if i % 2 == 0 { "BTCUSDT" } else { "ETHUSDT" };
            PaperSymbol {
                name: format!("W{i:02}USDT"),
                source: source.into(),
            }
        })
        .collect();
    let paper = PaperVenue::start_listing(&data_dir(), &list, None, None)
        .await
        .expect("paper starts");
    let engine = engine_on(paper).await;
    let all: Vec<String> = list.iter().map(|p| p.name.clone()).collect();
    let thirty = &all[..MAX_WATCHLIST];
    assert_eq!(thirty.len(), 30);
    let rows = engine.set_watchlist(thirty).await.expect("30 is the most");
    assert_eq!(names(&rows), thirty);

    let err = engine.set_watchlist(&all).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    assert!(
        matches!(&err, AppError::InvalidInput { field: "symbols", reason }
            if reason == "watch between 1 and 30 symbols"),
        "{err:?}"
    );
    // The refused list changed nothing.
    let rows = engine.watchlist().await.expect("watchlist");
    assert_eq!(names(&rows), thirty);
}
