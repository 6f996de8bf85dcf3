//! Result downloads verified for real, and hostile or broken answers bounded (issue 10,
//! items 4 and 5): lengths against what the server announced, whole MP4s and decodable
//! images, caps per kind and on API answers, https-only result links, no redirect to
//! another scheme, at most ten result links per record.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kie::catalogue::MediaType;
use kie::client::{ClientConfig, KieClient};
use kie::limits::LimitsConfig;
use kie::media::MediaKind;
use kie::protocol::Protocol;
use kie::record::MAX_RESULT_URLS;
use kie::retry::RetryPolicy;
use kie::samples::iso_box;
use kie::{ApiKey, ErrorCode, KieError, TaskRecord};
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::json;

const KEY: &str = "test-key-downloads";

fn sim_config() -> SimConfig {
    SimConfig { key: KEY.into(), gen_ms: 100, invisible_ms: 0, ..SimConfig::default() }
}

fn client_with(sim: &Sim, tweak: impl FnOnce(&mut ClientConfig)) -> KieClient {
    let mut cfg = ClientConfig::new(ApiKey::new(KEY).unwrap());
    cfg.api_base = sim.base_url();
    cfg.upload_base = sim.upload_base_url();
    cfg.request_timeout = Duration::from_millis(1500);
    cfg.transfer_idle_timeout = Duration::from_millis(1500);
    cfg.retry = RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
    };
    cfg.limits = LimitsConfig { min_spacing: Duration::ZERO, ..LimitsConfig::default() };
    tweak(&mut cfg);
    KieClient::new(cfg).unwrap()
}

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kie-sim/assets").join(name)
}

/// Whether `bytes`, written to a file, are whole as `kind`.
fn whole(dir: &Path, kind: MediaKind, bytes: &[u8]) -> Result<(), String> {
    let path = dir.join("check");
    std::fs::write(&path, bytes).unwrap();
    kind.check_whole(&path).unwrap().map_err(|d| d.0)
}

async fn fetch(client: &KieClient, url: &str, media: MediaType, path: &Path) -> Result<kie::client::Fetched, KieError> {
    let mut file = tokio::fs::File::create(path).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), client.fetch_media_to(url, media, &mut file, 0, None))
        .await
        .expect("the download ended (it was not left to run without end)")
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[tokio::test]
async fn a_body_cut_short_without_a_length_is_told_apart_from_a_whole_one() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |_| {});
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/files/synthetic/300000.mp4", sim.base_url());
    let path = dir.path().join("v.partial");

    // Announced: the length is what the server said, and the file is a whole MP4.
    let fetched = fetch(&client, &url, MediaType::Video, &path).await.unwrap();
    assert_eq!((fetched.total, fetched.announced), (300_000, Some(300_000)));
    assert_eq!(MediaKind::Mp4.check_whole(&path).unwrap(), Ok(()));

    // Chunked and cut short with a clean end: the wire cannot tell, the client says it had
    // no length to compare, and the file's structure shows it is not whole.
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::CutUnannounced { after_bytes: 150_000 }));
    let fetched = fetch(&client, &url, MediaType::Video, &path).await.unwrap();
    assert_eq!((fetched.total, fetched.announced), (150_000, None));
    let damage = MediaKind::Mp4.check_whole(&path).unwrap().unwrap_err();
    assert!(damage.0.contains("mdat"), "{damage}");

    // The bundled clip (ffmpeg, moov first), whole and cut after its first 20 KB.
    let clip = std::fs::read(asset("landscape.mp4")).unwrap();
    let cut = clip.len() / 2;
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::CutUnannounced { after_bytes: cut as u64 }));
    let task = client
        .create_task(
            kie::catalogue::Catalogue::builtin().model("sora-2-text-to-video").unwrap(),
            &json!({"prompt": "a fox"}).as_object().unwrap().clone(),
            None,
        )
        .await
        .unwrap();
    let rec = wait_success(&client, &task).await;
    let link = rec.result.unwrap().result_urls[0].clone();
    let fetched = fetch(&client, &link, MediaType::Video, &path).await.unwrap();
    assert_eq!((fetched.total, fetched.announced), (cut as u64, None));
    assert!(MediaKind::Mp4.check_whole(&path).unwrap().is_err());
    let fetched = fetch(&client, &link, MediaType::Video, &path).await.unwrap();
    assert_eq!(fetched.announced, Some(clip.len() as u64));
    assert_eq!(std::fs::read(&path).unwrap(), clip);
    assert_eq!(MediaKind::Mp4.check_whole(&path).unwrap(), Ok(()));
}

