//! Splits the web process's memory in the real window (issue 18 item 7): what the dashboard's
//! page costs above the floor's empty page, stage by stage, with the IPC replies the page
//! received and what the page holds (DOM nodes, canvases and their pixels, SVG shapes).
//!
//! A measurement, not a test: it asserts nothing and prints what it saw. It complements
//! `desktop_perf` (the whole footprint and the frames): the web process is the part the page
//! decides, so this looks inside it. The Rust profile does not change the web process, so the
//! debug build will do:
//!
//! ```text
//! cargo build --workspace --locked
//! xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
//!   cargo run --locked -p perpdesk-e2e --example web_memory
//! ```
//!
//! Knobs: `PERPDESK_APP` (the binary), `PERF_SETTLE_SECS` (the wait before each reading, 10 s),
//! `PERF_SMAPS_TOP` (how many of the web process's mappings to list at idle, 12), `PERF_STUB`
//! (commands whose replies the page gets as empty stand-ins, e.g. `model_card,signal_study`:
//! the cost of a part measured by leaving it out), `PERF_FLOOR_STEPS=1` (the fixed costs:
//! the font, the chart library and one chart added to the floor's page one by one),
//! `PERF_IDLE_READINGS` (more readings at idle on the signals panel, one every 30 s),
//! `PERF_LANG=en` (the interface language picked on the first-run form; zh-CN by default).
//!
//! Linux only: PSS, anonymous, file-backed and shared memory from `/proc/PID/smaps`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, Locator};
use perpdesk_e2e::procs::{find_app, mib, open_floor, tree, wait_gone};
use perpdesk_e2e::{Driver, app_binary, click, navigate, wait_for};

const PASSWORD: &str = "measure the web process 42";

/// Wraps the page's IPC so every reply's JSON size is logged by command, and replies of the
/// commands in `arguments[0]` (a map of command to stand-in reply) are replaced: a way to leave
/// one part of the page out without editing it. Tauri's own objects are frozen, so
/// `window.__TAURI__` is replaced by a copy whose `core.invoke` wraps the original; `api.js`
/// looks `window.__TAURI__` up on every call, so every later call goes through the wrapper.
const LOG_IPC: &str = "if (!window.__ipc) { window.__ipc = {}; const stubs = arguments[0]; \
    const tauri = window.__TAURI__; const orig = tauri.core.invoke; \
    const invoke = async (cmd, args, opts) => { let r = await orig(cmd, args, opts); \
      let n = 0; try { n = JSON.stringify(r ?? null).length; } catch (e) { n = -1; } \
      const e = window.__ipc[cmd] ?? (window.__ipc[cmd] = [0, 0, 0]); \
      e[0] += 1; e[1] += n; e[2] = Math.max(e[2], n); \
      if (Object.hasOwn(stubs, cmd)) r = structuredClone(stubs[cmd]); return r; }; \
    window.__TAURI__ = { ...tauri, core: { ...tauri.core, invoke } }; } \
    return window.__TAURI__.core.invoke !== undefined && window.__ipc !== undefined;";

/// Stand-in replies for `PERF_STUB` (comma-separated command names): what the page shows when
/// that part has nothing to draw.
fn stubs() -> serde_json::Value {
    let all = serde_json::json!({
        "model_card": null,
        "signal_study": {"state": "computing", "progress": [0, 1], "families": [], "symbols": []},
        "candles": [],
        "indicators": {},
        "family_signals": [],
    });
    let want = std::env::var("PERF_STUB").unwrap_or_default();
    let picked: serde_json::Map<String, serde_json::Value> = want
        .split(',')
        .filter(|c| !c.is_empty())
        .filter_map(|c| Some((c.to_owned(), all.get(c)?.clone())))
        .collect();
    serde_json::Value::Object(picked)
}

