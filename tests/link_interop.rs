//! Interop with an independent peer: `tests/link_peer.py`, written from
//! `docs/link.md` alone on top of Python's `cryptography`, shares no code with
//! the Rust implementation. It checks the doc's test vectors, opens a stream of
//! Rust-sealed datagrams (genuine ones and attacks) with its own receiver and
//! must reach the same verdict as ours on each, and seals datagrams that Rust
//! must open (and that must be byte-identical to Rust's sealing of the same
//! frames). Needs the project's Python venv: `scripts/setup-oracles`.

mod link_support;

use std::io::Write;
use std::process::{Command, Stdio};

use bulkhead::frame::Frame;
use bulkhead::link::{DropReason, KeyId, LinkKey, LinkReceiver, LinkSender, LinkSuite, MemoryKeys, seal_raw_body};
use link_support::{frame, hex, root, seal, to_hex};
use serde_json::{Value, json};

struct PeerKey {
    id: u32,
    suite: LinkSuite,
    material: Vec<u8>,
    device: &'static str,
    revoked: bool,
}

fn peer_keys() -> Vec<PeerKey> {
    vec![
        PeerKey {
            id: 1,
            suite: LinkSuite::Aes128Gcm,
            material: hex("2b7e151628aed2a6abf7158809cf4f3c"),
            device: "head-unit",
            revoked: false,
        },
        PeerKey {
            id: 0x2A,
            suite: LinkSuite::ChaCha20Poly1305,
            material: (0u8..32).map(|b| b.wrapping_mul(37)).collect(),
            device: "phone",
            revoked: false,
        },
        PeerKey { id: 7, suite: LinkSuite::Aes128Gcm, material: vec![0x77; 16], device: "dongle", revoked: true },
    ]
}

fn link_key(k: &PeerKey) -> LinkKey {
    LinkKey::new(k.suite, &k.material, k.device).unwrap()
}

fn store() -> MemoryKeys {
    let mut keys = MemoryKeys::new();
    for k in peer_keys() {
        keys.insert(KeyId::new(k.id), link_key(&k)).unwrap();
        if k.revoked {
            keys.revoke(KeyId::new(k.id));
        }
    }
    keys
}

/// A small deterministic generator (xorshift64*), so the stream is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn frame(&mut self) -> Frame {
        const FD: [usize; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];
        let extended = self.below(2) == 0;
        let id = if extended { self.below(0x2000_0000) } else { self.below(0x800) } as u32;
        let id = if extended { format!("{id:08X}") } else { format!("{id:03X}") };
        let data = |rng: &mut Rng, len: usize| (0..len).map(|_| format!("{:02X}", rng.below(256))).collect::<String>();
        let text = match self.below(3) {
            0 => {
                let len = self.below(9) as usize;
                format!("{id}#{}", data(self, len))
            }
            1 => {
                let len = FD[self.below(16) as usize];
                let flags = self.below(4);
                format!("{id}##{flags:X}{}", data(self, len))
            }
            _ => format!("{id}#R{}", self.below(9)),
        };
        frame(&text)
    }

    fn frames(&mut self) -> Vec<Frame> {
        let count = 1 + self.below(12) as usize;
        (0..count).map(|_| self.frame()).collect()
    }
}

fn verdict(result: Result<bulkhead::link::Opened<'_>, DropReason>) -> Value {
    match result {
        Ok(opened) => json!({
            "accepted": true,
            "device": opened.device(),
            "key_id": opened.key_id().get(),
            "packet_number": opened.packet_number(),
            "frames": opened.frames().iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        }),
        Err(reason) => json!({"accepted": false, "reason": reason.name()}),
    }
}