async fn wait_success(client: &KieClient, task: &str) -> TaskRecord {
    for _ in 0..400 {
        match client.record_info(Protocol::Jobs, task).await {
            Ok(rec) if rec.is_final() => return rec,
            Ok(_) => {}
            Err(e) if e.code() == ErrorCode::NotFound => {}
            Err(e) => panic!("{e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the task never finished");
}

#[test]
fn an_mp4_is_whole_only_when_its_boxes_add_up_and_its_samples_are_there() {
    let dir = tempfile::tempdir().unwrap();
    let clip = std::fs::read(asset("landscape.mp4")).unwrap();
    assert_eq!(whole(dir.path(), MediaKind::Mp4, &clip), Ok(()));
    // Cut anywhere, it is not whole.
    for cut in [8, 31, 32, 40, 1000, 2855, 2856, 2870, 3000, clip.len() / 2, clip.len() - 1] {
        assert!(whole(dir.path(), MediaKind::Mp4, &clip[..cut]).is_err(), "cut at {cut}");
    }
    // Junk after the last box.
    let mut longer = clip.clone();
    longer.extend_from_slice(b"junk");
    assert!(whole(dir.path(), MediaKind::Mp4, &longer).is_err());
    // The index (moov) last, the file cut before it: the boxes add up, but there is no index.
    let ftyp = iso_box(b"ftyp", b"isom\0\0\x02\0isommp41");
    let mdat = iso_box(b"mdat", &[7u8; 4000]);
    let moov = iso_box(b"moov", &mvhd());
    assert_eq!(whole(dir.path(), MediaKind::Mp4, &[ftyp.clone(), mdat.clone(), moov.clone()].concat()), Ok(()));
    let err = whole(dir.path(), MediaKind::Mp4, &[ftyp.clone(), mdat.clone()].concat()).unwrap_err();
    assert!(err.contains("moov"), "{err}");
    // No mdat at all.
    assert!(whole(dir.path(), MediaKind::Mp4, &[ftyp.clone(), moov.clone()].concat()).is_err());
    // Not starting with ftyp.
    assert!(whole(dir.path(), MediaKind::Mp4, &[moov.clone(), ftyp.clone(), mdat.clone()].concat()).is_err());
    // An mdat of size 0 ("to the end of the file") cut short: the boxes add up whatever the
    // length, but the sample table says where the samples end.
    let head = [ftyp.clone(), moov_with_samples(0, &[1000, 1000, 1000])].concat();
    let data_at = head.len() as u32 + 8;
    let head = [ftyp.clone(), moov_with_samples(data_at, &[1000, 1000, 1000])].concat();
    let mut open_mdat = 0u32.to_be_bytes().to_vec();
    open_mdat.extend_from_slice(b"mdat");
    let full = [head.clone(), open_mdat.clone(), vec![1u8; 3000]].concat();
    assert_eq!(whole(dir.path(), MediaKind::Mp4, &full), Ok(()));
    let err = whole(dir.path(), MediaKind::Mp4, &full[..full.len() - 1500]).unwrap_err();
    assert!(err.contains("sample"), "{err}");
    // A sample table that claims more entries than its box holds is damage, not a panic or a
    // huge allocation.
    let mut liar = moov_with_samples(data_at, &[1000]);
    let at = find(&liar, b"stsz") + 12;
    liar[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let f = [ftyp.clone(), liar, open_mdat, vec![1u8; 3000]].concat();
    assert!(whole(dir.path(), MediaKind::Mp4, &f).is_err());
    // A box claiming more than the file, a 64-bit size, a size below its header.
    let mut big = ftyp.clone();
    big.extend_from_slice(&1u32.to_be_bytes());
    big.extend_from_slice(b"mdat");
    big.extend_from_slice(&(16u64 + 10).to_be_bytes());
    big.extend_from_slice(&[0; 10]);
    big.extend(moov.clone());
    assert_eq!(whole(dir.path(), MediaKind::Mp4, &big), Ok(()));
    let at = ftyp.len() + 8;
    big[at..at + 8].copy_from_slice(&(u64::MAX - 3).to_be_bytes());
    assert!(whole(dir.path(), MediaKind::Mp4, &big).is_err());
    let mut tiny = [ftyp.clone(), mdat.clone(), moov.clone()].concat();
    tiny[ftyp.len()..ftyp.len() + 4].copy_from_slice(&4u32.to_be_bytes());
    assert!(whole(dir.path(), MediaKind::Mp4, &tiny).is_err());
    assert!(whole(dir.path(), MediaKind::Mp4, b"").is_err());
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

fn mvhd() -> Vec<u8> {
    let mut body = vec![0u8; 12];
    body.extend_from_slice(&1000u32.to_be_bytes());
    body.extend_from_slice(&3000u32.to_be_bytes());
    body.resize(100, 0);
    iso_box(b"mvhd", &body)
}

/// A `moov` with one track whose samples (`sizes`) sit in one chunk at `offset`.
fn moov_with_samples(offset: u32, sizes: &[u32]) -> Vec<u8> {
    let full = |v: &[u32]| v.iter().flat_map(|n| n.to_be_bytes()).collect::<Vec<u8>>();
    let mut stsz = full(&[0, 0, sizes.len() as u32]);
    stsz.extend(full(sizes));
    let stsc = full(&[0, 1, 1, sizes.len() as u32, 1]);
    let stco = full(&[0, 1, offset]);
    let stbl =
        [iso_box(b"stsd", &full(&[0, 0])), iso_box(b"stsz", &stsz), iso_box(b"stsc", &stsc), iso_box(b"stco", &stco)]
            .concat();
    let minf = iso_box(b"minf", &iso_box(b"stbl", &stbl));
    let trak = iso_box(b"trak", &iso_box(b"mdia", &minf));
    iso_box(b"moov", &[mvhd(), trak].concat())
}

#[test]
fn an_image_is_whole_only_when_it_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = std::fs::read(asset("landscape.jpg")).unwrap();
    assert_eq!(whole(dir.path(), MediaKind::Jpeg, &jpg), Ok(()));
    for cut in [3, 200, jpg.len() / 2, jpg.len() - 2] {
        assert!(whole(dir.path(), MediaKind::Jpeg, &jpg[..cut]).is_err(), "cut at {cut}");
    }
    // A 1×1 PNG (its CRCs right).
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";
    assert_eq!(whole(dir.path(), MediaKind::Png, png), Ok(()));
    assert!(whole(dir.path(), MediaKind::Png, &png[..40]).is_err());
    assert!(whole(dir.path(), MediaKind::Png, &png[..png.len() - 1]).is_err(), "decodes, but its IEND is cut");
    // A 1×1 GIF: decoders read its first frame and stop, so its trailer tells it is whole.
    let gif: &[u8] =
        b"GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
    assert_eq!(whole(dir.path(), MediaKind::Gif, gif), Ok(()));
    assert!(whole(dir.path(), MediaKind::Gif, &gif[..gif.len() - 1]).is_err());
    assert!(whole(dir.path(), MediaKind::Png, b"\x89PNG\r\n\x1a\n not really a picture").is_err());
    assert!(whole(dir.path(), MediaKind::Webp, b"RIFF\x10\0\0\0WEBPVP8 \x04\0\0\0junk").is_err());
    // An image claiming to be huge is refused without allocating it.
    let mut huge = png.to_vec();
    // 65536 × 65536, its CRC right.
    huge[8..33].copy_from_slice(b"\0\0\0\rIHDR\0\x01\0\0\0\x01\0\0\x08\x06\0\0\0\x6c\x84\x30\xe3");
    assert!(whole(dir.path(), MediaKind::Png, &huge).is_err());
}

#[tokio::test]
async fn an_endless_body_stops_at_the_cap_for_its_kind() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |c| {
        c.max_video_bytes = 1 << 20;
        c.max_image_bytes = 100_000;
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.partial");
    let url = format!("{}/files/synthetic/300000.mp4", sim.base_url());
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::EndlessBody));
    let err = fetch(&client, &url, MediaType::Video, &path).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnexpectedResponse, "{err:?}");
    assert!(!err.is_transient(), "the same answer would come again: {err:?}");
    assert!(err.to_string().contains("1 MiB"), "{err}");
    assert_eq!(len(&path), 0, "what came is not kept to be resumed");

    // Announced larger than the cap: refused before the body is read.
    let err = fetch(&client, &url, MediaType::Image, &path).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnexpectedResponse, "{err:?}");
    assert_eq!(len(&path), 0);
    // A resume whose total is past the cap, likewise.
    let mut file = tokio::fs::OpenOptions::new().write(true).open(&path).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut file, &[0u8; 10]).await.unwrap();
    let err = client.fetch_media_to(&url, MediaType::Image, &mut file, 10, None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnexpectedResponse, "{err:?}");
    // Within the cap, the same link is fine; fetch_to tells the kind by the link.
    assert_eq!(fetch(&client, &url, MediaType::Video, &path).await.unwrap().total, 300_000);
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    assert_eq!(client.fetch_to(&url, &mut file, 0, None).await.unwrap().total, 300_000);

    // The defaults.
    let cfg = ClientConfig::new(ApiKey::new(KEY).unwrap());
    assert_eq!((cfg.max_video_bytes, cfg.max_image_bytes, cfg.max_api_body_bytes), (2 << 30, 20 << 20, 1 << 20));
}

