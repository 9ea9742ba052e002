//! The binary's re-exec that hands its allocators and the webview's JavaScript engine their
//! settings (`perpdesk_desktop::process_env`).

use perpdesk_desktop::process_env::{PROCESS_ENV, missing_options};

/// Marks the process [`reexec_passes_the_options_and_arguments`] starts.
const CHILD: &str = "PERPDESK_PROCESS_ENV_TEST_CHILD";

#[test]
fn keeps_an_option_the_user_set() {
    let missing = missing_options(|key| (key == "MIMALLOC_PURGE_DELAY").then(|| "5".into()));
    assert_eq!(
        missing.iter().map(|(key, _)| *key).collect::<Vec<_>>(),
        [
            "MIMALLOC_ARENA_EAGER_COMMIT",
            "MIMALLOC_ALLOW_THP",
            "GLIBC_TUNABLES",
            "JSC_useJIT"
        ]
    );
    assert!(missing_options(|_| Some("1".into())).is_empty());
}

#[test]
fn reexec_passes_the_options_and_arguments() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = std::process::Command::new(exe);
    command
        .args([
            "--ignored",
            "--exact",
            "process_env::reexec_child",
            "--nocapture",
        ])
        .env(CHILD, "1");
    for (key, _) in PROCESS_ENV {
        command.env_remove(key);
    }
    let output = command.output().expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    // The line comes from the re-executed image: the first one exec'd before printing.
    let line = stdout
        .lines()
        .find(|l| l.starts_with("child sees"))
        .unwrap_or_else(|| panic!("no report from the child: {stdout}"));
    assert_eq!(
        line,
        "child sees MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0 MIMALLOC_ALLOW_THP=0 \
         GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072 \
         JSC_useJIT=0 filter=process_env::reexec_child"
    );
}

/// Runs only as [`reexec_passes_the_options_and_arguments`]'s child: re-executes itself, and
/// the new image (options set, so it returns `None`) reports what it sees.
#[test]
#[ignore = "the child process of reexec_passes_the_options_and_arguments"]
fn reexec_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    if let Some(err) = perpdesk_desktop::process_env::reexec_with_options() {
        panic!("re-exec failed: {err}");
    }
    let seen: Vec<String> = PROCESS_ENV
        .iter()
        .map(|(key, _)| format!("{key}={}", std::env::var(key).unwrap_or_default()))
        .collect();
    let args: Vec<String> = std::env::args().collect();
    let filter = args
        .iter()
        .position(|a| a == "--exact")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_default();
    println!("child sees {} filter={filter}", seen.join(" "));
}
