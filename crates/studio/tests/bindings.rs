//! The UI's TypeScript types are generated from the Rust types, never written twice.
//! This test regenerates them and fails if the committed copy in `ui/src/lib/bindings`
//! differs. To update: `KIE_UPDATE_BINDINGS=1 cargo test -p studio --test bindings`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};

fn generate(dir: &Path) {
    let cfg = Config::new().with_out_dir(dir).with_large_int("number");
    kie::catalogue::ModelSpec::export_all(&cfg).unwrap();
    kie::catalogue::Catalogue::export_all(&cfg).unwrap();
    kie::validate::Problem::export_all(&cfg).unwrap();
    kie::ErrorCode::export_all(&cfg).unwrap();
    studio::tasks::Task::export_all(&cfg).unwrap();
    studio::library::ResultView::export_all(&cfg).unwrap();
    studio::library::ResultQuery::export_all(&cfg).unwrap();
    studio::characters::Character::export_all(&cfg).unwrap();
    studio::events::StudioEvent::export_all(&cfg).unwrap();
    studio::api::ApiError::export_all(&cfg).unwrap();
    studio::api::AppInfo::export_all(&cfg).unwrap();
    studio::api::KeyCheck::export_all(&cfg).unwrap();
    studio::api::InputCheck::export_all(&cfg).unwrap();
    studio::api::Balance::export_all(&cfg).unwrap();
    studio::api::UploadedImage::export_all(&cfg).unwrap();
    studio::api::UploadProgress::export_all(&cfg).unwrap();
    studio::api::ProgressEvent::export_all(&cfg).unwrap();
    studio::api::ResultPage::export_all(&cfg).unwrap();
    studio::gallery::ResultDetail::export_all(&cfg).unwrap();
    studio::gallery::CharacterView::export_all(&cfg).unwrap();
    studio::gallery::Health::export_all(&cfg).unwrap();
    studio::gallery::Rescan::export_all(&cfg).unwrap();
    studio::gallery::Exported::export_all(&cfg).unwrap();
}

/// Every `.ts` file under `dir`, by its path relative to `dir`.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "ts") {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn typescript_bindings_are_up_to_date() {
    let committed: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings");
    let fresh = tempfile::tempdir().unwrap();
    generate(fresh.path());
    let fresh_files = read_dir(fresh.path());
    assert!(
        fresh_files.contains_key("Task.ts") && fresh_files.contains_key("ModelSpec.ts"),
        "{:?}",
        fresh_files.keys()
    );
    if std::env::var_os("KIE_UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        std::fs::create_dir_all(&committed).unwrap();
        for (name, text) in &fresh_files {
            let path = committed.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        return;
    }
    let committed_files = read_dir(&committed);
    assert!(
        committed_files == fresh_files,
        "ui/src/lib/bindings is out of date with the Rust types; run \
         KIE_UPDATE_BINDINGS=1 cargo test -p studio --test bindings"
    );
}
