//! Measures the desktop targets of the dashboard in the real window (issues 8 and 18): cold
//! start to an interactive screen, memory once signals flow, CPU while idle with the chart
//! open, and the chart's frame times while candles stream and while a day is fast-forwarded,
//! each against the floor measured first in the same run: `perpdesk --floor`, the same binary
//! and webview settings with an empty page (`src-tauri/src/floor.rs`).
//!
//! A measurement, not a test: it asserts nothing and prints what it saw. Build the app in
//! release first, then run it under a display and a session bus:
//!
//! ```text
//! cargo build --release -p perpdesk-desktop
//! # PERF_SYMBOLS=26 watches 26 real perpetuals (more are aliases of BTCUSDT/ETHUSDT);
//! # PERF_IDLE_SECS sets the CPU window (60 s)
//! PERPDESK_APP=target/release/perpdesk xvfb-run -a -s "-screen 0 1280x800x24" \
//!   dbus-run-session -- cargo run -p perpdesk-e2e --example desktop_perf
//! ```
//!
//! Linux only: it reads `/proc` for the app's process tree (the app and the WebKit processes
//! it starts), RSS, PSS and private memory from `smaps_rollup`, and CPU ticks from `stat`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fantoccini::{Client, Locator};
use perpdesk_e2e::procs::{find_app, mib, open_floor, stat_fields, tree, wait_gone};
use perpdesk_e2e::{Driver, app_binary, click, navigate, shot, type_into, wait_for, wait_until};

const PASSWORD: &str = "measure the desktop app 42";
/// Linux's USER_HZ; `stat` times and start times are in these ticks.
const TICKS_PER_SEC: f64 = 100.0;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let idle_secs: u64 = std::env::var("PERF_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    // How many symbols to watch: the real perpetuals of the paper data first; past those,
    // the BTCUSDT and ETHUSDT series are listed again under other names
    // (PERPDESK_PAPER_SYMBOLS), so the app does the work of watching that many.
    let symbols: usize = std::env::var("PERF_SYMBOLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
        .max(1);
    println!(
        "app: {}; watching {symbols} symbols",
        app_binary().display()
    );
    let driver = Driver::start_with_env(&[("PERPDESK_PAPER_SYMBOLS", paper_symbols(symbols))])?;

    // 0. The floor: an empty window with the same webview settings, measured the same way.
    let floor = measure_floor(&driver).await?;

    // 1. First launch: an empty HOME, so the first-run screen.
    let (client, app) = launch(&driver, "first launch: interactive first-run screen").await?;
    enter(&client, true, "first run").await?;
    client.close().await?;
    wait_gone(app).await;

    // 2. A returning user's start: the same HOME, so the unlock screen, then the dashboard.
    let (client, app) = launch(&driver, "returning start: interactive unlock screen").await?;
    enter(&client, false, "returning start").await?;
    navigate(&client, "signals").await?;
    wait_for(&client, "[data-testid=chart] canvas", 30).await?;
    if symbols > 2 {
        watch_all(&client, symbols).await?;
    }
    let rows = client
        .find_all(Locator::Css("[data-testid=watchlist] tbody tr"))
        .await?
        .len();
    println!("watchlist: {rows} symbols");

    // 3. Idle: signals panel with the chart, the paper market streaming at its own pace.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let idle = memory_report(app, "idle, signals panel with chart, 20 s after unlock")?;
    println!("  page: {}", page_size(&client).await?);
    // CPU first, without the frame recorder: its callback on every frame is work of its own.
    let before = cpu_ticks(app)?;
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let after = cpu_ticks(app)?;
    cpu_report(&before, &after, t.elapsed());
    // At the default replay speed the selected symbol's 1h candle closes once a real minute,
    // and its signal is the busiest moment of the streaming page (the signal, the chart's
    // markers and overlays, the watchlist): the window spans 65 s, so one such close falls in
    // it. The page notes the close itself and nothing asks it anything until the window ends:
    // a WebDriver call is a script the web process evaluates on its main thread, and polling
    // every 100 ms for the close put frames of 130 ms or more into windows with no event and
    // no page work over a frame.
    let signal_time = "const el = document.querySelector('[data-testid=signal-detail] dd'); \
                       return el ? el.textContent : '';";
    let before_close = client.execute(signal_time, vec![]).await?;
    client
        .execute(
            "const before = arguments[0]; clearInterval(window.__closeWatch); \
             window.__closeAt = null; window.__closeWatch = setInterval(() => { \
               const el = document.querySelector('[data-testid=signal-detail] dd'); \
               if ((el ? el.textContent : '') !== before) { \
                 window.__closeAt = performance.now(); clearInterval(window.__closeWatch); } }, 250); \
             return true;",
            vec![before_close],
        )
        .await?;
    start_frames(&client).await?;
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(65)).await;
    let closed = !client
        .execute(
            "clearInterval(window.__closeWatch); return window.__closeAt;",
            vec![],
        )
        .await?
        .is_null();
    let label = format!(
        "{:.0} s with candles streaming, {}",
        t.elapsed().as_secs_f64(),
        if closed {
            "across a signal of the selected symbol"
        } else {
            "no signal of the selected symbol came"
        }
    );
    frames_report(&client, &label).await?;
    shot(&client, "perf-idle").await?;

    // 4. A burst: one simulated day fast-forwarded while the chart is on screen.
    start_frames(&client).await?;
    click(&client, "[data-testid=replay-day]").await?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    frames_report(&client, "10 s from a one-day fast-forward").await?;
    memory_report(app, "after the fast-forward")?;

    client.close().await?;
    floor_table(&floor, &idle, symbols);
    Ok(())
}

