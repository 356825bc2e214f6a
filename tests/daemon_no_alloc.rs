//! The daemon's frame path allocates nothing in steady state: a counting
//! global allocator watches the gateway while it reads link datagrams from
//! its UDP socket, opens them, decides on their frames (forwarded, refused by
//! device, refused by content), sends what it forwards (to a port without a
//! socket here) and seals telemetry back to the devices, after a warm-up,
//! between two write-ahead boundaries of the link marks.
//! (The engine's CAN path is watched by `tests/engine_no_alloc.rs`.)

mod alloc_counter;
mod daemon_support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use bulkhead::bundle::LastGoodBundle;
use bulkhead::daemon::gateway::Gateway;
use bulkhead::daemon::ports::{self, LinkPort, PortIo};
use bulkhead::daemon::{config, load, state};
use bulkhead::engine::Engine;
use bulkhead::frame::{CanId, Frame};
use bulkhead::keys::KeyStore;
use bulkhead::rules::{Medium, PortId};
use daemon_support::*;

#[test]
fn the_link_path_allocates_nothing_in_steady_state() {
    let setup = Setup::new("");
    let config = config::load(&setup.config).expect("config");
    let store = load::load_keys(&config).expect("keys");
    let mut last = LastGoodBundle::new();
    let loaded = load::load_rules(&config, store.as_ref(), &mut last).expect("rules");
    let rules = loaded.rules;
    let state = state::open(&config.state_directory, false).expect("state");
    let mut engine = Engine::with_freshness(rules.clone(), &state.snapshot).expect("engine");
    if let Some(store) = &store {
        engine.install_keys(store as &dyn KeyStore);
    }
    let ivi = rules.port_by_name("infotainment").expect("infotainment");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.set_nonblocking(true).expect("nonblocking");
    let address = socket.local_addr().expect("addr");
    let mut link = Some(socket);
    let io: Vec<PortIo> = rules
        .ports
        .iter()
        .enumerate()
        .map(|(i, port)| match (port.medium, link.take_if(|_| port.medium == Medium::Ethernet)) {
            (Medium::Ethernet, Some(socket)) => {
                let store = store.as_ref().map(|s| s as &dyn KeyStore);
                let peers = ports::build_peers(&rules, PortId(i as u8), store, &|_| None, Vec::new());
                PortIo::Link(LinkPort { socket, peers })
            }
            _ => PortIo::Unbound,
        })
        .collect();
    let mut gateway = Gateway::new(config, engine, store, last, state.freshness, state.marks, io, Instant::now());

    // Datagrams sealed beforehand (sealing in the harness allocates; the gateway must not).
    let mut head_unit = setup.device_sender("head-unit", 1);
    let mut media = setup.device_sender("media-player", 1);
    // Out of range, wrong counter and checksum: refused by content.
    let bad = Frame::classic(CanId::standard(0x340).expect("id"), &[0xFF; 8]).expect("frame");
    let mut datagrams = Vec::new();
    // 210 datagrams, 140 from the head unit, 210 telemetry datagrams per device: all within
    // the first block of packet-number marks (MARK_BLOCK = 256). The write-ahead
    // write at each block boundary allocates (it renders and syncs a file); it
    // happens once per 256 packet numbers of a key, not per frame.
    for i in 0..70u64 {
        datagrams.push(seal(&mut head_unit, &[climate_request(i)]));
        datagrams.push(seal(&mut media, &[climate_request(i)]));
        datagrams.push(seal(&mut head_unit, &[bad]));
    }
    let telemetry = Frame::classic(CanId::standard(0x110).expect("id"), &[1, 2, 3, 4, 5, 6, 7, 8]).expect("frame");
    let device = UdpSocket::bind("127.0.0.1:0").expect("device socket");
    device.set_nonblocking(true).expect("nonblocking");
    let mut sink = [0u8; 2048];
    let link_index = usize::from(ivi.0);

    let mut run = |gateway: &mut Gateway, batch: &[Vec<u8>]| {
        for datagram in batch {
            device.send_to(datagram, address).expect("send");
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                gateway.read_ports(&[link_index]);
                if gateway.has_work() {
                    gateway.process();
                    break;
                }
                assert!(Instant::now() < deadline, "the datagram never arrived");
            }
            // The head unit has been heard from: telemetry is sealed to it.
            gateway.send(ivi, &telemetry);
            while device.recv_from(&mut sink).is_ok() {}
        }
    };
    // Warm-up (the first packet numbers write the marks file, first-time paths size things).
    let (warm, measured) = datagrams.split_at(60);
    run(&mut gateway, warm);
    let ((), allocations) = alloc_counter::count_allocations(|| run(&mut gateway, measured));
    let status = gateway.status_json();
    assert_eq!(status["link"]["accepted_datagrams"], 210, "{status:#}");
    assert!(status["link"]["sent_datagrams"].as_u64().is_some_and(|n| n >= 300), "{status:#}");
    assert!(status["state"]["link_mark_writes"].as_u64().is_some_and(|n| n <= 4), "{status:#}");
    // Refused by device and, once the burst is spent, by the port's ingress budget.
    assert!(dropped(&status, "device-not-authorized") >= 1, "{status:#}");
    assert!(dropped(&status, "ingress-budget") >= 100, "{status:#}");
    assert_eq!(allocations, 0, "{allocations} allocations while handling {} datagrams", measured.len());
}
