//! A harness that starts the real perpdesk binary through `tauri-driver` and hands back a
//! WebDriver client.
//!
//! The tests that use it are `#[ignore]`d because they need an X display (Xvfb), a D-Bus
//! session, `tauri-driver` on PATH and Debian's `WebKitWebDriver`; the README's test command
//! runs them with `cargo test -p perpdesk-e2e -- --ignored` under `xvfb-run` and
//! `dbus-run-session`.
//! The app runs with HOME pointed at a temporary folder, so a test never touches a real user's
//! data and always starts from a first launch.
//!
//! Every WebDriver command goes through [`bounded`]: a command the page never answers fails
//! after [`CALL_DEADLINE`] with the step's name, instead of hanging the test run.

pub mod notifications;
pub mod procs;

use std::future::Future;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};

/// The longest one WebDriver command may take. Each is one script, one screenshot or one key
/// press, answered in well under a second on an idle machine and in a few seconds on a loaded
/// one; a command still unanswered after this is stuck, not slow.
pub const CALL_DEADLINE: Duration = Duration::from_secs(30);

/// A command slower than this is named on stderr, so a run on a busy machine shows where its
/// time went.
const SLOW_CALL: Duration = Duration::from_secs(2);

/// Runs one WebDriver command, `what` naming it for the messages.
///
/// # Errors
/// When the command fails, or does not answer within [`CALL_DEADLINE`].
pub async fn bounded<T>(what: &str, call: impl Future<Output = Result<T, CmdError>>) -> Result<T> {
    let started = Instant::now();
    let answer = tokio::time::timeout(CALL_DEADLINE, call).await;
    let took = started.elapsed();
    if took > SLOW_CALL {
        eprintln!("e2e: slow WebDriver call ({took:.1?}): {what}");
    }
    answer
        .map_err(|_| anyhow!("WebDriver call stuck: {what}: no answer within {CALL_DEADLINE:?}"))?
        .with_context(|| format!("WebDriver call: {what}"))
}

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
        // The app looks for updates at start by default, on the public release server; a test
        // reaches nothing off this machine, so that setting starts off here (the update path
        // is tested against a loopback server in src-tauri/tests/ipc/update.rs).
        let data_dir = home.path().join(".local/share/com.perpdesk.desktop");
        std::fs::create_dir_all(&data_dir).context("app data folder")?;
        std::fs::write(
            data_dir.join("updater.json"),
            r#"{"settings":{"checkOnStart":false}}"#,
        )
        .context("update settings")?;
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
            // A group of its own, which WebKitWebDriver and the app join: see `Drop`.
            .process_group(0)
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
        self.launch_with_args(&[]).await
    }

    /// [`Driver::launch`] with command-line arguments for the app (e.g. `--floor`).
    ///
    /// # Errors
    /// As [`Driver::launch`].
    pub async fn launch_with_args(&self, args: &[&str]) -> Result<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app_binary(), "args": args }),
        );
        let url = format!("http://127.0.0.1:{}", self.port);
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        let connect = builder.capabilities(caps).connect(&url);
        // Creating the session starts the app and waits for its window.
        tokio::time::timeout(LAUNCH_DEADLINE, connect)
            .await
            .map_err(|_| anyhow!("the app's window did not come up within {LAUNCH_DEADLINE:?}"))?
            .context("WebDriver session with the app")
    }
}

/// How long starting the app and opening its window may take.
const LAUNCH_DEADLINE: Duration = Duration::from_secs(60);

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);

