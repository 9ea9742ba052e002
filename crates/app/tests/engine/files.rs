//! Who may read what perpdesk writes (Unix, issue 16 item 5, the app's half): the data and
//! log folders are 0700 and the CSV exports 0600, whatever the umask. The umask is
//! process-wide; this sets the common 022 (never a stricter one), so tests beside it create
//! their files exactly as they would anyway.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use perpdesk_app::{App, AppPaths};

use crate::support::{engine_on, start_sim};

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
