//! The shipped configurations parse, and `docs/daemon.md` documents every key
//! they use (the table there is the reference).

use std::path::Path;

use bulkhead::daemon::config::{self, RuleSourceConfig};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_example_configuration_parses() {
    let config = config::load(&root().join("deploy/gateway.toml")).expect("deploy/gateway.toml");
    assert!(config.require_signature);
    assert_eq!(config.rules, RuleSourceConfig::Bundle(root().join("deploy/rules.bundle")));
    assert_eq!(config.management_socket, Path::new("/run/bulkhead/bulkhead.sock"));
    assert_eq!(config.port("infotainment").and_then(|p| p.listen), "192.0.2.1:47800".parse().ok());
    assert_eq!(config.metrics, "127.0.0.1:9187".parse().ok());
    let bench = config::load(&root().join("tests/vcan/daemon_bench/gateway.toml")).expect("bench config");
    assert_eq!(bench.rules, RuleSourceConfig::Files(vec![root().join("tests/vcan/daemon_bench/rules.toml")]));
}

#[test]
fn docs_document_every_key_of_the_example() {
    let docs = std::fs::read_to_string(root().join("docs/daemon.md")).expect("docs/daemon.md");
    let example = std::fs::read_to_string(root().join("deploy/gateway.toml")).expect("example");
    let mut section = String::new();
    for line in example.lines().map(|l| l.trim_start_matches("# ").trim()) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = if name.starts_with("ports.") { "ports.NAME".to_owned() } else { name.to_owned() };
            continue;
        }
        let Some((key, _)) = line.split_once(" = ") else { continue };
        if key.contains(' ') {
            continue;
        }
        let row = format!("`[{section}] {key}`");
        assert!(docs.contains(&row), "docs/daemon.md has no row {row}");
    }
}

#[test]
fn errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gateway.toml");
    std::fs::write(
        &path,
        "[rules]\nfiles = [\"r.toml\"]\n[state]\ndirectory = \"s\"\n[management]\nmetrics = \"10.0.0.1:9187\"\n",
    )
    .expect("write");
    let error = config::load(&path).expect_err("non-loopback metrics");
    let text = error.to_string();
    assert!(text.contains(&format!("{}:6:11", path.display())), "{text}");
    assert!(text.contains("loopback"), "{text}");
}
