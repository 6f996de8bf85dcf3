//! The SQLite handle: opening, pragmas, migrations, corruption handling, and the errors
//! every store module returns.
//!
//! One connection per process behind a mutex: the app's UI, poller and downloader share it.
//! The app and the CLI may open the same file from two processes; WAL, a busy timeout and
//! `BEGIN IMMEDIATE` writes keep that safe.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::ApiErrorCode;
use rusqlite::{ffi, Connection, ErrorCode, Transaction, TransactionBehavior};

/// Forward-only migrations; `PRAGMA user_version` is how many have been applied.
/// Never edit one that has shipped: add another.
const MIGRATIONS: &[&str] = &[
    // 1: the task journal, its results, settings.
    r#"
    CREATE TABLE tasks (
        -- AUTOINCREMENT: ids are never reused, since result file names are made from them.
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,
        input_json TEXT NOT NULL CHECK (json_valid(input_json)),
        status TEXT NOT NULL CHECK (status IN
            ('submitting', 'running', 'succeeded', 'failed', 'outcome_unknown', 'cancelled')),
        kie_task_id TEXT UNIQUE,
        kie_state TEXT,
        progress REAL,
        created_at INTEGER NOT NULL,
        submitted_at INTEGER,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER,
        fail_code TEXT,
        fail_message TEXT,
        error_code TEXT,
        credits_estimated REAL,
        credits_consumed REAL,
        result_json TEXT CHECK (result_json IS NULL OR json_valid(result_json)),
        downloads_done INTEGER NOT NULL DEFAULT 0 CHECK (downloads_done IN (0, 1)),
        stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),
        next_poll_at INTEGER,
        poll_errors INTEGER NOT NULL DEFAULT 0,
        demo INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1))
    );
    CREATE INDEX tasks_created_at ON tasks(created_at);
    CREATE INDEX tasks_model ON tasks(model, created_at);
    CREATE INDEX tasks_status ON tasks(status);

    CREATE TABLE results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        -- No CHECK on kind: a new kind of result must not need a table rebuild.
        kind TEXT NOT NULL,
        path TEXT,
        size INTEGER,
        sha256 TEXT,
        poster_path TEXT,
        favourite INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1)),
        notes TEXT,
        text_json TEXT CHECK (text_json IS NULL OR json_valid(text_json)),
        source_url TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (task_id, idx, kind)
    );
    CREATE INDEX results_created_at ON results(created_at);

    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    "#,
    // 2: characters (@handles).
    r#"
    CREATE TABLE characters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        handle TEXT NOT NULL UNIQUE COLLATE NOCASE,
        character_id TEXT,
        prompt TEXT,
        safety_instruction TEXT,
        origin_task_id INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX characters_created_at ON characters(created_at);
    CREATE INDEX characters_origin ON characters(origin_task_id);
    "#,
    // 3: full-text search over prompts, characters and notes, kept in sync by triggers.
    // One standalone FTS5 table; rowid = ref_id * 4 + tag (1 task, 2 character, 3 result
    // note), so a trigger finds a row to replace by rowid instead of scanning the index.
    r#"
    CREATE VIRTUAL TABLE search_fts USING fts5(
        body, kind UNINDEXED, ref_id UNINDEXED,
        tokenize = 'unicode61 remove_diacritics 2'
    );

    -- What a task is found by: its prompt, storyboard scenes, character prompt and name.
    CREATE VIEW task_search_text(id, body) AS
    SELECT t.id, trim(
        coalesce(t.input_json ->> '$.prompt', '') || ' ' ||
        coalesce(t.input_json ->> '$.character_prompt', '') || ' ' ||
        coalesce(t.input_json ->> '$.character_user_name', '') || ' ' ||
        coalesce((SELECT group_concat(CASE WHEN s.type = 'object'
                                           THEN coalesce(s.value ->> '$.Scene', s.value ->> '$.scene') END, ' ')
                  FROM json_each(t.input_json, '$.shots') AS s), ''))
    FROM tasks AS t;

    CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO search_fts(rowid, body, kind, ref_id)
        SELECT id * 4 + 1, body, 'task', id FROM task_search_text WHERE id = new.id AND body <> '';
    END;
    CREATE TRIGGER tasks_fts_update AFTER UPDATE OF input_json ON tasks BEGIN
        DELETE FROM search_fts WHERE rowid = old.id * 4 + 1;
        INSERT INTO search_fts(rowid, body, kind, ref_id)
        SELECT id * 4 + 1, body, 'task', id FROM task_search_text WHERE id = new.id AND body <> '';
    END;
    CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
        DELETE FROM search_fts WHERE rowid = old.id * 4 + 1;
    END;

    CREATE TRIGGER characters_fts_insert AFTER INSERT ON characters BEGIN
        INSERT INTO search_fts(rowid, body, kind, ref_id)
        VALUES (new.id * 4 + 2, new.handle || ' ' || coalesce(new.prompt, ''), 'character', new.id);
    END;
    CREATE TRIGGER characters_fts_update AFTER UPDATE OF handle, prompt ON characters BEGIN
        DELETE FROM search_fts WHERE rowid = old.id * 4 + 2;
        INSERT INTO search_fts(rowid, body, kind, ref_id)
        VALUES (new.id * 4 + 2, new.handle || ' ' || coalesce(new.prompt, ''), 'character', new.id);
    END;
    CREATE TRIGGER characters_fts_delete AFTER DELETE ON characters BEGIN
        DELETE FROM search_fts WHERE rowid = old.id * 4 + 2;
    END;

    CREATE TRIGGER results_fts_insert AFTER INSERT ON results WHEN coalesce(new.notes, '') <> '' BEGIN
        INSERT INTO search_fts(rowid, body, kind, ref_id) VALUES (new.id * 4 + 3, new.notes, 'result', new.id);
    END;
    CREATE TRIGGER results_fts_update AFTER UPDATE OF notes ON results BEGIN
        DELETE FROM search_fts WHERE rowid = old.id * 4 + 3;
        INSERT INTO search_fts(rowid, body, kind, ref_id)
        SELECT new.id * 4 + 3, new.notes, 'result', new.id WHERE coalesce(new.notes, '') <> '';
    END;
    CREATE TRIGGER results_fts_delete AFTER DELETE ON results BEGIN
        DELETE FROM search_fts WHERE rowid = old.id * 4 + 3;
    END;

    -- Index what earlier schemas already hold.
    INSERT INTO search_fts(rowid, body, kind, ref_id)
    SELECT id * 4 + 1, body, 'task', id FROM task_search_text WHERE body <> '';
    INSERT INTO search_fts(rowid, body, kind, ref_id)
    SELECT id * 4 + 2, handle || ' ' || coalesce(prompt, ''), 'character', id FROM characters;
    INSERT INTO search_fts(rowid, body, kind, ref_id)
    SELECT id * 4 + 3, notes, 'result', id FROM results WHERE coalesce(notes, '') <> '';
    "#,
    // 4: what Kie last said about a model's availability (paused, disabled), with the date.
    r#"
    CREATE TABLE model_status (
        model TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('paused', 'disabled')),
        message TEXT NOT NULL,
        since_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
];

