//! Updates end to end through the commands: a release server on loopback, release keys made
//! here as `tauri signer generate` makes them, artifacts signed as `tauri build` signs them,
//! and the real updater plugin checking, downloading, verifying and installing (the
//! AppImage way: the new file replaces the installed one).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use perpdesk_app::AppPaths;
use perpdesk_desktop::update::Updates;
use serde_json::{Value, json};
use tauri::test::{MockRuntime, mock_builder, mock_context, noop_assets};
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};

use crate::invoke_in;

const ARTIFACT: &str = "/perpdesk_0.1.1_amd64.AppImage";
const INSTALLED: &[u8] = b"\x7fELF perpdesk 0.1.0, the installed AppImage";

/// A release key pair: the public half as tauri.conf.json holds it (base64 of the key file).
struct ReleaseKey {
    pair: minisign::KeyPair,
}

impl ReleaseKey {
    fn generate() -> Self {
        Self {
            pair: minisign::KeyPair::generate_unencrypted_keypair().expect("key pair"),
        }
    }

    fn public_for_config(&self) -> String {
        let file = self.pair.pk.to_box().expect("public key box").to_string();
        base64::engine::general_purpose::STANDARD.encode(file)
    }

    /// The `signature` field of latest.json: base64 of the .sig file, bound to `version` in
    /// its trusted comment as `tauri build` binds it.
    fn sign(&self, bytes: &[u8], version: &str) -> String {
        self.sign_with_comment(
            bytes,
            &format!("timestamp:1764547200\tfile:perpdesk.AppImage\tversion:{version}"),
        )
    }

    /// As `sign`, with the trusted comment given (older CLIs wrote no version in it).
    fn sign_with_comment(&self, bytes: &[u8], trusted: &str) -> String {
        let sig = minisign::sign(
            Some(&self.pair.pk),
            &self.pair.sk,
            bytes,
            Some(trusted),
            Some("signature from tauri secret key"),
        )
        .expect("sign");
        base64::engine::general_purpose::STANDARD.encode(sig.to_string())
    }
}

/// What the release server serves, by path, and which paths were asked for.
#[derive(Default)]
struct Files {
    bodies: HashMap<String, Vec<u8>>,
    asked: Vec<String>,
}

