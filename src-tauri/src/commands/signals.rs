//! The signals panel (预测信号): watchlist, chart data, signals, the model card, and the
//! signal families' study, signals and suggested tickets.

use perpdesk_app::runtime::{CandleView, SignalView, WatchRow};
use perpdesk_app::signal_loop::Overlays;
use perpdesk_app::study::{FamilySignalView, StudyView, SuggestedTicket};
use perpdesk_app::{App, UiError};
use tauri::State;

/// Price, 24h change and the latest signal of each watched symbol.
#[tauri::command]
pub async fn watchlist(app: State<'_, App>) -> Result<Vec<WatchRow>, UiError> {
    Ok(app.engine().await?.watchlist().await?)
}

/// Replaces the watchlist (applies when the signal loop next starts).
#[tauri::command]
pub async fn set_watchlist(
    app: State<'_, App>,
    symbols: Vec<String>,
) -> Result<Vec<WatchRow>, UiError> {
    Ok(app.engine().await?.set_watchlist(&symbols).await?)
}

/// Closed candles for the chart, oldest first.
#[tauri::command]
pub async fn candles(
    app: State<'_, App>,
    symbol: String,
    limit: Option<usize>,
) -> Result<Vec<CandleView>, UiError> {
    Ok(app
        .engine()
        .await?
        .candles(&symbol, limit.unwrap_or(300))
        .await?)
}

/// EMA, Bollinger and RSI series for the chart's overlays.
#[tauri::command]
pub async fn indicators(
    app: State<'_, App>,
    symbol: String,
    limit: Option<usize>,
) -> Result<Overlays, UiError> {
    Ok(app
        .engine()
        .await?
        .indicators(&symbol, limit.unwrap_or(300))
        .await?)
}

/// Recent signals of a symbol, newest first.
#[tauri::command]
pub async fn signals(
    app: State<'_, App>,
    symbol: String,
    limit: Option<usize>,
) -> Result<Vec<SignalView>, UiError> {
    Ok(app
        .engine()
        .await?
        .signals(&symbol, limit.unwrap_or(100))
        .await?)
}

/// The model card: out-of-sample record, calibration and baselines.
#[tauri::command]
pub async fn model_card(app: State<'_, App>, symbol: String) -> Result<serde_json::Value, UiError> {
    Ok(app.engine().await?.model_card(&symbol).await?)
}

/// The family study: the families table, the portfolio, the basket and the universe
/// (`computing` with its progress until the first study is ready).
#[tauri::command]
pub async fn signal_study(app: State<'_, App>) -> Result<StudyView, UiError> {
    Ok(app.engine().await?.study_view().await?)
}

/// Every family's signal for a symbol, with its size at the account's equity, stop and record.
#[tauri::command]
pub async fn family_signals(
    app: State<'_, App>,
    symbol: String,
) -> Result<Vec<FamilySignalView>, UiError> {
    Ok(app.engine().await?.family_signals(&symbol).await?)
}

/// The one-click ticket a family's signal suggests (volatility size and stop, capped by the
/// risk limits) and its preview; nothing is sent.
#[tauri::command]
pub async fn suggest_ticket(
    app: State<'_, App>,
    symbol: String,
    family: String,
) -> Result<SuggestedTicket, UiError> {
    Ok(app.engine().await?.suggest_ticket(&symbol, &family).await?)
}