#[tokio::test]
async fn api_answers_are_read_with_a_cap() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |c| c.request_timeout = Duration::from_millis(400));
    let before = client.credits().await.unwrap();
    for ep in [Endpoint::Credit, Endpoint::RecordInfo] {
        sim.push_fault(FaultRule::new(ep, Fault::EndlessBody).times(5));
    }
    let err = client.credits().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedResponse, "{err:?}");
    assert!(err.to_string().contains("1 MiB"), "{err}");
    let err = client.record_info(Protocol::Jobs, "any").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedResponse, "{err:?}");
    sim.clear_faults();
    // A create whose answer is too long to read may have been taken: outcome unknown, sent once.
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::EndlessBody));
    let spec = kie::catalogue::Catalogue::builtin().model("sora-2-text-to-video").unwrap();
    let err = client.create_task(spec, &json!({"prompt": "p"}).as_object().unwrap().clone(), None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::OutcomeUnknown, "{err:?}");
    assert_eq!(sim.stats().creates_received, 1);
    assert!(client.credits().await.unwrap() < before);
    // The cap is a setting: a smaller one refuses an ordinary answer.
    let tight = client_with(&sim, |c| c.max_api_body_bytes = 10);
    assert_eq!(tight.credits().await.unwrap_err().code(), ErrorCode::MalformedResponse);
}

