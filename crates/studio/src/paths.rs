//! The library folder: where it is, how it is laid out, and how result files are named.
//!
//! ```text
//! <root>/library.db          the store (with -wal and -shm beside it)
//! <root>/media/YYYY/MM/      result files, by the month they were saved (UTC)
//! <root>/posters/            poster frames
//! <root>/thumbs/             tile-sized copies of the posters, for the gallery grid (thumbs.rs)
//! <root>/logs/
//! ```
//!
//! Paths stored in the database are relative to the root, with `/` separators, so a library
//! can be moved or synced as a whole.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Environment variable that overrides the library folder (tests, the CLI, portable installs).
pub const LIBRARY_ENV: &str = "KIE_STUDIO_LIBRARY";
/// The folder name under the platform's data directory.
pub const APP_DIR: &str = "kie-studio";
pub const DB_FILE: &str = "library.db";
pub const MEDIA_DIR: &str = "media";
pub const POSTERS_DIR: &str = "posters";
pub const THUMBS_DIR: &str = "thumbs";
pub const LOGS_DIR: &str = "logs";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("The library folder must be an absolute path, not {0:?}")]
    NotAbsolute(PathBuf),
    #[error("No library folder: neither {LIBRARY_ENV}, a setting, nor a home folder is available")]
    NoDefault,
    #[error("Refusing the path {0:?}: it must stay inside the library folder")]
    Escapes(String),
}

/// Where the library root came from, for the settings screen and `kie doctor`-style output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RootSource {
    Env,
    Setting,
    Default,
}

/// The library folder and its layout. Creating folders is left to [`LibraryPaths::create_dirs`],
/// so that resolving a path never touches the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryPaths {
    root: PathBuf,
}

/// Pick the library root: `KIE_STUDIO_LIBRARY`, then the library-path setting, then the
/// platform default. The environment wins over the setting so that a test or a one-off CLI
/// run can point elsewhere without changing what the app remembers.
///
/// `env` reads a variable (pass `|k| std::env::var_os(k)` in production).
pub fn resolve_root(
    env: impl Fn(&str) -> Option<OsString>,
    setting: Option<&Path>,
) -> Result<(LibraryPaths, RootSource), PathError> {
    if let Some(v) = env(LIBRARY_ENV).filter(|v| !v.is_empty()) {
        return Ok((LibraryPaths::new(PathBuf::from(v))?, RootSource::Env));
    }
    if let Some(p) = setting.filter(|p| !p.as_os_str().is_empty()) {
        return Ok((LibraryPaths::new(p.to_path_buf())?, RootSource::Setting));
    }
    Ok((LibraryPaths::new(default_root(env).ok_or(PathError::NoDefault)?)?, RootSource::Default))
}

/// `$XDG_DATA_HOME/kie-studio`, else `$HOME/.local/share/kie-studio` (Linux and other
/// XDG systems); the platform's data directory elsewhere.
pub fn default_root(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return dirs::data_dir().map(|d| d.join(APP_DIR));
    }
    // The XDG spec says to ignore a relative XDG_DATA_HOME.
    if let Some(xdg) = env("XDG_DATA_HOME").map(PathBuf::from).filter(|p| p.is_absolute()) {
        return Some(xdg.join(APP_DIR));
    }
    let home = env("HOME").map(PathBuf::from).filter(|p| p.is_absolute())?;
    Some(home.join(".local").join("share").join(APP_DIR))
}

