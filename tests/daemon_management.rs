//! The management socket of a running `bulkhead run`: status, metrics (socket
//! and HTTP), link datagrams decided by the rules, the authenticated
//! reset-mode (bad signature, replayed challenge and untrusted key refused),
//! reloads (refused with the old rules kept), peer credentials.

mod daemon_support;

use std::io::{Read, Write};
use std::process::Command;

use bulkhead::daemon::control;
use bulkhead::keys::load_signing_key;
use daemon_support::*;
use serde_json::json;

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[test]
fn status_and_metrics() {
    let port = free_tcp_port();
    let setup = Setup::new(&format!("metrics = \"127.0.0.1:{port}\"\n"));
    let daemon = setup.start(&[], &[]);
    let status = daemon.status();
    assert_eq!(status["ok"], true, "{status}");
    assert_eq!(status["mode"], "normal");
    assert_eq!(status["gateway"], "bulkhead reference vehicle");
    let ports = status["ports"].as_array().expect("ports");
    assert_eq!(ports.len(), 4);
    let ivi = ports.iter().find(|p| p["name"] == "infotainment").expect("infotainment");
    assert_eq!(ivi["state"], "up");
    assert_eq!(ivi["binding"]["listen"], setup.link.to_string());

    let metrics = daemon.ask(json!({ "command": "metrics" }));
    let text = metrics["metrics"].as_str().expect("metrics text");
    assert!(text.contains("bulkhead_frames_total{verdict=\"forwarded\"} 0"), "{text}");
    assert!(text.contains("bulkhead_mode 0"), "{text}");

    let mut http = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics endpoint");
    http.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").expect("request");
    let mut response = String::new();
    http.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("bulkhead_route_frames_total{"), "{response}");
    let mut http = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics endpoint");
    http.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("request");
    let mut response = String::new();
    http.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");

    let unknown = daemon.ask(json!({ "command": "format-disk" }));
    assert_eq!(unknown["ok"], false);
    let output = Command::new(BIN).args(["status", "--socket"]).arg(&setup.socket).output().expect("status cli");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && text.contains("mode normal") && text.contains("infotainment"), "{text}");
    assert!(daemon.stop().success());
    assert!(!setup.socket.exists(), "the socket is removed on a clean stop");
}

#[test]
fn link_datagrams_are_authenticated_and_decided_by_the_rules() {
    let setup = Setup::new("");
    let daemon = setup.start(&[], &[]);
    let mut head_unit = setup.device_sender("head-unit", 1);
    send_datagram(setup.link, &seal(&mut head_unit, &[climate_request(1)]));
    // The media player may not send climate requests.
    let mut media = setup.device_sender("media-player", 1);
    send_datagram(setup.link, &seal(&mut media, &[climate_request(2)]));
    // Garbage and a tampered datagram.
    send_datagram(setup.link, &[0x42; 64]);
    let mut tampered = seal(&mut head_unit, &[climate_request(3)]);
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    send_datagram(setup.link, &tampered);
    let status = daemon.wait_status("four datagrams decided", |s| {
        s["link"]["accepted_datagrams"] == 2
            && link_dropped(s, "bad_magic") == 1
            && link_dropped(s, "authentication_failed") == 1
    });
    assert_eq!(route(&status, "climate-request"), (1, 1), "{status:#}");
    assert_eq!(dropped(&status, "device-not-authorized"), 1);
    // The body bus is down here: the forwarded frame is counted, not lost silently.
    let body = status["ports"].as_array().and_then(|p| p.iter().find(|p| p["name"] == "body")).expect("body");
    assert_eq!(body["egress_down"], 1, "{body}");
    let peers = status["link"]["peers"].as_array().expect("peers");
    let head = peers.iter().find(|p| p["device"] == "head-unit").expect("head-unit");
    assert!(head["address"].as_str().is_some_and(|a| a.starts_with("127.0.0.1:")), "{head}");
}

