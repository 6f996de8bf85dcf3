//! Drives the real Kie Studio window: each test starts its own `tauri-driver` (so each app
//! gets its own environment: library folder, keyring entry, simulator) and talks WebDriver
//! to it with fantoccini. Elements are found by `data-testid`.
//!
//! Run through `scripts/e2e.sh`, which builds the UI and the app, starts Xvfb, a private
//! D-Bus session and gnome-keyring, and sets `KIE_E2E_APP`.

pub mod bench_io;

pub use studio_server::seed;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long to wait for something to appear before failing.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The app binary to drive.
pub fn app_binary() -> PathBuf {
    let path = std::env::var_os("KIE_E2E_APP").map(PathBuf::from).unwrap_or_else(|| {
        panic!("KIE_E2E_APP is not set: run the end-to-end tests with scripts/e2e.sh (it builds the app first)")
    });
    assert!(path.exists(), "the app binary {} does not exist; run scripts/e2e.sh", path.display());
    path
}

/// Where screenshots go: `target/e2e-screenshots/<name>.png`.
pub fn screenshots_dir() -> PathBuf {
    let dir = workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What the app is started with.
#[derive(Debug, Clone)]
pub struct Launch {
    pub library: PathBuf,
    pub api_base: String,
    pub upload_base: String,
    /// A keyring entry of its own, so tests never see each other's keys.
    pub keyring_service: String,
    /// `KIE_API_KEY`, when the test should start with a key.
    pub api_key: Option<String>,
    pub env: Vec<(String, String)>,
    /// Another program to launch in the app's place (the bench's blank window).
    pub program: Option<PathBuf>,
}

impl Launch {
    pub fn new(library: &Path, sim: &kie_sim::Sim, name: &str) -> Launch {
        Launch {
            library: library.to_path_buf(),
            api_base: sim.base_url(),
            upload_base: sim.upload_base_url(),
            keyring_service: format!("ai.kie.studio.e2e-{name}-{}", std::process::id()),
            api_key: None,
            env: vec![("KIE_STUDIO_POLL_SCALE".into(), "0.05".into())],
            program: None,
        }
    }

    pub fn with_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_string());
        self
    }

    pub fn with_program(mut self, program: &Path) -> Self {
        self.program = Some(program.to_path_buf());
        self
    }

    pub fn with_env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
}

/// A running app window.
pub struct App {
    pub client: Client,
    driver: tokio::process::Child,
}

