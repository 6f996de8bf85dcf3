//! `pick_files` through the surface, as the window calls it: the field is found in the
//! catalogue (a model added as data through `KIE_STUDIO_CATALOGUE`, so nothing here is
//! built in), the dialog is asked for that field's kind of file (or the
//! `KIE_STUDIO_E2E_PICK` test hook answers instead), each file is checked, kept and uploaded
//! to the simulator, with progress on the channel.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kie::ApiKey;
use kie_sim::{Sim, SimConfig};
use serde_json::{json, Value};
use studio::app::Env;
use studio::session::SessionConfig;
use studio::surface::{dispatch, Channels, Sink};
use studio::uploads::FilePick;
use studio::{ApiError, ApiErrorCode, App, Headless, Host};

const KEY: &str = "pick-files-key-0001";

const CATALOGUE: &str = r#"{"models": [
  {"id": "test/pick", "name": "Pick test", "summary": "Takes files of each kind.", "output": "video",
   "family": "Test",
   "fields": [
     {"name": "prompt", "label": "Prompt", "type": "text", "widget": "textarea"},
     {"name": "image_urls", "label": "Images", "type": "list", "widget": "url_list",
      "items": {"label": "Image link", "type": "url", "widget": "url",
                "limits": {"file_types": ["jpg", "jpeg", "png", "webp"], "max_file_mb": 10, "media": "image"}}},
     {"name": "first_frame_url", "label": "First frame", "type": "url", "widget": "url",
      "limits": {"file_types": ["jpg", "png"], "max_file_mb": 10, "media": "image"}},
     {"name": "reference_audio_urls", "label": "Reference audio", "type": "list", "widget": "url_list",
      "items": {"label": "Audio link", "type": "url", "widget": "url",
                "limits": {"file_types": ["wav", "mp3"], "max_file_mb": 15, "media": "audio",
                           "min_seconds": 2, "max_seconds": 15}}},
     {"name": "character_file_url", "label": "Character clip", "type": "list", "widget": "url_list",
      "limits": {"max_items": 1},
      "items": {"label": "Clip link", "type": "url", "widget": "url",
                "limits": {"file_types": ["mp4", "webm", "avi"], "max_file_mb": 10, "media": "video",
                           "min_seconds": 1, "max_seconds": 4}}},
     {"name": "elements", "label": "Elements", "type": "list", "widget": "object_list",
      "items": {"label": "Element", "type": "object", "widget": "group", "fields": [
        {"name": "element_input_urls", "label": "Element images", "type": "list", "widget": "url_list",
         "items": {"label": "Image link", "type": "url", "widget": "url",
                   "limits": {"file_types": ["jpg", "png"], "media": "image"}}}]}}
   ]}
]}"#;

use kie::samples::wav;

