//! Who holds a `submitting` row: the process sending its create. A row is abandoned (marked
//! outcome unknown by whoever finds it) only when that process is gone, never because the
//! wall clock says its lease is old: a suspend, a resume or a clock step moves the clock
//! while the create is still in flight.
//!
//! A process is named by its pid and a start token that tells it from a later process with
//! the same pid. On Linux the token is the boot, the pid namespace and the process's start
//! time (`/proc/<pid>/stat`), so liveness can be checked for any process of this machine
//! and boot. Elsewhere the token is a random per-process nonce: a process can vouch for
//! itself and for a former holder of its own pid, and anything else is [`OwnerState::Unknown`],
//! which falls back to the wall-clock lease (the conservative behaviour; a misjudged row
//! still takes its id when it arrives, see `tasks::mark_submitted`).
//!
//! Liveness is a seam ([`Processes`], held by `StudioConfig`), so tests decide it.

use std::sync::OnceLock;

/// A process that holds a lease: pid and start token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseOwner {
    pub pid: u32,
    pub start: String,
}

impl std::fmt::Display for LeaseOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} ({})", self.pid, self.start)
    }
}

/// What can be told of a lease owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerState {
    /// Still running: its create may still be in flight.
    Alive,
    /// Exited (or the machine restarted since): its create will never be answered here.
    Gone,
    /// Cannot be told from here (another OS, another pid namespace, an unreadable /proc).
    Unknown,
}

/// This process, and whether another is alive. [`OsProcesses`] asks the operating system;
/// tests pass their own.
pub trait Processes: Send + Sync + std::fmt::Debug {
    /// This process, as it names itself in the leases it takes.
    fn me(&self) -> LeaseOwner;
    /// Whether `owner` is still running.
    fn state(&self, owner: &LeaseOwner) -> OwnerState;
}

/// Whether a `submitting` row whose lease owner is in `owner` state (None: written before
/// leases had owners) and that was last touched at `touched_at` belongs to a sender that died
/// mid-create. A live owner keeps it however old the lease; a gone owner loses it at once; an
/// owner that cannot be judged keeps the old wall-clock rule (not touched for `lease_ms`).
pub fn is_abandoned(owner: Option<OwnerState>, touched_at: i64, now_ms: i64, lease_ms: i64) -> bool {
    match owner {
        Some(OwnerState::Alive) => false,
        Some(OwnerState::Gone) => true,
        Some(OwnerState::Unknown) | None => touched_at < now_ms.saturating_sub(lease_ms),
    }
}

/// The operating system's view: `/proc` on Linux, this process only elsewhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsProcesses;

impl Processes for OsProcesses {
    fn me(&self) -> LeaseOwner {
        me().clone()
    }

    fn state(&self, owner: &LeaseOwner) -> OwnerState {
        let me = me();
        if owner == me {
            return OwnerState::Alive;
        }
        os_state(owner, me)
    }
}

fn me() -> &'static LeaseOwner {
    static ME: OnceLock<LeaseOwner> = OnceLock::new();
    ME.get_or_init(|| {
        let pid = std::process::id();
        let start = linux::token(pid).unwrap_or_else(|| format!("nonce/{:016x}", rand::random::<u64>()));
        LeaseOwner { pid, start }
    })
}

#[cfg(target_os = "linux")]
fn os_state(owner: &LeaseOwner, me: &LeaseOwner) -> OwnerState {
    let (Some(theirs), Some(mine)) = (linux::Token::parse(&owner.start), linux::Token::parse(&me.start)) else {
        return fallback_state(owner, me);
    };
    if theirs.boot != mine.boot {
        // Every process of an earlier boot is gone. (A library shared live between two
        // machines is not supported: SQLite's WAL needs one machine's shared memory.)
        return OwnerState::Gone;
    }
    if theirs.pid_ns != mine.pid_ns {
        // Another sandbox's pid means nothing here.
        return OwnerState::Unknown;
    }
    match linux::stat(owner.pid) {
        Ok(Some(stat)) if stat.start_time == theirs.start_time && !stat.dead => OwnerState::Alive,
        // A zombie, or the pid now names a later process.
        Ok(Some(_)) => OwnerState::Gone,
        Ok(None) => OwnerState::Gone,
        Err(_) => OwnerState::Unknown,
    }
}

#[cfg(not(target_os = "linux"))]
fn os_state(owner: &LeaseOwner, me: &LeaseOwner) -> OwnerState {
    fallback_state(owner, me)
}

