//! Who may read what perpdesk writes (Unix, issue 16 item 5, the app's half): the data and
//! log folders are 0700; the CSV exports, the log files and the paper exchange's state file
//! are 0600 themselves, whatever the umask. The umask is
//! process-wide; this sets the common 022 (never a stricter one), so tests beside it create
//! their files exactly as they would anyway.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use std::io::Write as _;

use perpdesk_app::logging::LogFiles;
use perpdesk_app::venue::PaperVenue;
use perpdesk_app::{App, AppPaths};
use tracing_subscriber::fmt::MakeWriter as _;

use crate::support::{data_dir, engine_on, start_sim};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_data_and_log_folders_and_csv_exports_are_private_under_umask_022() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = AppPaths {
        data_dir: dir.path().join("data"),
        log_dir: dir.path().join("logs"),
    };
    // One folder made by an earlier build, readable by all: made private on open.
    std::fs::create_dir_all(&paths.log_dir).expect("old log folder");
    std::fs::set_permissions(&paths.log_dir, std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    App::open(paths.clone()).expect("app opens");
    assert_eq!(mode(&paths.data_dir), 0o700);
    assert_eq!(mode(&paths.log_dir), 0o700);

    let engine = engine_on(start_sim().await).await;
    let exports = paths.data_dir.join("exports");
    for kind in ["trades", "orders", "ledger"] {
        let done = engine
            .export_csv(exports.clone(), kind, None)
            .await
            .expect("exported");
        assert_eq!(mode(Path::new(&done.path)), 0o600, "{kind}");
    }
    assert_eq!(mode(&exports), 0o700);
}

#[test]
fn log_files_are_private_under_umask_022_and_older_ones_are_made_private() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("log folder");
    // A file an earlier build (or another appender) left readable by all.
    let old = logs.join("perpdesk.2020-01-01.log");
    std::fs::write(&old, "an old line\n").expect("old log");
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    let files = LogFiles::open(&logs, 7).expect("log files open");
    files
        .make_writer()
        .write_all(b"a line of today\n")
        .expect("written");
    let today = files.path_for(chrono::Utc::now().date_naive());
    assert_eq!(
        std::fs::read_to_string(&today).expect("today's log"),
        "a line of today\n"
    );
    assert_eq!(mode(&today), 0o600);
    assert_eq!(mode(&old), 0o600);
    assert_eq!(mode(&logs), 0o700);
}

#[tokio::test]
async fn the_paper_exchange_state_file_is_private_under_umask_022() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("paper-exchange.json");
    let paper = PaperVenue::start(&data_dir(), None, Some(state.clone()))
        .await
        .expect("paper starts");
    paper.save().expect("saved");
    assert_eq!(mode(&state), 0o600);
    // Saved again over the first file (a rename of a fresh file): still private.
    paper.save().expect("saved again");
    assert_eq!(mode(&state), 0o600);
}