/// An MP4 whose `mvhd` says it plays `seconds`.
fn mp4(seconds: f64) -> Vec<u8> {
    kie::samples::mp4(b"isom", seconds, 2048)
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

/// Channels that keep every message.
#[derive(Default)]
struct Kept(Arc<Mutex<Vec<Value>>>);

impl Channels for Kept {
    fn open(&self, _: &Value) -> Result<Sink<Value>, ApiError> {
        let kept = self.0.clone();
        Ok(Sink::new(move |v| {
            kept.lock().unwrap().push(v);
            true
        }))
    }
}

/// A desktop whose dialog answers `files` and remembers what it was asked.
struct FakeDesktop {
    files: Option<Vec<PathBuf>>,
    asked: Mutex<Vec<FilePick>>,
}

impl Host for FakeDesktop {
    fn pick_files(&self, pick: &FilePick) -> Option<Vec<PathBuf>> {
        self.asked.lock().unwrap().push(pick.clone());
        self.files.clone()
    }
    fn pick_folder(&self, _: &str) -> Option<PathBuf> {
        None
    }
    fn reveal(&self, _: &Path) -> Result<(), String> {
        Ok(())
    }
}

struct Setup {
    sim: Sim,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Setup {
        let sim = Sim::start(SimConfig { key: KEY.into(), ..SimConfig::default() }).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("catalogue.json"), CATALOGUE).unwrap();
        std::fs::write(dir.path().join("photo.png"), PNG).unwrap();
        std::fs::write(dir.path().join("clip.mp4"), mp4(3.0)).unwrap();
        std::fs::write(dir.path().join("long.webm.mp4"), mp4(6.2)).unwrap();
        std::fs::write(dir.path().join("voice.wav"), wav(1.0)).unwrap();
        let jpg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../kie-sim/assets/landscape.jpg");
        std::fs::copy(jpg, dir.path().join("holiday.jpg")).unwrap();
        Setup { sim, dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An app over its own library, with the test hook naming `e2e` (`None`: not set).
    fn app(&self, library: &str, e2e: Option<&[&str]>, host: Arc<dyn Host>) -> App {
        let args = [
            "kie-studio".to_string(),
            "--library".into(),
            self.file(library).display().to_string(),
            "--api-base".into(),
            self.sim.base_url(),
            "--upload-base".into(),
            self.sim.upload_base_url(),
        ];
        let pick =
            e2e.map(|names| names.iter().map(|n| self.file(n).display().to_string()).collect::<Vec<_>>().join(":"));
        let catalogue = self.file("catalogue.json").display().to_string();
        let cfg = SessionConfig::from_args_and_env(args, |name| match name {
            "KIE_STUDIO_E2E_PICK" => pick.clone(),
            "KIE_STUDIO_CATALOGUE" => Some(catalogue.clone()),
            "KIE_STUDIO_KEYRING_SERVICE" => Some("ai.kie.studio.test-pick-files".into()),
            _ => None,
        })
        .unwrap();
        let env: Env = Arc::new(|_: &str| None);
        let app = App::new(cfg, host, env);
        app.open_real_unstarted(ApiKey::new(KEY).unwrap()).unwrap();
        app
    }
}

async fn pick(app: &App, model: &str, field: &str, progress: &Kept) -> Result<Value, ApiError> {
    dispatch(app, "pick_files", json!({"model": model, "field": field, "onProgress": "channel"}), progress).await
}

#[tokio::test]
async fn the_test_hook_gives_each_field_its_own_kind_of_file() {
    let s = Setup::new().await;
    let app = s.app("lib", Some(&["photo.png", "clip.mp4", "voice.wav"]), Arc::new(Headless));
    let progress = Kept::default();

    let images = pick(&app, "test/pick", "image_urls", &progress).await.unwrap();
    assert_eq!(images.as_array().unwrap().len(), 1, "{images}");
    assert_eq!((images[0]["name"].clone(), images[0]["kind"].clone()), (json!("photo.png"), json!("image")));
    assert_eq!((images[0]["format"].clone(), images[0]["seconds"].clone()), (json!("png"), Value::Null));

    let clips = pick(&app, "test/pick", "character_file_url", &progress).await.unwrap();
    let clip = &clips[0];
    assert_eq!(
        (clip["name"].clone(), clip["kind"].clone(), clip["format"].clone()),
        (json!("clip.mp4"), json!("video"), json!("mp4"))
    );
    assert_eq!((clip["seconds"].clone(), clip["note"].clone()), (json!(3.0), Value::Null));
    let url = clip["url"].as_str().unwrap();
    assert!(url.starts_with(&s.sim.upload_base_url()) && url.ends_with(".mp4"), "{url}");
    let kept = s.file("lib").join(clip["local_path"].as_str().unwrap());
    assert_eq!(std::fs::read(kept).unwrap(), mp4(3.0), "a copy is kept in the library");
    let got = progress.0.lock().unwrap().clone();
    let last = got.iter().rev().find(|p| p["name"] == "clip.mp4").unwrap();
    assert_eq!((last["done"].clone(), last["total"].clone()), (json!(mp4(3.0).len()), json!(mp4(3.0).len())));

    // Nested in a group; the index does not matter.
    let nested = pick(&app, "test/pick", "elements[2].element_input_urls", &progress).await.unwrap();
    assert_eq!(nested[0]["name"], "photo.png");
    assert_eq!(s.sim.stats().uploads, 3);

    // The voice is 1 s: refused with a problem naming the field, the file and the limit;
    // nothing is uploaded.
    let err = pick(&app, "test/pick", "reference_audio_urls", &progress).await.unwrap_err();
    assert_eq!(err.code, ApiErrorCode::InvalidInput);
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].field, "reference_audio_urls");
    assert_eq!(err.problems[0].message, "voice.wav is 1 s; Reference audio must be 2 to 15 s.");
    assert_eq!(s.sim.stats().uploads, 3);

    let err = pick(&app, "test/pick", "prompt", &progress).await.unwrap_err();
    assert_eq!((err.code, err.problems[0].rule.as_str()), (ApiErrorCode::InvalidInput, "not_a_file_field"));
    let err = pick(&app, "no/model", "image_urls", &progress).await.unwrap_err();
    assert_eq!(err.problems[0].rule, "unknown_model");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn a_built_in_model_takes_a_jpeg_from_the_hook() {
    let s = Setup::new().await;
    let app = s.app("lib", Some(&["holiday.jpg"]), Arc::new(Headless));
    let got = pick(&app, "sora-2-image-to-video", "image_urls", &Kept::default()).await.unwrap();
    assert_eq!(got.as_array().map(Vec::len), Some(1), "{got}");
    assert_eq!(got[0]["format"], "jpg");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn the_dialog_is_asked_for_the_fields_kind_and_one_file_for_a_single_link() {
    let s = Setup::new().await;
    let desktop = Arc::new(FakeDesktop { files: Some(vec![s.file("long.webm.mp4")]), asked: Mutex::new(Vec::new()) });
    let app = s.app("lib", None, desktop.clone());
    let progress = Kept::default();
    let err = pick(&app, "test/pick", "character_file_url", &progress).await.unwrap_err();
    assert_eq!(err.problems[0].message, "long.webm.mp4 is 6.2 s; Character clip must be 1 to 4 s.");
    let asked = desktop.asked.lock().unwrap().clone();
    assert_eq!(asked[0].title, "Choose a clip for Character clip", "a list of at most one: one file");
    assert_eq!(asked[0].filter_name, "Videos (MP4, WebM, AVI)");
    assert!(!asked[0].multiple && asked[0].extensions.contains(&"webm".to_string()));

    let desktop = Arc::new(FakeDesktop { files: None, asked: Mutex::new(Vec::new()) });
    let app = s.app("lib2", None, desktop.clone());
    assert_eq!(pick(&app, "test/pick", "first_frame_url", &progress).await.unwrap(), json!([]), "cancelled");
    let asked = desktop.asked.lock().unwrap().clone();
    assert_eq!((asked[0].title.as_str(), asked[0].multiple), ("Choose an image for First frame", false));
    assert_eq!(asked[0].filter_name, "Images (JPEG, PNG)");

    // No desktop and no test hook: nothing is picked.
    let app = s.app("lib3", None, Arc::new(Headless));
    assert_eq!(pick(&app, "test/pick", "image_urls", &progress).await.unwrap(), json!([]));
    assert_eq!(s.sim.stats().uploads, 0);
    s.sim.shutdown().await;
}
