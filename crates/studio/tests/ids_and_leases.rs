//! Issue 10, items 1 and 2: a Kie id Kie charged for is never lost, and a create in flight is
//! never taken for an abandoned one. The id reaches an fsynced log before the database, the
//! database write is retried, the log is replayed at start; leases belong to live processes,
//! not to the wall clock; the library is written with `synchronous=FULL`.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use kie::KieClient;
use kie_sim::{Endpoint, Fault, FaultRule, Sim};
use serde_json::{json, Map, Value};
use studio::clock::{Clock, ManualClock, SystemClock};
use studio::lease::{LeaseOwner, OwnerState, Processes};
use studio::paths::LibraryPaths;
use studio::poller::Until;
use studio::tasks::{self, TaskStatus};
use studio::{Db, Studio, StudioConfig};

fn input(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn prompt() -> Map<String, Value> {
    input(json!({"prompt": "a fox"}))
}

const MODEL: &str = "sora-2-text-to-video";

/// A studio over `root` with its own clock (so a test can step it, as a suspend would).
fn studio_with_clock(sim: &Sim, root: &Path, clock: Arc<dyn Clock>, cfg: StudioConfig) -> Studio {
    let paths = LibraryPaths::new(root.to_path_buf()).unwrap();
    paths.create_dirs().unwrap();
    let db = Db::open(&paths.db(), SystemClock.now_ms()).unwrap();
    let client = KieClient::new(client_config(sim)).unwrap();
    Studio::new(db, paths, client, kie::catalogue::Catalogue::builtin().clone(), clock, cfg)
}

/// A second connection to the library, as another process (or the test's hand) would have.
fn raw(root: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(root.join("library.db")).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c
}

/// Make every write of a Kie id to the task table fail, as a full disk or a vanished drive would.
const BREAK_ID_WRITES: &str = "CREATE TRIGGER fault_kie_id BEFORE UPDATE OF kie_task_id ON tasks
     WHEN new.kie_task_id IS NOT NULL BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected)'); END";

async fn wait_for_creates(sim: &Sim, n: u64) {
    let start = std::time::Instant::now();
    while sim.stats().creates_received < n {
        assert!(start.elapsed() < Duration::from_secs(10), "the create never reached the simulator");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn the_only_task(studio: &Studio) -> tasks::Task {
    let all = tasks::list(studio.db(), &Default::default()).unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}

/// Suspend/resume (or a clock step) while a create is out: the wall clock jumps past the
/// lease, and both this process and another studio over the same library (the app beside the
/// CLI) recover. The create is still in flight in a live process, so it is not abandoned,
/// and its id is recorded when it arrives.
#[tokio::test]
async fn a_create_in_flight_survives_a_clock_jump() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(SystemClock.now_ms());
    let studio = studio_with_clock(&sim, dir.path(), Arc::new(clock.clone()), studio_config());
    let other_clock = ManualClock::new(SystemClock.now_ms());
    let other = studio_with_clock(&sim, dir.path(), Arc::new(other_clock.clone()), studio_config());

    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Slow { ms: 600 }));
    let sending = {
        let studio = studio.clone();
        tokio::spawn(async move { studio.journal().submit(MODEL, &prompt()).await })
    };
    wait_for_creates(&sim, 1).await;
    assert_eq!(the_only_task(&studio).status, TaskStatus::Submitting);

    // The machine slept for ten minutes; both clocks now say so, before any heartbeat runs.
    clock.advance(600_000);
    other_clock.advance(600_000);
    assert_eq!(other.journal().recover().unwrap(), vec![], "another studio abandoned a create in flight");
    assert_eq!(studio.journal().recover().unwrap(), vec![], "the sender abandoned its own create");
    assert_eq!(the_only_task(&studio).status, TaskStatus::Submitting);

    let t = sending.await.unwrap().expect("the id is recorded");
    assert_eq!(t.status, TaskStatus::Running, "{t:?}");
    assert!(t.kie_task_id.is_some());
    assert_eq!(sim.stats().creates_received, 1);
}

