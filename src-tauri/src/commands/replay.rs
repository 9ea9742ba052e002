//! The paper exchange's replay clock.

use perpdesk_app::venue::ReplayStatus;
use perpdesk_app::{App, AppError, UiError};
use tauri::State;

fn paper(engine: &perpdesk_app::Engine) -> Result<&perpdesk_app::venue::PaperVenue, AppError> {
    engine
        .paper()
        .ok_or_else(|| AppError::NotFound("the paper exchange (no market data)".into()))
}

/// Where the replay is and how fast it runs.
#[tauri::command]
pub async fn replay_status(app: State<'_, App>) -> Result<ReplayStatus, UiError> {
    let engine = app.engine().await?;
    Ok(paper(&engine)?.replay())
}

/// Changes the replay speed or pauses it.
#[tauri::command]
pub async fn set_replay(
    app: State<'_, App>,
    speed: Option<f64>,
    running: Option<bool>,
) -> Result<ReplayStatus, UiError> {
    let engine = app.engine().await?;
    let p = paper(&engine)?;
    let speed = match running {
        Some(false) => None,
        _ => Some(speed.unwrap_or(perpdesk_app::venue::DEFAULT_SPEED)),
    };
    Ok(p.set_speed(speed)?)
}

/// Jumps the replay forward.
#[tauri::command]
pub async fn advance_replay(app: State<'_, App>, minutes: u32) -> Result<ReplayStatus, UiError> {
    let engine = app.engine().await?;
    Ok(paper(&engine)?.advance(minutes)?)
}