impl App {
    pub async fn launch(l: &Launch) -> App {
        // Already installed by an earlier launch in this process: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let native = free_port();
        let mut cmd = tokio::process::Command::new("tauri-driver");
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native.to_string())
            .env("KIE_STUDIO_KEYRING_SERVICE", &l.keyring_service)
            .env_remove("KIE_API_KEY")
            .env_remove("KIE_STUDIO_LIBRARY")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(k) = &l.api_key {
            cmd.env("KIE_API_KEY", k);
        }
        for (k, v) in &l.env {
            cmd.env(k, v);
        }
        let driver = cmd.spawn().expect("tauri-driver is installed (scripts/e2e.sh installs it)");
        let start = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "tauri-driver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let args = vec![
            "--library".to_string(),
            l.library.display().to_string(),
            "--api-base".to_string(),
            l.api_base.clone(),
            "--upload-base".to_string(),
            l.upload_base.clone(),
        ];
        let caps = json!({
            "wdio:enforceWebDriverClassic": true,
            "tauri:options": {
                "application": l.program.clone().unwrap_or_else(app_binary).display().to_string(),
                "args": args,
            },
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let client = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with the app");
        let app = App { client, driver };
        // The window is up once the UI has rendered something we know.
        app.wait_any(&["welcome", "model-form", "queue"]).await;
        app
    }

    /// tauri-driver's process id: the app runs below it (driver → WebKitWebDriver → app).
    pub fn driver_pid(&self) -> Option<u32> {
        self.driver.id()
    }

    fn locator(testid: &str) -> String {
        format!("[data-testid=\"{testid}\"]")
    }

    /// The element, once it exists. Errors while the page re-renders (a stale node) are
    /// retried like a missing element.
    pub async fn el(&self, testid: &str) -> Element {
        let css = Self::locator(testid);
        let start = Instant::now();
        loop {
            match self.client.find(Locator::Css(&css)).await {
                Ok(el) => return el,
                Err(e) if start.elapsed() > PATIENCE => {
                    self.screenshot(&format!("missing-{}", testid.replace(['[', ']', '.'], "_"))).await;
                    panic!("no element {testid} after {PATIENCE:?}: {e}");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub async fn exists(&self, testid: &str) -> bool {
        self.client.find(Locator::Css(&Self::locator(testid))).await.is_ok()
    }

    /// Wait until one of these appears; returns which. One selector list per poll, every 10 ms:
    /// launch → first screen is timed by this check for the app and the blank window alike,
    /// so a coarse poll would add up to its interval to whichever page renders after the
    /// session opens (the app's first screen waits for its first commands; a static page not).
    pub async fn wait_any(&self, testids: &[&str]) -> String {
        let any = testids.iter().map(|t| Self::locator(t)).collect::<Vec<_>>().join(",");
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(&any)).await {
                match el.attr("data-testid").await {
                    Ok(Some(t)) if testids.contains(&t.as_str()) => return t,
                    // Replaced by a re-render between finding and reading: look again.
                    _ => {}
                }
            }
            if start.elapsed() > PATIENCE {
                self.screenshot(&format!("missing-{}", testids.join("-or-"))).await;
                panic!("none of {testids:?} appeared");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The element, scrolled into view: WebKitWebDriver refuses to touch elements out of view.
    pub async fn visible(&self, testid: &str) -> Element {
        let el = self.el(testid).await;
        let _ = self
            .client
            .execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&el).unwrap()])
            .await;
        el
    }

    /// Click it; a node replaced by a re-render between finding and clicking is found again.
    pub async fn click(&self, testid: &str) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let el = self.visible(testid).await;
            match el.click().await {
                Ok(()) => return,
                Err(e) if attempt < 5 => {
                    eprintln!("click {testid} retried: {e}");
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                Err(e) => panic!("click {testid}: {e}"),
            }
        }
    }

    /// Replace the field's text.
    pub async fn fill(&self, testid: &str, text: &str) {
        let el = self.visible(testid).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear {testid}: {e:?}"));
        if text.is_empty() {
            // WebDriver refuses to type nothing; tell the page the field is now empty.
            self.client
                .execute(
                    "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
                    vec![serde_json::to_value(&el).unwrap()],
                )
                .await
                .unwrap();
        } else {
            el.send_keys(text).await.unwrap_or_else(|e| panic!("type into {testid}: {e}"));
        }
    }

    /// Choose the option of a drop-down list whose text is `label`, as a user would.
    pub async fn select(&self, testid: &str, label: &str) {
        let el = self.visible(testid).await;
        let found = self
            .client
            .execute(
                "const s = arguments[0]; const o = [...s.options].find((o) => o.text.trim() === arguments[1]);
                 if (!o) return false; s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true}));
                 return true;",
                vec![serde_json::to_value(&el).unwrap(), serde_json::Value::String(label.into())],
            )
            .await
            .unwrap();
        assert_eq!(found, serde_json::Value::Bool(true), "{testid} has no option {label:?}");
    }

    pub async fn text(&self, testid: &str) -> String {
        self.el(testid).await.text().await.unwrap()
    }

    pub async fn value(&self, testid: &str) -> String {
        self.el(testid).await.prop("value").await.unwrap().unwrap_or_default()
    }

    pub async fn attr(&self, testid: &str, name: &str) -> Option<String> {
        self.el(testid).await.attr(name).await.unwrap()
    }

    /// Wait until `check` says yes, up to `within`.
    pub async fn wait_for<F, Fut>(&self, what: &str, within: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = Instant::now();
        while !check().await {
            if start.elapsed() > within {
                self.screenshot(&format!("timeout-{}", what.replace(' ', "-"))).await;
                panic!("timed out after {within:?} waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Wait until the element's attribute has this value.
    pub async fn wait_attr(&self, testid: &str, name: &str, value: &str, within: Duration) {
        self.wait_for(&format!("{testid} {name}={value}"), within, || async {
            match self.client.find(Locator::Css(&Self::locator(testid))).await {
                Ok(el) => el.attr(name).await.ok().flatten().as_deref() == Some(value),
                Err(_) => false,
            }
        })
        .await;
    }

    /// The ids of tasks in the queue, newest first.
    pub async fn task_ids(&self) -> Vec<i64> {
        let els = self.client.find_all(Locator::Css("[data-testid^=\"task-\"][data-status]")).await.unwrap();
        let mut ids = Vec::new();
        for el in els {
            if let Some(t) = el.attr("data-testid").await.unwrap() {
                if let Ok(id) = t.trim_start_matches("task-").parse() {
                    ids.push(id);
                }
            }
        }
        ids
    }

    /// Press the form's submit button and return the id of the task that appears in the queue.
    pub async fn submit_new_task(&self) -> i64 {
        let before = self.task_ids().await;
        self.click("submit").await;
        let start = Instant::now();
        loop {
            if let Some(id) = self.task_ids().await.into_iter().filter(|id| !before.contains(id)).max() {
                return id;
            }
            if start.elapsed() > PATIENCE {
                self.screenshot("timeout-new-task").await;
                panic!("no new task appeared in the queue after submitting");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Wait for a task to be a success with its files in the library.
    pub async fn wait_task_ready(&self, id: i64, within: Duration) {
        let tid = format!("task-{id}");
        self.wait_attr(&tid, "data-status", "succeeded", within).await;
        self.wait_attr(&tid, "data-downloaded", "true", within).await;
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = screenshots_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Close the window (the app exits) and stop the driver.
    pub async fn quit(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.start_kill();
        let _ = self.driver.wait().await;
    }
}
