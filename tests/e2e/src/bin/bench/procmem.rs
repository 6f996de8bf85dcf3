//! The memory of a program and everything it started, from `/proc`: PSS (proportional set
//! size), where a page shared by several processes is split between them, so the sum over
//! the app and its WebKit processes counts each shared library once.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One process: its id, its parent's, and its name (`comm`, at most 15 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    pub name: String,
}

/// `/proc/<pid>/stat`: "pid (comm) state ppid ...". The name may hold spaces and
/// parentheses, so it ends at the last ')'.
pub fn parse_stat(text: &str) -> Option<Proc> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let name = text.get(open + 1..close)?.to_string();
    let mut rest = text.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(Proc { pid, ppid, name })
}

/// Every process now (those that end while being read are left out).
pub fn processes() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|t| parse_stat(&t))
        .collect()
}

/// The processes below `root` (children, their children, …), not `root` itself.
pub fn descendants(procs: &[Proc], root: u32) -> Vec<&Proc> {
    let mut children: HashMap<u32, Vec<&Proc>> = HashMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        for c in children.get(&pid).into_iter().flatten() {
            // A pid is never its own ancestor; guard anyway against a list read mid-change.
            if c.pid != root && !out.iter().any(|o: &&Proc| o.pid == c.pid) {
                out.push(*c);
                todo.push(c.pid);
            }
        }
    }
    out
}

/// The process below `root` running `program` (the first found, nearest first).
pub fn find_program(root: u32, program: &Path) -> Option<u32> {
    let want = program.canonicalize().unwrap_or_else(|_| program.to_path_buf());
    let procs = processes();
    descendants(&procs, root)
        .into_iter()
        .map(|p| p.pid)
        .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == want))
}

/// The "Pss:" line of `/proc/<pid>/smaps_rollup`, in KiB.
pub fn parse_pss_kib(smaps_rollup: &str) -> Option<u64> {
    smaps_rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn pss_kib(pid: u32) -> Option<u64> {
    parse_pss_kib(&std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?)
}

/// A process's program name: its `argv[0]` without the folder (`comm` is cut at 15 bytes:
/// "WebKitNetworkPr"), else `comm`.
pub fn program_name(pid: u32, comm: &str) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .and_then(|c| c.split(|&b| b == 0).next().map(|a| String::from_utf8_lossy(a).into_owned()))
        .and_then(|argv0| argv0.rsplit('/').next().map(str::to_string))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| comm.to_string())
}

/// The PSS of a process tree, in all and by process name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreePss {
    pub total_kib: u64,
    /// Name → (processes, KiB).
    pub by_name: BTreeMap<String, (usize, u64)>,
    /// Processes of the tree whose memory could not be read (gone, or not ours to read).
    pub unreadable: usize,
}

impl TreePss {
    pub fn mib(&self) -> f64 {
        self.total_kib as f64 / 1024.0
    }
}

/// The PSS of `root` and every process below it.
pub fn tree_pss(root: u32) -> TreePss {
    let procs = processes();
    let name = procs.iter().find(|p| p.pid == root).map(|p| p.name.clone()).unwrap_or_else(|| root.to_string());
    let tree =
        std::iter::once((root, name)).chain(descendants(&procs, root).into_iter().map(|p| (p.pid, p.name.clone())));
    let mut out = TreePss::default();
    for (pid, comm) in tree {
        let name = program_name(pid, &comm);
        match pss_kib(pid) {
            Some(kib) => {
                out.total_kib += kib;
                let e = out.by_name.entry(name).or_default();
                e.0 += 1;
                e.1 += kib;
            }
            None => out.unreadable += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let p = parse_stat("4242 (Web Content (x)) S 17 4242 4242 0 -1 4194560 ...").unwrap();
        assert_eq!(p, Proc { pid: 4242, ppid: 17, name: "Web Content (x)".into() });
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn descendants_are_the_whole_subtree() {
        let p = |pid, ppid| Proc { pid, ppid, name: format!("p{pid}") };
        // 1 → 2 → 3 → {4, 5}; 1 → 6 (not below 2); 7 → 8 elsewhere.
        let procs = vec![p(1, 0), p(2, 1), p(3, 2), p(4, 3), p(5, 3), p(6, 1), p(7, 0), p(8, 7)];
        let mut below: Vec<u32> = descendants(&procs, 2).iter().map(|p| p.pid).collect();
        below.sort();
        assert_eq!(below, vec![3, 4, 5]);
        assert!(descendants(&procs, 4).is_empty());
    }

    #[test]
    fn pss_is_read_from_smaps_rollup() {
        let text = "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:              123456 kB\nPss:               98765 kB\nPss_Anon: 1 kB\n";
        assert_eq!(parse_pss_kib(text), Some(98765));
        assert_eq!(parse_pss_kib("Rss: 1 kB\n"), None);
    }

    /// This very process: found below its parent, and its memory read.
    #[test]
    fn a_live_tree_is_measured() {
        let me = std::process::id();
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let procs = processes();
        assert!(descendants(&procs, me).iter().any(|p| p.pid == child.id()));
        let sleep = std::fs::read_link(format!("/proc/{}/exe", child.id())).unwrap();
        assert_eq!(find_program(me, &sleep), Some(child.id()));
        let t = tree_pss(me);
        assert!(t.total_kib > 100 && t.by_name.values().map(|v| v.0).sum::<usize>() >= 2, "{t:?}");
        assert_eq!(t.by_name.get("sleep").map(|v| v.0), Some(1), "{t:?}");
        assert_eq!(program_name(child.id(), "x"), "sleep");
        assert_eq!(program_name(u32::MAX, "gone"), "gone");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
