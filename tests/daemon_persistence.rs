//! What survives `kill -9`: link packet numbers written ahead (a replayed
//! datagram is refused after a restart), a corrupt or incomplete state that
//! refuses to start with a precise error, `--reset-state`.

mod daemon_support;

use daemon_support::*;

#[test]
fn a_datagram_replayed_after_kill_9_is_refused() {
    let setup = Setup::new("");
    let daemon = setup.start(&[], &[]);
    let mut head_unit = setup.device_sender("head-unit", 10);
    let first = seal(&mut head_unit, &[climate_request(1)]);
    send_datagram(setup.link, &first);
    daemon.wait_status("first datagram accepted", |s| s["link"]["accepted_datagrams"] == 1);
    let marks = std::fs::read_to_string(setup.state.join("link-marks")).expect("marks");
    assert!(marks.contains("receive 0x"), "the mark is written ahead: {marks}");
    daemon.kill9();

    let daemon = setup.start(&[], &[]);
    send_datagram(setup.link, &first);
    // The next number the device would use is below the persisted mark too.
    let second = seal(&mut head_unit, &[climate_request(2)]);
    send_datagram(setup.link, &second);
    let status = daemon.wait_status("both refused", |s| link_dropped(s, "too_old") + link_dropped(s, "replayed") == 2);
    assert_eq!(status["link"]["accepted_datagrams"], 0, "{status:#}");
    assert_eq!(route(&status, "climate-request"), (0, 0));

    // Above the mark (10 + 256), the device is heard again.
    let mut resumed = setup.device_sender("head-unit", 10 + bulkhead::daemon::marks::MARK_BLOCK + 1);
    send_datagram(setup.link, &seal(&mut resumed, &[climate_request(3)]));
    daemon.wait_status("a datagram above the mark is accepted", |s| s["link"]["accepted_datagrams"] == 1);
}

#[test]
fn corrupt_or_incomplete_state_refuses_to_start() {
    let setup = Setup::new("");
    assert!(!setup.state.exists());
    let daemon = setup.start(&[], &[]);
    assert!(setup.state.join("freshness").exists() && setup.state.join("link-marks").exists());
    assert!(daemon.stop().success());

    let marks = setup.state.join("link-marks");
    let text = std::fs::read_to_string(&marks).expect("marks");
    std::fs::write(&marks, text.replace("bulkhead-link-marks 1", "bulkhead-link-marks 1\nreceive 0x00000001 1"))
        .expect("tamper");
    let stderr = setup.start_failure(&[]);
    assert!(stderr.contains("link-marks:") && stderr.contains("checksum mismatch"), "{stderr}");
    assert!(stderr.contains("--reset-state"), "{stderr}");

    std::fs::remove_file(&marks).expect("remove");
    let stderr = setup.start_failure(&[]);
    assert!(stderr.contains("link-marks is missing but freshness exists"), "{stderr}");

    let daemon = setup.start(&["--reset-state"], &[]);
    assert!(daemon.log_text().contains("--reset-state"), "{}", daemon.log_text());
    assert_eq!(daemon.status()["ok"], true);
}

#[test]
fn configuration_errors_point_at_the_line() {
    let setup = Setup::new("[ports.powertrain]\ninterface = \"vcan0\"\n");
    let stderr = setup.start_failure(&[]);
    assert!(stderr.contains("gateway.toml:11:"), "{stderr}");
    assert!(stderr.contains("the rules have no port `powertrain`"), "{stderr}");
    std::fs::write(&setup.config, "[rules]\nfiles = [\"rules/vehicle.toml\"]\n[state]\ndirectory = 7\n")
        .expect("config");
    let stderr = setup.start_failure(&[]);
    assert!(stderr.contains("gateway.toml:4:13"), "{stderr}");
}