/// The datagrams the Python peer opens: genuine traffic of both suites with
/// every kind of attack mixed in.
fn stream() -> Vec<Vec<u8>> {
    let keys = peer_keys();
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let mut head = LinkSender::new(KeyId::new(1), link_key(&keys[0]), 1).unwrap();
    let mut phone = LinkSender::new(KeyId::new(0x2A), link_key(&keys[1]), 1000).unwrap();
    let mut dongle = LinkSender::new(KeyId::new(7), link_key(&keys[2]), 1).unwrap();
    let mut out = Vec::new();
    let mut held_back = Vec::new();
    for round in 0..120 {
        let from_head = seal(&mut head, &rng.frames());
        let from_phone = seal(&mut phone, &rng.frames());
        // Some genuine datagrams arrive late (reordering inside the window).
        if round % 9 == 4 {
            held_back.push(from_head.clone());
        } else {
            out.push(from_head.clone());
        }
        out.push(from_phone.clone());
        match round % 12 {
            0 => out.push(from_phone.clone()), // replay
            1 => {
                let bound = if round % 24 == 1 { 40 } else { from_head.len() as u64 };
                let cut = rng.below(bound) as usize;
                out.push(from_head[..cut].to_vec()); // truncation
            }
            2 => {
                let mut flipped = from_phone.clone();
                let bit = rng.below(flipped.len() as u64 * 8) as usize;
                flipped[bit / 8] ^= 1 << (bit % 8);
                out.push(flipped);
            }
            3 => {
                let mut wrong = from_head.clone();
                // The head unit's key is AES: suite 2 mismatches it, suite 9 does not exist.
                wrong[5] = if round % 24 == 3 { 2 } else { 9 };
                out.push(wrong);
            }
            4 => {
                let mut wrong = from_phone.clone();
                wrong[4] = 2; // version
                out.push(wrong);
            }
            5 => out.push(seal(&mut dongle, &rng.frames())), // revoked
            6 => {
                let mut unknown = from_head.clone();
                unknown[6..10].copy_from_slice(&0x0BAD_F00Du32.to_be_bytes());
                out.push(unknown);
            }
            7 => {
                // Authentic but malformed: a reserved flag, an FD length of 13, a trailing byte.
                let bodies: [&[u8]; 3] = [
                    &[0, 0, 1, 0, 0x40, 0],
                    &[0, 0, 1, 0, 1, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                    &[0, 0, 1, 0, 0, 0, 9],
                ];
                let body = bodies[rng.below(3) as usize];
                let mut buffer = [0u8; 100];
                let number = phone.next_packet_number().unwrap();
                let len = seal_raw_body(&link_key(&keys[1]), KeyId::new(0x2A), number, body, &mut buffer).unwrap();
                out.push(buffer[..len].to_vec());
                // The phone resumes above it, as a real sender would after such a glitch.
                phone = LinkSender::new(KeyId::new(0x2A), link_key(&keys[1]), number + 1).unwrap();
            }
            8 => {
                let mut big = from_phone.clone();
                big.resize(1401, 0);
                out.push(big);
            }
            9 => out.append(&mut held_back), // the late ones arrive now
            10 => {
                // Another device's key under the head unit's key id.
                let mut buffer = [0u8; 100];
                let len = seal_raw_body(&link_key(&keys[2]), KeyId::new(1), 50_000, &[0, 0, 1, 0, 0, 0], &mut buffer)
                    .unwrap();
                out.push(buffer[..len].to_vec());
            }
            _ => {
                let mut magic = from_head.clone();
                magic[0] = b'C';
                out.push(magic);
            }
        }
    }
    // Too old: the head unit jumps 5000 ahead, then an undelivered old datagram shows up.
    let stale = seal(&mut head, &[frame("123#01")]);
    let mut jumped = LinkSender::new(KeyId::new(1), link_key(&keys[0]), 9000).unwrap();
    out.push(seal(&mut jumped, &[frame("123#02")]));
    out.push(stale);
    out
}

fn run_peer(request: &Value) -> Value {
    let python = root().join(".venv/bin/python3");
    assert!(python.exists(), "{} is missing: run scripts/setup-oracles first", python.display());
    let mut child = Command::new(&python)
        .arg(root().join("tests/link_peer.py"))
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python peer");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "Python peer failed:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON from the Python peer")
}

#[test]
fn an_independent_python_peer_agrees_with_us_both_ways() {
    let keys = peer_keys();
    let datagrams = stream();
    let to_seal: Vec<(u32, u64, Vec<String>)> = {
        let mut rng = Rng(42);
        (0..80)
            .map(|i| {
                let key_id = if i % 2 == 0 { 1 } else { 0x2A };
                let frames = rng.frames().iter().map(|f| f.to_string()).collect();
                (key_id, 500 + i as u64 * 3, frames)
            })
            .collect()
    };
    let request = json!({
        "doc": "docs/link.md",
        "keys": keys.iter().map(|k| json!({
            "key_id": k.id, "suite": k.suite.byte(), "key": to_hex(&k.material), "device": k.device, "revoked": k.revoked,
        })).collect::<Vec<_>>(),
        "open": datagrams.iter().map(|d| to_hex(d)).collect::<Vec<_>>(),
        "seal": to_seal.iter().map(|(id, pn, frames)| json!({"key_id": id, "packet_number": pn, "frames": frames})).collect::<Vec<_>>(),
    });
    let answer = run_peer(&request);

    // 1. The doc's vectors, checked by the peer from the doc text.
    let vectors = answer["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 6, "the peer found six vectors in docs/link.md");
    for vector in vectors {
        assert_eq!(vector["errors"], json!([]), "vector {}", vector["name"]);
    }

    // 2. Same verdict as our receiver on every datagram of the stream, in order.
    let keystore = store();
    let mut receiver = LinkReceiver::new();
    let theirs = answer["opened"].as_array().unwrap();
    assert_eq!(theirs.len(), datagrams.len());
    let mut accepted = 0;
    for (i, (datagram, their)) in datagrams.iter().zip(theirs).enumerate() {
        let ours = verdict(receiver.open(&keystore, datagram));
        assert_eq!(&ours, their, "datagram {i}: {}", to_hex(datagram));
        accepted += usize::from(ours["accepted"] == json!(true));
    }
    let counters = receiver.counters();
    for reason in DropReason::ALL {
        assert!(counters.dropped(reason) > 0, "the stream exercises {}: {counters}", reason.name());
    }
    assert!(accepted > 200, "{accepted} accepted");

    // 3. Datagrams sealed by the peer open here, and are the bytes we would have sealed.
    let sealed = answer["sealed"].as_array().unwrap();
    assert_eq!(sealed.len(), to_seal.len());
    let mut receiver = LinkReceiver::new();
    for ((key_id, packet_number, frames), theirs) in to_seal.iter().zip(sealed) {
        let datagram = hex(theirs.as_str().unwrap());
        let opened = receiver.open(&keystore, &datagram).unwrap_or_else(|r| panic!("peer datagram dropped: {r}"));
        assert_eq!(opened.packet_number(), *packet_number);
        assert_eq!(opened.key_id(), KeyId::new(*key_id));
        let shown: Vec<String> = opened.frames().iter().map(|f| f.to_string()).collect();
        assert_eq!(&shown, frames);
        let key = keys.iter().find(|k| k.id == *key_id).unwrap();
        let mut sender = LinkSender::new(KeyId::new(*key_id), link_key(key), *packet_number).unwrap();
        let ours = seal(&mut sender, &frames.iter().map(|f| frame(f)).collect::<Vec<_>>());
        assert_eq!(to_hex(&ours), to_hex(&datagram));
    }
}
