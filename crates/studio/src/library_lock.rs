//! One process polls and downloads a library at a time: the one holding the OS lock on
//! `<library>/.lock` (`flock` on Unix, `LockFileEx` on Windows, through `fs4`). The lock
//! belongs to the open file, so the OS releases it when the process ends, however it ends: a
//! crash never leaves a library locked. The holder writes who it is into the file, so that
//! another process can say who polls ("Kie Studio is open on this library").
//!
//! Anyone may still create tasks (the journal in the database is safe to share); only the
//! poller (status queries) and the downloader (the `.partial` files) need the lock. The app
//! takes it when its session starts, or as soon as the process holding it is done; the
//! `kie` command line takes it to poll, and otherwise watches the database for the result.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

/// The lock file, in the library folder.
pub const LOCK_FILE: &str = ".lock";
/// How the app (the window, or its browser server) names itself as holder.
pub const APP: &str = "Kie Studio";

/// Who holds a library's lock, as the holder wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// [`APP`], or the command, e.g. `kie resume`.
    pub program: String,
}

impl Holder {
    pub fn is_app(&self) -> bool {
        self.program == APP
    }
}

/// This process polls and downloads the library while it holds this. Dropping it (or the
/// process ending) frees the library.
#[derive(Debug)]
pub struct PollerLock {
    _file: File,
}

/// Another process holds the library: who, when the file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    pub holder: Option<Holder>,
}

impl Busy {
    /// Whether the holder is this very process (another session of it, closing).
    pub fn is_this_process(&self) -> bool {
        self.holder.as_ref().is_some_and(|h| h.pid == std::process::id())
    }

    /// Who polls, in words: "Kie Studio (pid 42)", "kie resume (pid 42)", or a process of
    /// Kie Studio's when the file does not say.
    pub fn who(&self) -> String {
        match &self.holder {
            Some(h) => format!("{} (pid {})", h.program, h.pid),
            None => "another Kie Studio process".to_string(),
        }
    }
}

impl PollerLock {
    /// Take the library's lock without waiting, as `program` (see [`Holder::program`]).
    /// `Ok(Err(busy))`: another process (or another session of this one) has it. An error
    /// means the lock could not be tried at all (a file system without locks, a read-only
    /// library).
    pub fn try_acquire(root: &Path, program: &str) -> std::io::Result<Result<PollerLock, Busy>> {
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(root.join(LOCK_FILE))?;
        if !FileExt::try_lock_exclusive(&file)? {
            return Ok(Err(Busy { holder: read_holder(&mut file) }));
        }
        let me = Holder { pid: std::process::id(), program: program.to_string() };
        let text = serde_json::to_string(&me).map_err(std::io::Error::other)?;
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(text.as_bytes())?;
        file.flush()?;
        Ok(Ok(PollerLock { _file: file }))
    }
}

/// What the holder wrote; `None` while it is writing, or where a locked file cannot be read.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = PollerLock::try_acquire(dir.path(), APP).unwrap().expect("a free library");
        // A second open of the file (as another process would) finds it held, and by whom.
        let busy = PollerLock::try_acquire(dir.path(), "kie resume").unwrap().unwrap_err();
        let holder = busy.holder.clone().unwrap();
        assert!(holder.is_app() && busy.is_this_process(), "{busy:?}");
        assert_eq!(busy.who(), format!("Kie Studio (pid {})", std::process::id()));
        drop(first);
        let second = PollerLock::try_acquire(dir.path(), "kie resume").unwrap().expect("freed on drop");
        let busy = PollerLock::try_acquire(dir.path(), APP).unwrap().unwrap_err();
        assert_eq!(busy.holder.unwrap().program, "kie resume");
        drop(second);
    }

    #[test]
    fn a_missing_library_folder_is_an_error_not_a_lock() {
        let dir = tempfile::tempdir().unwrap();
        assert!(PollerLock::try_acquire(&dir.path().join("nope"), APP).is_err());
    }
}