/// Without a way to ask the OS: our own pid under another token was a process that has
/// exited (the pid is ours now); anything else cannot be told.
fn fallback_state(owner: &LeaseOwner, me: &LeaseOwner) -> OwnerState {
    let same_kind = owner.start.split('/').next() == me.start.split('/').next();
    if owner.pid == me.pid && same_kind {
        OwnerState::Gone
    } else {
        OwnerState::Unknown
    }
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
mod linux {
    /// `linux/<boot id>/<pid namespace inode>/<start time in clock ticks since boot>`.
    #[derive(Debug, PartialEq, Eq)]
    pub(super) struct Token<'a> {
        pub boot: &'a str,
        pub pid_ns: &'a str,
        pub start_time: u64,
    }

    impl<'a> Token<'a> {
        pub(super) fn parse(s: &'a str) -> Option<Token<'a>> {
            let mut parts = s.split('/');
            if parts.next()? != "linux" {
                return None;
            }
            let (boot, pid_ns, start) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() {
                return None;
            }
            Some(Token { boot, pid_ns, start_time: start.parse().ok()? })
        }
    }

    /// What `/proc/<pid>/stat` says of a process: its start time, and whether it has exited
    /// (a zombie not yet reaped).
    #[derive(Debug, PartialEq, Eq)]
    pub(super) struct Stat {
        pub start_time: u64,
        pub dead: bool,
    }

    /// Fields after the command name (which may hold spaces and parentheses, so split after
    /// the last `)`): state is field 3, starttime field 22.
    pub(super) fn parse_stat(text: &str) -> Option<Stat> {
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let state = fields.first()?;
        let start_time = fields.get(22 - 3)?.parse().ok()?;
        Some(Stat { start_time, dead: matches!(*state, "Z" | "X" | "x") })
    }

    #[cfg(target_os = "linux")]
    pub(super) fn stat(pid: u32) -> std::io::Result<Option<Stat>> {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(text) => Ok(parse_stat(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// This machine's token for `pid`, or None where there is no `/proc` to read.
    #[cfg(target_os = "linux")]
    pub(super) fn token(pid: u32) -> Option<String> {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let boot = boot.trim();
        // "pid:[4026531836]": keep the number.
        let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
        let ns: String = ns.to_string_lossy().chars().filter(char::is_ascii_digit).collect();
        let start = stat(pid).ok()??.start_time;
        (!boot.is_empty() && !boot.contains('/') && !ns.is_empty()).then(|| format!("linux/{boot}/{ns}/{start}"))
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn token(_pid: u32) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_decides_and_the_clock_only_when_it_cannot() {
        let lease = 60_000;
        // Alive: kept, however old (a suspend, a clock step).
        assert!(!is_abandoned(Some(OwnerState::Alive), 0, 10_000_000, lease));
        // Gone: abandoned at once.
        assert!(is_abandoned(Some(OwnerState::Gone), 9_999, 10_000, lease));
        // Unknown, or a row from before owners: the wall-clock lease.
        for o in [Some(OwnerState::Unknown), None] {
            assert!(!is_abandoned(o, 50_000, 100_000, lease));
            assert!(is_abandoned(o, 39_999, 100_000, lease));
        }
    }

    #[test]
    fn this_process_is_alive_and_a_former_holder_of_its_pid_is_gone() {
        let os = OsProcesses;
        let me = os.me();
        assert_eq!(me.pid, std::process::id());
        assert_eq!(os.me(), me, "one name for the whole process");
        assert_eq!(os.state(&me), OwnerState::Alive);
        let mut earlier = me.clone();
        earlier.start = match linux::Token::parse(&me.start) {
            Some(t) => format!("linux/{}/{}/{}", t.boot, t.pid_ns, t.start_time.saturating_sub(1)),
            None => "nonce/0000000000000000".into(),
        };
        assert_eq!(os.state(&earlier), OwnerState::Gone);
        let foreign = LeaseOwner { pid: 1, start: "something-else".into() };
        assert_eq!(os.state(&foreign), OwnerState::Unknown);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_tells_live_exited_reused_and_earlier_boot_processes_apart() {
        let os = OsProcesses;
        let me = os.me();
        let mine = linux::Token::parse(&me.start).expect("a Linux token");
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let owner = LeaseOwner { pid: child.id(), start: linux::token(child.id()).unwrap() };
        assert_eq!(os.state(&owner), OwnerState::Alive);
        let reused = LeaseOwner { start: format!("linux/{}/{}/1", mine.boot, mine.pid_ns), ..owner.clone() };
        assert_eq!(os.state(&reused), OwnerState::Gone, "the pid now names another process");
        let other_boot = LeaseOwner { start: format!("linux/another-boot/{}/{}", mine.pid_ns, 5), ..owner.clone() };
        assert_eq!(os.state(&other_boot), OwnerState::Gone);
        let other_ns = LeaseOwner { start: format!("linux/{}/1/{}", mine.boot, 5), ..owner.clone() };
        assert_eq!(os.state(&other_ns), OwnerState::Unknown, "another sandbox's pid");
        child.kill().unwrap();
        // Killed but not reaped: a zombie is gone too.
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(os.state(&owner), OwnerState::Gone);
        child.wait().unwrap();
        assert_eq!(os.state(&owner), OwnerState::Gone);
    }

    #[test]
    fn stat_lines_parse_whatever_the_command_name() {
        let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(linux::parse_stat(line), Some(linux::Stat { start_time: 987654, dead: false }));
        let zombie = line.replace(") S ", ") Z ");
        assert!(linux::parse_stat(&zombie).unwrap().dead);
        assert_eq!(linux::parse_stat("garbage"), None);
        assert_eq!(
            linux::Token::parse("linux/b-1/4026531836/77"),
            Some(linux::Token { boot: "b-1", pid_ns: "4026531836", start_time: 77 })
        );
        assert_eq!(linux::Token::parse("nonce/ab"), None);
        assert_eq!(linux::Token::parse("linux/b/1/x"), None);
    }
}
