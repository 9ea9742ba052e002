//! A stand-in for the desktop's notification service (`org.freedesktop.Notifications`) on
//! the test's session bus: it records what the app shows and can click a notification the
//! way a desktop does, by emitting `ActionInvoked(id, "default")`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

/// One notification the app asked to show.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: u32,
    pub summary: String,
    pub body: String,
    /// Action keys and labels, alternating, as the specification sends them.
    pub actions: Vec<String>,
}

type Log = Arc<Mutex<Vec<Shown>>>;

struct Service {
    shown: Log,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Service {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap_or_else(PoisonError::into_inner);
        let id = u32::try_from(shown.len()).unwrap_or(u32::MAX - 1) + 1;
        shown.push(Shown {
            id,
            summary,
            body,
            actions,
        });
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "perpdesk-e2e".into(),
            "perpdesk".into(),
            env!("CARGO_PKG_VERSION").into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;
}

const PATH: &str = "/org/freedesktop/Notifications";

/// The service, owning its well-known name until dropped.
pub struct FakeNotifications {
    connection: zbus::Connection,
    shown: Log,
}

impl FakeNotifications {
    /// Takes `org.freedesktop.Notifications` on the session bus (`DBUS_SESSION_BUS_ADDRESS`).
    ///
    /// # Errors
    /// No session bus, or the name is taken by another service.
    pub async fn start() -> Result<Self> {
        let shown = Log::default();
        let connection = zbus::connection::Builder::session()?
            .name("org.freedesktop.Notifications")?
            .serve_at(
                PATH,
                Service {
                    shown: shown.clone(),
                },
            )?
            .build()
            .await
            .context("serve org.freedesktop.Notifications on the session bus")?;
        Ok(Self { connection, shown })
    }

    /// Everything shown so far, oldest first.
    pub fn shown(&self) -> Vec<Shown> {
        self.shown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The first notification whose summary has `word`, waiting up to `within` for it.
    ///
    /// # Errors
    /// None came in time; the error lists what was shown.
    pub async fn wait_for(&self, word: &str, within: Duration) -> Result<Shown> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(n) = self.shown().into_iter().find(|n| n.summary.contains(word)) {
                return Ok(n);
            }
            if Instant::now() > deadline {
                bail!(
                    "no notification with {word:?} in {within:?}; shown: {:?}",
                    self.shown()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks notification `id` (its default action).
    ///
    /// # Errors
    /// When the signal cannot be sent.
    pub async fn click(&self, id: u32) -> Result<()> {
        let emitter = SignalEmitter::new(&self.connection, PATH)?;
        Service::action_invoked(&emitter, id, "default").await?;
        Ok(())
    }
}