#[tokio::test]
async fn result_links_must_be_https_but_for_the_simulator_on_loopback() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.partial");
    let url = format!("{}/files/synthetic/300000.mp4", sim.base_url());
    // A client for Kie itself: plain http is refused before anything is sent, even on
    // loopback (another program's port).
    let real = client_with(&sim, |c| c.api_base = "https://api.kie.ai".into());
    let err = fetch(&real, &url, MediaType::Video, &path).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnexpectedResponse, "{err:?}");
    assert!(err.to_string().contains("https"), "{err}");
    assert_eq!(sim.stats().file_gets, 0, "nothing was asked");
    // The simulator's client (its API on loopback http) may fetch loopback http links.
    let local = client_with(&sim, |_| {});
    fetch(&local, &url, MediaType::Video, &path).await.unwrap();
    let localhost = url.replace("127.0.0.1", "localhost");
    fetch(&local, &localhost, MediaType::Video, &path).await.unwrap();
    // ...but never http to another host, nor another scheme.
    for bad in ["http://results.invalid/v.mp4", "ftp://127.0.0.1/v.mp4", "file:///etc/passwd", "not a link"] {
        let err = fetch(&local, bad, MediaType::Video, &path).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnexpectedResponse, "{bad}: {err:?}");
    }
    assert_eq!(sim.stats().file_gets, 2);
}

