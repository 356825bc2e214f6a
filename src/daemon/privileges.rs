//! Giving up what the daemon does not need once its sockets are open:
//! the root user (switch to the configured user and group), every
//! capability, new privileges (`PR_SET_NO_NEW_PRIVS`), and file system access
//! beyond reading its rules and keys and writing its state (Landlock, where
//! the kernel has it).
//!
//! All through safe crates: `nix` for the user switch (glibc's `setresuid`
//! applies to every thread of the process), `rustix` for capabilities and
//! `prctl`, `landlock` for the ruleset. A system-call filter is left to
//! systemd's `SystemCallFilter=` (see `deploy/bulkhead.service` and
//! `docs/daemon.md`).
//!
//! Landlock restricts the calling thread and the threads it creates later:
//! the daemon applies it on its main thread before the runtime starts any.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
};
use nix::unistd::{Gid, Group, Uid, User};
use rustix::thread::CapabilitySet;

/// Why privileges could not be dropped (the daemon refuses to run then).
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// The configured user does not exist.
    #[error("no user `{0}` on this system (create it, e.g. useradd --system {0})")]
    NoSuchUser(String),
    /// The configured group does not exist.
    #[error("no group `{0}` on this system")]
    NoSuchGroup(String),
    /// A system call failed.
    #[error("cannot {what}: {source}")]
    System {
        /// What was attempted.
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The Landlock ruleset could not be built or applied.
    #[error("landlock: {0}")]
    Landlock(String),
}

fn system(what: &'static str) -> impl FnOnce(nix::Error) -> PrivilegeError {
    move |e| PrivilegeError::System { what, source: std::io::Error::from(e) }
}

/// A user and group to run as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The user's name.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// The group's gid (the user's primary group unless configured).
    pub gid: u32,
}

/// Looks up `user` (and `group`, default the user's primary group).
pub fn lookup(user: &str, group: Option<&str>) -> Result<Account, PrivilegeError> {
    let entry = User::from_name(user)
        .map_err(system("read the user database"))?
        .ok_or_else(|| PrivilegeError::NoSuchUser(user.to_owned()))?;
    let gid = match group {
        Some(name) => {
            Group::from_name(name)
                .map_err(system("read the group database"))?
                .ok_or_else(|| PrivilegeError::NoSuchGroup(name.to_owned()))?
                .gid
        }
        None => entry.gid,
    };
    Ok(Account { name: user.to_owned(), uid: entry.uid.as_raw(), gid: gid.as_raw() })
}

/// True when running as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Switches from root to `account` for good (real, effective and saved ids,
/// supplementary groups to just its group), after emptying the capability
/// bounding set; then checks that root cannot be regained.
pub fn switch_user(account: &Account) -> Result<(), PrivilegeError> {
    clear_bounding_set()?;
    let gid = Gid::from_raw(account.gid);
    let uid = Uid::from_raw(account.uid);
    nix::unistd::setgroups(&[gid]).map_err(system("set the supplementary groups"))?;
    nix::unistd::setresgid(gid, gid, gid).map_err(system("switch group"))?;
    nix::unistd::setresuid(uid, uid, uid).map_err(system("switch user"))?;
    if account.uid != 0 && nix::unistd::setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0)).is_ok() {
        return Err(PrivilegeError::System {
            what: "drop root for good",
            source: std::io::Error::other("root could be regained after the switch"),
        });
    }
    Ok(())
}

