//! Issue 10 in the real window: a second launch on the same library hands over to the first
//! (which stays the only window) and exits without opening anything; the web view's
//! processes never inherit `KIE_API_KEY`; a host that is not Kie's own is shown.

use std::path::Path;
use std::time::Duration;

use e2e::{App, Launch};
use kie_sim::{Sim, SimConfig};

const KEY: &str = "e2e-test-key-5151";

/// Every WebKit helper process running now (the web view's web and network processes), with
/// its environment as it was started.
fn webkit_processes() -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        // `comm` is cut at 15 characters: WebKitWebProces, WebKitNetworkP.
        if comm.starts_with("WebKitWebProces") || comm.starts_with("WebKitNetworkP") {
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            found.push((pid, String::from_utf8_lossy(&environ).replace('\0', "\n")));
        }
    }
    found
}

fn holder_of(lib: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(lib.join(".lock")).unwrap()).unwrap()
}

#[tokio::test]
async fn one_window_per_library_and_the_key_stays_out_of_the_web_view() {
    let sim = Sim::start(SimConfig { key: KEY.into(), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("library");
    let launch = Launch::new(&lib, &sim, "single").with_key(KEY);
    let app = App::launch(&launch).await;
    app.el("model-form").await;

    // The key was taken out of the environment before the web view started.
    let helpers = webkit_processes();
    assert!(!helpers.is_empty(), "no WebKit process found");
    for (pid, env) in &helpers {
        assert!(!env.contains("KIE_API_KEY") && !env.contains(KEY), "WebKit process {pid} has the key");
    }

    // Settings: which key is in use, and where it goes (the simulator is not Kie's own host).
    app.el("custom-hosts-badge").await;
    app.click("nav-settings").await;
    assert!(app.text("key-source").await.contains("KIE_API_KEY"));
    assert_eq!(app.text("custom-api-base").await, sim.base_url());
    assert_eq!(app.text("custom-upload-base").await, sim.upload_base_url());
    app.screenshot("issue10-settings-hosts").await;

    // The window holds the library.
    let holder = holder_of(&lib);
    assert_eq!(holder["program"], "Kie Studio", "{holder}");

    // A second launch on the same library hands over and exits at once.
    let second = tokio::process::Command::new(e2e::app_binary())
        .args(["--library", &lib.display().to_string(), "--api-base", &sim.base_url()])
        .args(["--upload-base", &sim.upload_base_url()])
        .env("KIE_STUDIO_KEYRING_SERVICE", &launch.keyring_service)
        .env("KIE_API_KEY", KEY)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), second).await.expect("the second launch exited").unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("opened the real library"), "the second launch opened the library: {said}");

    // Still one window, still working, still the library's poller.
    assert_eq!(app.client.windows().await.unwrap().len(), 1);
    app.click("nav-create").await;
    app.el("model-form").await;
    assert_eq!(holder_of(&lib), holder);
    app.quit().await;
}