/// What the page holds now: DOM elements, canvases with their backing pixels, SVG shapes.
const PAGE_STATS: &str = "const all = document.getElementsByTagName('*'); \
    let px = 0; const cv = document.querySelectorAll('canvas'); \
    for (const c of cv) px += c.width * c.height; \
    return { nodes: all.length, canvases: cv.length, canvas_mpx: px / 1e6, \
      svg: document.querySelectorAll('svg *').length };";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let settle = Duration::from_secs(env_or("PERF_SETTLE_SECS", 10));
    let top: usize = env_or("PERF_SMAPS_TOP", 12);
    println!(
        "app: {}; settle {} s before each reading",
        app_binary().display(),
        settle.as_secs()
    );
    let driver = Driver::start()?;
    let mut table = Vec::new();

    // The floor: the same window and webview settings with an empty page.
    let (client, app) = open_floor(&driver).await?;
    tokio::time::sleep(settle).await;
    table.push(reading(app, "floor (empty page)", &client).await?);
    let floor_maps = by_path(web_pid(app)?)?;
    if std::env::var_os("PERF_FLOOR_STEPS").is_some() {
        floor_steps(&client, app, settle, &mut table).await?;
    }
    client.close().await?;
    wait_gone(app).await;

    // perpdesk: a first run from an empty HOME.
    let client = driver.launch().await?;
    wait_for(&client, "body[data-ready='true']", 60).await?;
    let app = find_app(driver.home())?;
    let stubbed = stubs();
    println!("replies replaced: {stubbed}");
    let wrapped = client.execute(LOG_IPC, vec![stubbed.clone()]).await?;
    println!("IPC log installed: {wrapped}");
    tokio::time::sleep(settle).await;
    table.push(reading(app, "first-run gate", &client).await?);

    if let Ok(language) = std::env::var("PERF_LANG") {
        // The first-run form's language switch, as a user would pick it.
        let picked = client
            .execute(
                "const s = document.querySelector('[data-testid=gate-language]'); \
                 s.value = arguments[0]; s.dispatchEvent(new Event('change')); \
                 return document.documentElement.lang;",
                vec![language.clone().into()],
            )
            .await?;
        println!("language: {picked}");
        wait_for(&client, "[data-testid=gate-password]", 10).await?;
    }
    let submitted = Instant::now();
    for css in [
        "[data-testid=gate-password]",
        "[data-testid=gate-password2]",
    ] {
        client
            .find(Locator::Css(css))
            .await?
            .send_keys(PASSWORD)
            .await?;
    }
    click(&client, "[data-testid=gate-submit]").await?;
    wait_for(&client, "[data-testid=gate][hidden]", 60).await?;
    let has = |cmd: &str| stubbed.get(cmd).is_none();
    let chart = if has("candles") {
        "[data-testid=chart] canvas"
    } else {
        "[data-testid=chart] .empty"
    };
    wait_for(&client, chart, 120).await?;
    tokio::time::sleep(settle).await;
    table.push(reading(app, "dashboard with chart", &client).await?);
    wait_for(
        &client,
        "[data-testid=signal-detail] [data-testid=trade-signal]",
        600,
    )
    .await?;
    if has("model_card") {
        wait_for(&client, "[data-testid=equity-chart] canvas", 60).await?;
    }
    tokio::time::sleep(settle).await;
    table.push(reading(app, "first signal, model card", &client).await?);
    if has("signal_study") {
        wait_for(&client, "[data-testid=portfolio-table]", 900).await?;
        wait_for(&client, "[data-testid=family-signals]", 120).await?;
    } else {
        wait_for(&client, "[data-testid=study-progress]", 60).await?;
    }
    println!(
        "study ready {:.0} s after the submit",
        submitted.elapsed().as_secs_f64()
    );
    tokio::time::sleep(settle).await;
    table.push(reading(app, "study ready (signals panel)", &client).await?);
    tokio::time::sleep(Duration::from_secs(20)).await;
    table.push(reading(app, "idle 20 s more (signals)", &client).await?);
    smaps_top(app, top, &floor_maps)?;
    // A long idle shows whether what the page holds grows with the streamed candles and
    // signals: readings every 30 s.
    for i in 1..=env_or("PERF_IDLE_READINGS", 0_u32) {
        tokio::time::sleep(Duration::from_secs(30)).await;
        table.push(reading(app, &format!("idle, {} s later", i * 30), &client).await?);
    }

    for panel in ["trade", "records", "profit-share", "risk", "api-config"] {
        navigate(&client, panel).await?;
        wait_for(&client, &format!("#panel-{panel}:not([hidden])"), 30).await?;
        tokio::time::sleep(settle).await;
        table.push(reading(app, &format!("panel {panel}"), &client).await?);
    }
    navigate(&client, "signals").await?;
    wait_for(&client, chart, 60).await?;
    tokio::time::sleep(settle).await;
    table.push(reading(app, "back on signals", &client).await?);
    ipc_report(&client).await?;
    client.close().await?;
    wait_gone(app).await;

    print_table(&table);
    Ok(())
}

