//! The command list comes from the one declaration of the surface
//! (`crates/studio/src/surface.rs`), generated into `commands.json` by
//! `crates/studio/tests/generated.rs`. Listing them makes Tauri generate an `allow-<command>`
//! permission for each and check every call against the capabilities (also generated), so a
//! command missing from `capabilities/default.json` cannot be called at all.

fn main() {
    // The config lives at the repository root (next to ui/); tauri-build must be told.
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=commands.json");
    let text = std::fs::read_to_string("commands.json").expect("src-tauri/commands.json");
    let names: Vec<String> = serde_json::from_str(&text).expect("commands.json is a list of names");
    // tauri-build keeps the names for the whole build.
    let names: &'static [&'static str] = Vec::leak(names.into_iter().map(|n| &*String::leak(n)).collect());
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(names)),
    )
    .expect("tauri-build");
}
