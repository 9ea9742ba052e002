//! The system tray: icon, tooltip and menu.
//!
//! Menu ids map to [`TrayAction`] so the behaviour can be tested without GTK, which a tray
//! menu needs and the mock runtime lacks.

use perpdesk_app::App;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::events::{SIGNALS_PAUSED, SignalsPaused};

/// What a tray menu entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    /// Show the window if hidden, hide it if shown.
    ToggleWindow,
    /// Pause or resume live signal generation.
    TogglePauseSignals,
    /// Send an OS notification, to check that notifications reach the user.
    TestNotification,
    /// Quit the app.
    Quit,
}

impl TrayAction {
    const ALL: [Self; 4] = [
        Self::ToggleWindow,
        Self::TogglePauseSignals,
        Self::TestNotification,
        Self::Quit,
    ];

    /// The menu item id.
    pub fn id(self) -> &'static str {
        match self {
            Self::ToggleWindow => "toggle-window",
            Self::TogglePauseSignals => "pause-signals",
            Self::TestNotification => "test-notification",
            Self::Quit => "quit",
        }
    }

    /// Finds the action for a menu item id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.id() == id)
    }

    /// Carries the action out.
    pub fn perform<R: Runtime>(self, app: &AppHandle<R>) {
        match self {
            Self::ToggleWindow => toggle_window(app),
            Self::TogglePauseSignals => {
                let paused = app.state::<App>().toggle_signals_paused();
                if let Err(err) = app.emit(SIGNALS_PAUSED, SignalsPaused { paused }) {
                    tracing::warn!(error = %err, "could not tell the UI about the pause switch");
                }
            }
            Self::TestNotification => {
                let shown = app
                    .notification()
                    .builder()
                    .title("perpdesk")
                    .body(
                        "Notifications work: signals, fills and risk alerts will appear like this.",
                    )
                    .show();
                if let Err(err) = shown {
                    tracing::warn!(error = %err, "test notification failed");
                }
            }
            Self::Quit => app.exit(0),
        }
    }
}

fn toggle_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    if window.is_visible().unwrap_or(false) {
        let _ = window.hide();
    } else {
        crate::focus_main_window(app);
    }
}

/// Builds the tray icon and menu. Called once from the real app's setup.
pub(crate) fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let paused = app.state::<App>().signals_paused();
    let menu = Menu::with_items(
        app,
        &[
            &MenuItem::with_id(
                app,
                TrayAction::ToggleWindow.id(),
                "Show / hide window 显示/隐藏",
                true,
                None::<&str>,
            )?,
            &CheckMenuItem::with_id(
                app,
                TrayAction::TogglePauseSignals.id(),
                "Pause signals 暂停信号",
                true,
                paused,
                None::<&str>,
            )?,
            &MenuItem::with_id(
                app,
                TrayAction::TestNotification.id(),
                "Test notification 测试通知",
                true,
                None::<&str>,
            )?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, TrayAction::Quit.id(), "Quit 退出", true, None::<&str>)?,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id("main")
        .tooltip("perpdesk — paper mode")
        .menu(&menu)
        .on_menu_event(
            |app, event| match TrayAction::from_id(event.id().as_ref()) {
                Some(action) => action.perform(app),
                None => tracing::warn!(id = ?event.id(), "unknown tray menu id"),
            },
        );
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_id_maps_back_to_its_action() {
        for action in TrayAction::ALL {
            assert_eq!(TrayAction::from_id(action.id()), Some(action));
        }
        assert_eq!(TrayAction::from_id("nope"), None);
    }
}
