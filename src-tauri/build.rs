fn main() {
    // The app's Tauri config sits at the repository root (the product's layout), not in this
    // crate, so both the build script and `generate_context!` are pointed at it.
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri.conf.json at the repository root is valid");
}