/// The schema version this binary writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a library database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "This library was made by a newer version of Kie Studio (schema {found}); \
         this version knows up to {supported}. Update Kie Studio to open it."
    )]
    TooNew { found: i64, supported: i64 },
    /// The file was not a database, or failed its integrity check. It has been moved aside,
    /// never replaced: the caller decides whether to start a fresh library.
    #[error("The library database is damaged; it was moved aside to {}", set_aside.display())]
    Corrupt { set_aside: PathBuf },
    #[error("Could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Could not open the library database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl DbError {
    /// Stable code for the UI and CLI to branch on.
    pub fn code(&self) -> ApiErrorCode {
        match self {
            DbError::TooNew { .. } => ApiErrorCode::DbTooNew,
            DbError::Corrupt { .. } => ApiErrorCode::DbCorrupt,
            DbError::Io { .. } => ApiErrorCode::DbIo,
            DbError::Sqlite(_) => ApiErrorCode::DbError,
        }
    }
}

/// What any store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("Database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("Could not read or write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A state change that makes no sense for the task's current state; nothing was written.
    #[error("Task {id}: {why}")]
    InvalidTransition { id: i64, why: String },
    #[error("A character named @{0} already exists")]
    DuplicateHandle(String),
    #[error("Kie task {kie_task_id} is already recorded as task {task_id}")]
    KieIdInUse { kie_task_id: String, task_id: i64 },
    #[error("No {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    InvalidInput(String),
}