/// Empties the bounding set (needs `CAP_SETPCAP`; without it, nothing to empty that matters).
fn clear_bounding_set() -> Result<(), PrivilegeError> {
    for bit in 0..64u32 {
        let cap = CapabilitySet::from_bits_retain(1u64 << bit);
        match rustix::thread::capability_is_in_bounding_set(cap) {
            Ok(true) => {
                if let Err(e) = rustix::thread::remove_capability_from_bounding_set(cap) {
                    // Without CAP_SETPCAP (not root) the set cannot shrink; capabilities are dropped below anyway.
                    if e != rustix::io::Errno::PERM {
                        return Err(PrivilegeError::System {
                            what: "shrink the capability bounding set",
                            source: e.into(),
                        });
                    }
                    return Ok(());
                }
            }
            Ok(false) => {}
            // Past the last capability the kernel knows.
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Drops every capability (effective, permitted, inheritable, ambient) and
/// sets `no_new_privs`, so nothing executed later can gain any.
pub fn drop_capabilities() -> Result<(), PrivilegeError> {
    let _ = rustix::thread::clear_ambient_capability_set();
    let empty = rustix::thread::CapabilitySets {
        effective: CapabilitySet::empty(),
        permitted: CapabilitySet::empty(),
        inheritable: CapabilitySet::empty(),
    };
    rustix::thread::set_capabilities(None, empty)
        .map_err(|e| PrivilegeError::System { what: "drop capabilities", source: e.into() })?;
    rustix::thread::set_no_new_privs(true)
        .map_err(|e| PrivilegeError::System { what: "set no_new_privs", source: e.into() })?;
    Ok(())
}

/// The capabilities the process still has (effective and permitted), as bits.
pub fn current_capabilities() -> Result<(u64, u64), PrivilegeError> {
    let sets = rustix::thread::capabilities(None)
        .map_err(|e| PrivilegeError::System { what: "read capabilities", source: e.into() })?;
    Ok((sets.effective.bits(), sets.permitted.bits()))
}

/// What Landlock did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sandbox {
    /// Every requested restriction is enforced.
    Full,
    /// Some (the kernel's Landlock is older than what was asked).
    Partial,
    /// The kernel has no Landlock: nothing is restricted.
    Unsupported,
}

/// Restricts the calling thread (and threads it starts later) to reading
/// `read` paths and reading and writing `write` paths (each with everything
/// beneath). Paths that do not exist are skipped.
pub fn restrict_filesystem(read: &[PathBuf], write: &[PathBuf]) -> Result<Sandbox, PrivilegeError> {
    let abi = ABI::V5;
    let error = |e: landlock::RulesetError| PrivilegeError::Landlock(e.to_string());
    let existing = |paths: &[PathBuf]| -> Vec<PathBuf> { paths.iter().filter(|p| p.exists()).cloned().collect() };
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(error)?
        .create()
        .map_err(error)?;
    for path in existing(read) {
        let access = if path.is_dir() { AccessFs::from_read(abi) } else { AccessFs::from_read(abi) & file_rights() };
        ruleset = ruleset.add_rules(landlock::path_beneath_rules([&path], access)).map_err(error)?;
    }
    for path in existing(write) {
        ruleset = ruleset.add_rules(landlock::path_beneath_rules([&path], AccessFs::from_all(abi))).map_err(error)?;
    }
    let status = ruleset.restrict_self().map_err(error)?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => Sandbox::Full,
        RulesetStatus::PartiallyEnforced => Sandbox::Partial,
        RulesetStatus::NotEnforced => Sandbox::Unsupported,
    })
}

/// Rights that apply to a regular file (directory rights are refused on files).
fn file_rights() -> landlock::BitFlags<AccessFs> {
    AccessFs::Execute | AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev
}

/// The directories holding each of `paths` (for the ruleset: a file replaced
/// by rename is a new inode, so rules name directories).
pub fn parents(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for path in paths {
        let dir = if path.is_dir() { path.as_path() } else { path.parent().unwrap_or(Path::new("/")) };
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landlock_refuses_writes_outside_the_state_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state");
        let rules = dir.path().join("rules");
        let outside = dir.path().join("outside");
        for d in [&state, &rules, &outside] {
            std::fs::create_dir(d).expect("mkdir");
        }
        std::fs::write(rules.join("vehicle.toml"), b"version = 1\n").expect("write");
        let (state2, rules2, outside2) = (state.clone(), rules.clone(), outside.clone());
        // Landlock restricts the calling thread only: a thread of its own keeps the test harness free.
        let outcome = std::thread::spawn(move || {
            let sandbox =
                restrict_filesystem(std::slice::from_ref(&rules2), std::slice::from_ref(&state2)).expect("ruleset");
            let in_state = std::fs::write(state2.join("freshness"), b"ok");
            let outside_write = std::fs::write(outside2.join("x"), b"no");
            let read_rules = std::fs::read(rules2.join("vehicle.toml"));
            let write_rules = std::fs::write(rules2.join("vehicle.toml"), b"tampered");
            (sandbox, in_state.is_ok(), outside_write.is_ok(), read_rules.is_ok(), write_rules.is_ok())
        })
        .join()
        .expect("thread");
        let (sandbox, in_state, outside_write, read_rules, write_rules) = outcome;
        if sandbox == Sandbox::Unsupported {
            eprintln!("landlock is not supported by this kernel: the restriction could not be tested here");
            return;
        }
        assert!(in_state, "writing in the state directory is allowed");
        assert!(read_rules, "reading the rules is allowed");
        assert!(!outside_write, "writing outside the state directory is refused");
        assert!(!write_rules, "writing the rules is refused");
        assert!(!outside.join("x").exists());
    }
}
