//! A synthetic capture of the reference vehicle, as `candump -l` text, with
//! attacks in it, for the replay report tests: seven seconds of the drive and
//! body ECUs' cyclic traffic (counters and checksums as the ECUs compute
//! them) and head-unit requests, then
//! - at 2.0 s, a 200 ms flood on the head unit's port (drops, degraded mode,
//!   recovery two seconds after it ends);
//! - at 5.0 s, "speed 0" frames injected on the drive bus at ten times the
//!   cycle rate (too-fast drops, degraded again until the end);
//! - once a second, a frame on a bus named `<img/src=x>` that maps to no
//!   port: markup from a capture, which every output must escape.
#![allow(dead_code)]

use std::fmt::Write;

use bulkhead::frame::{CanId, Frame};

use crate::common::Car;

/// The unmapped bus, whose name is markup.
pub const EVIL_BUS: &str = "<img/src=x>";
/// Capture time of the first frame, seconds since the epoch (2023-11-14).
pub const START_SECONDS: u64 = 1_700_000_000;
/// Length of the capture, milliseconds.
pub const LENGTH_MS: u64 = 7_000;

/// Interface names of the reference rules' ports.
fn interface(port: &str) -> &'static str {
    match port {
        "drive" => "vcan0",
        "body" => "vcan1",
        "infotainment" => "ivi",
        _ => "vcan2",
    }
}

/// One `candump -l` line.
fn line(out: &mut String, ms: u64, micros: u64, bus: &str, frame: &Frame) {
    let id = frame.id();
    let id_text = if id.is_extended() { format!("{:08X}", id.raw()) } else { format!("{:03X}", id.raw()) };
    let data: String = frame.data().iter().map(|b| format!("{b:02X}")).collect();
    let t = START_SECONDS * 1_000_000 + ms * 1000 + micros;
    let _ = write!(out, "({}.{:06}) {bus} {id_text}", t / 1_000_000, t % 1_000_000);
    if frame.is_fd() {
        let flags = frame.fd_flags();
        let nibble = u8::from(flags.brs) | u8::from(flags.esi) << 1;
        let _ = writeln!(out, "##{nibble:X}{data}");
    } else {
        let _ = writeln!(out, "#{data}");
    }
}

/// Writes `message` as `port`'s ECU would send it.
fn send(out: &mut String, car: &mut Car, ms: u64, micros: u64, port: &str, message: &str, values: &[(&str, f64)]) {
    let frame = car.frame(port, message, values);
    line(out, ms, micros, interface(port), &frame);
}

/// The capture, as `candump -l` text.
pub fn attack_capture() -> String {
    let mut car = Car::new();
    let mut out = String::new();
    let flood = Frame::classic(CanId::standard(0x000).expect("id"), &[0; 8]).expect("frame");
    let stray = Frame::classic(CanId::standard(0x123).expect("id"), &[1, 2, 3]).expect("frame");
    for ms in 0..LENGTH_MS {
        if ms % 10 == 0 {
            send(&mut out, &mut car, ms, 0, "drive", "VCU_Speed", &[("VehicleSpeed", 0.0), ("SpeedValid", 1.0)]);
            send(&mut out, &mut car, ms, 10, "drive", "VCU_Pedals", &[("AccelPedal", 0.0)]);
            send(&mut out, &mut car, ms, 20, "drive", "EPS_Steering", &[("SteeringAngle", 1.5)]);
            send(&mut out, &mut car, ms, 30, "drive", "DI_Status", &[("MotorTorque", 0.0), ("InverterTemp", 40.0)]);
        }
        if ms % 20 == 0 {
            send(&mut out, &mut car, ms, 40, "drive", "VCU_Gear", &[("Gear", 0.0), ("GearValid", 1.0)]);
        }
        if ms % 100 == 0 {
            send(&mut out, &mut car, ms, 50, "drive", "VCU_Ignition", &[("IgnitionState", 2.0), ("ReadyToDrive", 1.0)]);
            send(
                &mut out,
                &mut car,
                ms,
                60,
                "drive",
                "BMS_Status",
                &[
                    ("PackVoltage", 400.0),
                    ("StateOfCharge", 80.0),
                    ("ChargeLimit", 90.0),
                    ("CellTempMax", 30.0),
                    ("CellTempMin", 25.0),
                    ("CellVoltageMax", 4.0),
                    ("CellVoltageMin", 3.9),
                ],
            );
            send(&mut out, &mut car, ms, 70, "body", "BCM_DoorStatus", &[("LockState", 1.0)]);
        }
        if ms % 500 == 0 {
            send(&mut out, &mut car, ms, 80, "body", "HVAC_Status", &[("CabinTemp", 21.0), ("OutsideTemp", 10.0)]);
        }
        if ms % 250 == 100 {
            send(
                &mut out,
                &mut car,
                ms,
                90,
                "infotainment",
                "HVAC_Cmd",
                &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0), ("FanSpeed", 2.0)],
            );
        }
        if ms == 700 {
            send(&mut out, &mut car, ms, 95, "infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
        }
        if (2000..2200).contains(&ms) {
            for k in 0..20 {
                line(&mut out, ms, 100 + k * 40, interface("infotainment"), &flood);
            }
        }
        if (5000..5300).contains(&ms) && ms % 10 != 0 {
            send(&mut out, &mut car, ms, 500, "drive", "VCU_Speed", &[("VehicleSpeed", 0.0), ("SpeedValid", 1.0)]);
        }
        if ms % 1000 == 500 {
            line(&mut out, ms, 900, EVIL_BUS, &stray);
        }
    }
    out
}

/// Writes the capture into a fresh directory `name` under the test's scratch
/// space and returns the directory and the capture's path.
pub fn write_capture(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let capture = dir.join("attack.log");
    std::fs::write(&capture, attack_capture()).unwrap_or_else(|e| panic!("cannot write {}: {e}", capture.display()));
    (dir, capture)
}
