//! The test vectors of `docs/link.md` (section 12), checked both ways for both
//! suites: sealing the frames gives the datagram bytes, opening the bytes gives
//! the frames. The vectors are generated from the inputs below; when the doc and
//! the implementation disagree the test fails, and `BULKHEAD_BLESS=1 cargo test
//! --test link_vectors` rewrites the doc's vectors (review the diff: any change
//! to existing bytes is a wire-format change).

mod link_support;

use std::fmt::Write as _;

use bulkhead::link::{
    HEADER_LEN, KeyId, LinkKey, LinkReceiver, LinkSender, LinkSuite, MemoryKeys, TAG_LEN, decode_body, encode_body,
};
use link_support::{Vector, frame, hex, read_vectors, root, to_hex};

const AES_KEY: &str = "000102030405060708090a0b0c0d0e0f";
const CHACHA_KEY: &str = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";

struct Input {
    name: &'static str,
    title: &'static str,
    suite: LinkSuite,
    key: &'static str,
    key_id: u32,
    packet_number: u64,
    frames: Vec<String>,
}

fn fd64() -> String {
    let data: String = (0u8..64).map(|b| format!("{b:02X}")).collect();
    format!("18DAF110##1{data}")
}

fn several() -> Vec<String> {
    let fd12: String = (0xA0u8..0xAC).map(|b| format!("{b:02X}")).collect();
    let fd20: String = (0u8..20).map(|b| format!("{:02X}", b.wrapping_mul(13))).collect();
    vec![
        "123#DEADBEEF".to_owned(),
        "1ABCDEF0#".to_owned(),
        "7FF#R8".to_owned(),
        format!("456##2{fd12}"),
        "000#0102030405060708".to_owned(),
        format!("1FFFFFFF##3{fd20}"),
    ]
}

fn inputs() -> Vec<Input> {
    let mut inputs = Vec::new();
    for (suite, key, key_id, prefix, suite_name, numbers) in [
        (LinkSuite::Aes128Gcm, AES_KEY, 0x0000_0001, "aes", "AES-128-GCM", [1, 2, 0x0000_0001_0000_0000]),
        (
            LinkSuite::ChaCha20Poly1305,
            CHACHA_KEY,
            0x0000_002A,
            "chacha",
            "ChaCha20-Poly1305",
            [1, 2, 0x0123_4567_89AB_CDEF],
        ),
    ] {
        let cases: [(&str, &str, Vec<String>); 3] = [
            ("classic", "one classic frame", vec!["123#DEADBEEF".to_owned()]),
            ("fd64-brs", "one 64-byte CAN FD frame with BRS, extended id", vec![fd64()]),
            ("several", "six frames of every kind in one datagram", several()),
        ];
        for ((case, what, frames), packet_number) in cases.into_iter().zip(numbers) {
            let name = match (prefix, case) {
                ("aes", "classic") => "aes-classic",
                ("aes", "fd64-brs") => "aes-fd64-brs",
                ("aes", _) => "aes-several",
                (_, "classic") => "chacha-classic",
                (_, "fd64-brs") => "chacha-fd64-brs",
                _ => "chacha-several",
            };
            let title = Box::leak(format!("{what}, {suite_name}").into_boxed_str());
            inputs.push(Input { name, title, suite, key, key_id, packet_number, frames });
        }
    }
    inputs
}

/// Seals one input with the library, through [`LinkSender`] as real traffic would be.
fn generate(input: &Input) -> Vector {
    let key = LinkKey::new(input.suite, &hex(input.key), "vector").unwrap();
    let frames: Vec<_> = input.frames.iter().map(|f| frame(f)).collect();
    let mut body = [0u8; 1400];
    let body_len = encode_body(&frames, &mut body).unwrap();
    let mut sender = LinkSender::new(KeyId::new(input.key_id), key, input.packet_number).unwrap();
    let mut datagram = [0u8; 1400];
    let sealed = sender.seal(&frames, &mut datagram).unwrap();
    assert_eq!(sealed.packet_number, input.packet_number);
    Vector {
        name: input.name.to_owned(),
        suite: input.suite.byte(),
        key: hex(input.key),
        key_id: input.key_id,
        packet_number: input.packet_number,
        frames: input.frames.clone(),
        body: body[..body_len].to_vec(),
        datagram: datagram[..sealed.len].to_vec(),
    }
}

/// Hex of `bytes` in lines of at most 32 bytes, continuation lines indented to the value column.
fn wrapped(bytes: &[u8], out: &mut String) {
    for (i, chunk) in bytes.chunks(32).enumerate() {
        if i > 0 {
            out.push_str("\n               ");
        }
        out.push_str(&to_hex(chunk));
    }
}

