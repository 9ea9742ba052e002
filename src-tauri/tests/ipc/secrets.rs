//! Issue 16 item 9: every command argument that carries a master password or an API secret
//! is a wiping type (`SecretString`) from deserialisation on, so the shell never holds it in
//! a plain `String` that is dropped unwiped. Read from the command sources, so a new command
//! that takes `password: String` fails here.

use std::path::Path;

/// The parameters (`name: Type`) of every `#[tauri::command]` function in `source`.
fn command_parameters(source: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("#[tauri::command]") {
        rest = &rest[at..];
        let open = rest.find('(').expect("a command has parameters");
        let name = rest[..open]
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default()
            .to_owned();
        let close = rest.find(") ->").expect("a command returns a Result");
        // Comments between parameters are not parameters.
        let list: Vec<&str> = rest[open + 1..close]
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        // A comma inside a type (`State<'_, Host>`) leaves a piece without `: `, skipped.
        for parameter in list.join(" ").split(',') {
            if let Some((arg, ty)) = parameter.trim().trim_end_matches(',').split_once(": ") {
                out.push((name.clone(), arg.trim().to_owned(), ty.trim().to_owned()));
            }
        }
        rest = &rest[close..];
    }
    out
}

#[test]
fn every_password_or_secret_argument_is_wiped_from_deserialisation_on() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/src/commands");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("commands folder") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("source");
        for (command, arg, ty) in command_parameters(&source) {
            let lower = arg.to_lowercase();
            if lower.contains("password") || lower.contains("secret") {
                assert!(
                    ty == "SecretString"
                        || ty.ends_with("::SecretString")
                        || ty == "Option<SecretString>"
                        || (ty.starts_with("Option<") && ty.ends_with("::SecretString>")),
                    "{}: {command}({arg}: {ty}) must take a SecretString",
                    path.display()
                );
                checked.push(format!("{command}.{arg}"));
            }
        }
    }
    checked.sort();
    // The scan sees every command that takes one (a rename or a new one shows up here).
    assert_eq!(
        checked,
        [
            "add_account.api_secret",
            "change_master_password.current_password",
            "change_master_password.new_password",
            "export_backup.password",
            "import_backup.current_password",
            "import_backup.password",
            "set_auto_lock.password",
            "set_auto_trade.password",
            "set_kill_switch.password",
            "set_ledger_settings.password",
            "set_risk_limits.password",
            "update_account.api_secret",
            "vault_setup.password",
            "vault_unlock.password",
        ]
    );
}