/// Evaluates `script` in the page until `done` accepts what it returns, or `secs` run out,
/// and returns that value.
///
/// The panels re-render on every backend event (candles arrive every few seconds), so an
/// element found by one WebDriver command can be replaced before the next one uses it. Every
/// check here is therefore one script: it looks the element up afresh and reads (or clicks)
/// it in the same turn of the page's event loop, where no re-render can come between.
///
/// Bounded: the deadline is checked between looks and each look is [`bounded`], so a wait
/// ends within `secs` plus one [`CALL_DEADLINE`].
///
/// # Errors
/// When the script fails, or `done` never accepts its value in time (the last value is in the
/// message).
pub async fn wait_until(
    client: &Client,
    what: &str,
    script: &str,
    args: Vec<serde_json::Value>,
    secs: u64,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Result<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let value = bounded(
            &format!("evaluating the page while waiting for {what}"),
            client.execute(script, args.clone()),
        )
        .await?;
        if done(&value) {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("{what}: not within {secs} s; the page last said {value}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Present: neither `null` nor `false`.
fn present(v: &serde_json::Value) -> bool {
    !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false))
}

/// The text of the element `css`, waiting up to 10 s for it; found and read in one script.
///
/// # Errors
/// When it is missing.
pub async fn text(client: &Client, css: &str) -> Result<String> {
    let v = wait_until(
        client,
        &format!("text of {css}"),
        "const el = document.querySelector(arguments[0]); return el ? el.innerText.trim() : null;",
        vec![css.into()],
        10,
        present,
    )
    .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

/// Waits up to 20 s for `css` to be shown and enabled, and clicks it in the same script.
///
/// # Errors
/// When it never becomes clickable.
pub async fn click(client: &Client, css: &str) -> Result<()> {
    wait_until(
        client,
        &format!("click {css}"),
        "const el = document.querySelector(arguments[0]); \
         if (!el || el.disabled || el.getClientRects().length === 0) return false; \
         el.click(); return true;",
        vec![css.into()],
        20,
        present,
    )
    .await
    .map(drop)
}

/// Waits up to `secs` for an element matching `css`.
///
/// # Errors
/// When none appears in time.
pub async fn wait_for(client: &Client, css: &str, secs: u64) -> Result<()> {
    wait_until(
        client,
        &format!("{css} to appear"),
        "return document.querySelector(arguments[0]) !== null;",
        vec![css.into()],
        secs,
        present,
    )
    .await
    .map(drop)
}

/// Whether an element matching `css` is there now (one look, no waiting).
///
/// # Errors
/// When the page cannot be evaluated.
pub async fn exists(client: &Client, css: &str) -> Result<bool> {
    let v = bounded(
        &format!("whether {css} is there"),
        client.execute(
            "return document.querySelector(arguments[0]) !== null;",
            vec![css.into()],
        ),
    )
    .await?;
    Ok(v.as_bool().unwrap_or(false))
}

/// Counts, in the drawing area of the chart in `css` (its canvases larger than half the box
/// each way: the pane, not the price or time axis), the pixels of each RGB colour in
/// `colours`. Reads the canvases back in one script.
const COUNT_COLOURS: &str = r"
const [css, colours] = arguments;
const box = document.querySelector(css);
if (!box) return null;
const r = box.getBoundingClientRect();
const counts = colours.map(() => 0);
for (const c of box.querySelectorAll('canvas')) {
  if (!c.width || !c.height || c.clientWidth < r.width / 2 || c.clientHeight < r.height / 2) continue;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] !== 255) continue;
    for (let k = 0; k < colours.length; k++) {
      const [cr, cg, cb] = colours[k];
      if (d[i] === cr && d[i + 1] === cg && d[i + 2] === cb) counts[k]++;
    }
  }
}
return counts;
";

/// Waits up to `secs` until the chart in `css` has drawn at least `min` pixels of every
/// colour in `colours` (RGB) in its pane, and returns the counts.
///
/// # Errors
/// When it has not, with the counts it had.
pub async fn wait_drawn(
    client: &Client,
    css: &str,
    colours: &[(&str, [u8; 3])],
    min: u64,
    secs: u64,
) -> Result<Vec<u64>> {
    let rgb: Vec<serde_json::Value> = colours.iter().map(|(_, c)| serde_json::json!(c)).collect();
    let names: Vec<&str> = colours.iter().map(|(n, _)| *n).collect();
    let v = wait_until(
        client,
        &format!("{css} to draw {names:?} (at least {min} px each)"),
        COUNT_COLOURS,
        vec![css.into(), rgb.into()],
        secs,
        |v| {
            v.as_array().is_some_and(|a| {
                a.len() == colours.len() && a.iter().all(|n| n.as_u64().unwrap_or(0) >= min)
            })
        },
    )
    .await?;
    Ok(v.as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default())
}

