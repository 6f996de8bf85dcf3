//! Veo's `record-info` answers (contract-shaped, and Kie's published examples) read into the
//! one `TaskRecord`, through the protocol adapter.

use kie::envelope;
use kie::protocol::Protocol;
use kie::record::{TaskRecord, TaskState};
use serde_json::{json, Value};

fn veo(data: Value) -> TaskRecord {
    Protocol::Veo.parse_record(&data)
}

#[test]
fn generating() {
    let rec = veo(json!({
        "taskId": "veo_task_1",
        "paramJson": "{\"prompt\":\"a fox\",\"model\":\"veo3_fast\",\"aspect_ratio\":\"16:9\"}",
        "createTime": 1767225600000i64,
        "completeTime": null,
        "successFlag": 0,
        "errorCode": null,
        "errorMessage": "",
        "response": null
    }));
    assert_eq!(rec.state, TaskState::Generating);
    assert!(!rec.is_final());
    assert_eq!(rec.task_id.as_deref(), Some("veo_task_1"));
    assert_eq!(rec.create_time, Some(1_767_225_600_000));
    assert_eq!((rec.complete_time, rec.result.clone(), rec.fail_msg.clone()), (None, None, None));
    // The model comes from the param when the record does not name it.
    assert_eq!(rec.model.as_deref(), Some("veo3_fast"));
}

#[test]
fn success_with_results_and_the_flat_param() {
    let body = r#"{"code":200,"msg":"success","data":{
        "taskId":"veo_task_abcdef123456",
        "paramJson":"{\"prompt\":\"A dog playing in a park\",\"model\":\"veo3_fast\",\"imageUrls\":[\"http://example.com/image1.jpg\"],\"generationType\":\"FIRST_AND_LAST_FRAMES_2_VIDEO\",\"aspect_ratio\":\"16:9\",\"duration\":8,\"watermark\":\"\",\"callBackUrl\":\"https://cb.example/veo\"}",
        "completeTime":1767225690000,
        "response":{"taskId":"veo_task_abcdef123456","resultUrls":["http://example.com/video1.mp4"],
                    "originUrls":["http://example.com/original_video1.mp4"],"resolution":"720p"},
        "successFlag":1,"errorCode":null,"errorMessage":"","createTime":1767225600000,"fallbackFlag":false}}"#;
    let env = envelope::parse(200, body, None).unwrap();
    let rec = veo(env.data);
    assert_eq!(rec.state, TaskState::Success);
    assert!(rec.is_final());
    assert_eq!((rec.fail_code.clone(), rec.fail_msg.clone()), (None, None));
    assert_eq!((rec.create_time, rec.complete_time), (Some(1_767_225_600_000), Some(1_767_225_690_000)));
    let result = rec.result.clone().unwrap();
    assert_eq!(result.result_urls, vec!["http://example.com/video1.mp4"]);
    assert_eq!(result.origin_urls, vec!["http://example.com/original_video1.mp4"]);
    assert_eq!(result.resolution.as_deref(), Some("720p"));
    let param = rec.param.unwrap();
    assert_eq!(param.model.as_deref(), Some("veo3_fast"));
    assert_eq!(param.call_back_url.as_deref(), Some("https://cb.example/veo"));
    // The flat body's other fields are the input.
    assert_eq!(
        Value::Object(param.input),
        json!({"prompt": "A dog playing in a park", "imageUrls": ["http://example.com/image1.jpg"],
               "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO", "aspect_ratio": "16:9", "duration": 8,
               "watermark": ""})
    );
}

#[test]
fn failed_and_failed_upstream() {
    let failed = veo(json!({"taskId": "t2", "successFlag": 2, "errorCode": 400,
                            "errorMessage": "Your prompt was flagged by the safety filter."}));
    assert_eq!(failed.state, TaskState::Fail);
    assert_eq!(failed.fail_code.as_deref(), Some("400"));
    assert_eq!(failed.fail_msg.as_deref(), Some("Your prompt was flagged by the safety filter."));

    let upstream = veo(json!({"taskId": "t3", "successFlag": 3, "errorCode": "501", "errorMessage": "upstream error"}));
    assert_eq!(upstream.state, TaskState::Fail);
    assert_eq!((upstream.fail_code.as_deref(), upstream.fail_msg.as_deref()), (Some("501"), Some("upstream error")));

    // Without Kie's words, the failure still says what happened, in plain words.
    let bare = veo(json!({"taskId": "t4", "successFlag": "3", "errorCode": null, "errorMessage": ""}));
    assert_eq!(bare.state, TaskState::Fail);
    assert_eq!(bare.fail_code, None);
    assert!(bare.fail_msg.as_deref().unwrap().contains("failed upstream"), "{:?}", bare.fail_msg);
    let bare = veo(json!({"taskId": "t5", "successFlag": 2}));
    assert!(bare.fail_msg.as_deref().unwrap().contains("failed"), "{:?}", bare.fail_msg);
}

#[test]
fn drift_is_tolerated() {
    // Unknown flags keep polling; an absent flag is not a state at all (still running).
    let odd = veo(json!({"taskId": "t", "successFlag": 7}));
    assert_eq!(odd.state, TaskState::Other("7".into()));
    assert!(!odd.is_final());
    let none = veo(json!({}));
    assert_eq!(none.state, TaskState::Other(String::new()));
    assert_eq!(none.task_id, None);
    // Times as date texts (Kie's published examples), read as UTC; junk is none.
    let rec = veo(json!({"taskId": "t", "successFlag": 1, "createTime": "2026-01-01 00:00:00",
                         "completeTime": "2026-01-01T00:01:30", "updateTime": "soon",
                         "response": "{\"resultUrls\":\"[\\\"https://x/v.mp4\\\"]\"}",
                         "paramJson": "not json"}));
    assert_eq!(rec.create_time, Some(1_767_225_600_000));
    assert_eq!(rec.complete_time, Some(1_767_225_690_000));
    assert_eq!(rec.update_time, None);
    // A response as a JSON string, with its list as one too.
    assert_eq!(rec.result.unwrap().result_urls, vec!["https://x/v.mp4"]);
    assert!(rec.param.is_none());
    let plain = veo(json!({"successFlag": 1, "response": {"resultUrls": "https://x/one.mp4"}}));
    assert_eq!(plain.result.unwrap().result_urls, vec!["https://x/one.mp4"]);
}

#[test]
fn the_jobs_adapter_is_unchanged() {
    let data = json!({"taskId": "j1", "state": "success", "resultJson": "{\"resultUrls\":[\"https://x/a.mp4\"]}"});
    assert_eq!(Protocol::Jobs.parse_record(&data), TaskRecord::from_value(&data));
    // A jobs result stored before Veo existed still reads, and a jobs result still writes
    // without the Veo-only fields.
    let stored = json!({"result_urls": ["u"], "watermark_urls": [], "first_frame_url": null,
                        "last_frame_url": null, "result_object": null});
    let r: kie::TaskResult = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(serde_json::to_value(&r).unwrap(), stored);
}
