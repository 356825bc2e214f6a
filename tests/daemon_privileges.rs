//! Started as root with `[run] user = "nobody"`: the daemon runs as that
//! user with no capability left and no way back to root, and still serves
//! its management socket and link. Skipped (with a message) when not root
//! or without a `nobody` user.

mod daemon_support;

use std::os::unix::fs::PermissionsExt;

use daemon_support::*;

fn proc_status(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status")
}

fn field<'a>(status: &'a str, name: &str) -> &'a str {
    status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or("")
}

#[test]
fn drops_to_the_configured_user_and_every_capability() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: the user switch needs root");
        return;
    }
    let Ok(Some(nobody)) = nix::unistd::User::from_name("nobody") else {
        eprintln!("skipped: no `nobody` user");
        return;
    };
    let setup = Setup::new("[run]\nuser = \"nobody\"\n");
    // The key store refuses files root does not own: the device's key is read before the chown.
    let mut head_unit = setup.device_sender("head-unit", 1);
    // The daemon reads keys and rules and writes state as `nobody`: give it what it owns.
    for entry in walk(setup.dir.path()) {
        let _ = nix::unistd::chown(&entry, Some(nobody.uid), Some(nobody.gid));
        if entry.is_dir() {
            let mode = if entry == setup.keys { 0o700 } else { 0o755 };
            std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
    }
    let daemon = setup.start(&[], &[]);
    let status = proc_status(daemon.pid());
    assert!(field(&status, "Uid:").split_whitespace().all(|id| id == "65534"), "{status}");
    assert!(field(&status, "Gid:").split_whitespace().all(|id| id == nobody.gid.to_string()), "{status}");
    assert_eq!(field(&status, "CapEff:"), "0000000000000000", "{status}");
    assert_eq!(field(&status, "CapPrm:"), "0000000000000000", "{status}");
    assert_eq!(field(&status, "CapBnd:"), "0000000000000000", "{status}");
    assert_eq!(field(&status, "NoNewPrivs:"), "1", "{status}");
    // Root may still talk to it; the link and the state still work.
    send_datagram(setup.link, &seal(&mut head_unit, &[climate_request(1)]));
    daemon.wait_status("datagram accepted as nobody", |s| s["link"]["accepted_datagrams"] == 1);
    let meta = std::fs::metadata(setup.state.join("link-marks")).expect("marks");
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 65534);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
