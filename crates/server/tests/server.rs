//! The browser server over real HTTP: the token gate, a command and its error envelope, the
//! event stream with a channel's messages, the asset route's limits, and the test hooks.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use studio::session::SessionConfig;
use studio::{App, Headless};
use studio_server::{serve, ServerOptions};

fn app(dir: &std::path::Path) -> Arc<App> {
    let cfg = SessionConfig::from_args_and_env(
        ["server".to_string(), "--library".into(), dir.join("lib").display().to_string()],
        |n| (n == "KIE_STUDIO_KEYRING_SERVICE").then(|| "ai.kie.studio.test-server-none".to_string()),
    )
    .unwrap();
    Arc::new(App::new(cfg, Arc::new(Headless), Arc::new(|_: &str| None)))
}

async fn call(url: &str, token: &str, command: &str, args: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{url}/api/{command}"))
        .bearer_auth(token)
        .json(&args)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn the_surface_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(app(dir.path()), ServerOptions { test_hooks: true, port: 0 }).await.unwrap();
    let (url, token) = (server.url(), server.token().to_string());

    // No token, no answer.
    let res = reqwest::Client::new().post(format!("{url}/api/get_app_info")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);

    let (status, info) = call(&url, &token, "get_app_info", json!({})).await;
    assert_eq!((status, info["ready"].clone()), (200, json!(false)));
    let (status, err) = call(&url, &token, "list_tasks", json!({"limit": 5})).await;
    assert_eq!((status, err["code"].clone()), (409, json!("not_ready")));
    let (status, err) = call(&url, &token, "no_such_command", json!({})).await;
    assert_eq!((status, err["code"].clone()), (400, json!("invalid_request")));

    // Events: the stream opens with `ready`, then carries app-wide events.
    let mut stream = reqwest::Client::new().get(format!("{url}/events?token={token}")).send().await.unwrap();
    let first = String::from_utf8(stream.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.contains(r#"{"ready":true}"#), "{first}");
    let (status, _) = call(&url, &token, "start_demo", json!({})).await;
    assert_eq!(status, 200);
    let (status, c) = call(&url, &token, "add_character", json!({"handle": "hero"})).await;
    assert_eq!((status, c["handle"].clone()), (200, json!("hero")));
    let text = tokio::time::timeout(Duration::from_secs(5), async {
        let mut seen = String::new();
        while !seen.contains("studio://character-added") {
            seen.push_str(&String::from_utf8_lossy(&stream.chunk().await.unwrap().unwrap()));
        }
        seen
    })
    .await
    .expect("the event arrives");
    assert!(text.contains(r#""handle":"hero""#), "{text}");

    // Invalid input keeps its problems, each naming its field.
    let (status, err) = call(&url, &token, "submit_task", json!({"model": "sora-2-text-to-video", "input": {}})).await;
    assert_eq!((status, err["code"].clone()), (400, json!("invalid_input")));
    assert_eq!(err["problems"][0]["field"], "prompt");

    // The asset route serves only the open library's files, never its database.
    let info = call(&url, &token, "get_app_info", json!({})).await.1;
    let root = info["library_path"].as_str().unwrap().to_string();
    let get = |p: String| {
        let url = url.clone();
        let token = token.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{url}/asset"))
                .query(&[("token", token.as_str()), ("path", p.as_str())])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(get(format!("{root}/library.db")).await, 404);
    assert_eq!(get("/etc/passwd".into()).await, 404);
    std::fs::write(format!("{root}/uploads-test.png"), b"\x89PNG\r\n\x1a\n").unwrap();
    assert_eq!(get(format!("{root}/uploads-test.png")).await, 200);

    // Test hooks: a reset closes the library.
    let res = reqwest::Client::new().post(format!("{url}/_test/reset")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(call(&url, &token, "get_app_info", json!({})).await.1["ready"], false);
}

#[tokio::test]
async fn test_hooks_are_off_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(app(dir.path()), ServerOptions::default()).await.unwrap();
    let res =
        reqwest::Client::new().post(format!("{}/_test/reset", server.url())).bearer_auth(server.token()).send().await;
    assert_eq!(res.unwrap().status().as_u16(), 404);
}