impl LibraryPaths {
    /// A relative root is refused: it would move with the working directory.
    pub fn new(root: PathBuf) -> Result<LibraryPaths, PathError> {
        if !root.is_absolute() {
            return Err(PathError::NotAbsolute(root));
        }
        Ok(LibraryPaths { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    pub fn posters_dir(&self) -> PathBuf {
        self.root.join(POSTERS_DIR)
    }

    pub fn thumbs_dir(&self) -> PathBuf {
        self.root.join(THUMBS_DIR)
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.root.join(LOGS_DIR)
    }

    /// `<root>/media/YYYY/MM` for the month of `now_ms`.
    pub fn media_dir(&self, now_ms: i64) -> PathBuf {
        let (y, m) = year_month(now_ms);
        self.root.join(MEDIA_DIR).join(format!("{y:04}")).join(format!("{m:02}"))
    }

    /// Create the root and its fixed sub-folders (month folders are made when used).
    pub fn create_dirs(&self) -> std::io::Result<()> {
        for dir in [self.root.join(MEDIA_DIR), self.posters_dir(), self.thumbs_dir(), self.logs_dir()] {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }

    /// Turn a stored relative path into an absolute one, refusing anything that could
    /// leave the root (`..`, absolute paths, drive prefixes). The check is lexical: the
    /// library never creates symlinks, and the database is the only source of these paths.
    pub fn resolve(&self, rel: &str) -> Result<PathBuf, PathError> {
        check_relative(rel)?;
        Ok(self.root.join(rel))
    }
}

/// A relative path that stays inside the root: non-empty, no `..`, no root or prefix, no NUL,
/// and no backslash (stored paths use `/`, and a `\` would be a separator on Windows).
pub fn check_relative(rel: &str) -> Result<(), PathError> {
    let bad = || PathError::Escapes(rel.to_string());
    if rel.is_empty() || rel.contains('\0') || rel.contains('\\') {
        return Err(bad());
    }
    let mut normal = 0;
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(_) => normal += 1,
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return Err(bad()),
        }
    }
    if normal == 0 {
        return Err(bad());
    }
    Ok(())
}

/// Every entry below `dir` (recursively) that is not a folder, sorted; a missing folder has
/// none. Symbolic links are listed as entries and never followed (the library makes none,
/// and a link back up the tree would make the walk endless); callers that read a file check
/// that it is a regular one.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            // `DirEntry::file_type` does not follow links (`Path::is_dir` does).
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                _ => out.push(e.path()),
            }
        }
    }
    out.sort();
    out
}

/// Whether `path` is a regular file itself (not a link to one, a folder, a pipe or a device).
pub fn is_plain_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// The file name of a result, made only from the app's own data: never from a URL, whose
/// name Kie controls and which may be long, repeated across tasks, or hostile.
/// `ext` is reduced to lowercase ASCII letters and digits; anything else becomes `bin`.
pub fn result_file_name(task_id: i64, index: u32, ext: &str) -> String {
    format!("task-{task_id}-{index}.{}", clean_ext(ext))
}

/// `media/YYYY/MM/<file_name>`, relative to the root, for a file saved at `now_ms`.
pub fn media_rel_path(now_ms: i64, file_name: &str) -> String {
    let (y, m) = year_month(now_ms);
    format!("{MEDIA_DIR}/{y:04}/{m:02}/{file_name}")
}

/// `posters/<file_name>`, relative to the root.
pub fn poster_rel_path(file_name: &str) -> String {
    format!("{POSTERS_DIR}/{file_name}")
}

/// `thumbs/<file_name>`, relative to the root.
pub fn thumb_rel_path(file_name: &str) -> String {
    format!("{THUMBS_DIR}/{file_name}")
}

fn clean_ext(ext: &str) -> String {
    let e = ext.trim().trim_start_matches('.').to_ascii_lowercase();
    if e.is_empty() || e.len() > 10 || !e.bytes().all(|b| b.is_ascii_alphanumeric()) {
        "bin".to_string()
    } else {
        e
    }
}