/// The fixed costs of the dashboard's ingredients, added one by one to the floor's empty page
/// (`PERF_FLOOR_STEPS=1`): the interface font's Chinese glyphs, regular then bold; the chart
/// library's module; one chart of 300 candles at the dashboard's size.
async fn floor_steps(
    client: &Client,
    app: u32,
    settle: Duration,
    table: &mut Vec<Reading>,
) -> Result<()> {
    let steps: [(&str, &str); 4] = [
        (
            "floor + Chinese text",
            "const p = document.createElement('p'); \
             p.style.fontFamily = '\"Noto Sans CJK SC\", \"DejaVu Sans\", sans-serif'; \
             p.textContent = '预测信号 交易 记录 分成 风险 设置 账户 密码 解锁 价格 数量 止损 止盈 0123456789 ABC abc'; \
             document.body.append(p); arguments[0](true);",
        ),
        (
            "floor + Chinese bold",
            "const h = document.createElement('h2'); \
             h.style.fontFamily = '\"Noto Sans CJK SC\", \"DejaVu Sans\", sans-serif'; \
             h.textContent = '预测信号 交易 记录 分成 风险 设置 账户 密码 0123456789 ABC abc'; \
             document.body.append(h); arguments[0](true);",
        ),
        (
            "floor + chart module",
            "import('./vendor/lightweight-charts/lightweight-charts.standalone.production.mjs') \
             .then((m) => { window.__lwc = m; arguments[0](true); }, (e) => arguments[0](String(e)));",
        ),
        (
            "floor + one chart, 300 candles",
            "const m = window.__lwc; const box = document.createElement('div'); \
             box.style.cssText = 'width: 1000px; height: 420px'; document.body.append(box); \
             const c = m.createChart(box, { autoSize: true, layout: { attributionLogo: false } }); \
             const s = c.addSeries(m.CandlestickSeries, {}); let p = 100; const d = []; \
             for (let i = 0; i < 300; i++) { const o = p; p += Math.sin(i) * 2; \
               d.push({ time: 1700000000 + i * 3600, open: o, high: Math.max(o, p) + 1, \
                 low: Math.min(o, p) - 1, close: p }); } \
             s.setData(d); c.timeScale().fitContent(); \
             requestAnimationFrame(() => requestAnimationFrame(() => arguments[0](true)));",
        ),
    ];
    for (stage, script) in steps {
        let done = client.execute_async(script, vec![]).await?;
        if done != true {
            bail!("{stage}: {done}");
        }
        tokio::time::sleep(settle).await;
        table.push(reading(app, stage, client).await?);
    }
    Ok(())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// One stage: the web process's memory split, the whole tree's PSS and the page's contents.
struct Reading {
    stage: String,
    web: Split,
    tree_pss: u64,
    page: serde_json::Value,
}

/// A process's memory from `smaps`, KiB.
#[derive(Default)]
struct Split {
    pss: u64,
    anon_pss: u64,
    file_pss: u64,
    shmem_pss: u64,
    /// The part of `anon_pss` in glibc's main heap (`[heap]`): native allocations (cairo,
    /// fontconfig, FreeType), not the JavaScript heap.
    brk_pss: u64,
    rss: u64,
}

async fn reading(app: u32, stage: &str, client: &Client) -> Result<Reading> {
    let mut tree_pss = 0;
    let mut web = None;
    for (pid, name) in tree(app)? {
        let split = smaps_split(pid).unwrap_or_default();
        tree_pss += split.pss;
        if name.starts_with("WebKitWebProces") {
            web = Some(split);
        }
    }
    let page = client.execute(PAGE_STATS, vec![]).await?;
    let r = Reading {
        stage: stage.to_owned(),
        web: web.context("no WebKit web process under the app")?,
        tree_pss,
        page,
    };
    println!(
        "{:<30} web PSS {:>6.1} MiB (anon {:.1} of which [heap] {:.1}, file {:.1}, shmem {:.1}); tree PSS {:.1}; page {}",
        r.stage,
        mib(r.web.pss),
        mib(r.web.anon_pss),
        mib(r.web.brk_pss),
        mib(r.web.file_pss),
        mib(r.web.shmem_pss),
        mib(r.tree_pss),
        r.page
    );
    Ok(r)
}

fn print_table(rows: &[Reading]) {
    println!("\nweb process, MiB (PSS; anon/file/shmem are PSS too), and the whole tree's PSS:");
    println!(
        "  {:<30} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>7} {:>9} {:>6}",
        "stage", "PSS", "anon", "file", "shmem", "RSS", "tree PSS", "nodes", "canvas Mpx", "svg"
    );
    for r in rows {
        println!(
            "  {:<30} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>9.1} {:>7} {:>9.2} {:>6}",
            r.stage,
            mib(r.web.pss),
            mib(r.web.anon_pss),
            mib(r.web.file_pss),
            mib(r.web.shmem_pss),
            mib(r.web.rss),
            mib(r.tree_pss),
            r.page["nodes"],
            r.page["canvas_mpx"].as_f64().unwrap_or(0.0),
            r.page["svg"],
        );
    }
}

/// Sums `smaps` by kind: anonymous (heap, `[anon:...]`, no path), shared memory (`/memfd:`,
/// `/dev/shm`, SysV, deleted files: WebKit's shared buffers) and file-backed (libraries, fonts,
/// caches).
fn smaps_split(pid: u32) -> Result<Split> {
    let mut s = Split::default();
    for m in mappings(pid)? {
        s.pss += m.pss;
        s.rss += m.rss;
        match m.kind() {
            Kind::Anon => {
                s.anon_pss += m.pss;
                if m.path == "[heap]" {
                    s.brk_pss += m.pss;
                }
            }
            Kind::Shmem => s.shmem_pss += m.pss,
            Kind::File => s.file_pss += m.pss,
        }
    }
    Ok(s)
}

struct Mapping {
    path: String,
    pss: u64,
    rss: u64,
}

enum Kind {
    Anon,
    Shmem,
    File,
}

impl Mapping {
    fn kind(&self) -> Kind {
        let p = self.path.as_str();
        if p.starts_with("/memfd:")
            || p.starts_with("/dev/shm")
            || p.starts_with("/SYSV")
            || p.ends_with("(deleted)")
        {
            Kind::Shmem
        } else if p.starts_with('/') {
            Kind::File
        } else {
            Kind::Anon
        }
    }
}

fn mappings(pid: u32) -> Result<Vec<Mapping>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps"))?;
    let mut out: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first.contains('-') && first.chars().next().is_some_and(|c| c.is_ascii_hexdigit()) {
            // A mapping's header: range perms offset dev inode [path].
            let path = words.skip(4).collect::<Vec<_>>().join(" ");
            out.push(Mapping {
                path,
                pss: 0,
                rss: 0,
            });
        } else if let Some(m) = out.last_mut() {
            let kib = || {
                words
                    .clone()
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            match first {
                "Pss:" => m.pss = kib(),
                "Rss:" => m.rss = kib(),
                _ => {}
            }
        }
    }
    Ok(out)
}

