//! Key store lookups (once per link datagram) and bundle verification (once
//! per rule update), plus key file parsing.

use std::hint::black_box;
use std::path::PathBuf;

use bulkhead::bundle::{build_signed_bundle, verify};
use bulkhead::keys::{
    BundleSigningKey, Direction, KeyId, KeyName, KeyStore, LinkKey, LinkSecret, MemoryKeyStore, SecretBytes,
    parse_key_file,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn store_with(keys: u32) -> (MemoryKeyStore, Vec<KeyId>) {
    let mut store = MemoryKeyStore::new();
    let mut ids = Vec::new();
    for n in 0..keys {
        // Spread ids like random ones would be.
        let id = KeyId::from_u32(n.wrapping_mul(0x9e37_79b9) | 1);
        let device = KeyName::new(&format!("device-{n}")).expect("name");
        let secret = LinkSecret::Aes128Gcm(SecretBytes::new([n as u8; 16]));
        store.insert_link(LinkKey::new(id, device, Direction::DeviceToGateway, secret)).expect("unique");
        ids.push(id);
    }
    (store, ids)
}

fn lookups(c: &mut Criterion) {
    let (mut store, ids) = store_with(1024);
    let revoked = ids[7];
    store.revoke(revoked);
    let hit = ids[500];
    let unknown = KeyId::from_u32(2);
    let mut group = c.benchmark_group("keystore");
    group.bench_function("link_key hit (1024 keys)", |b| b.iter(|| store.link_key(black_box(hit)).is_ok()));
    group.bench_function("link_key unknown", |b| b.iter(|| store.link_key(black_box(unknown)).is_err()));
    group.bench_function("link_key revoked", |b| b.iter(|| store.link_key(black_box(revoked)).is_err()));
    group.finish();
}

fn key_files(c: &mut Criterion) {
    let text = "bulkhead-key v1\ntype = link\nkey-id = 0x5f1c2a9e\nsuite = chacha20-poly1305\ndevice = head-unit\n\
                direction = device-to-gateway\nsecret = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    c.bench_function("parse_key_file (link)", |b| {
        b.iter(|| parse_key_file("k.key", black_box(text.as_bytes())).is_ok())
    });
}

fn bundles(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let dbc_dir = dir.path().join("dbc");
    std::fs::create_dir(&dbc_dir).expect("mkdir");
    // About 1 MiB of DBC-like text.
    let line = " SG_ Signal : 0|16@1+ (0.01,0) [0|655.35] \"km/h\" GW\n";
    std::fs::write(dbc_dir.join("vehicle.dbc"), line.repeat(1024 * 1024 / line.len())).expect("write");
    let rules: PathBuf = dir.path().join("gateway.toml");
    std::fs::write(&rules, "[ports.drive]\ndbc = [\"dbc/vehicle.dbc\"]\n").expect("write");
    let key = BundleSigningKey::from_seed(&SecretBytes::new([5; 32]));
    let bundle = build_signed_bundle(&key, std::slice::from_ref(&rules), None, 1).expect("signs").bytes;
    let trusted = [key.verifying_key()];
    let mut group = c.benchmark_group("bundle");
    group.throughput(Throughput::Bytes(bundle.len() as u64));
    group.bench_function("verify 1 MiB", |b| b.iter(|| verify(black_box(&bundle), &trusted).is_ok()));
    group.finish();
}

criterion_group!(benches, lookups, key_files, bundles);
criterion_main!(benches);