#[tokio::test]
async fn a_redirect_to_another_scheme_is_refused() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |_| {});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.partial");
    let url = format!("{}/files/synthetic/300000.mp4", sim.base_url());
    // To the same scheme on loopback: followed.
    let same = url.replace("127.0.0.1", "localhost");
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::Redirect { location: same, status: 302 }));
    assert_eq!(fetch(&client, &url, MediaType::Video, &path).await.unwrap().total, 300_000);
    assert_eq!(sim.stats().file_gets, 2);
    // To another scheme: refused, not followed, not retried.
    let https = url.replace("http://", "https://");
    for status in [301, 302, 307, 308] {
        sim.push_fault(FaultRule::new(Endpoint::File, Fault::Redirect { location: https.clone(), status }));
        let err = fetch(&client, &url, MediaType::Video, &path).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnexpectedResponse, "{status}: {err:?}");
        assert!(err.to_string().contains("redirect"), "{err}");
        assert!(!err.is_transient());
    }
    assert_eq!(sim.stats().file_gets, 6);
}

#[tokio::test]
async fn a_record_lists_at_most_ten_result_links() {
    let urls: Vec<String> = (0..50).map(|i| format!("https://cdn.example/{i}.mp4")).collect();
    let rec = TaskRecord::from_value(&json!({
        "taskId": "t", "state": "success",
        "resultJson": json!({"resultUrls": urls, "resultWaterMarkUrls": urls}).to_string(),
    }));
    let result = rec.result.unwrap();
    assert_eq!(result.result_urls, urls[..MAX_RESULT_URLS].to_vec());
    assert_eq!(result.watermark_urls.len(), MAX_RESULT_URLS);
    assert_eq!(result.extra_urls, 80);
    let veo =
        TaskRecord::from_veo_value(&json!({"successFlag": 1, "response": {"resultUrls": urls, "originUrls": urls}}));
    assert_eq!(veo.result.unwrap().result_urls.len(), MAX_RESULT_URLS);
    // A link of a megabyte is no link.
    let long = format!("https://cdn.example/{}", "a".repeat(1 << 20));
    let rec = TaskRecord::from_value(&json!({
        "state": "success", "resultJson": json!({"resultUrls": [long, "https://cdn.example/ok.mp4"]}).to_string(),
    }));
    let result = rec.result.unwrap();
    assert_eq!(result.result_urls, vec!["https://cdn.example/ok.mp4".to_string()]);
    assert_eq!(result.extra_urls, 1);

    // Through the client, from the simulator.
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |_| {});
    let spec = kie::catalogue::Catalogue::builtin().model("sora-2-text-to-video").unwrap();
    let task = client.create_task(spec, &json!({"prompt": "p"}).as_object().unwrap().clone(), None).await.unwrap();
    sim.push_fault(FaultRule::new(Endpoint::RecordInfo, Fault::ManyResultUrls { count: 50 }).times(1000));
    let rec = wait_success(&client, &task).await;
    let result = rec.result.unwrap();
    assert_eq!(result.result_urls.len(), MAX_RESULT_URLS);
    assert_eq!(result.extra_urls, 40);
}
