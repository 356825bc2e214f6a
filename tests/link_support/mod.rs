//! Shared helpers of the link's integration tests: frames from candump's
//! compact notation (the notation of `docs/link.md`), fixed test keys, and the
//! test vectors of `docs/link.md` section 12.
#![allow(dead_code)]

use std::path::PathBuf;

use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::link::{KeyId, LinkKey, LinkSender, LinkSuite, MemoryKeys};

/// Parses `123#DEADBEEF`, `1ABCDEF0#`, `123#R8` or `456##1AABB` (3 hex digits:
/// standard id, 8: extended). Panics on anything else: test input only.
pub fn frame(text: &str) -> Frame {
    let (id, rest) = text.split_once('#').unwrap_or_else(|| panic!("no `#` in {text:?}"));
    let raw = u32::from_str_radix(id, 16).unwrap();
    let id = match id.len() {
        3 => CanId::standard(raw).unwrap(),
        8 => CanId::extended(raw).unwrap(),
        _ => panic!("id of 3 or 8 hex digits expected in {text:?}"),
    };
    if let Some(fd) = rest.strip_prefix('#') {
        let (flags, data) = fd.split_at(1);
        let nibble = u8::from_str_radix(flags, 16).unwrap();
        Frame::fd(id, &hex(data), FdFlags { brs: nibble & 1 != 0, esi: nibble & 2 != 0 }).unwrap()
    } else if let Some(len) = rest.strip_prefix('R') {
        Frame::remote(id, len.parse().unwrap()).unwrap()
    } else {
        Frame::classic(id, &hex(rest)).unwrap()
    }
}

/// Bytes from hex, spaces ignored.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits in {text:?}");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).expect("hex digit"))
        .collect()
}

/// Lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A key of `suite` whose material is `seed` repeated.
pub fn key(suite: LinkSuite, seed: u8, device: &str) -> LinkKey {
    LinkKey::new(suite, &vec![seed; suite.key_len()], device).unwrap()
}

/// A key store with the given (id, key) pairs, and a sender for each, starting at 1.
pub fn store(keys: &[(u32, LinkKey)]) -> (MemoryKeys, Vec<LinkSender>) {
    let mut store = MemoryKeys::new();
    let mut senders = Vec::new();
    for (id, key) in keys {
        store.insert(KeyId::new(*id), key.clone()).unwrap();
        senders.push(LinkSender::new(KeyId::new(*id), key.clone(), 1).unwrap());
    }
    (store, senders)
}

/// Seals `frames` with `sender` and returns the datagram.
pub fn seal(sender: &mut LinkSender, frames: &[Frame]) -> Vec<u8> {
    let mut out = [0u8; 1400];
    let sealed = sender.seal(frames, &mut out).unwrap();
    out[..sealed.len].to_vec()
}

/// One test vector as written in `docs/link.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vector {
    pub name: String,
    pub suite: u8,
    pub key: Vec<u8>,
    pub key_id: u32,
    pub packet_number: u64,
    pub frames: Vec<String>,
    pub body: Vec<u8>,
    pub datagram: Vec<u8>,
}

/// The marker after which `docs/link.md` holds the generated vectors.
pub const VECTORS_MARKER: &str = "Do not edit by hand. -->";

/// Reads every ```text block after the vectors marker of `docs/link.md`.
pub fn read_vectors(doc: &str) -> Vec<Vector> {
    let (_, section) = doc.split_once(VECTORS_MARKER).expect("docs/link.md has the vectors marker");
    let mut vectors = Vec::new();
    let mut rest = section;
    while let Some(start) = rest.find("```text\n") {
        let block = &rest[start + 8..];
        let end = block.find("```").expect("closed code block");
        vectors.push(parse_vector(&block[..end]));
        rest = &block[end + 3..];
    }
    vectors
}

fn parse_vector(block: &str) -> Vector {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in block.lines().filter(|line| !line.trim().is_empty()) {
        if line.starts_with(char::is_whitespace) {
            fields.last_mut().expect("continuation after a field").1.push_str(line.trim());
        } else {
            let (name, value) = line.split_once(' ').unwrap_or((line, ""));
            fields.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    let field = |name: &str| {
        fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no {name}"))
    };
    let number = |name: &str| hex(&field(name)).iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    Vector {
        name: field("vector"),
        suite: field("suite").parse().unwrap(),
        key: hex(&field("key")),
        key_id: number("key_id") as u32,
        packet_number: number("packet_number"),
        frames: fields.iter().filter(|(n, _)| n == "frame").map(|(_, v)| v.clone()).collect(),
        body: hex(&field("body")),
        datagram: hex(&field("datagram")),
    }
}