/// What the floor window cost.
struct Floor {
    start_ms: Option<f64>,
    memory: Totals,
}

/// `perpdesk --floor` through the same driver: cold start to its loaded empty page, memory
/// after the same 20 s settle as the dashboard gets, and its idle frame intervals.
async fn measure_floor(driver: &Driver) -> Result<Floor> {
    let (client, app) = open_floor(driver).await?;
    let v = client
        .execute(
            "const n = performance.getEntriesByType('navigation')[0]; \
             return [performance.timeOrigin + n.loadEventEnd, Date.now()];",
            vec![],
        )
        .await?;
    let start_ms = since_process_start(&v, app)?;
    println!(
        "floor: empty window loaded {} after the process started",
        ms_or_unknown(start_ms)
    );
    tokio::time::sleep(Duration::from_secs(20)).await;
    let memory = memory_report(app, "floor: empty window, 20 s after start")?;
    start_frames(&client).await?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    frames_report(&client, "floor: 10 s idle").await?;
    client.close().await?;
    wait_gone(app).await;
    Ok(Floor { start_ms, memory })
}

/// The footprint table: the floor, perpdesk idle with its chart, and the difference.
fn floor_table(floor: &Floor, app: &Totals, symbols: usize) {
    println!("footprint against the floor (MiB; PSS/RSS/private summed over the process tree):");
    println!("  {:<34} {:>8} {:>8} {:>8}", "", "PSS", "RSS", "private");
    let row = |name: &str, t: &Totals| {
        println!(
            "  {name:<34} {:>8.1} {:>8.1} {:>8.1}",
            mib(t.pss),
            mib(t.rss),
            mib(t.private)
        );
    };
    row("floor (empty window)", &floor.memory);
    row(&format!("perpdesk idle, {symbols} symbols"), app);
    let diff = Totals {
        rss: app.rss.saturating_sub(floor.memory.rss),
        pss: app.pss.saturating_sub(floor.memory.pss),
        private: app.private.saturating_sub(floor.memory.private),
    };
    row("perpdesk above the floor", &diff);
    println!(
        "  floor cold start to a loaded page: {}",
        ms_or_unknown(floor.start_ms)
    );
}

/// Launches the app and waits for its first interactive screen; prints how long that took
/// from the process's start and from the WebDriver request. Returns the session and the
/// app's pid.
async fn launch(driver: &Driver, what: &str) -> Result<(Client, u32)> {
    let asked = Instant::now();
    let client = driver.launch().await?;
    wait_for(&client, "body[data-ready='true']", 60).await?;
    let external = asked.elapsed();
    let app = find_app(driver.home())?;
    println!(
        "{what} {} after the process started (page {} ms after navigation start); \
         {:.0} ms after the WebDriver session was asked for",
        ms_or_unknown(in_app_start_ms(&client, app).await?),
        ready_ms(&client).await?,
        external.as_secs_f64() * 1000.0,
    );
    println!(
        "  page steps (ms after navigation start): {}",
        page_steps(&client).await?
    );
    Ok((client, app))
}

