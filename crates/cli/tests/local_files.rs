//! `kie generate` with local files for link fields that take them (the catalogue's
//! `limits.media`): a clip and a sound for a list of links, a picture for a single link, and
//! pictures inside a list of groups. Each file is checked by its bytes against the field's
//! limits (a clip's length too), kept in the library and uploaded to the simulator; the
//! upload's link is what is sent. A file that fails a check stops everything.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::*;
use kie_sim::Sim;
use serde_json::Value;

fn kie(sim: &Sim, lib: &Path) -> tokio::process::Command {
    kie_command(sim, lib)
}

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(30), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// An MP4 whose `mvhd` says it plays `seconds`.
fn mp4(seconds: f64) -> Vec<u8> {
    kie::samples::mp4(b"isom", seconds, 4096)
}

use kie::samples::wav;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

fn sent_input(out: &Output) -> Value {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)));
    v["task"]["input"].clone()
}

#[tokio::test]
async fn a_local_clip_and_sound_are_checked_kept_and_uploaded() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let clip = dir.path().join("routine.mov"); // an MP4 by its bytes, whatever it is called
    std::fs::write(&clip, mp4(3.0)).unwrap();
    let voice = dir.path().join("voice.wav");
    std::fs::write(&voice, wav(2.5)).unwrap();
    let out = run(
        kie(&sim, &lib),
        &[
            "--json",
            "generate",
            "bytedance/seedance-2",
            "--prompt",
            "dance like the clip",
            "--reference_video_urls",
            clip.to_str().unwrap(),
            "--reference_audio_urls",
            voice.to_str().unwrap(),
            "--wait",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sim.stats().uploads, 2);
    let input = sent_input(&out);
    let video = input["reference_video_urls"][0].as_str().unwrap();
    let audio = input["reference_audio_urls"][0].as_str().unwrap();
    assert!(video.starts_with(&sim.upload_base_url()) && video.ends_with(".mp4"), "{video}");
    assert!(audio.starts_with(&sim.upload_base_url()) && audio.ends_with(".wav"), "{audio}");
    let mut kept: Vec<String> = files_under(&lib.join("uploads")).iter().map(|p| p.display().to_string()).collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.iter().any(|k| k.ends_with(".mp4")) && kept.iter().any(|k| k.ends_with(".wav")), "{kept:?}");

    // A clip too long for the field: refused with its label, its name and the limit; nothing
    // is uploaded or sent.
    let long = dir.path().join("long.mp4");
    std::fs::write(&long, mp4(20.0)).unwrap();
    let creates = sim.stats().creates_received;
    let out = run(
        kie(&sim, &lib),
        &[
            "--json",
            "generate",
            "bytedance/seedance-2",
            "--prompt",
            "dance",
            "--reference_video_urls",
            long.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = &v["error"]["problems"][0];
    assert_eq!(problem["field"], "reference_video_urls[0]", "{v}");
    assert_eq!(problem["rule"], "too_long", "{v}");
    let message = problem["message"].as_str().unwrap();
    assert!(message.starts_with("long.mp4 is 20 s; ") && message.ends_with(" must be 2 to 15 s."), "{message}");
    // A sound given for a clip's field: refused by its bytes.
    let out = run(
        kie(&sim, &lib),
        &[
            "--json",
            "generate",
            "bytedance/seedance-2",
            "--prompt",
            "dance",
            "--reference_video_urls",
            voice.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["problems"][0]["rule"], "unsupported_type", "{v}");
    assert_eq!((sim.stats().uploads, sim.stats().creates_received), (2, creates));
}

#[tokio::test]
async fn a_single_link_and_links_inside_groups_take_local_pictures() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let photo = dir.path().join("dog.png");
    std::fs::write(&photo, PNG).unwrap();
    let out = run(
        kie(&sim, &lib),
        &[
            "--json",
            "generate",
            "hailuo/2-3-image-to-video-pro",
            "--prompt",
            "the dog jumps",
            "--image_url",
            photo.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let url = sent_input(&out)["image_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&sim.upload_base_url()) && url.ends_with(".png"), "{url}");

    let side = dir.path().join("side.png");
    std::fs::write(&side, [PNG, b"another"].concat()).unwrap();
    let elements = serde_json::json!([{
        "name": "dog",
        "description": "a small brown dog",
        "element_input_urls": [photo.to_str().unwrap(), format!("file://{}", side.display())]
    }])
    .to_string();
    let out = run(
        kie(&sim, &lib),
        &["--json", "generate", "kling-3.0/video", "--prompt", "@dog runs", "--kling_elements", &elements],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let input = sent_input(&out);
    let urls = input["kling_elements"][0]["element_input_urls"].as_array().unwrap();
    assert_eq!(urls.len(), 2);
    assert!(urls.iter().all(|u| u.as_str().unwrap().starts_with(&sim.upload_base_url())), "{urls:?}");
    assert_eq!(sim.stats().uploads, 3);
}
