//! The SQLite handle: opening, pragmas, migrations, corruption handling, and the errors
//! every store module returns.
//!
//! One connection per process behind a mutex: the app's UI, poller and downloader share it.
//! The app and the CLI may open the same file from two processes; WAL, a busy timeout and
//! `BEGIN IMMEDIATE` writes keep that safe.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::ApiErrorCode;
use rusqlite::{ffi, Connection, ErrorCode, Transaction, TransactionBehavior};
use serde::Serialize;

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
    // 5: who holds a `submitting` row's lease (the process sending its create: pid and start
    // token, see lease.rs), so a create in flight is told from an abandoned one by its
    // sender's life, not by the wall clock. NULL: a row from before, judged by the clock.
    r#"
    ALTER TABLE tasks ADD COLUMN lease_pid INTEGER;
    ALTER TABLE tasks ADD COLUMN lease_start TEXT;
    "#,
    // 6: a tile-sized copy of the poster (thumbs.rs), so the gallery grid never decodes a
    // full frame. NULL: not made yet (made when the poster lands, or by a rescan).
    r#"
    ALTER TABLE results ADD COLUMN thumb_path TEXT;
    "#,
    // 7: the gallery at 100,000 results (library/query.rs; docs/decisions.md). Results carry
    // their task's model and cost, so that each filter and sort has an index of results in the
    // gallery's order (the cost sorts' on expressions that put unknown costs last);
    // `gallery_counts` holds how many results there are per model, kind and favourite;
    // `gallery_fts` has one row per result (its task's text and its notes), so a search counts
    // its matches and nothing else, with prefixes for words as they are typed;
    // `gallery_generation` moves on every change the gallery can see, in any process, so what
    // the app keeps between calls is never stale. All kept by the triggers below.
    r#"
    ALTER TABLE results ADD COLUMN model TEXT;
    ALTER TABLE results ADD COLUMN cost REAL;
    UPDATE results SET (model, cost) =
        (SELECT t.model, coalesce(t.credits_consumed, t.credits_estimated) FROM tasks t WHERE t.id = results.task_id);

    CREATE INDEX results_model_date ON results(model, created_at);
    CREATE INDEX results_kind_date ON results(kind, created_at);
    CREATE INDEX results_favourite_date ON results(created_at) WHERE favourite = 1;
    CREATE INDEX results_cost_desc ON results(coalesce(cost, -9e999), created_at);
    CREATE INDEX results_cost_asc ON results(coalesce(-cost, -9e999), created_at);

    CREATE TABLE gallery_counts (
        model TEXT NOT NULL,
        kind TEXT NOT NULL,
        favourite INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (model, kind, favourite)
    ) WITHOUT ROWID;
    INSERT INTO gallery_counts (model, kind, favourite, n)
    SELECT coalesce(model, ''), kind, favourite, count(*) FROM results GROUP BY 1, 2, 3;

    CREATE TABLE gallery_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
    INSERT INTO gallery_generation (id, value) VALUES (1, 0);

    -- Contentless: the text is in tasks and results already.
    CREATE VIRTUAL TABLE gallery_fts USING fts5(
        prompt, notes, content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4 5 6 7 8'
    );
    INSERT INTO gallery_fts (rowid, prompt, notes)
    SELECT r.id, ts.body, coalesce(r.notes, '') FROM results r JOIN task_search_text ts ON ts.id = r.task_id
    WHERE ts.body <> '' OR coalesce(r.notes, '') <> '';
    INSERT INTO gallery_fts (gallery_fts) VALUES ('optimize');

    -- Counted as written first (a writer of SQL may leave the model out), then given the
    -- task's model and cost: the update trigger moves the count.
    CREATE TRIGGER results_gallery_insert AFTER INSERT ON results BEGIN
        INSERT INTO gallery_counts (model, kind, favourite, n)
        VALUES (coalesce(new.model, ''), new.kind, new.favourite, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
        UPDATE results SET (model, cost) =
            (SELECT t.model, coalesce(t.credits_consumed, t.credits_estimated) FROM tasks t WHERE t.id = new.task_id)
        WHERE id = new.id;
        INSERT INTO gallery_fts (rowid, prompt, notes)
        SELECT new.id, ts.body, coalesce(new.notes, '') FROM task_search_text ts
        WHERE ts.id = new.task_id AND (ts.body <> '' OR coalesce(new.notes, '') <> '');
        UPDATE gallery_generation SET value = value + 1;
    END;
    CREATE TRIGGER results_gallery_update AFTER UPDATE OF model, kind, favourite, cost, notes, created_at ON results
    BEGIN
        UPDATE gallery_counts SET n = n - 1
        WHERE (old.model IS NOT new.model OR old.kind IS NOT new.kind OR old.favourite IS NOT new.favourite)
          AND model = coalesce(old.model, '') AND kind = old.kind AND favourite = old.favourite;
        INSERT INTO gallery_counts (model, kind, favourite, n)
        SELECT coalesce(new.model, ''), new.kind, new.favourite, 1
        WHERE old.model IS NOT new.model OR old.kind IS NOT new.kind OR old.favourite IS NOT new.favourite
        ON CONFLICT DO UPDATE SET n = n + 1;
        DELETE FROM gallery_fts WHERE rowid = old.id AND old.notes IS NOT new.notes;
        INSERT INTO gallery_fts (rowid, prompt, notes)
        SELECT new.id, ts.body, coalesce(new.notes, '') FROM task_search_text ts
        WHERE old.notes IS NOT new.notes AND ts.id = new.task_id
          AND (ts.body <> '' OR coalesce(new.notes, '') <> '');
        UPDATE gallery_generation SET value = value + 1;
    END;
    -- Also when a task's deletion takes its results (foreign key actions fire triggers).
    CREATE TRIGGER results_gallery_delete AFTER DELETE ON results BEGIN
        UPDATE gallery_counts SET n = n - 1
        WHERE model = coalesce(old.model, '') AND kind = old.kind AND favourite = old.favourite;
        DELETE FROM gallery_fts WHERE rowid = old.id;
        UPDATE gallery_generation SET value = value + 1;
    END;
    CREATE TRIGGER tasks_gallery_copy AFTER UPDATE OF model, credits_consumed, credits_estimated ON tasks BEGIN
        UPDATE results SET model = new.model, cost = coalesce(new.credits_consumed, new.credits_estimated)
        WHERE task_id = new.id
          AND (model IS NOT new.model OR cost IS NOT coalesce(new.credits_consumed, new.credits_estimated));
    END;
    CREATE TRIGGER tasks_gallery_text AFTER UPDATE OF input_json ON tasks BEGIN
        DELETE FROM gallery_fts WHERE rowid IN (SELECT id FROM results WHERE task_id = new.id);
        INSERT INTO gallery_fts (rowid, prompt, notes)
        SELECT r.id, ts.body, coalesce(r.notes, '') FROM results r JOIN task_search_text ts ON ts.id = r.task_id
        WHERE r.task_id = new.id AND (ts.body <> '' OR coalesce(r.notes, '') <> '');
        UPDATE gallery_generation SET value = value + 1;
    END;

    -- The results still waiting for a thumbnail (thumbs::backfill), found without a scan.
    CREATE INDEX results_thumb_todo ON results(id) WHERE thumb_path IS NULL AND poster_path IS NOT NULL;
    "#,
    r#"
    -- The scheduler asks several times a second for successes whose files are not all in
    -- (tasks::due): found without reading every finished task (issue 11).
    CREATE INDEX tasks_to_fetch ON tasks(status, downloads_done);
    "#,
    r#"
    -- Image results get a thumb of the image itself (thumbs::source_of): the backfill's
    -- partial index now holds them too (the same condition as thumbs::TODO).
    DROP INDEX results_thumb_todo;
    CREATE INDEX results_thumb_todo ON results(id)
      WHERE thumb_path IS NULL AND (poster_path IS NOT NULL OR (kind = 'image' AND path IS NOT NULL));
    "#,
    r#"
    -- Batches (batches.rs): a list of inputs sent one by one, in order, within a credit cap.
    -- An item is `sent` in the same transaction that writes its task down (before the create
    -- leaves), so a batch continued after a crash never sends an item twice.
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        model TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('variations', 'lines', 'csv', 'jsonl')),
        state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'stopped', 'done', 'cancelled')),
        cap_credits REAL,
        estimate_credits REAL,
        stop_code TEXT,
        stop_message TEXT,
        -- Kie's balance when the batch started or resumed: later creates must fit what is left.
        balance REAL,
        balance_at INTEGER,
        -- Not before then (Kie could not be reached: the item was surely not sent).
        retry_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE batch_items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        line INTEGER NOT NULL,
        input_json TEXT NOT NULL CHECK (json_valid(input_json)),
        credits_estimated REAL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'cancelled')),
        task_id INTEGER UNIQUE REFERENCES tasks(id) ON DELETE SET NULL,
        sent_at INTEGER,
        UNIQUE (batch_id, position)
    );
    CREATE INDEX batch_items_pending ON batch_items(batch_id, position) WHERE state = 'pending';
    ALTER TABLE tasks ADD COLUMN batch_id INTEGER REFERENCES batches(id) ON DELETE SET NULL;
    CREATE INDEX tasks_batch ON tasks(batch_id, created_at) WHERE batch_id IS NOT NULL;
    "#,
    r#"
    -- Presets (presets.rs): a form's values kept under a name, to start a form from. The name
    -- is unique in any case (saving under a taken name replaces that preset).
    CREATE TABLE presets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        model TEXT NOT NULL,
        input_json TEXT NOT NULL CHECK (json_valid(input_json)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
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
    /// The file is not a database, or failed its integrity check. It is left as it is, and
    /// every open says so again: nothing is created in its place until the user asks for
    /// [`Db::repair`] (which keeps it under another name and recovers what it can).
    #[error(
        "The library database {} is damaged. It was left as it is: Kie Studio can set it aside \
         (keeping it) and start a new one with the tasks it can still read.",
        path.display()
    )]
    Corrupt { path: PathBuf },
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
    /// See [`Db::memo`].
    memos: Arc<Mutex<Vec<Arc<dyn Any + Send + Sync>>>>,
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
    /// A damaged file is reported (`Corrupt`) and left alone. (`now_ms` is kept for callers.)
    pub fn open(path: &Path, _now_ms: i64) -> Result<Db, DbError> {
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
            Ok(conn) => {
                Ok(Db { conn: Arc::new(Mutex::new(conn)), path: Some(path.to_path_buf()), memos: Arc::default() })
            }
            Err(SetupError::TooNew { found }) => Err(DbError::TooNew { found, supported: SCHEMA_VERSION }),
            Err(SetupError::Sqlite(e)) => Err(DbError::Sqlite(e)),
            // Never replaced here: the user decides (`Db::repair`).
            Err(SetupError::Damaged(_)) => Err(DbError::Corrupt { path: path.to_path_buf() }),
        }
    }

    /// [`Db::open`], then [`Db::verify`]: for one-shot callers that can wait for the check.
    pub fn open_verified(path: &Path, now_ms: i64) -> Result<Db, DbError> {
        let db = Db::open(path, now_ms)?;
        db.verify()?;
        Ok(db)
    }

    /// Read every page (`PRAGMA quick_check`) on a connection of its own, so the check
    /// holds up nobody: the app runs it in the background after start-up. `Corrupt` when the
    /// file is damaged; in memory there is nothing to check.
    pub fn verify(&self) -> Result<(), DbError> {
        let Some(path) = self.path.as_deref() else { return Ok(()) };
        let damaged = || DbError::Corrupt { path: path.to_path_buf() };
        let check = || -> rusqlite::Result<String> {
            let conn = Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.query_row("PRAGMA quick_check", [], |r| r.get(0))
        };
        match check() {
            Ok(found) if found == "ok" => Ok(()),
            Ok(_) => Err(damaged()),
            Err(e) if is_damage(&e) => Err(damaged()),
            Err(e) => Err(DbError::Sqlite(e)),
        }
    }

    /// A private in-memory database with the full schema, for tests and demos.
    pub fn open_in_memory() -> Result<Db, DbError> {
        let mut conn = Connection::open_in_memory()?;
        let setup = configure(&conn, false).and_then(|_| migrate(&mut conn, MIGRATIONS.len()));
        match setup {
            Ok(()) => Ok(Db { conn: Arc::new(Mutex::new(conn)), path: None, memos: Arc::default() }),
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

    /// What a store module keeps between calls on this handle (the gallery's search matches
    /// and page keys), one value per type, shared by the handle's clones. Other processes
    /// write to the library too: whatever is kept must be checked against something read
    /// from it (the gallery's generation) before use.
    pub(crate) fn memo<T: Any + Default + Send + Sync>(&self) -> Arc<T> {
        let mut memos = self.memos.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = memos.iter().find_map(|m| m.clone().downcast::<T>().ok()) {
            return found;
        }
        let made = Arc::new(T::default());
        memos.push(made.clone());
        made
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
        // FULL: every commit is synced to disk before it returns, so a task's state survives a
        // power cut once written (NORMAL in WAL may lose the last commits). A create leaves
        // only after its row is written, and a Kie id is written the moment it arrives.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // No `quick_check` here: it reads every page (a second at 100,000 videos), so opening
        // would grow with the library. [`Db::verify`] does it, off the start-up path.
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    // The gallery's statements differ by filter and sort (library/query.rs): keep them all
    // prepared, with the rest of the app's, rather than parse them again.
    conn.set_prepared_statement_cache_capacity(64);
    // Up to 32 MiB of pages (SQLite's default is 2): a search reads MBs of the full-text index
    // and a page's rows from all over the library, each page a system call when not kept.
    conn.pragma_update(None, "cache_size", -32_768)?;
    // The schema's triggers and views may only call SQLite's innocuous functions: a library
    // file from elsewhere cannot make the app run anything else while it reads.
    conn.pragma_update(None, "trusted_schema", false)?;
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

/// Move a damaged database and its -wal/-shm to `<name>.corrupt-<now_ms>[-wal|-shm]`
/// (`-2`, `-3`… added if that name is taken: nothing set aside before is overwritten).
/// The -wal must go too: left behind, it would be replayed into a fresh database.
fn set_aside(path: &Path, now_ms: i64) -> Result<PathBuf, DbError> {
    let with_suffix = |suffix: &str| {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let taken = |name: &str| ["", "-wal", "-shm"].iter().any(|ext| with_suffix(&format!("{name}{ext}")).exists());
    let name = (1..)
        .map(|n| if n == 1 { format!(".corrupt-{now_ms}") } else { format!(".corrupt-{now_ms}-{n}") })
        .find(|name| !taken(name))
        .expect("a free name");
    let target = with_suffix(&name);
    for ext in ["-wal", "-shm"] {
        let from = with_suffix(ext);
        if from.exists() {
            let to = with_suffix(&format!("{name}{ext}"));
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

/// What [`Db::repair`] did with a damaged library database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct Repaired {
    /// Where the damaged file is now (kept, never deleted; its -wal and -shm beside it).
    pub set_aside: String,
    /// Rows read back from it into the new database, ids and Kie's ids included.
    pub tasks: u64,
    pub results: u64,
    pub characters: u64,
    /// Rows of the other tables (settings, what Kie said of models…).
    pub other: u64,
}

impl Db {
    /// Start afresh at `path` when the database there is damaged, and only then: the caller
    /// has asked the user. The damaged file (with its -wal and -shm) is moved aside to
    /// `<name>.corrupt-<now_ms>` and kept; a new database is made; and every row that can
    /// still be read from the old one is copied in with its id, so tasks keep their Kie ids
    /// (unfinished ones are polled again) and files named after them are linked back by a
    /// rescan. New ids start after the old library's. `None`: the database opens fine and
    /// nothing was touched.
    pub fn repair(path: &Path, now_ms: i64) -> Result<(Db, Option<Repaired>), DbError> {
        match Db::open_verified(path, now_ms) {
            Ok(db) => return Ok((db, None)),
            Err(DbError::Corrupt { .. }) => {}
            Err(e) => return Err(e),
        }
        let aside = set_aside(path, now_ms)?;
        let db = Db::open(path, now_ms)?;
        let mut report = Repaired { set_aside: aside.display().to_string(), ..Repaired::default() };
        salvage(&aside, &mut db.lock(), &mut report);
        Ok((db, Some(report)))
    }
}

/// Tables made from the others by triggers (counts, the gallery's generation): never copied.
const DERIVED_TABLES: &[&str] = &["gallery_counts", "gallery_generation"];

/// Copy what can be read from the damaged database at `old` into `new` (fresh, same schema
/// or newer): table by table (tasks first, as others refer to them), the columns both have,
/// row by row. A row that cannot be read is skipped; past a damaged page the read starts
/// again further on. Rows the new schema refuses (a broken value) are skipped too.
fn salvage(old: &Path, new: &mut Connection, report: &mut Repaired) {
    // The connection closes before the copy is removed (fields drop in order: `src` first).
    let Some((_copy, src)) = Salvage::open(old) else { return };
    let Ok(tx) = new.transaction_with_behavior(TransactionBehavior::Immediate) else { return };
    let tables: Vec<String> = tx
        .prepare(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_default();
    let mut tables = tables;
    // Tables the triggers keep from the others are made again as those are copied.
    tables.retain(|t| !DERIVED_TABLES.contains(&t.as_str()));
    tables.sort_by_key(|t| (t != "tasks", t.clone()));
    for table in &tables {
        let copied = copy_table(&src, &tx, table);
        match table.as_str() {
            "tasks" => report.tasks += copied,
            "results" => report.results += copied,
            "characters" => report.characters += copied,
            _ => report.other += copied,
        }
    }
    // Ids the old library gave out are never given again (result files are named by them).
    let sequences: Vec<(String, i64)> = src
        .prepare("SELECT name, seq FROM sqlite_sequence")
        .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .unwrap_or_default();
    for (name, seq) in sequences.into_iter().filter(|(name, _)| tables.contains(name)) {
        let _ =
            tx.execute("UPDATE sqlite_sequence SET seq = max(seq, ?2) WHERE name = ?1", rusqlite::params![name, seq]);
        let _ = tx.execute(
            "INSERT INTO sqlite_sequence (name, seq) \
             SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?1)",
            rusqlite::params![name, seq],
        );
    }
    let _ = tx.commit();
}

/// A copy of the damaged file (and its -wal), to read from: the set-aside file stays exactly
/// as it was found. The copy's header is told to size the database by the file, so a
/// truncated file is read up to where it ends rather than refused whole.
struct Salvage {
    copy: PathBuf,
}

impl Salvage {
    fn open(old: &Path) -> Option<(Salvage, Connection)> {
        let mut name = old.as_os_str().to_owned();
        name.push(".reading");
        let salvage = Salvage { copy: PathBuf::from(name) };
        std::fs::copy(old, &salvage.copy).ok()?;
        let mut wal = old.as_os_str().to_owned();
        wal.push("-wal");
        if Path::new(&wal).exists() {
            let _ = std::fs::copy(&wal, salvage.file("-wal"));
        }
        // Bytes 28..32: the database's size in pages. Zero: SQLite takes it from the file.
        {
            use std::io::{Seek, SeekFrom, Write};
            let mut f = std::fs::OpenOptions::new().write(true).open(&salvage.copy).ok()?;
            if f.metadata().ok()?.len() >= 100 {
                f.seek(SeekFrom::Start(28)).ok()?;
                f.write_all(&[0; 4]).ok()?;
            }
        }
        let conn = Connection::open(&salvage.copy).ok()?;
        let _ = conn.busy_timeout(BUSY_TIMEOUT);
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).ok()?;
        Some((salvage, conn))
    }

    fn file(&self, suffix: &str) -> PathBuf {
        let mut name = self.copy.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }
}

impl Drop for Salvage {
    fn drop(&mut self) {
        for f in [self.copy.clone(), self.file("-wal"), self.file("-shm"), self.file("-journal")] {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Copy the rows of `table` that can be read; how many were written.
fn copy_table(src: &Connection, dst: &Connection, table: &str) -> u64 {
    let columns = |c: &Connection| -> Vec<String> {
        c.prepare("SELECT name FROM pragma_table_info(?1)")
            .and_then(|mut st| st.query_map([table], |r| r.get(0))?.collect())
            .unwrap_or_default()
    };
    let old_cols = columns(src);
    let cols: Vec<String> = columns(dst).into_iter().filter(|c| old_cols.contains(c)).collect();
    if cols.is_empty() {
        return 0;
    }
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let list = cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
    let holes = vec!["?"; cols.len()].join(", ");
    let Ok(mut insert) = dst.prepare(&format!("INSERT OR IGNORE INTO {} ({list}) VALUES ({holes})", quote(table)))
    else {
        return 0;
    };
    let has_rowid = src.prepare(&format!("SELECT rowid FROM {} LIMIT 0", quote(table))).is_ok();
    let select = if has_rowid {
        format!("SELECT rowid, {list} FROM {} WHERE rowid > ?1 ORDER BY rowid", quote(table))
    } else {
        format!("SELECT 0, {list} FROM {}", quote(table))
    };
    let mut copied = 0;
    // Rows are read from after `from`; past damage, reads start further and further on (a
    // damaged page holds a run of rows; a seek past it reaches the next page).
    let (mut from, mut jump) = (i64::MIN, 1_i64);
    for _ in 0..200 {
        let mut last = None;
        let broke = match src.prepare(&select) {
            Err(_) => true,
            Ok(mut st) => match if has_rowid { st.query([from]) } else { st.query([]) } {
                Err(_) => true,
                Ok(mut rows) => loop {
                    match rows.next() {
                        Ok(None) => break false,
                        Err(_) => break true,
                        Ok(Some(row)) => {
                            last = row.get::<_, i64>(0).ok().or(last);
                            let values: Result<Vec<rusqlite::types::Value>, _> =
                                (1..=cols.len()).map(|i| row.get(i)).collect();
                            if let Ok(n) = values.and_then(|v| insert.execute(rusqlite::params_from_iter(v))) {
                                copied += n as u64;
                            }
                        }
                    }
                },
            },
        };
        if !broke || !has_rowid || from == i64::MAX {
            break;
        }
        match last {
            Some(id) => (from, jump) = (id, 1),
            None => {
                from = from.max(0);
                jump = jump.saturating_mul(2);
            }
        }
        from = from.saturating_add(jump);
    }
    copied
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
        assert_eq!(pragma_i64(&db, "synchronous"), 2); // FULL
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
        let newer = SCHEMA_VERSION + 1;
        Connection::open(&path).unwrap().pragma_update(None, "user_version", newer).unwrap();
        let err = Db::open(&path, 2).unwrap_err();
        assert!(matches!(err, DbError::TooNew { found, supported: SCHEMA_VERSION } if found == newer), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "This library was made by a newer version of Kie Studio (schema {newer}); this version knows up \
                 to {SCHEMA_VERSION}. Update Kie Studio to open it."
            )
        );
        assert!(path.exists(), "a too-new library must be left alone");
    }

    /// A damaged database is never replaced behind the user's back: every open says so and
    /// leaves it as it is, until `repair` is asked for; then it is kept under another name.
    #[test]
    fn garbage_file_is_left_in_place_until_repair_is_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        let garbage = b"this is not a database, just some bytes that happen to be here ".repeat(100);
        std::fs::write(&path, &garbage).unwrap();
        std::fs::write(dir.path().join("library.db-wal"), b"stale wal").unwrap();
        for now in [1234, 1235] {
            let err = Db::open(&path, now).unwrap_err();
            assert!(matches!(&err, DbError::Corrupt { path: p } if *p == path), "{err:?}");
            assert_eq!(err.code(), ApiErrorCode::DbCorrupt);
            assert_eq!(std::fs::read(&path).unwrap(), garbage, "opening must not touch it");
        }
        let (db, repaired) = Db::repair(&path, 1236).unwrap();
        let repaired = repaired.expect("it was damaged");
        let aside = dir.path().join("library.db.corrupt-1236");
        assert_eq!(repaired, Repaired { set_aside: aside.display().to_string(), ..Repaired::default() });
        assert_eq!(std::fs::read(&aside).unwrap(), garbage);
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        drop(db);
        // A healthy database is not touched by a repair.
        let (db, again) = Db::repair(&path, 1237).unwrap();
        assert_eq!(again, None);
        drop(db);
        assert!(!dir.path().join("library.db.corrupt-1237").exists());
        // The same moment twice never overwrites what was set aside before.
        std::fs::write(&path, &garbage).unwrap();
        let (_, third) = Db::repair(&path, 1236).unwrap();
        assert_eq!(third.unwrap().set_aside, dir.path().join("library.db.corrupt-1236-2").display().to_string());
        assert_eq!(std::fs::read(&aside).unwrap(), garbage);
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

    /// A library with tasks (Kie's ids), results, characters and settings, as files.
    fn library_with_rows(path: &Path, n: i64) {
        let db = Db::open(path, 1).unwrap();
        let long = "a fox in the snow ".repeat(200);
        for i in 0..n {
            let input = json!({"prompt": format!("{long} {i}")}).as_object().unwrap().clone();
            let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, Some(30.0), false, i).unwrap();
            tasks::mark_submitted(&db, t.id, &format!("kie-{}", t.id), i).unwrap();
        }
        let r = library::add_result(
            &db,
            library::NewResult {
                task_id: 1,
                idx: 0,
                kind: library::ResultKind::Video,
                path: Some("media/2026/03/task-1-0.mp4".into()),
                ..Default::default()
            },
            5,
        )
        .unwrap();
        library::set_notes(&db, r.id, Some("the good one")).unwrap();
        characters::add(&db, characters::NewCharacter { handle: "maya".into(), ..Default::default() }, 6).unwrap();
        settings::set(&db, settings::Setting::LastModel, Some("kept-model")).unwrap();
        db.with(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?)).unwrap();
    }

    fn root_page(path: &Path, name: &str) -> u64 {
        let c = Connection::open(path).unwrap();
        c.query_row("SELECT rootpage FROM sqlite_master WHERE name = ?1", [name], |r| r.get::<_, i64>(0)).unwrap()
            as u64
    }

    fn scribble_page(path: &Path, page: u64) {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.seek(SeekFrom::Start((page - 1) * 4096)).unwrap();
        f.write_all(&[0xA5; 4096]).unwrap();
    }

    #[test]
    fn truncated_database_is_reported_and_repair_keeps_what_it_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        library_with_rows(&path, 300);
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len > 100_000, "{len}");
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len / 2).unwrap();
        let err = Db::open_verified(&path, 99).unwrap_err();
        assert!(matches!(&err, DbError::Corrupt { path: p } if *p == path), "{err:?}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len / 2, "left as it was");
        let (db, repaired) = Db::repair(&path, 99).unwrap();
        let repaired = repaired.unwrap();
        assert!(repaired.set_aside.ends_with("library.db.corrupt-99"), "{repaired:?}");
        // The damaged file is kept exactly as found; the copy read from is gone.
        assert_eq!(std::fs::metadata(&repaired.set_aside).unwrap().len(), len / 2);
        let names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into()).collect();
        assert!(names.iter().all(|n| !n.contains(".reading")), "{names:?}");
        assert!(repaired.tasks > 0 && repaired.tasks < 300, "{repaired:?}");
        let first = tasks::get(&db, 1).unwrap();
        assert_eq!(first.kie_task_id.as_deref(), Some("kie-1"));
        let count: i64 = db.with(|c| Ok(c.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))?)).unwrap();
        assert_eq!(count as u64, repaired.tasks);
        // New tasks never take an id the old library gave out: files are named after them.
        let input = json!({"prompt": "new"}).as_object().unwrap().clone();
        let fresh = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, None, false, 7).unwrap();
        assert!(fresh.id > 300, "{}", fresh.id);
    }

    /// Damage that spares the tables (an index page scribbled over): every row comes back,
    /// with its id, Kie's id, search, notes, characters and settings.
    #[test]
    fn repair_brings_back_every_row_it_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        library_with_rows(&path, 40);
        scribble_page(&path, root_page(&path, "tasks_created_at"));
        // Opening does not read every page (start-up must not grow with the library); the
        // check does, on a connection of its own.
        let opened = Db::open(&path, 5).expect("a cheap open does not reach the index");
        assert!(matches!(opened.verify().unwrap_err(), DbError::Corrupt { .. }));
        drop(opened);
        assert!(matches!(Db::open_verified(&path, 5).unwrap_err(), DbError::Corrupt { .. }));
        let (db, repaired) = Db::repair(&path, 5).unwrap();
        let repaired = repaired.unwrap();
        assert_eq!((repaired.tasks, repaired.results, repaired.characters), (40, 1, 1), "{repaired:?}");
        assert!(repaired.other >= 1, "{repaired:?}");
        assert_eq!(tasks::by_kie_id(&db, "kie-40").unwrap().unwrap().id, 40);
        let hits = search::search(&db, "fox", 100).unwrap();
        assert_eq!(hits.iter().filter(|h| h.kind == search::HitKind::Task).count(), 40);
        assert!(search::search(&db, "good", 10).unwrap().iter().any(|h| h.kind == search::HitKind::Result));
        // The gallery's counts are made again as the rows come back, not copied on top.
        let good = library::ResultQuery { search: Some("good".into()), ..Default::default() };
        assert_eq!(library::count_results(&db, &library::ResultQuery::default()).unwrap(), 1);
        assert_eq!(library::count_results(&db, &good).unwrap(), 1);
        assert_eq!(settings::get(&db, settings::Setting::LastModel).unwrap().as_deref(), Some("kept-model"));
        assert_eq!(characters::list(&db).unwrap()[0].handle, "maya");
        assert!(std::path::Path::new(&repaired.set_aside).exists());
    }

    /// A table page scribbled over in the middle: the rows after it are read too.
    #[test]
    fn repair_reads_past_a_damaged_page() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        library_with_rows(&path, 120);
        // A leaf of the tasks table in the middle of the file (each row about 4 KB: one a page).
        let page = {
            let c = Connection::open(&path).unwrap();
            let pages: Vec<i64> = c
                .prepare("SELECT pageno FROM dbstat WHERE name = 'tasks' AND pagetype = 'leaf' ORDER BY pageno")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .unwrap_or_default();
            pages.get(pages.len() / 2).copied()
        };
        let Some(page) = page else { return }; // no dbstat in this SQLite
        scribble_page(&path, page as u64);
        let (db, repaired) = Db::repair(&path, 6).unwrap();
        let repaired = repaired.unwrap();
        assert!(repaired.tasks >= 100 && repaired.tasks < 120, "{repaired:?}");
        assert!(tasks::get(&db, 120).is_ok(), "a row after the damage");
    }

    /// Triggers and views run with only SQLite's innocuous functions: a library file from
    /// elsewhere cannot make the app call anything else as it reads.
    #[test]
    fn the_schema_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("library.db"), 1).unwrap();
        assert_eq!(pragma_i64(&db, "trusted_schema"), 0);
        assert_eq!(pragma_i64(&Db::open_in_memory().unwrap(), "trusted_schema"), 0);
        // The schema's own triggers (search) still work under it.
        let input = json!({"prompt": "a heron at dawn", "shots": [{"Scene": "reeds"}]}).as_object().unwrap().clone();
        tasks::insert_submitting(&db, "sora-2-text-to-video", &input, None, false, 1).unwrap();
        assert_eq!(search::search(&db, "reeds", 10).unwrap().len(), 1);
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
            // The gallery's counts, index and copies of the task's model are made from it.
            let gallery = |q: library::ResultQuery| {
                let ids: Vec<i64> = library::list_results(&db, &q).unwrap().iter().map(|v| v.result.id).collect();
                (library::count_results(&db, &q).unwrap(), ids)
            };
            assert_eq!(gallery(library::ResultQuery::default()), (1, vec![1]));
            let q = |search: &str, model: &str| library::ResultQuery {
                search: Some(search.into()),
                model: Some(model.into()),
                ..Default::default()
            };
            assert_eq!(gallery(q("reel", "sora-2-pro-storyboard")), (1, vec![1]));
            assert_eq!(gallery(q("lighthouse", "sora-2-pro-storyboard")), (1, vec![1]));
            assert_eq!(gallery(q("lighthouse", "sora-2-text-to-video")), (0, vec![]));
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