/// Floods the link until the gateway is degraded.
fn degrade(setup: &Setup, daemon: &Daemon, first_pn: u64) {
    let mut head_unit = setup.device_sender("head-unit", first_pn);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    // Sealed first, then sent as fast as possible: the flood trigger counts 100 frames in 100 ms.
    let datagrams: Vec<Vec<u8>> = (0..300).map(|i| seal(&mut head_unit, &[climate_request(i)])).collect();
    for datagram in &datagrams {
        socket.send_to(datagram, setup.link).expect("send");
    }
    daemon.wait_status("degraded by the infotainment flood", |s| s["mode"] == "degraded");
}

#[test]
fn reset_mode_needs_a_fresh_challenge_signed_by_a_trusted_key() {
    let setup = Setup::new("");
    let daemon = setup.start(&[], &[]);
    degrade(&setup, &daemon, 1);
    let status = daemon.status();
    // The flood trigger, the content burst or the queue overflow: whichever fired first.
    assert!(status["mode_cause"].as_str().is_some_and(|c| c.starts_with("trigger ")), "{status:#}");

    let operator = load_signing_key(&setup.signing_key).expect("operator key");
    let stranger = load_signing_key(&setup.stranger_key).expect("stranger key");
    let mut client = Client::connect(&setup.socket);
    let mut challenge = || -> [u8; 32] {
        let answer = client.ask(&json!({ "command": "challenge" }));
        control::unhex(answer["nonce"].as_str()).expect("nonce")
    };
    let (n1, n2, n3, n4) = (challenge(), challenge(), challenge(), challenge());

    // Unsigned.
    let refused = daemon.ask(json!({ "command": "reset-mode" }));
    assert_eq!(refused["ok"], false, "{refused}");
    // An untrusted key.
    let refused = daemon.ask(control::signed_request(&stranger, "reset-mode", &n1));
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("not trusted")), "{refused}");
    // A bad signature: the operator's key, the stranger's signature.
    let mut forged = control::signed_request(&operator, "reset-mode", &n2);
    forged["signature"] = json!(control::hex(&stranger.sign_message(&control::signed_message("reset-mode", &n2))));
    let refused = daemon.ask(forged);
    assert_eq!(refused["error"], "bad signature", "{refused}");
    // A challenge the daemon never issued.
    let refused = daemon.ask(control::signed_request(&operator, "reset-mode", &[9; 32]));
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("challenge")), "{refused}");
    assert_eq!(daemon.status()["mode"], "degraded");

    // The right one, then the same request replayed.
    let good = control::signed_request(&operator, "reset-mode", &n3);
    let accepted = daemon.ask(good.clone());
    assert_eq!(accepted["ok"], true, "{accepted}");
    assert_eq!(accepted["mode"], "normal");
    degrade(&setup, &daemon, 1000);
    let replayed = daemon.ask(good);
    assert_eq!(replayed["ok"], false, "a replayed reset must be refused: {replayed}");
    assert_eq!(daemon.status()["mode"], "degraded");
    let _ = n4;

    // The command line does the whole exchange.
    let output = Command::new(BIN)
        .args(["status", "--reset-mode", "--key"])
        .arg(&setup.signing_key)
        .arg("--socket")
        .arg(&setup.socket)
        .output()
        .expect("status --reset-mode");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "mode: normal");
    let events = daemon.status()["events"]["recent"].to_string();
    assert!(events.contains("reset-mode-refused") && events.contains("\"to\":\"normal\""), "{events}");
}