/// `n` symbols for the paper exchange to list (and the app to watch): BTCUSDT, ETHUSDT, then
/// the wide universe's perpetuals with data from the replay's start (`data/wide`, those listed
/// in 2021), then, past those, BTCUSDT's and ETHUSDT's series again under other names
/// (BTC01USDT=BTCUSDT, ...).
fn paper_symbols(n: usize) -> String {
    let mut list = vec!["BTCUSDT".to_owned(), "ETHUSDT".to_owned()];
    let wide = std::env::var("PERPDESK_SHARED")
        .map(|s| PathBuf::from(s).join("data/wide"))
        .unwrap_or_else(|_| PathBuf::from("../shared/data/wide"));
    let mut real: Vec<String> = std::fs::read_dir(&wide)
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|f| {
                    f.strip_prefix("binance_um_")?
                        .strip_suffix("_1h_2021-2023.csv.gz")
                        .map(str::to_owned)
                })
                // `XRPUSDT_mark_1h_…` is XRPUSDT's mark-price file, not a symbol.
                .filter(|s| {
                    s.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                })
                .collect()
        })
        .unwrap_or_default();
    real.sort();
    list.extend(real);
    for i in 1..=n.saturating_sub(list.len()) {
        let source = if i % 2 == 1 { "BTC" } else { "ETH" };
        list.push(format!("{source}{i:02}USDT={source}USDT"));
    }
    list.truncate(n);
    list.join(",")
}

/// Puts every listed symbol on the watchlist (a new user watches two), through the form a
/// user would use, and waits until the table shows them all.
async fn watch_all(client: &Client, n: usize) -> Result<()> {
    let names: Vec<String> = paper_symbols(n)
        .split(',')
        .filter_map(|e| e.split('=').next().map(str::to_owned))
        .collect();
    client
        .execute(
            "document.querySelector('[data-testid=watch-symbols]').value = ''",
            vec![],
        )
        .await?;
    type_into(client, "[data-testid=watch-symbols]", &names.join(", ")).await?;
    click(client, "[data-testid=watch-save]").await?;
    wait_until(
        client,
        "every listed symbol on the watchlist",
        "return document.querySelectorAll('[data-testid=watchlist] tbody tr').length",
        vec![],
        180,
        |v| v.as_u64() == Some(n as u64),
    )
    .await?;
    Ok(())
}