/// A release server on 127.0.0.1 (plain HTTP: allowed for loopback in debug builds, as
/// the plugin's own check says). Stops when dropped.
struct ReleaseServer {
    port: u16,
    files: Arc<Mutex<Files>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReleaseServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("address").port();
        let files = Arc::new(Mutex::new(Files::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (files, stop) = (files.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &files);
                    }
                }
            })
        };
        Self {
            port,
            files,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn put(&self, path: &str, body: Vec<u8>) {
        self.files
            .lock()
            .expect("files")
            .bodies
            .insert(path.to_owned(), body);
    }

    /// Publishes `version` for linux-x86_64 as latest.json, with the artifact's URL and signature.
    fn publish(&self, version: &str, signature: &str) {
        let manifest = json!({
            "version": version,
            "notes": "Candles drawn in every locale.",
            "pub_date": "2026-12-01T00:00:00Z",
            "platforms": {
                "linux-x86_64": { "signature": signature, "url": self.url(ARTIFACT) }
            }
        });
        self.put("/latest.json", manifest.to_string().into_bytes());
    }

    fn asked(&self, path: &str) -> usize {
        let files = self.files.lock().expect("files");
        files.asked.iter().filter(|p| *p == path).count()
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, files: &Mutex<Files>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Headers up to the blank line; the updater sends no body.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let body = {
        let mut files = files.lock().expect("files");
        files.asked.push(path.clone());
        files.bodies.get(&path).cloned()
    };
    let (status, body) = match body {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// The shell at version 0.1.0 with the updater plugin configured for `server` and `key`,
/// installing over a stand-in AppImage in its own folder.
struct Installed {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    appimage: PathBuf,
    _dir: tempfile::TempDir,
}

fn installed(server: &ReleaseServer, key: &ReleaseKey) -> Installed {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut context = mock_context(noop_assets());
    context.package_info_mut().version = "0.1.0".parse().expect("version");
    // The shipped updater settings (requireSignedVersion above all), with this test's server
    // and key in place of the release ones.
    let shipped: Value = serde_json::from_str(include_str!("../../../tauri.conf.json"))
        .expect("tauri.conf.json is JSON");
    let mut updater = shipped["plugins"]["updater"].clone();
    updater["pubkey"] = json!(key.public_for_config());
    updater["endpoints"] = json!([server.url("/latest.json")]);
    context
        .config_mut()
        .plugins
        .0
        .insert("updater".into(), updater);
    let app = perpdesk_desktop::builder(mock_builder())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .build(context)
        .expect("the shell with the updater builds on the mock runtime");
    let paths = AppPaths {
        data_dir: dir.path().join("data"),
        log_dir: dir.path().join("logs"),
    };
    perpdesk_desktop::manage_app(app.handle(), paths).expect("app state opens");
    let appimage = dir.path().join("perpdesk.AppImage");
    std::fs::write(&appimage, INSTALLED).expect("installed AppImage");
    app.manage(Updates::installing_to(appimage.clone()));
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("main window");
    Installed {
        _app: app,
        window,
        appimage,
        _dir: dir,
    }
}

fn release_bytes(version: &str) -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(4096, 0);
    bytes.extend_from_slice(format!("perpdesk {version}").as_bytes());
    bytes
}

fn invoke(app: &Installed, cmd: &str, body: Value) -> Result<Value, Value> {
    invoke_in(&app.window, cmd, body)
}

#[test]
fn version_0_1_0_sees_0_1_1_and_installs_it_only_when_asked() {
    let server = ReleaseServer::start();
    let key = ReleaseKey::generate();
    let release = release_bytes("0.1.1");
    server.put(ARTIFACT, release.clone());
    server.publish("0.1.1", &key.sign(&release, "0.1.1"));
    let app = installed(&server, &key);

    let offer = invoke(&app, "check_update", json!({})).expect("check succeeds");
    assert_eq!(offer["version"], "0.1.1");
    assert_eq!(offer["currentVersion"], "0.1.0");
    assert_eq!(offer["notes"], "Candles drawn in every locale.");
    assert_eq!(server.asked(ARTIFACT), 0, "a check must not download");
    assert_eq!(std::fs::read(&app.appimage).expect("installed"), INSTALLED);

    let done = invoke(&app, "install_update", json!({})).expect("install succeeds");
    assert_eq!(done["version"], "0.1.1");
    assert_eq!(server.asked(ARTIFACT), 1);
    assert_eq!(
        std::fs::read(&app.appimage).expect("installed"),
        release,
        "the verified release replaced the installed AppImage"
    );
}

#[test]
fn a_tampered_artifact_is_refused_and_nothing_is_installed() {
    let server = ReleaseServer::start();
    let key = ReleaseKey::generate();
    let release = release_bytes("0.1.1");
    let signature = key.sign(&release, "0.1.1");
    let mut tampered = release;
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    server.put(ARTIFACT, tampered);
    server.publish("0.1.1", &signature);
    let app = installed(&server, &key);

    invoke(&app, "check_update", json!({})).expect("check succeeds");
    let err = invoke(&app, "install_update", json!({})).expect_err("tampered bytes refused");
    let message = err["message"].as_str().expect("message");
    assert!(
        message.contains("not signed by perpdesk's release key"),
        "{err}"
    );
    assert_eq!(err["code"], "Internal");
    assert_eq!(std::fs::read(&app.appimage).expect("installed"), INSTALLED);
}

#[test]
fn an_artifact_signed_with_another_key_is_refused() {
    let server = ReleaseServer::start();
    let ours = ReleaseKey::generate();
    let theirs = ReleaseKey::generate();
    let release = release_bytes("0.1.1");
    server.put(ARTIFACT, release.clone());
    server.publish("0.1.1", &theirs.sign(&release, "0.1.1"));
    let app = installed(&server, &ours);

    invoke(&app, "check_update", json!({})).expect("check succeeds");
    let err = invoke(&app, "install_update", json!({})).expect_err("foreign key refused");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("not signed by perpdesk's release key")),
        "{err}"
    );
    assert_eq!(std::fs::read(&app.appimage).expect("installed"), INSTALLED);
}

