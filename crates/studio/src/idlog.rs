//! The Kie id log: `<library>/journal/kie-ids.log`, one JSON line `{task, kie_id, model,
//! created_at, at}` per create Kie answered, appended and synced to disk *before* the
//! database is told. A Kie id is the only way back to a task Kie charged for, and the
//! database write can fail (busy past its timeout, a full disk, a drive that went away) or
//! the process can die between the two; the log is replayed at start (`Journal::recover`),
//! so the id is recorded then.
//!
//! Append-only, never rewritten, shared by every process over the library: each line is
//! one `write` on a file opened for appending. A line cut short by a crash is skipped when
//! read, and the next line starts on a line of its own. `model` and `created_at` tie a line
//! to its row, so a line never lands on another task that happens to get the same id (a
//! library started afresh after its database was set aside).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The folder under the library root.
pub const JOURNAL_DIR: &str = "journal";
/// The log's file name in [`JOURNAL_DIR`].
pub const ID_LOG: &str = "kie-ids.log";

/// One create Kie answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdLine {
    /// The library's task id.
    pub task: i64,
    pub kie_id: String,
    /// The task's model and `created_at`, to tell its row from another with the same id.
    pub model: String,
    pub created_at: i64,
    /// When the id arrived (ms).
    pub at: i64,
}

/// `<root>/journal/kie-ids.log`.
pub fn path(root: &Path) -> PathBuf {
    root.join(JOURNAL_DIR).join(ID_LOG)
}

/// Append `line` and sync it to disk (and, when the file or its folder is new, the folder
/// that names it). Returns the log's path.
pub fn append(root: &Path, line: &IdLine) -> std::io::Result<PathBuf> {
    let dir = root.join(JOURNAL_DIR);
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir)?;
        sync_dir(root)?;
    }
    let path = dir.join(ID_LOG);
    let existed = path.exists();
    let mut file = OpenOptions::new().create(true).append(true).read(true).open(&path)?;
    let mut bytes = Vec::with_capacity(128);
    // A line a crash cut short must not swallow this one.
    if existed && !ends_with_newline(&mut file)? {
        bytes.push(b'\n');
    }
    serde_json::to_writer(&mut bytes, line)?;
    bytes.push(b'\n');
    file.write_all(&bytes)?;
    file.sync_data()?;
    if !existed {
        sync_dir(&dir)?;
    }
    Ok(path)
}

fn ends_with_newline(file: &mut File) -> std::io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Every whole line of the log, oldest first; none when there is no log. Lines that do not
/// read (cut short by a crash) are skipped.
pub fn read(root: &Path) -> std::io::Result<Vec<IdLine>> {
    let text = match std::fs::read(path(root)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect())
}

/// Make a new entry in `dir` durable (its name, not only its contents). Only Unix can open
/// a folder to sync it; elsewhere the file system journals names itself.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(task: i64, kie: &str) -> IdLine {
        IdLine { task, kie_id: kie.into(), model: "m".into(), created_at: 5, at: 6 }
    }

    #[test]
    fn lines_are_appended_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), vec![], "no log yet");
        let p = append(dir.path(), &line(1, "k1")).unwrap();
        assert_eq!(p, dir.path().join("journal/kie-ids.log"));
        append(dir.path(), &line(2, "k2")).unwrap();
        assert_eq!(read(dir.path()).unwrap(), vec![line(1, "k1"), line(2, "k2")]);
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn a_torn_line_is_skipped_and_does_not_swallow_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let p = append(dir.path(), &line(1, "k1")).unwrap();
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"task\": 2, \"kie_id\": \"k").unwrap();
        drop(f);
        assert_eq!(read(dir.path()).unwrap(), vec![line(1, "k1")]);
        append(dir.path(), &line(3, "k3")).unwrap();
        assert_eq!(read(dir.path()).unwrap(), vec![line(1, "k1"), line(3, "k3")]);
    }

    #[test]
    fn a_log_that_cannot_be_written_says_so() {
        let dir = tempfile::tempdir().unwrap();
        // The folder's name is taken by a file (as good as a drive that went away).
        std::fs::write(dir.path().join(JOURNAL_DIR), b"not a folder").unwrap();
        assert!(append(dir.path(), &line(1, "k1")).is_err());
        assert!(read(dir.path()).is_err());
    }
}