fn render(input: &Input, vector: &Vector) -> String {
    let mut out = String::new();
    writeln!(out, "### {}: {}\n", vector.name, input.title).unwrap();
    out.push_str("```text\n");
    writeln!(out, "vector         {}", vector.name).unwrap();
    writeln!(out, "suite          {}", vector.suite).unwrap();
    writeln!(out, "key            {}", to_hex(&vector.key)).unwrap();
    writeln!(out, "key_id         {:08x}", vector.key_id).unwrap();
    writeln!(out, "packet_number  {:016x}", vector.packet_number).unwrap();
    for frame in &vector.frames {
        writeln!(out, "frame          {frame}").unwrap();
    }
    // The body one record per line: id, flags, length, data.
    let mut offset = 0;
    let mut first = true;
    for text in &vector.frames {
        let len = bulkhead::link::encoded_len(&frame(text));
        let record = &vector.body[offset..offset + len];
        out.push_str(if first { "body           " } else { "               " });
        first = false;
        write!(out, "{} {} {}", to_hex(&record[..4]), to_hex(&record[4..5]), to_hex(&record[5..6])).unwrap();
        if len > 6 {
            out.push(' ');
            wrapped(&record[6..], &mut out);
        }
        out.push('\n');
        offset += len;
    }
    // The datagram: the header's fields, the ciphertext, the tag.
    let (header, rest) = vector.datagram.split_at(HEADER_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    writeln!(
        out,
        "datagram       {} {} {} {} {}",
        to_hex(&header[..4]),
        to_hex(&header[4..5]),
        to_hex(&header[5..6]),
        to_hex(&header[6..10]),
        to_hex(&header[10..18])
    )
    .unwrap();
    out.push_str("               ");
    wrapped(ciphertext, &mut out);
    out.push_str("\n               ");
    out.push_str(&to_hex(tag));
    out.push_str("\n```\n");
    out
}

fn doc_path() -> std::path::PathBuf {
    root().join("docs/link.md")
}

#[test]
fn doc_vectors_are_the_implementation_s_output() {
    let doc = std::fs::read_to_string(doc_path()).expect("docs/link.md");
    let (head, _) = doc.split_once(link_support::VECTORS_MARKER).expect("vectors marker in docs/link.md");
    let rendered: Vec<String> = inputs().iter().map(|input| render(input, &generate(input))).collect();
    let expected = format!("{head}{}\n\n{}", link_support::VECTORS_MARKER, rendered.join("\n"));
    if doc != expected {
        if std::env::var_os("BULKHEAD_BLESS").is_some() {
            std::fs::write(doc_path(), &expected).unwrap();
            eprintln!("rewrote the vectors of docs/link.md");
        } else {
            panic!(
                "docs/link.md's vectors differ from the implementation; if the change is intended, rerun with BULKHEAD_BLESS=1 and review the diff"
            );
        }
    }
}

#[test]
fn every_vector_seals_to_its_bytes() {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let vectors = read_vectors(&doc);
    assert_eq!(vectors.len(), 6, "six vectors expected");
    for suite in LinkSuite::ALL {
        assert_eq!(vectors.iter().filter(|v| v.suite == suite.byte()).count(), 3, "{suite}");
    }
    for vector in &vectors {
        let suite = LinkSuite::from_byte(vector.suite).unwrap();
        let frames: Vec<_> = vector.frames.iter().map(|f| frame(f)).collect();
        let mut body = [0u8; 1400];
        let body_len = encode_body(&frames, &mut body).unwrap();
        assert_eq!(to_hex(&body[..body_len]), to_hex(&vector.body), "{}: body", vector.name);
        let key = LinkKey::new(suite, &vector.key, "vector").unwrap();
        let mut sender = LinkSender::new(KeyId::new(vector.key_id), key, vector.packet_number).unwrap();
        let mut out = [0u8; 1400];
        let sealed = sender.seal(&frames, &mut out).unwrap();
        assert_eq!(to_hex(&out[..sealed.len]), to_hex(&vector.datagram), "{}: datagram", vector.name);
    }
}

#[test]
fn every_vector_opens_to_its_frames() {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    for vector in read_vectors(&doc) {
        let suite = LinkSuite::from_byte(vector.suite).unwrap();
        let mut keys = MemoryKeys::new();
        keys.insert(KeyId::new(vector.key_id), LinkKey::new(suite, &vector.key, "vector-device").unwrap()).unwrap();
        let mut receiver = LinkReceiver::new();
        let opened = receiver.open(&keys, &vector.datagram).unwrap_or_else(|r| panic!("{}: {r}", vector.name));
        assert_eq!(opened.device(), "vector-device");
        assert_eq!(opened.key_id(), KeyId::new(vector.key_id));
        assert_eq!(opened.packet_number(), vector.packet_number);
        let shown: Vec<String> = opened.frames().iter().map(|f| f.to_string()).collect();
        assert_eq!(shown, vector.frames, "{}", vector.name);
        let mut decoded = Vec::new();
        decode_body(&vector.body, &mut decoded).unwrap();
        assert_eq!(decoded, opened.frames(), "{}: body", vector.name);
    }
}
