//! Trade execution (交易执行), positions and risk settings (风控设置).

use perpdesk_app::trading::{OrderView, PlacedTicket, PositionView, PreviewView, Ticket};
use perpdesk_app::{App, AppError, UiError};
use perpdesk_core::{PositionSide, RiskLimits};
use tauri::State;

fn ticket(value: serde_json::Value) -> Result<Ticket, AppError> {
    serde_json::from_value(value).map_err(|e| AppError::invalid("ticket", e.to_string()))
}

/// The pre-trade preview and the risk verdict.
#[tauri::command]
pub async fn preview_order(
    app: State<'_, App>,
    ticket: serde_json::Value,
) -> Result<PreviewView, UiError> {
    let t = self::ticket(ticket)?;
    Ok(app.engine().await?.preview_order(&t).await?)
}

/// One click: entry, stop-loss and take-profit.
#[tauri::command]
pub async fn place_order(
    app: State<'_, App>,
    ticket: serde_json::Value,
    confirm_live: Option<bool>,
) -> Result<PlacedTicket, UiError> {
    let t = self::ticket(ticket)?;
    Ok(app
        .engine()
        .await?
        .place_order_confirmed(&t, confirm_live.unwrap_or(false))
        .await?)
}

/// Closes a position at market and cancels its exits.
#[tauri::command]
pub async fn close_position(
    app: State<'_, App>,
    symbol: String,
    position_side: Option<PositionSide>,
) -> Result<(), UiError> {
    Ok(app
        .engine()
        .await?
        .close_position(&symbol, position_side.unwrap_or(PositionSide::Both))
        .await?)
}

/// Open positions with mark price, uPnL, liquidation price and TP/SL.
#[tauri::command]
pub async fn positions(app: State<'_, App>) -> Result<Vec<PositionView>, UiError> {
    Ok(app.engine().await?.positions().await?)
}

/// Journalled orders, newest first.
#[tauri::command]
pub async fn orders(
    app: State<'_, App>,
    symbol: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<Vec<OrderView>, UiError> {
    let all = app.engine().await?.orders(1000).await?;
    Ok(all
        .into_iter()
        .filter(|o| {
            symbol
                .as_deref()
                .is_none_or(|s| s.is_empty() || o.symbol == s)
        })
        .filter(|o| from_ms.is_none_or(|f| o.updated_ms >= f))
        .filter(|o| to_ms.is_none_or(|t| o.updated_ms <= t))
        .collect())
}

/// The risk limits.
#[tauri::command]
pub async fn risk_limits(app: State<'_, App>) -> Result<RiskLimits, UiError> {
    Ok(app.engine().await?.risk_limits().await?)
}

/// Validates and saves the risk limits.
#[tauri::command]
pub async fn set_risk_limits(
    app: State<'_, App>,
    limits: serde_json::Value,
    password: Option<perpdesk_vault::SecretString>,
) -> Result<RiskLimits, UiError> {
    let limits: RiskLimits =
        serde_json::from_value(limits).map_err(|e| AppError::invalid("limits", e.to_string()))?;
    Ok(app
        .engine()
        .await?
        .set_risk_limits(limits, password)
        .await?)
}

/// Turns the kill switch on (flattening everything) or off (needs the master password).
#[tauri::command]
pub async fn set_kill_switch(
    app: State<'_, App>,
    on: bool,
    password: Option<perpdesk_vault::SecretString>,
) -> Result<RiskLimits, UiError> {
    Ok(app.engine().await?.set_kill_switch(on, password).await?)
}