#[test]
fn no_update_is_offered_when_none_is_newer() {
    let server = ReleaseServer::start();
    let key = ReleaseKey::generate();
    let release = release_bytes("0.1.0");
    server.put(ARTIFACT, release.clone());
    server.publish("0.1.0", &key.sign(&release, "0.1.0"));
    let app = installed(&server, &key);

    let offer = invoke(&app, "check_update", json!({})).expect("check succeeds");
    assert_eq!(offer, Value::Null);
    let err = invoke(&app, "install_update", json!({})).expect_err("nothing to install");
    assert_eq!(err["code"], "NotFound");
    assert_eq!(server.asked(ARTIFACT), 0);
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let server = ReleaseServer::start();
    let key = ReleaseKey::generate();
    let app = installed(&server, &key);
    // Nothing published: latest.json is a 404.
    let err = invoke(&app, "check_update", json!({})).expect_err("no manifest");
    assert_eq!(err["code"], "Unavailable");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("update server")),
        "{err}"
    );
}

#[test]
fn checking_on_start_is_on_until_the_user_turns_it_off() {
    let server = ReleaseServer::start();
    let key = ReleaseKey::generate();
    let app = installed(&server, &key);
    let settings = invoke(&app, "update_settings", json!({})).expect("settings");
    assert_eq!(settings, json!({ "checkOnStart": true }));
    let saved = invoke(
        &app,
        "set_update_settings",
        json!({ "checkOnStart": false }),
    )
    .expect("saved");
    assert_eq!(saved, json!({ "checkOnStart": false }));
    let again = invoke(&app, "update_settings", json!({})).expect("settings");
    assert_eq!(again, json!({ "checkOnStart": false }));
}

#[test]
fn an_older_release_announced_as_a_newer_version_is_refused() {
    let server = ReleaseServer::start();
    let key = ReleaseKey::generate();
    // A genuine, genuinely signed 0.0.9 that the (unsigned) manifest calls 0.1.1: a downgrade.
    let old = release_bytes("0.0.9");
    server.put(ARTIFACT, old.clone());
    server.publish("0.1.1", &key.sign(&old, "0.0.9"));
    let app = installed(&server, &key);

    invoke(&app, "check_update", json!({})).expect("check succeeds");
    let err = invoke(&app, "install_update", json!({})).expect_err("replayed release refused");
    assert_eq!(err["code"], "Internal");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("signed as a different version") && m.contains("0.0.9")),
        "{err}"
    );
    assert_eq!(std::fs::read(&app.appimage).expect("installed"), INSTALLED);
}

#[test]
fn a_signature_that_names_no_version_is_refused() {
    let server = ReleaseServer::start();
    let key = ReleaseKey::generate();
    let release = release_bytes("0.1.1");
    server.put(ARTIFACT, release.clone());
    let unbound = key.sign_with_comment(&release, "timestamp:1764547200\tfile:perpdesk.AppImage");
    server.publish("0.1.1", &unbound);
    let app = installed(&server, &key);

    invoke(&app, "check_update", json!({})).expect("check succeeds");
    let err = invoke(&app, "install_update", json!({})).expect_err("unbound signature refused");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("signed as a different version")),
        "{err}"
    );
    assert_eq!(std::fs::read(&app.appimage).expect("installed"), INSTALLED);
}