#[test]
fn a_bad_reload_is_refused_and_the_old_rules_keep_working() {
    let setup = Setup::new("");
    let daemon = setup.start(&[], &[]);
    let output =
        Command::new(BIN).args(["status", "--reload", "--socket"]).arg(&setup.socket).output().expect("reload");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let good = std::fs::read_to_string(&setup.rules).expect("rules");
    std::fs::write(
        &setup.rules,
        good.replace(
            "to = [\"body\"]\ndevices = [\"head-unit\", \"phone-app\"]\nrate = { per_second = 5",
            "to = [\"nowhere\"]\ndevices = [\"head-unit\", \"phone-app\"]\nrate = { per_second = 5",
        ),
    )
    .expect("break");
    let output =
        Command::new(BIN).args(["status", "--reload", "--socket"]).arg(&setup.socket).output().expect("reload");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nowhere") && stderr.contains("vehicle.toml:"), "{stderr}");
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    let status = daemon.wait_status("SIGHUP refused too", |s| s["reloads"]["refused"] == 2);
    assert_eq!(status["reloads"]["ok"], 1);
    assert!(status["reloads"]["last_error"].as_str().is_some_and(|e| e.contains("nowhere")));

    // The running rules still decide.
    let mut head_unit = setup.device_sender("head-unit", 1);
    send_datagram(setup.link, &seal(&mut head_unit, &[climate_request(1)]));
    daemon.wait_status("climate request still routed", |s| route(s, "climate-request").0 == 1);

    std::fs::write(&setup.rules, good).expect("repair");
    let answer = daemon.ask(json!({ "command": "reload" }));
    assert_eq!(answer["ok"], true, "{answer}");
    // Per-route counters restart with the new layout; the totals carry over.
    let status = daemon.status();
    assert_eq!(status["reloads"]["ok"], 2);
    assert_eq!(status["counters"]["forwarded"], 1);
}

#[test]
fn only_root_and_the_daemons_user_are_served() {
    if !nix::unistd::geteuid().is_root() || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: needs root and setpriv to connect as another user");
        return;
    }
    let setup = Setup::new("");
    let daemon = setup.start(&[], &[]);
    // Let anyone reach the socket file, so the credential check is what refuses.
    for dir in [setup.dir.path(), setup.socket.parent().expect("run dir")] {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod dir");
    }
    std::fs::set_permissions(&setup.socket, std::os::unix::fs::PermissionsExt::from_mode(0o666)).expect("chmod");
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let mut path = bin_dir.to_path_buf();
    while let Some(parent) = path.parent() {
        let _ = std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755));
        if parent == std::path::Path::new("/") {
            break;
        }
        path = parent.to_path_buf();
    }
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN, "status", "--json", "--socket"])
        .arg(&setup.socket)
        .output()
        .expect("setpriv");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "nobody was served: {stdout}");
    assert!(stdout.contains("permission denied") || stderr.contains("ermission denied"), "{stdout} {stderr}");
    assert_eq!(daemon.status()["ok"], true);
}

#[test]
fn a_revoked_key_is_refused_from_the_next_datagram_after_a_reload() {
    let setup = Setup::with_keys_section("revocation_list = \"keys/revoked\"\n", "");
    let revoked = setup.keys.join("revoked");
    std::fs::write(&revoked, "bulkhead-revoked v1\n").expect("revocation list");
    let daemon = setup.start(&[], &[]);
    let mut head_unit = setup.device_sender("head-unit", 1);
    send_datagram(setup.link, &seal(&mut head_unit, &[climate_request(1)]));
    daemon.wait_status("accepted before the revocation", |s| s["link"]["accepted_datagrams"] == 1);

    std::fs::write(&revoked, format!("bulkhead-revoked v1\n{}\n", head_unit.key_id())).expect("revoke");
    let answer = daemon.ask(json!({ "command": "reload" }));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["reload"]["revoked_link_keys"], 1, "{answer}");
    send_datagram(setup.link, &seal(&mut head_unit, &[climate_request(2)]));
    let status = daemon.wait_status("refused after the revocation", |s| link_dropped(s, "revoked_key") == 1);
    assert_eq!(status["link"]["accepted_datagrams"], 1);
    // Another device's key is untouched.
    let mut phone = setup.device_sender("phone-app", 1);
    send_datagram(setup.link, &seal(&mut phone, &[climate_request(3)]));
    daemon.wait_status("the phone app still heard", |s| s["link"]["accepted_datagrams"] == 2);
}