impl StoreError {
    /// Stable code for the UI and CLI to branch on.
    pub fn code(&self) -> ApiErrorCode {
        match self {
            StoreError::Sqlite(_) => ApiErrorCode::DbError,
            StoreError::Json(_) => ApiErrorCode::Json,
            StoreError::InvalidTransition { .. } => ApiErrorCode::InvalidTransition,
            StoreError::DuplicateHandle(_) => ApiErrorCode::DuplicateHandle,
            StoreError::KieIdInUse { .. } => ApiErrorCode::KieIdInUse,
            StoreError::NotFound { .. } => ApiErrorCode::NotInLibrary,
            StoreError::InvalidInput(_) => ApiErrorCode::InvalidInput,
        }
    }

    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> StoreError {
        StoreError::NotFound { what, id: id.to_string() }
    }
}

/// A shared handle to the library database. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

/// How setting up a connection went wrong, before deciding what to tell the caller.
#[derive(Debug)]
enum SetupError {
    /// Not a database, or failed its check; the detail is for in-memory databases' sake.
    Damaged(String),
    TooNew {
        found: i64,
    },
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for SetupError {
    fn from(e: rusqlite::Error) -> Self {
        if is_damage(&e) {
            SetupError::Damaged(e.to_string())
        } else {
            SetupError::Sqlite(e)
        }
    }
}

/// Only these two codes mean the file itself is bad. Busy, locked, read-only or I/O errors
/// must never get a library moved aside.
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt))
}