/// Starts a repaint on every animation frame (a 1 px dot in a corner changing between
/// transparent and 1/255 alpha) until [`STOP_PAINTING`].
///
/// WebKitGTK's WebDriver takes a screenshot only after the page's next presentation update
/// (`callAfterNextPresentationUpdate`). With the app's software compositing
/// (src-tauri/src/webview.rs, kept for its memory) a page with nothing left to paint waited
/// for whatever repaint an event happened to cause: 2 s on the signals panel, 50 s or never on
/// the trade panel right after an order, which hung the e2e; with accelerated compositing on,
/// no screenshot waited (measured both ways on a loaded 2-core machine). A page that is
/// painting answers at its next frame.
const KEEP_PAINTING: &str = "
if (!window.__e2ePaint) {
  const dot = document.createElement('div');
  dot.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
  document.documentElement.appendChild(dot);
  const p = { dot, odd: false, raf: 0 };
  const tick = () => {
    p.odd = !p.odd;
    dot.style.background = p.odd ? 'rgba(0,0,0,0.004)' : 'transparent';
    p.raf = requestAnimationFrame(tick);
  };
  p.raf = requestAnimationFrame(tick);
  window.__e2ePaint = p;
}
return true;";

/// Ends what [`KEEP_PAINTING`] started.
const STOP_PAINTING: &str = "
const p = window.__e2ePaint;
if (p) { cancelAnimationFrame(p.raf); p.dot.remove(); delete window.__e2ePaint; }
return true;";

/// A PNG of the window; `what` names it in messages. See [`KEEP_PAINTING`] for why the page
/// paints while it is taken.
///
/// # Errors
/// When the screenshot fails or does not answer in time.
pub async fn screenshot(client: &Client, what: &str) -> Result<Vec<u8>> {
    bounded(
        &format!("repainting for screenshot {what}"),
        client.execute(KEEP_PAINTING, vec![]),
    )
    .await?;
    let png = bounded(&format!("screenshot {what}"), client.screenshot()).await;
    let stopped = bounded(
        &format!("stop repainting after screenshot {what}"),
        client.execute(STOP_PAINTING, vec![]),
    )
    .await;
    let png = png?;
    stopped?;
    Ok(png)
}

/// Saves a screenshot of the window as `test-output/e2e-{name}.png`.
///
/// # Errors
/// When the screenshot or the file write fails.
pub async fn shot(client: &Client, name: &str) -> Result<()> {
    let png = screenshot(client, name).await?;
    std::fs::write(output_dir()?.join(format!("e2e-{name}.png")), &png)?;
    Ok(())
}

/// Types `text` into the element `css` as key presses (found now, without waiting).
///
/// # Errors
/// When the element is missing or the keys cannot be sent.
pub async fn type_into(client: &Client, css: &str, text: &str) -> Result<()> {
    let field = bounded(&format!("find {css}"), client.find(Locator::Css(css))).await?;
    bounded(&format!("type into {css}"), field.send_keys(text)).await
}

/// Ends the WebDriver session, which closes the app.
///
/// # Errors
/// When the driver refuses or does not answer.
pub async fn close(client: Client) -> Result<()> {
    bounded("closing the session", client.close()).await
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
        // SIGKILL would orphan WebKitWebDriver; tauri-driver reaps it on SIGTERM. It does not
        // stop the app WebKitWebDriver started, which outlives a session that was never closed
        // (a test that failed on a stuck command): the group's SIGTERM ends it.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind a free port")?;
    Ok(listener.local_addr()?.port())
}
