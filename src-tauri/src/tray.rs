//! The system tray: icon, tooltip and menu.
//!
//! Menu ids map to [`TrayAction`] so the behaviour can be tested without GTK, which a tray
//! menu needs and the mock runtime lacks.

use perpdesk_app::{App, Language};
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::events::{SIGNALS_PAUSED, SignalsPaused};
use crate::notify::say;

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

    /// The menu item's words in `language`.
    pub fn label(self, language: Language) -> &'static str {
        match self {
            Self::ToggleWindow => say(language, "显示/隐藏窗口", "Show / hide window"),
            Self::TogglePauseSignals => say(language, "暂停信号", "Pause signals"),
            Self::TestNotification => say(language, "测试通知", "Test notification"),
            Self::Quit => say(language, "退出", "Quit"),
        }
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
                let body = say(
                    crate::commands::app::language(app),
                    "通知正常：信号、成交和风控提醒会这样显示。",
                    "Notifications work: signals, fills and risk alerts will appear like this.",
                );
                let shown = app
                    .notification()
                    .builder()
                    .title("perpdesk")
                    .body(body)
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

/// The tray's menu in `language`.
fn menu<R: Runtime>(app: &AppHandle<R>, language: Language) -> tauri::Result<Menu<R>> {
    let paused = app.state::<App>().signals_paused();
    let item = |action: TrayAction| {
        MenuItem::with_id(app, action.id(), action.label(language), true, None::<&str>)
    };
    Menu::with_items(
        app,
        &[
            &item(TrayAction::ToggleWindow)?,
            &CheckMenuItem::with_id(
                app,
                TrayAction::TogglePauseSignals.id(),
                TrayAction::TogglePauseSignals.label(language),
                true,
                paused,
                None::<&str>,
            )?,
            &item(TrayAction::TestNotification)?,
            &PredefinedMenuItem::separator(app)?,
            &item(TrayAction::Quit)?,
        ],
    )
}

/// Builds the tray icon and menu. Called once from the real app's setup.
pub(crate) fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let language = crate::commands::app::language(app);
    let mut tray = TrayIconBuilder::with_id("main")
        .tooltip("perpdesk")
        .menu(&menu(app, language)?)
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

/// Rewords the tray's menu after the user changed the interface language. No tray (the
/// tests' mock runtime, a desktop without one) is nothing to do.
pub(crate) fn relabel<R: Runtime>(app: &AppHandle<R>, language: Language) {
    let Some(tray) = app.tray_by_id("main") else {
        return;
    };
    if let Err(e) = menu(app, language).and_then(|m| tray.set_menu(Some(m))) {
        tracing::warn!(error = %e, "could not reword the tray menu");
    }
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

    #[test]
    fn the_menu_speaks_one_language() {
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for action in TrayAction::ALL {
            let (zh, en) = (action.label(Language::ZhCn), action.label(Language::En));
            assert!(
                cjk(zh) && !zh.chars().any(|c| c.is_ascii_alphabetic()),
                "{zh}"
            );
            assert!(!cjk(en), "{en}");
        }
    }
}