/// The UTC year and month of a time in ms since the epoch (Hinnant's civil-from-days),
/// so the crate needs no calendar dependency.
pub fn year_month(ms: i64) -> (i64, u32) {
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    fn default_follows_xdg_then_home() {
        let e = env(&[("HOME", "/home/ann"), ("XDG_DATA_HOME", "/data")]);
        assert_eq!(default_root(&e), Some(PathBuf::from("/data/kie-studio")));
        let e = env(&[("HOME", "/home/ann"), ("XDG_DATA_HOME", "relative")]);
        assert_eq!(default_root(&e), Some(PathBuf::from("/home/ann/.local/share/kie-studio")));
        assert_eq!(default_root(env(&[])), None);
        assert_eq!(resolve_root(env(&[]), None), Err(PathError::NoDefault));
    }

    #[test]
    fn env_beats_setting_beats_default() {
        let e = env(&[(LIBRARY_ENV, "/from/env"), ("HOME", "/home/ann")]);
        let (p, src) = resolve_root(&e, Some(Path::new("/from/setting"))).unwrap();
        assert_eq!((p.root(), src), (Path::new("/from/env"), RootSource::Env));

        let e = env(&[(LIBRARY_ENV, ""), ("HOME", "/home/ann")]);
        let (p, src) = resolve_root(&e, Some(Path::new("/from/setting"))).unwrap();
        assert_eq!((p.root(), src), (Path::new("/from/setting"), RootSource::Setting));

        let (_, src) = resolve_root(&e, None).unwrap();
        assert_eq!(src, RootSource::Default);

        let e = env(&[(LIBRARY_ENV, "rel/lib")]);
        assert!(matches!(resolve_root(&e, None), Err(PathError::NotAbsolute(_))));
    }

    #[test]
    fn layout() {
        let p = LibraryPaths::new(PathBuf::from("/lib")).unwrap();
        assert_eq!(p.db(), PathBuf::from("/lib/library.db"));
        assert_eq!(p.posters_dir(), PathBuf::from("/lib/posters"));
        assert_eq!(p.logs_dir(), PathBuf::from("/lib/logs"));
        // 2026-03-05T12:00:00Z
        assert_eq!(p.media_dir(1_772_712_000_000), PathBuf::from("/lib/media/2026/03"));
        assert_eq!(media_rel_path(1_772_712_000_000, "a.mp4"), "media/2026/03/a.mp4");
        assert_eq!(poster_rel_path("a.jpg"), "posters/a.jpg");
        assert_eq!(p.thumbs_dir(), PathBuf::from("/lib/thumbs"));
        assert_eq!(thumb_rel_path("a.jpg"), "thumbs/a.jpg");
    }

    #[test]
    fn creates_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let p = LibraryPaths::new(dir.path().join("lib")).unwrap();
        p.create_dirs().unwrap();
        assert!(p.root().join("media").is_dir() && p.posters_dir().is_dir() && p.logs_dir().is_dir());
        assert!(p.thumbs_dir().is_dir());
    }

    #[test]
    fn year_month_edges() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(-1), (1969, 12));
        assert_eq!(year_month(951_782_400_000), (2000, 2)); // 2000-02-29
        assert_eq!(year_month(951_868_799_999), (2000, 2));
        assert_eq!(year_month(951_868_800_000), (2000, 3));
        assert_eq!(year_month(1_767_225_599_999), (2025, 12));
        assert_eq!(year_month(1_767_225_600_000), (2026, 1));
    }

    #[test]
    fn file_names_come_from_our_data() {
        assert_eq!(result_file_name(42, 0, "mp4"), "task-42-0.mp4");
        assert_eq!(result_file_name(42, 1, ".JPG"), "task-42-1.jpg");
        assert_eq!(result_file_name(7, 0, "../../etc/passwd"), "task-7-0.bin");
        assert_eq!(result_file_name(7, 0, ""), "task-7-0.bin");
        assert_eq!(result_file_name(7, 0, "mp4?x=1"), "task-7-0.bin");
    }

    /// Two symlinks back up the tree made the walk follow 2^40 paths (Linux gives up on a
    /// path only after 40 links): health and rescan never came back.
    #[test]
    #[cfg(unix)] // Makes symlinks (or a pipe) the Unix way.
    fn symlink_loops_do_not_hang_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("media");
        std::fs::create_dir_all(media.join("2026/03")).unwrap();
        std::fs::write(media.join("2026/03/task-1-0.mp4"), b"v").unwrap();
        std::os::unix::fs::symlink(&media, media.join("2026/loop-a")).unwrap();
        std::os::unix::fs::symlink("..", media.join("2026/03/loop-b")).unwrap();
        std::os::unix::fs::symlink(media.join("2026/03/task-1-0.mp4"), media.join("link.mp4")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let walked = media.clone();
        std::thread::spawn(move || tx.send(files_under(&walked)).unwrap());
        let files = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the walk finished");
        // Links are listed as what they are (never followed), so a health check reports them.
        let names: Vec<_> = files.iter().map(|f| f.strip_prefix(&media).unwrap().to_path_buf()).collect();
        assert_eq!(
            names,
            ["2026/03/loop-b", "2026/03/task-1-0.mp4", "2026/loop-a", "link.mp4"].map(PathBuf::from).to_vec()
        );
    }

    #[test]
    fn resolve_refuses_escapes() {
        let p = LibraryPaths::new(PathBuf::from("/lib")).unwrap();
        assert_eq!(p.resolve("media/2026/03/a.mp4").unwrap(), PathBuf::from("/lib/media/2026/03/a.mp4"));
        assert_eq!(p.resolve("./posters/a.jpg").unwrap(), PathBuf::from("/lib/./posters/a.jpg"));
        for bad in ["", ".", "..", "../x", "media/../../x", "media/..", "/etc/passwd", "a\\..\\b", "a\0b", "C:\\x"] {
            assert!(p.resolve(bad).is_err(), "{bad:?} accepted");
        }
    }
}