/// The database refuses the id (a full disk, a vanished drive): the create is not lost. The
/// error names the Kie id, the id is in the log, and the next start records it; nothing is
/// sent twice.
#[tokio::test]
async fn an_id_the_database_refuses_is_kept_and_recorded_at_the_next_start() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio_with(&sim, dir.path(), StudioConfig { record_retry_ms: 300, ..studio_config() });
    raw(dir.path()).execute_batch(BREAK_ID_WRITES).unwrap();

    let err = studio.journal().submit(MODEL, &prompt()).await.expect_err("the id could not be written");
    let t = the_only_task(&studio);
    assert_eq!(t.status, TaskStatus::Submitting, "nothing else is known yet: {t:?}");
    assert_eq!(sim.stats().creates_received, 1);
    // The error says which Kie task it is, and that it is safe.
    let msg = err.to_string();
    let kie_id = msg
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
        .find(|w| w.len() >= 16 && sim.task(w).is_some())
        .unwrap_or_else(|| panic!("the error names the Kie id: {msg}"))
        .to_string();
    let log = std::fs::read_to_string(dir.path().join("journal").join("kie-ids.log")).expect("the id log");
    assert!(log.contains(&kie_id), "{log}");

    // The sender is still alive, so nobody abandons the row meanwhile.
    assert_eq!(studio.journal().recover().unwrap(), vec![]);
    drop(studio);

    // The drive is back; the next start records the id and finishes the task.
    raw(dir.path()).execute_batch("DROP TRIGGER fault_kie_id").unwrap();
    let studio = open_studio(&sim, dir.path());
    tokio::time::timeout(Duration::from_secs(20), studio.poller().run(Until::Idle)).await.unwrap().unwrap();
    let t = the_only_task(&studio);
    assert_eq!((t.status, t.kie_task_id.as_deref(), t.downloads_done), (TaskStatus::Succeeded, Some(&*kie_id), true));
    assert_eq!(sim.stats().creates_received, 1, "sent twice");
}

/// A database write that fails for a moment (busy, a hiccup) is retried, and the submit
/// succeeds.
#[tokio::test]
async fn a_failed_id_write_is_retried() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    raw(dir.path()).execute_batch(BREAK_ID_WRITES).unwrap();
    let root = dir.path().to_path_buf();
    let repair = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        raw(&root).execute_batch("DROP TRIGGER fault_kie_id").unwrap();
    });
    let t = studio.journal().submit(MODEL, &prompt()).await.expect("retried until it went through");
    repair.join().unwrap();
    assert_eq!(t.status, TaskStatus::Running, "{t:?}");
    assert_eq!(sim.stats().creates_received, 1);
}

/// A crash after the id reached the log but before the database: the next start takes the id
/// from the log. Replaying is idempotent, takes a late id for a task marked outcome-unknown
/// meanwhile, and ignores a torn last line and lines that are not this library's tasks.
#[tokio::test]
async fn the_id_log_is_replayed_at_start() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let now = studio.now_ms();
    let db = studio.db();
    let submitting = tasks::insert_submitting(db, MODEL, &prompt(), None, false, now - 10_000).unwrap();
    let unknown = tasks::insert_submitting(db, MODEL, &prompt(), None, false, now - 10_000).unwrap();
    tasks::mark_outcome_unknown(db, unknown.id, "outcome_unknown", "timed out", now - 9_000).unwrap();
    let stranger = tasks::insert_submitting(db, MODEL, &prompt(), None, false, now - 10_000).unwrap();
    let line = |t: &tasks::Task, kie: &str, created_at: i64| {
        json!({"task": t.id, "kie_id": kie, "model": t.model, "created_at": created_at, "at": now}).to_string()
    };
    std::fs::create_dir_all(dir.path().join("journal")).unwrap();
    let log = [
        line(&submitting, "kie-from-log-1", submitting.created_at),
        line(&unknown, "kie-from-log-2", unknown.created_at),
        // Same task id, another task (a library started afresh after its database was set aside).
        line(&stranger, "kie-of-another-library", stranger.created_at - 1),
        line(&submitting, "kie-from-log-1", submitting.created_at),
    ]
    .join("\n")
        + "\n{\"task\": 99, \"kie_id\": \"torn";
    std::fs::write(dir.path().join("journal").join("kie-ids.log"), log).unwrap();

    for _ in 0..2 {
        studio.journal().recover().unwrap();
        let get = |id| tasks::get(db, id).unwrap();
        assert_eq!(
            (get(submitting.id).status, get(submitting.id).kie_task_id),
            (TaskStatus::Running, Some("kie-from-log-1".into()))
        );
        assert_eq!(
            (get(unknown.id).status, get(unknown.id).kie_task_id),
            (TaskStatus::Running, Some("kie-from-log-2".into()))
        );
        assert_eq!(get(unknown.id).error_code, None);
        assert_eq!(get(stranger.id).kie_task_id, None, "not this task's line");
        assert_eq!(get(stranger.id).status, TaskStatus::OutcomeUnknown);
    }
}

/// A caller that stops waiting (a closed window, a dropped request) does not stop the
/// create's answer from being written down.
#[tokio::test]
async fn a_submit_whose_caller_stops_waiting_still_records_the_id() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Slow { ms: 300 }));
    let caller = {
        let studio = studio.clone();
        tokio::spawn(async move { studio.journal().submit(MODEL, &prompt()).await })
    };
    wait_for_creates(&sim, 1).await;
    caller.abort();
    let start = std::time::Instant::now();
    while the_only_task(&studio).status == TaskStatus::Submitting {
        assert!(start.elapsed() < Duration::from_secs(10), "the answer was never written");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let t = the_only_task(&studio);
    assert_eq!(t.status, TaskStatus::Running, "{t:?}");
    assert!(t.kie_task_id.is_some());
}