impl Db {
    /// Open (or create) the library database at `path`, bringing its schema up to date.
    /// `now_ms` names the set-aside copy if the file turns out to be damaged.
    pub fn open(path: &Path, now_ms: i64) -> Result<Db, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
                action: "create the folder",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let setup = Connection::open(path).map_err(SetupError::from).and_then(|mut conn| {
            configure(&conn, true)?;
            migrate(&mut conn, MIGRATIONS.len())?;
            Ok(conn)
        });
        match setup {
            Ok(conn) => Ok(Db { conn: Arc::new(Mutex::new(conn)), path: Some(path.to_path_buf()) }),
            Err(SetupError::TooNew { found }) => Err(DbError::TooNew { found, supported: SCHEMA_VERSION }),
            Err(SetupError::Sqlite(e)) => Err(DbError::Sqlite(e)),
            // The failed connection has been dropped (closed) by now, so the files can move.
            Err(SetupError::Damaged(_)) => Err(DbError::Corrupt { set_aside: set_aside(path, now_ms)? }),
        }
    }

    /// A private in-memory database with the full schema, for tests and demos.
    pub fn open_in_memory() -> Result<Db, DbError> {
        let mut conn = Connection::open_in_memory()?;
        let setup = configure(&conn, false).and_then(|_| migrate(&mut conn, MIGRATIONS.len()));
        match setup {
            Ok(()) => Ok(Db { conn: Arc::new(Mutex::new(conn)), path: None }),
            Err(SetupError::Sqlite(e)) => Err(DbError::Sqlite(e)),
            Err(SetupError::TooNew { found }) => Err(DbError::TooNew { found, supported: SCHEMA_VERSION }),
            // Nothing to set aside in memory: report it as the SQLite error it is.
            Err(SetupError::Damaged(detail)) => {
                Err(DbError::Sqlite(rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_CORRUPT), Some(detail))))
            }
        }
    }

    /// The file this handle was opened on; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Run `f` with the connection (reads, or a single statement).
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        f(&self.lock())
    }

    /// Run `f` in a write transaction, committed if `f` returns `Ok`, rolled back otherwise.
    /// `BEGIN IMMEDIATE` takes the write lock up front, so two processes wait on the busy
    /// timeout instead of failing with a read-to-write upgrade deadlock.
    pub fn tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.with(|c| Ok(user_version(c)?))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolled it back (Transaction's Drop), so the connection
        // is still usable: recover from poisoning instead of failing every later call.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn configure(conn: &Connection, file: bool) -> Result<(), SetupError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if file {
        // The first statement that reads the file: a non-database fails here.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        // NORMAL is durable enough in WAL: a power cut may lose the last commits, never corrupt.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(SetupError::Damaged(check));
        }
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Apply migrations up to `target` (a count), each in its own immediate transaction.
/// The version is re-read inside the transaction, so two processes opening a new library
/// at once apply each migration exactly once.
fn migrate(conn: &mut Connection, target: usize) -> Result<(), SetupError> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(SetupError::TooNew { found });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target) {
        let version = i as i64 + 1;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = user_version(&tx)?;
        if current > SCHEMA_VERSION {
            return Err(SetupError::TooNew { found: current });
        }
        if current < version {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// Move a damaged database and its -wal/-shm to `<name>.corrupt-<now_ms>[-wal|-shm]`.
/// The -wal must go too: left behind, it would be replayed into a fresh database.
fn set_aside(path: &Path, now_ms: i64) -> Result<PathBuf, DbError> {
    let with_suffix = |suffix: &str| {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let target = with_suffix(&format!(".corrupt-{now_ms}"));
    for ext in ["-wal", "-shm"] {
        let from = with_suffix(ext);
        if from.exists() {
            let to = with_suffix(&format!(".corrupt-{now_ms}{ext}"));
            std::fs::rename(&from, &to).map_err(|source| DbError::Io {
                action: "move aside the damaged",
                path: from.clone(),
                source,
            })?;
        }
    }
    std::fs::rename(path, &target).map_err(|source| DbError::Io {
        action: "move aside the damaged",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(target)
}

/// Read one optional row, turning "no row" into `NotFound`.
pub(crate) fn required<T>(found: Option<T>, what: &'static str, id: impl ToString) -> Result<T, StoreError> {
    found.ok_or_else(|| StoreError::not_found(what, id))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{characters, library, search, settings, tasks};
    use serde_json::json;

    /// A file database at schema `version`, as an older binary would have left it.
    pub(crate) fn at_version(path: &Path, version: usize) -> Connection {
        let mut conn = Connection::open(path).unwrap();
        configure(&conn, true).unwrap();
        migrate(&mut conn, version).unwrap();
        assert_eq!(user_version(&conn).unwrap(), version as i64);
        conn
    }

    fn pragma_i64(db: &Db, name: &str) -> i64 {
        db.with(|c| Ok(c.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?)).unwrap()
    }

    #[test]
    fn fresh_file_gets_wal_foreign_keys_and_full_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/lib/library.db");
        let db = Db::open(&path, 1).unwrap();
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = db.with(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(pragma_i64(&db, "foreign_keys"), 1);
        assert_eq!(pragma_i64(&db, "busy_timeout"), 5000);
        assert_eq!(pragma_i64(&db, "synchronous"), 1); // NORMAL
                                                       // Opening again is a no-op for migrations.
        drop(db);
        let db = Db::open(&path, 2).unwrap();
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(Db::open_in_memory().unwrap().schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(pragma_i64(&Db::open_in_memory().unwrap(), "foreign_keys"), 1);
    }

    #[test]
    fn clones_share_one_connection_and_two_handles_share_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        let a = Db::open(&path, 1).unwrap();
        let b = Db::open(&path, 1).unwrap(); // as the CLI would, next to the app
        let t = tasks::insert_submitting(&a, "m", &json!({"prompt": "x"}).as_object().unwrap().clone(), None, false, 5)
            .unwrap();
        assert_eq!(tasks::get(&b, t.id).unwrap().id, t.id);
        let a2 = a.clone();
        std::thread::spawn(move || tasks::mark_submitted(&a2, t.id, "k1", 6).unwrap()).join().unwrap();
        assert_eq!(tasks::get(&b, t.id).unwrap().kie_task_id.as_deref(), Some("k1"));
    }

    /// The app and the CLI starting on a new library at once, then both writing.
    #[test]
    fn two_handles_open_and_write_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let db = Db::open(&path, 1).unwrap();
                    for i in 0..50 {
                        let input = json!({"prompt": format!("w{w} {i}")}).as_object().unwrap().clone();
                        let t = tasks::insert_submitting(&db, "m", &input, None, false, i).unwrap();
                        tasks::mark_submitted(&db, t.id, &format!("k-{w}-{i}"), i).unwrap();
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let db = Db::open(&path, 2).unwrap();
        assert_eq!(tasks::list(&db, &tasks::TaskQuery { limit: 1000, ..Default::default() }).unwrap().len(), 100);
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn tx_rolls_back_on_error() {
        let db = Db::open_in_memory().unwrap();
        let r: Result<(), StoreError> = db.tx(|tx| {
            tx.execute("INSERT INTO settings(key, value) VALUES ('a', 'b')", [])?;
            Err(StoreError::InvalidInput("no".into()))
        });
        assert!(r.is_err());
        let n: i64 = db.with(|c| Ok(c.query_row("SELECT count(*) FROM settings", [], |r| r.get(0))?)).unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn newer_schema_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        drop(Db::open(&path, 1).unwrap());
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 7).unwrap();
        let err = Db::open(&path, 2).unwrap_err();
        assert!(matches!(err, DbError::TooNew { found: 7, supported: SCHEMA_VERSION }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "This library was made by a newer version of Kie Studio (schema 7); this version knows up to \
                 {SCHEMA_VERSION}. Update Kie Studio to open it."
            )
        );
        assert!(path.exists(), "a too-new library must be left alone");
    }

    #[test]
    fn garbage_file_is_moved_aside_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        let garbage = b"this is not a database, just some bytes that happen to be here ".repeat(100);
        std::fs::write(&path, &garbage).unwrap();
        std::fs::write(dir.path().join("library.db-wal"), b"stale wal").unwrap();
        let err = Db::open(&path, 1234).unwrap_err();
        let DbError::Corrupt { set_aside } = err else { panic!("{err:?}") };
        assert_eq!(set_aside, dir.path().join("library.db.corrupt-1234"));
        assert_eq!(std::fs::read(&set_aside).unwrap(), garbage);
        // SQLite itself drops a WAL without a valid header when it closes; whatever is left
        // must not stay beside the path, where it would be replayed into a fresh database.
        assert!(!path.exists() && !dir.path().join("library.db-wal").exists());
        // The caller may now start afresh at the same path.
        assert_eq!(Db::open(&path, 1235).unwrap().schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn set_aside_takes_wal_and_shm_along() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        for (name, body) in [("library.db", "db"), ("library.db-wal", "wal"), ("library.db-shm", "shm")] {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        assert_eq!(set_aside(&path, 7).unwrap(), dir.path().join("library.db.corrupt-7"));
        for (name, body) in
            [("library.db.corrupt-7", "db"), ("library.db.corrupt-7-wal", "wal"), ("library.db.corrupt-7-shm", "shm")]
        {
            assert_eq!(std::fs::read_to_string(dir.path().join(name)).unwrap(), body);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn truncated_database_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        {
            let db = Db::open(&path, 1).unwrap();
            let long = "a fox in the snow ".repeat(200);
            for i in 0..300 {
                let input = json!({"prompt": format!("{long} {i}")}).as_object().unwrap().clone();
                tasks::insert_submitting(&db, "sora-2-text-to-video", &input, Some(30.0), false, i).unwrap();
            }
            db.with(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?)).unwrap();
        }
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len > 100_000, "{len}");
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len / 2).unwrap();
        let err = Db::open(&path, 99).unwrap_err();
        assert!(
            matches!(&err, DbError::Corrupt { set_aside } if set_aside.ends_with("library.db.corrupt-99")),
            "{err:?}"
        );
        assert!(!path.exists());
    }

    #[test]
    fn busy_is_not_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        drop(Db::open(&path, 1).unwrap());
        let locker = Connection::open(&path).unwrap();
        locker.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;").unwrap();
        // Shorten the wait: open() would wait the full 5 s busy timeout.
        let conn = Connection::open(&path).unwrap();
        conn.busy_timeout(Duration::from_millis(50)).unwrap();
        let e = conn.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0)).unwrap_err();
        assert!(!is_damage(&e), "{e:?}");
    }

    /// Schema 1 and 2 libraries with data in them open with this binary, keep their data,
    /// and become searchable.
    #[test]
    fn migrates_from_every_earlier_schema() {
        for from in 0..MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("library.db");
            {
                let conn = at_version(&path, from);
                if from >= 1 {
                    conn.execute_batch(
                        r#"
                        INSERT INTO tasks (id, model, input_json, status, kie_task_id, created_at, updated_at)
                        VALUES (1, 'sora-2-text-to-video', '{"prompt":"a fox in the snow"}', 'running', 'k1', 10, 10),
                               (2, 'sora-2-pro-storyboard',
                                '{"shots":[{"Scene":"a lighthouse at dawn","duration":5},{"Scene":"waves","duration":5}]}',
                                'succeeded', 'k2', 20, 20);
                        INSERT INTO results (id, task_id, idx, kind, path, notes, created_at)
                        VALUES (1, 2, 0, 'video', 'media/1970/01/task-2-0.mp4', 'keeper for the reel', 30);
                        INSERT INTO settings (key, value) VALUES ('last_model', 'sora-2-text-to-video');
                        "#,
                    )
                    .unwrap();
                }
                if from >= 2 {
                    conn.execute(
                        "INSERT INTO characters (handle, prompt, created_at) VALUES ('Captain', 'a pirate cat', 40)",
                        [],
                    )
                    .unwrap();
                }
            }
            let db = Db::open(&path, 100).unwrap();
            assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION, "from {from}");
            if from == 0 {
                continue;
            }
            assert_eq!(tasks::get(&db, 1).unwrap().kie_task_id.as_deref(), Some("k1"));
            assert_eq!(library::results_for_task(&db, 2).unwrap().len(), 1);
            assert_eq!(settings::last_model(&db).unwrap().as_deref(), Some("sora-2-text-to-video"));
            let hits = |q| search::search(&db, q, 10).unwrap();
            assert_eq!(hits("fox sno"), vec![search::SearchHit { kind: search::HitKind::Task, id: 1 }]);
            assert_eq!(hits("lighthouse"), vec![search::SearchHit { kind: search::HitKind::Task, id: 2 }]);
            assert_eq!(hits("reel"), vec![search::SearchHit { kind: search::HitKind::Result, id: 1 }]);
            if from >= 2 {
                let c = characters::get_by_handle(&db, "@captain").unwrap().unwrap();
                assert_eq!(hits("pirate"), vec![search::SearchHit { kind: search::HitKind::Character, id: c.id }]);
            }
            // New writes are indexed by the triggers.
            let input = json!({"prompt": "a red balloon"}).as_object().unwrap().clone();
            let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, None, false, 200).unwrap();
            assert_eq!(hits("ballo"), vec![search::SearchHit { kind: search::HitKind::Task, id: t.id }]);
        }
    }

    #[test]
    fn deleting_a_task_deletes_its_results() {
        let db = Db::open_in_memory().unwrap();
        let input = json!({"prompt": "p"}).as_object().unwrap().clone();
        let t = tasks::insert_submitting(&db, "m", &input, None, false, 1).unwrap();
        let new = |idx| library::NewResult {
            task_id: t.id,
            idx,
            kind: library::ResultKind::Video,
            path: Some(format!("media/1970/01/task-{}-{idx}.mp4", t.id)),
            ..Default::default()
        };
        library::add_result(&db, new(0), 2).unwrap();
        let r = library::add_result(&db, new(1), 2).unwrap();
        library::set_notes(&db, r.id, Some("findme")).unwrap();
        assert_eq!(search::search(&db, "findme", 5).unwrap().len(), 1);
        db.with(|c| Ok(c.execute("DELETE FROM tasks WHERE id = ?1", [t.id])?)).unwrap();
        assert!(library::results_for_task(&db, t.id).unwrap().is_empty());
        assert!(search::search(&db, "findme", 5).unwrap().is_empty());
    }
}
