//! A library from before thumbnails (posters, no thumbs) gets them once the app opens it:
//! in the background, after the check of the database, without the window asking.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use image::{ImageBuffer, Rgb, RgbImage};
use serde_json::json;
use studio::app::Env;
use studio::library::{self, NewResult, ResultKind};
use studio::session::SessionConfig;
use studio::{tasks, App, Db, Headless};

fn app(lib: &Path) -> App {
    let args = ["kie-studio".to_string(), "--library".into(), lib.display().to_string()];
    let cfg = SessionConfig::from_args_and_env(args, |name| match name {
        // Nothing is polled: no task is running, and Kie is a closed port.
        "KIE_API_BASE" | "KIE_UPLOAD_BASE" => Some("http://127.0.0.1:9".into()),
        "KIE_STUDIO_KEYRING_SERVICE" => Some("ai.kie.studio.test-thumbs-backfill".into()),
        "KIE_STUDIO_POLL_SCALE" => Some("0.01".into()),
        _ => None,
    })
    .unwrap();
    let env: Env = Arc::new(|name: &str| (name == "KIE_API_KEY").then(|| "studio-test-key-4242".to_string()));
    App::new(cfg, Arc::new(Headless), env)
}

#[tokio::test]
async fn an_older_library_gets_its_thumbnails_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let mut ids = Vec::new();
    {
        let db = Db::open(&lib.join("library.db"), 1).unwrap();
        std::fs::create_dir_all(lib.join("posters")).unwrap();
        let frame: RgbImage = ImageBuffer::from_fn(640, 360, |x, y| Rgb([(x / 3) as u8, (y / 2) as u8, 90]));
        for i in 0..6 {
            let input = json!({"prompt": format!("a fox {i}")}).as_object().unwrap().clone();
            let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, None, false, i).unwrap();
            let poster = format!("posters/task-{}-poster.jpg", t.id);
            frame.save(lib.join(&poster)).unwrap();
            let r = library::add_result(
                &db,
                NewResult {
                    task_id: t.id,
                    idx: 0,
                    kind: ResultKind::Video,
                    poster_path: Some(poster),
                    ..Default::default()
                },
                i,
            )
            .unwrap();
            assert_eq!(r.thumb_path, None);
            ids.push(r.id);
        }
    }
    let app = app(&lib);
    assert!(app.open_with_saved_key().await.unwrap());
    let studio = app.studio().unwrap();
    let all_made = || ids.iter().all(|&id| library::get_result(studio.db(), id).unwrap().thumb_path.is_some());
    tokio::time::timeout(Duration::from_secs(60), async {
        while !all_made() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("every result gets its thumbnail");
    for id in ids {
        let thumb = library::get_result(studio.db(), id).unwrap().thumb_path.unwrap();
        assert!(thumb.starts_with("thumbs/"), "{thumb}");
        let img = image::open(lib.join(&thumb)).unwrap();
        assert!(img.width() <= 512 && img.height() <= 512, "{}x{}", img.width(), img.height());
    }
}
