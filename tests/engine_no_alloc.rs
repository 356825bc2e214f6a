//! The per-frame path allocates nothing in steady state: a counting global
//! allocator watches the engine while it decides on every kind of frame the
//! reference vehicle sees (forwarded, dropped in each layer, timers, events
//! drained, status frames) after a warm-up.

mod alloc_counter;
mod common;

use bulkhead::frame::{CanId, Frame};
use common::Car;

#[test]
fn steady_state_allocates_nothing() {
    let mut car = Car::new();
    car.drive(500, 30.0, 3.0);
    // Prebuild every frame (building frames in the harness allocates; the engine must not).
    let mut frames: Vec<(bulkhead::rules::PortId, Frame)> = Vec::new();
    for i in 0..50 {
        let drive = car.port("drive");
        let ivi = car.port("infotainment");
        let diag = car.port("diag");
        frames.push((drive, car.frame("drive", "VCU_Speed", &[("VehicleSpeed", 30.0)])));
        frames.push((drive, car.frame("drive", "EPS_Steering", &[("SteeringAngle", 2.0)])));
        frames.push((ivi, car.frame("infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)])));
        frames.push((
            ivi,
            car.frame(
                "infotainment",
                "HVAC_Cmd",
                &[("TargetTempDriver", 21.0 + (i % 3) as f64), ("TargetTempPassenger", 21.0)],
            ),
        ));
        frames.push((diag, car.frame("diag", "UDS_VCU_Req", &[("PciLength", 2.0), ("ServiceId", 34.0)])));
        frames.push((ivi, Frame::classic(CanId::standard(0x7FF).unwrap(), &[0; 8]).unwrap()));
        frames.push((drive, Frame::classic(CanId::extended(0x1234_5678).unwrap(), &[1, 2]).unwrap()));
        frames.push((drive, Frame::error(0x04, &[0; 8]).unwrap()));
    }
    // Warm-up pass: first-time paths may size things.
    let mut t = car.now;
    for (port, frame) in &frames {
        car.engine.on_frame(t, *port, frame);
        t = t.saturating_add(std::time::Duration::from_micros(1250));
    }
    while car.engine.poll_event().is_some() {}
    while car.engine.poll_transmit().is_some() {}

    let (forwarded, allocations) = alloc_counter::count_allocations(|| {
        let mut forwarded = 0usize;
        for round in 0..20 {
            for (port, frame) in &frames {
                forwarded += usize::from(car.engine.on_frame(t, *port, frame).is_forward());
                t = t.saturating_add(std::time::Duration::from_micros(1250));
                if round % 2 == 0 {
                    car.engine.on_timer(t);
                }
                while car.engine.poll_event().is_some() {}
                while car.engine.poll_transmit().is_some() {}
            }
        }
        forwarded
    });
    assert!(forwarded > 0, "the workload must exercise forwarding too");
    assert_eq!(allocations, 0, "the engine allocated {allocations} times in steady state");
}
