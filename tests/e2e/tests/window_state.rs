//! Issue 12 in the real window: its size and position are remembered (tauri-plugin-window-state)
//! in the app's config folder, never in the library. The app runs with a config folder of
//! its own (`XDG_CONFIG_HOME`), so no other test's window is changed by this one.

use std::path::Path;
use std::time::{Duration, Instant};

use e2e::{App, Launch};
use kie_sim::{Sim, SimConfig};

/// Where the plugin keeps the state: `<config>/<identifier>/.window-state.json`.
fn state_file(config: &Path) -> std::path::PathBuf {
    config.join("ai.kie.studio").join(".window-state.json")
}

#[tokio::test]
async fn the_window_comes_back_at_the_size_and_place_it_was_left() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (lib, config) = (dir.path().join("library"), dir.path().join("config"));
    let launch = Launch::new(&lib, &sim, "window-state").with_env("XDG_CONFIG_HOME", &config.display().to_string());

    let app = App::launch(&launch).await;
    let first = app.client.get_window_rect().await.unwrap();
    // Within the 1280×800 screen, above the window's minimum (960×640), and unlike the default.
    let (x, y, w, h) = (60, 40, 1000, 700);
    app.client.set_window_rect(x, y, w, h).await.unwrap();
    let start = Instant::now();
    while app.client.get_window_rect().await.unwrap().2 != u64::from(w) {
        assert!(start.elapsed() < Duration::from_secs(5), "the window was not resized");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(first.2, u64::from(w), "the default size already was {first:?}");
    let moved = app.client.get_window_rect().await.unwrap();
    app.screenshot("issue12-window-resized").await;

    // Written once the resize has settled, not only at a clean exit: the driver's quit
    // kills the app, as a logout or a crash would.
    let start = Instant::now();
    while !std::fs::read_to_string(state_file(&config)).is_ok_and(|s| s.contains(&format!("\"x\": {x},"))) {
        assert!(start.elapsed() < Duration::from_secs(10), "no window state in {}", config.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.quit().await;
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state_file(&config)).unwrap()).unwrap();
    assert_eq!((saved["main"]["x"].as_i64(), saved["main"]["y"].as_i64()), (Some(x.into()), Some(y.into())), "{saved}");
    // Not in the library: the library may be synced or handed to another computer.
    let in_library: Vec<_> = studio::paths::files_under(&lib)
        .into_iter()
        .filter(|f| f.file_name().unwrap().to_string_lossy().contains("window-state"))
        .collect();
    assert!(in_library.is_empty(), "{in_library:?}");

    // The next start opens the window as it was left.
    let app = App::launch(&launch).await;
    let again = app.client.get_window_rect().await.unwrap();
    assert_eq!((again.2, again.3), (moved.2, moved.3), "size not restored: was {moved:?}, now {again:?}");
    assert_eq!((again.0, again.1), (moved.0, moved.1), "place not restored: was {moved:?}, now {again:?}");
    app.screenshot("issue12-window-restored").await;
    app.quit().await;
}
