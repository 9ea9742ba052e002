fn main() {
    // tauri.conf.json sits at the repository root, next to this package's manifest; the
    // capability files stay with the shell's sources.
    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"),
    )
    .expect("tauri.conf.json and src-tauri/capabilities are valid");
}