/// A row this process owns but no longer sends (its answer could not be written) is not kept
/// `submitting` until the process ends: the next recover marks it.
#[tokio::test]
async fn a_row_this_process_no_longer_sends_is_recovered_at_once() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio_with(&sim, dir.path(), StudioConfig { record_retry_ms: 200, ..studio_config() });
    raw(dir.path())
        .execute_batch(
            "CREATE TRIGGER fault_status BEFORE UPDATE OF status ON tasks WHEN new.status <> 'submitting'
             BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected)'); END",
        )
        .unwrap();
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    studio.journal().submit(MODEL, &prompt()).await.expect_err("the outcome could not be written");
    assert_eq!(the_only_task(&studio).status, TaskStatus::Submitting);
    raw(dir.path()).execute_batch("DROP TRIGGER fault_status").unwrap();
    let changed = studio.journal().recover().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(the_only_task(&studio).status, TaskStatus::OutcomeUnknown);
    assert_eq!(sim.stats().creates_received, 1);
}

/// Liveness decided by the test: pids listed alive or gone, anything else unknown.
#[derive(Debug)]
struct FakeProcesses(HashMap<u32, OwnerState>);

impl Processes for FakeProcesses {
    fn me(&self) -> LeaseOwner {
        LeaseOwner { pid: 1, start: "test/1".into() }
    }
    fn state(&self, owner: &LeaseOwner) -> OwnerState {
        if *owner == self.me() {
            return OwnerState::Alive;
        }
        self.0.get(&owner.pid).copied().unwrap_or(OwnerState::Unknown)
    }
}

/// `recover` asks whether each `submitting` row's sender lives: a live one keeps its row
/// however far the clock moved, a gone one loses it at once, and one that cannot be asked
/// (or a row from before owners) falls back to the wall-clock lease.
#[tokio::test]
async fn recover_abandons_only_rows_whose_sender_is_gone() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_000_000);
    let processes = FakeProcesses(HashMap::from([(100, OwnerState::Alive), (200, OwnerState::Gone)]));
    let cfg = StudioConfig { processes: Arc::new(processes), ..studio_config() };
    let studio = studio_with_clock(&sim, dir.path(), Arc::new(clock.clone()), cfg);
    let db = studio.db();
    let owner = |pid| LeaseOwner { pid, start: format!("test/{pid}") };
    let row = |o: Option<LeaseOwner>| {
        tasks::insert_submitting_owned(db, MODEL, &prompt(), None, false, o.as_ref(), 1_000_000).unwrap().id
    };
    let (alive, gone, unknown, legacy) =
        (row(Some(owner(100))), row(Some(owner(200))), row(Some(owner(300))), row(None));
    let ids = |v: Vec<tasks::Task>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();

    assert_eq!(ids(studio.journal().recover().unwrap()), vec![gone], "a gone sender's row, at once");
    clock.advance(studio.config().submit_lease_ms + 1);
    assert_eq!(ids(studio.journal().recover().unwrap()), vec![unknown, legacy], "the clock, where nothing else tells");
    clock.advance(3_600_000);
    assert_eq!(ids(studio.journal().recover().unwrap()), Vec::<i64>::new(), "a live sender keeps its row");
    assert_eq!(tasks::get(db, alive).unwrap().status, TaskStatus::Submitting);
    // Its id arrives after all, and is taken.
    assert_eq!(tasks::mark_submitted(db, alive, "kie-late", clock.now_ms()).unwrap().status, TaskStatus::Running);
}

/// Power loss may not take back a task-state commit: the library is written synchronously.
#[tokio::test]
async fn task_state_writes_are_durable() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let pragma = |name: &str| -> String {
        studio
            .db()
            .with(|c| Ok(c.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, rusqlite::types::Value>(0))?))
            .map(|v| format!("{v:?}"))
            .unwrap()
    };
    assert_eq!(pragma("journal_mode"), "Text(\"wal\")");
    assert_eq!(pragma("synchronous"), "Integer(2)", "FULL: every commit is synced before it returns");
}

/// Every error about a task that has a Kie id names it.
#[tokio::test]
async fn errors_about_a_task_name_its_kie_id() {
    let db = Db::open_in_memory().unwrap();
    let t = tasks::insert_submitting(&db, MODEL, &prompt(), None, false, 1).unwrap();
    tasks::mark_submitted(&db, t.id, "kie-named-1", 2).unwrap();
    tasks::mark_failed(&db, t.id, None, Some("boom"), None, 3).unwrap();
    for err in [
        tasks::mark_cancelled(&db, t.id, 4).unwrap_err(),
        tasks::mark_submitted(&db, t.id, "kie-other", 4).unwrap_err(),
        tasks::mark_stale(&db, t.id, true, 4).unwrap_err(),
    ] {
        assert!(err.to_string().contains("kie-named-1"), "{err}");
    }
}