/// Submits the password on the gate (twice on a first run) and prints how long the
/// dashboard with its chart and then the first signal took from the submit (Argon2id and,
/// on a first run, the model's evaluation on this machine included).
async fn enter(client: &Client, first_run: bool, what: &str) -> Result<()> {
    set_password(
        client,
        if first_run {
            "[data-testid=gate-password2]"
        } else {
            ""
        },
    )
    .await?;
    let submitted = Instant::now();
    wait_for(client, "[data-testid=gate][hidden]", 60).await?;
    wait_for(client, "[data-testid=chart] canvas", 60).await?;
    println!(
        "{what}: dashboard with chart {:.0} ms after the password was submitted",
        submitted.elapsed().as_secs_f64() * 1000.0
    );
    wait_for(
        client,
        "[data-testid=signal-detail] [data-testid=trade-signal]",
        240,
    )
    .await?;
    println!(
        "{what}: first signal {:.1} s after the submit",
        submitted.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn set_password(client: &Client, again: &str) -> Result<()> {
    client
        .find(Locator::Css("[data-testid=gate-password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    if !again.is_empty() {
        client
            .find(Locator::Css(again))
            .await?
            .send_keys(PASSWORD)
            .await?;
    }
    click(client, "[data-testid=gate-submit]").await
}

async fn ready_ms(client: &Client) -> Result<String> {
    let v = client
        .execute("return document.body.dataset.readyMs ?? null", vec![])
        .await?;
    Ok(v.as_str().map_or_else(|| "?".into(), str::to_owned))
}

fn ms_or_unknown(ms: Option<f64>) -> String {
    ms.map_or_else(|| "(unknown)".into(), |ms| format!("{ms:.0} ms"))
}

/// The page's start as its own marks (`ui/js/main.js`) after the document's: when the
/// response ended, the DOM was parsed, and each step of `start()` ended.
async fn page_steps(client: &Client) -> Result<String> {
    page_text(
        client,
        "const [n] = performance.getEntriesByType('navigation'); \
         const steps = n ? [['response', n.responseEnd], ['dom', n.domContentLoadedEventEnd]] : []; \
         for (const m of performance.getEntriesByType('mark')) \
           if (m.name.startsWith('perpdesk:')) steps.push([m.name.slice(9), m.startTime]); \
         return steps.map(([k, t]) => `${k} ${Math.round(t)}`).join(', ');",
    )
    .await
}

/// What the page holds that the web process's memory grows with: its elements, and its
/// canvases' pixels (4 bytes each, the backing stores without accelerated compositing).
async fn page_size(client: &Client) -> Result<String> {
    page_text(
        client,
        "const canvases = [...document.querySelectorAll('canvas')]; \
         const px = canvases.reduce((n, c) => n + c.width * c.height, 0); \
         const svg = document.querySelectorAll('svg *').length; \
         return `${document.getElementsByTagName('*').length} elements (${svg} in SVG), ` + \
           `${canvases.length} canvases of ${(px * 4 / 1048576).toFixed(1)} MiB`;",
    )
    .await
}

/// The text `script` returns in the page.
async fn page_text(client: &Client, script: &str) -> Result<String> {
    let v = client.execute(script, vec![]).await?;
    Ok(v.as_str().unwrap_or("(none)").to_owned())
}

/// Process start to the page's first interactive screen. The page gives its ready moment as
/// epoch ms (navigation start plus its ready time); the process's age comes from `/proc`
/// (start ticks against the uptime, 10 ms resolution) and is taken from the same clock's now.
/// `btime` is not used: it is whole seconds and moves when the wall clock is adjusted.
async fn in_app_start_ms(client: &Client, pid: u32) -> Result<Option<f64>> {
    let v = client
        .execute(
            "return [performance.timeOrigin + Number(document.body.dataset.readyMs), Date.now()]",
            vec![],
        )
        .await?;
    since_process_start(&v, pid)
}

/// `[ready, page_now]` (epoch ms, from the page) as ms after process `pid` started.
fn since_process_start(v: &serde_json::Value, pid: u32) -> Result<Option<f64>> {
    let (Some(ready), Some(page_now)) = (
        v.get(0).and_then(serde_json::Value::as_f64),
        v.get(1).and_then(serde_json::Value::as_f64),
    ) else {
        return Ok(None);
    };
    let age_ms = process_age_ms(pid)?;
    // The process started `age_ms` before the page's now (the two reads are within a
    // WebDriver round trip of each other, a few ms).
    Ok(Some(ready - (page_now - age_ms)))
}

fn process_age_ms(pid: u32) -> Result<f64> {
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")?
        .split_whitespace()
        .next()
        .context("/proc/uptime")?
        .parse()?;
    let fields = stat_fields(pid)?;
    // Field 22 (1-based) of /proc/PID/stat is the start time in ticks after boot.
    let start: f64 = fields.get(19).context("starttime")?.parse()?;
    Ok((uptime - start / TICKS_PER_SEC) * 1000.0)
}

fn kib(rollup: &str, key: &str) -> u64 {
    rollup
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Memory summed over a process tree, KiB.
struct Totals {
    rss: u64,
    pss: u64,
    private: u64,
}

fn memory_report(root: u32, when: &str) -> Result<Totals> {
    println!("memory ({when}), MiB:");
    println!(
        "  {:<24} {:>8} {:>8} {:>8}",
        "process", "RSS", "PSS", "private"
    );
    let (mut rss, mut pss, mut private) = (0, 0, 0);
    for (pid, name) in tree(root)? {
        let Ok(r) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let (a, b, c) = (
            kib(&r, "Rss:"),
            kib(&r, "Pss:"),
            kib(&r, "Private_Clean:") + kib(&r, "Private_Dirty:"),
        );
        rss += a;
        pss += b;
        private += c;
        println!(
            "  {name:<24} {:>8.1} {:>8.1} {:>8.1}",
            mib(a),
            mib(b),
            mib(c)
        );
    }
    println!(
        "  {:<24} {:>8.1} {:>8.1} {:>8.1}",
        "all",
        mib(rss),
        mib(pss),
        mib(private)
    );
    Ok(Totals { rss, pss, private })
}

fn cpu_ticks(root: u32) -> Result<BTreeMap<u32, (String, u64)>> {
    let mut out = BTreeMap::new();
    for (pid, name) in tree(root)? {
        if let Ok(f) = stat_fields(pid) {
            // utime and stime are fields 14 and 15.
            let t = f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
            out.insert(pid, (name, t));
        }
    }
    Ok(out)
}

#[allow(clippy::cast_precision_loss)]
fn cpu_report(
    before: &BTreeMap<u32, (String, u64)>,
    after: &BTreeMap<u32, (String, u64)>,
    wall: Duration,
) {
    println!("CPU over {:.0} s idle (% of one core):", wall.as_secs_f64());
    let mut total = 0.0;
    for (pid, (name, t1)) in after {
        let t0 = before.get(pid).map_or(0, |(_, t)| *t);
        let pct = (t1 - t0) as f64 / TICKS_PER_SEC / wall.as_secs_f64() * 100.0;
        total += pct;
        println!("  {name:<24} {pct:>6.2}%");
    }
    println!("  {:<24} {total:>6.2}%", "all");
}

/// Records every animation frame's start time in the page; a new call stops the last one.
async fn start_frames(client: &Client) -> Result<()> {
    client
        .execute(
            "window.__frames = []; const g = (window.__framesGen ?? 0) + 1; \
             window.__framesGen = g; const f = (t) => { if (window.__framesGen !== g) return; \
             window.__frames.push(t); \
             if (window.__frames.length < 100000) requestAnimationFrame(f); }; \
             requestAnimationFrame(f); return true;",
            vec![],
        )
        .await?;
    Ok(())
}

async fn frames_report(client: &Client, when: &str) -> Result<()> {
    let v = client
        .execute(
            "const t = window.__frames; window.__frames = []; \
             const slow = performance.getEntriesByType('measure') \
               .filter((m) => m.name.startsWith('perpdesk:slow:')); \
             const d = [], late = []; for (let i = 1; i < t.length; i++) { \
               d.push(t[i] - t[i - 1]); \
               if (t[i] - t[i - 1] > 50) late.push([performance.timeOrigin + t[i], t[i] - t[i - 1], \
                 Object.entries(slow.filter((m) => m.startTime < t[i] && m.startTime + m.duration > t[i - 1]) \
                   .reduce((a, m) => { const k = m.name.slice(14); a[k] = a[k] ?? [0, 0]; a[k][0]++; a[k][1] += m.duration; return a; }, {})) \
                   .map(([k, [n, ms]]) => `${k} x${n} ${Math.round(ms)} ms`).join(', ')]); } \
             const longest = slow.filter((m) => t.length && m.startTime >= t[0]) \
               .sort((a, b) => b.duration - a.duration).slice(0, 3) \
               .map((m) => `${m.name.slice(14)} ${Math.round(m.duration)} ms`).join(', '); \
             return [d, late, longest];",
            vec![],
        )
        .await?;
    let mut d: Vec<f64> = v
        .get(0)
        .and_then(serde_json::Value::as_array)
        .context("frame deltas")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    // When each long frame ended (UTC), to set beside the app's log lines of that moment.
    for late in v
        .get(1)
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(end), Some(ms)) = (
            late.get(0).and_then(serde_json::Value::as_f64),
            late.get(1).and_then(serde_json::Value::as_f64),
        ) else {
            continue;
        };
        // The page's own work over a frame in it (`noteSlow` in ui/js/views/common.js); none
        // leaves style, layout, paint, the garbage collector or the process's other threads.
        let work = match late.get(2).and_then(serde_json::Value::as_str) {
            Some(w) if !w.is_empty() => w.to_owned(),
            _ => "no page work over a frame".to_owned(),
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let day_ms = (end as u64) % 86_400_000;
        println!(
            "  frame of {ms:.0} ms ended at {:02}:{:02}:{:02}.{:03} UTC ({work})",
            day_ms / 3_600_000,
            day_ms / 60_000 % 60,
            day_ms / 1_000 % 60,
            day_ms % 1_000
        );
    }
    if let Some(longest) = v.get(2).and_then(serde_json::Value::as_str)
        && !longest.is_empty()
    {
        println!("  the page's longest work ({when}): {longest}");
    }
    if d.is_empty() {
        println!("frames ({when}): none recorded");
        return Ok(());
    }
    d.sort_by(f64::total_cmp);
    let p = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((d.len() - 1) as f64 * q).round() as usize;
        d[i]
    };
    println!(
        "frames ({when}): {} frames, interval p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} over 50 ms",
        d.len() + 1,
        p(0.5),
        p(0.99),
        d[d.len() - 1],
        d.iter().filter(|x| **x > 50.0).count()
    );
    Ok(())
}