fn web_pid(app: u32) -> Result<u32> {
    tree(app)?
        .into_iter()
        .find(|(_, name)| name.starts_with("WebKitWebProces"))
        .map(|(pid, _)| pid)
        .context("no web process")
}

/// PSS by mapped path, KiB; anonymous mappings without a name are `(anonymous)`.
fn by_path(pid: u32) -> Result<BTreeMap<String, u64>> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for m in mappings(pid)? {
        let key = if m.path.is_empty() {
            "(anonymous)".to_owned()
        } else {
            m.path
        };
        *out.entry(key).or_default() += m.pss;
    }
    Ok(out)
}

/// The web process's largest mappings by PSS, same paths summed (fonts show as their files),
/// each with what the floor's web process had there.
fn smaps_top(app: u32, n: usize, floor: &BTreeMap<String, u64>) -> Result<()> {
    let now = by_path(web_pid(app)?)?;
    let mut v: Vec<_> = now.iter().collect();
    v.sort_by(|a, b| {
        let d = |(p, k): &(&String, &u64)| k.saturating_sub(floor.get(*p).copied().unwrap_or(0));
        d(b).cmp(&d(a))
    });
    println!("web process's mappings that grew most over the floor's (PSS, MiB: now, floor):");
    for (path, pss) in v.iter().take(n) {
        let f = floor.get(*path).copied().unwrap_or(0);
        println!("  {:>7.1} {:>7.1}  {path}", mib(**pss), mib(f));
    }
    let fonts: u64 = v
        .iter()
        .filter(|(p, _)| p.contains("/fonts/"))
        .map(|(_, k)| **k)
        .sum();
    println!("  fonts in all: {:.1} MiB", mib(fonts));
    Ok(())
}

/// The replies the page received since the log was installed, by command.
async fn ipc_report(client: &Client) -> Result<()> {
    let v = client.execute("return window.__ipc ?? {};", vec![]).await?;
    let mut rows: Vec<(String, u64, u64, u64)> = v
        .as_object()
        .context("ipc log")?
        .iter()
        .map(|(cmd, e)| {
            let n = |i: usize| e.get(i).and_then(serde_json::Value::as_u64).unwrap_or(0);
            (cmd.clone(), n(0), n(1), n(2))
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.2));
    println!("IPC replies received by the page (JSON bytes):");
    println!(
        "  {:<24} {:>6} {:>12} {:>12}",
        "command", "calls", "total", "largest"
    );
    for (cmd, calls, total, max) in rows {
        println!("  {cmd:<24} {calls:>6} {total:>12} {max:>12}");
    }
    Ok(())
}
