//! A harness that starts the real perpdesk binary through `tauri-driver` and hands back a
//! WebDriver client.
//!
//! The tests that use it are `#[ignore]`d because they need an X display (Xvfb), a D-Bus
//! session, `tauri-driver` on PATH and Debian's `WebKitWebDriver`; the README's test command
//! runs them with `cargo test -p perpdesk-e2e -- --ignored` under `xvfb-run` and
//! `dbus-run-session`.
//! The app runs with HOME pointed at a temporary folder, so a test never touches a real user's
//! data and always starts from a first launch.

pub mod notifications;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

/// The perpdesk binary built by `cargo build --workspace` (or `PERPDESK_APP` when set).
pub fn app_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PERPDESK_APP") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target
        .join("debug")
        .join(format!("perpdesk{}", std::env::consts::EXE_SUFFIX))
}

/// The repository's `test-output/` folder, where screenshots are saved.
pub fn output_dir() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-output");
    std::fs::create_dir_all(&dir).context("create test-output/")?;
    Ok(dir)
}

/// A running `tauri-driver` with its own HOME; stopped (with SIGTERM) on drop.
pub struct Driver {
    child: Child,
    port: u16,
    home: tempfile::TempDir,
}

impl Driver {
    /// Starts `tauri-driver` on free loopback ports and waits until it accepts connections.
    ///
    /// # Errors
    /// When the app binary is missing or `tauri-driver` does not start.
    pub fn start() -> Result<Self> {
        Self::start_with_env(&[])
    }

    /// [`Driver::start`] with extra environment variables for the app (which inherits
    /// tauri-driver's environment).
    ///
    /// # Errors
    /// As [`Driver::start`].
    pub fn start_with_env(env: &[(&str, String)]) -> Result<Self> {
        let app = app_binary();
        if !app.is_file() {
            bail!(
                "{} is missing: run `cargo build --workspace` first",
                app.display()
            );
        }
        let home = tempfile::tempdir().context("temporary HOME")?;
        let port = free_port()?;
        let native_port = free_port()?;
        let child = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("HOME", home.path())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .stdout(Stdio::null())
            .spawn()
            .context("start tauri-driver (cargo install tauri-driver --locked)")?;
        let driver = Self { child, port, home };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("tauri-driver did not listen on 127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(driver)
    }

    /// The HOME the app runs with.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Where the app keeps its data under this driver's HOME (Linux conventions).
    pub fn app_data_dir(&self) -> PathBuf {
        self.home.path().join(".local/share/com.perpdesk.desktop")
    }

    /// Launches the app and connects a WebDriver session to its window.
    ///
    /// # Errors
    /// When the session cannot be created (no display, WebKitWebDriver missing).
    pub async fn launch(&self) -> Result<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app_binary() }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("WebDriver session with the app")
    }
}

/// The panels re-render on every backend event (candles arrive every few seconds), so an
/// element found a moment before a re-render can be stale by the time it is used. Such a
/// miss is retried with a fresh lookup until `secs` run out; any other error is returned.
///
/// # Errors
/// The last error once `secs` have run out, or the first that is not a stale element.
pub async fn retry_stale<T, F, Fut>(
    secs: u64,
    mut attempt: F,
) -> Result<T, fantoccini::error::CmdError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match attempt().await {
            Err(e)
                if std::time::Instant::now() < deadline
                    && e.to_string().to_lowercase().contains("stale element") =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// The text of the element `css`.
///
/// # Errors
/// When it is missing.
pub async fn text(client: &Client, css: &str) -> Result<String> {
    retry_stale(10, || async {
        client.find(Locator::Css(css)).await?.text().await
    })
    .await
    .with_context(|| format!("text of {css}"))
}

/// Waits up to 20 s for `css` and clicks it.
///
/// # Errors
/// When it never appears or cannot be clicked.
pub async fn click(client: &Client, css: &str) -> Result<()> {
    retry_stale(20, || async {
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await?
            .click()
            .await
    })
    .await
    .with_context(|| format!("click {css}"))
}

/// Waits up to `secs` for an element matching `css`.
///
/// # Errors
/// When none appears in time.
pub async fn wait_for(client: &Client, css: &str, secs: u64) -> Result<()> {
    retry_stale(secs, || async {
        client
            .wait()
            .at_most(Duration::from_secs(secs))
            .for_element(Locator::Css(css))
            .await
            .map(drop)
    })
    .await
    .with_context(|| format!("{css} never appeared within {secs} s"))
}

/// Saves a screenshot of the window as `test-output/e2e-{name}.png`.
///
/// # Errors
/// When the screenshot or the file write fails.
pub async fn shot(client: &Client, name: &str) -> Result<()> {
    let png = client.screenshot().await?;
    std::fs::write(output_dir()?.join(format!("e2e-{name}.png")), &png)?;
    Ok(())
}

/// Opens a panel through the navigation bar.
///
/// # Errors
/// When its button cannot be clicked.
pub async fn navigate(client: &Client, panel: &str) -> Result<()> {
    click(client, &format!("#nav button[data-panel='{panel}']")).await
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SIGKILL would orphan WebKitWebDriver; tauri-driver reaps it on SIGTERM.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind a free port")?;
    Ok(listener.local_addr()?.port())
}
