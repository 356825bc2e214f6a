//! Zones, ports and the DBC files that describe each port's traffic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Compiler, ParsedFile, did_you_mean};
use crate::codec::CodecTable;
use crate::diagnostic::Diagnostic;
use crate::engine::bucket::RateSpec;
use crate::rules::compiled::{MAX_PORTS, Medium, Port, PortId, PortLookup, Trust, Zone};
use crate::rules::schema::RateSection;
use crate::rules::source::RuleSource;

/// A port being compiled.
pub(crate) struct PortBuild {
    pub port: Port,
}

pub(crate) fn zones(c: &mut Compiler, files: &[ParsedFile]) -> Vec<Zone> {
    let mut seen = BTreeMap::new();
    let mut zones = Vec::new();
    for f in files {
        for (name, zone) in &f.file.zones {
            if !c.check_unique(&mut seen, "zone", &f.source, name) {
                continue;
            }
            let trust = match zone.trust.get_ref().as_str() {
                "trusted" => Trust::Trusted,
                "hostile" => Trust::Hostile,
                other => {
                    c.diags.error(&f.source, &zone.trust.span(), format!("unknown trust level `{other}`")).help =
                        Some("use `trusted` or `hostile`".to_owned());
                    Trust::Hostile
                }
            };
            zones.push(Zone { name: name.get_ref().clone(), trust });
        }
    }
    zones
}

pub(crate) fn rate(c: &mut Compiler, source: &RuleSource, r: &RateSection) -> Option<RateSpec> {
    let mut ok = true;
    if !(*r.per_second.get_ref() > 0.0 && r.per_second.get_ref().is_finite()) {
        c.diags.error(source, &r.per_second.span(), "`per_second` must be a positive number");
        ok = false;
    }
    if !(*r.burst.get_ref() >= 1.0 && r.burst.get_ref().is_finite()) {
        c.diags.error(
            source,
            &r.burst.span(),
            "`burst` must be at least 1 (a bucket that never holds a token passes nothing)",
        );
        ok = false;
    }
    ok.then(|| RateSpec { per_second: *r.per_second.get_ref(), burst: *r.burst.get_ref() })
}

pub(crate) fn ports(c: &mut Compiler, files: &[ParsedFile], zones: &[Zone]) -> Vec<PortBuild> {
    let mut seen = BTreeMap::new();
    let mut ports = Vec::new();
    for f in files {
        for (name, p) in &f.file.ports {
            if !c.check_unique(&mut seen, "port", &f.source, name) {
                continue;
            }
            if ports.len() == MAX_PORTS {
                c.diags.error(&f.source, &name.span(), format!("a gateway has at most {MAX_PORTS} ports"));
                continue;
            }
            let medium = match p.medium.get_ref().as_str() {
                "can" => Medium::Can,
                "can-fd" => Medium::CanFd,
                "ethernet" => Medium::Ethernet,
                other => {
                    c.diags.error(&f.source, &p.medium.span(), format!("unknown medium `{other}`")).help =
                        Some("use `can`, `can-fd` or `ethernet`".to_owned());
                    Medium::Can
                }
            };
            let zone = zones.iter().position(|z| &z.name == p.zone.get_ref());
            let zone = match zone {
                Some(z) => z,
                None => {
                    let d = c.diags.error(&f.source, &p.zone.span(), format!("unknown zone `{}`", p.zone.get_ref()));
                    d.help = did_you_mean(p.zone.get_ref(), zones.iter().map(|z| z.name.as_str()))
                        .or_else(|| Some("declare it with `[zones.NAME]` and a `trust` level".to_owned()));
                    continue;
                }
            };
            let trust = zones[zone].trust;
            let route_remote_frames = match p.remote_frames.as_ref().map(|r| r.get_ref().as_str()) {
                None | Some("drop") => false,
                Some("route") => true,
                Some(other) => {
                    let span = p.remote_frames.as_ref().map(|r| r.span()).unwrap_or_default();
                    c.diags.error(&f.source, &span, format!("unknown remote frame policy `{other}`")).help =
                        Some("use `drop` or `route`".to_owned());
                    false
                }
            };
            let report_unknown_ids = match p.unknown_ids.as_ref().map(|r| r.get_ref().as_str()) {
                None => trust == Trust::Trusted,
                Some("event") => true,
                Some("ignore") => false,
                Some(other) => {
                    let span = p.unknown_ids.as_ref().map(|r| r.span()).unwrap_or_default();
                    c.diags.error(&f.source, &span, format!("unknown policy `{other}` for unknown ids")).help =
                        Some("use `event` or `ignore`".to_owned());
                    false
                }
            };
            let ingress = p.ingress.as_ref().and_then(|r| rate(c, &f.source, r));
            let mut dbcs = Vec::new();
            for path in &p.dbc {
                if let Some(i) = load_dbc(c, &f.source, path.get_ref(), &path.span()) {
                    dbcs.push(i);
                }
            }
            if p.dbc.is_empty() {
                for extra in c.options.extra_dbcs.clone() {
                    if let Some(i) = load_extra_dbc(c, &extra) {
                        dbcs.push(i);
                    }
                }
            }
            let codecs = CodecTable::new(dbcs.iter().map(|&i| c.dbcs[i].as_ref()));
            for invalid in codecs.invalid() {
                let loc = dbc_location(&invalid.source, invalid.line);
                c.diags.push(Diagnostic::warning(
                    loc,
                    format!("{invalid}; frames of this id are checked without content rules"),
                ));
            }
            for dup in codecs.duplicates() {
                let loc = dbc_location(&dup.ignored_source, dup.ignored_line);
                c.diags.push(
                    Diagnostic::warning(loc, format!("{dup}"))
                        .with_help(format!("port `{}` reads its DBC files in the order given", name.get_ref())),
                );
            }
            if dbcs.is_empty() && trust == Trust::Trusted && report_unknown_ids {
                c.diags
                    .warning(&f.source, &name.span(), format!("trusted port `{}` has no DBC file", name.get_ref()))
                    .help = Some(
                    "every id on it will count as unknown; add `dbc = [...]` or `unknown_ids = \"ignore\"`".to_owned(),
                );
            }
            ports.push(PortBuild {
                port: Port {
                    name: name.get_ref().clone(),
                    medium,
                    zone,
                    trust,
                    authenticated: medium == Medium::Ethernet,
                    interface: p.interface.as_ref().map(|i| i.get_ref().clone()),
                    ingress,
                    route_remote_frames,
                    report_unknown_ids,
                    dbcs,
                    codecs,
                    lookup: PortLookup::default(),
                },
            });
        }
    }
    // Monitor settings are read where slots are built; nothing else to do here.
    ports
}

/// A location for line `line` of a DBC file (column 1, line text left empty).
fn dbc_location(file: &Arc<str>, line: u32) -> crate::diagnostic::Location {
    crate::diagnostic::Location { file: Arc::clone(file), line, column: 1, line_text: String::new() }
}

fn resolve(dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() { p.to_path_buf() } else { dir.join(p) }
}

fn load_dbc(c: &mut Compiler, source: &RuleSource, path: &str, span: &std::ops::Range<usize>) -> Option<usize> {
    let full = resolve(&source.dir, path);
    let normalized = crate::rules::normalize(&full);
    let virtual_file = c.options.virtual_files.iter().find(|(p, _)| *p == normalized).map(|(_, b)| Arc::clone(b));
    let key = match &virtual_file {
        Some(_) => normalized.clone(),
        None => std::fs::canonicalize(&full).unwrap_or_else(|_| full.clone()),
    };
    if let Some(&i) = c.dbc_index.get(&key) {
        return Some(i);
    }
    let loaded = match virtual_file {
        Some(bytes) => crate::dbc::parse(&normalized.display().to_string(), &bytes),
        None => crate::dbc::load(&full),
    };
    match loaded {
        Ok(dbc) => Some(add_dbc(c, key, dbc)),
        Err(e) => {
            let d = c.diags.error(source, span, format!("cannot use DBC file `{}`", full.display()));
            d.help = Some(first_line(&e.to_string()));
            if let crate::dbc::DbcError::Invalid { errors, warnings, .. } = e {
                for diag in errors.into_iter().chain(warnings) {
                    c.diags.push(diag);
                }
            }
            None
        }
    }
}

fn load_extra_dbc(c: &mut Compiler, path: &Path) -> Option<usize> {
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if let Some(&i) = c.dbc_index.get(&key) {
        return Some(i);
    }
    match crate::dbc::load(path) {
        Ok(dbc) => Some(add_dbc(c, key, dbc)),
        Err(crate::dbc::DbcError::Invalid { errors, warnings, .. }) => {
            for diag in errors.into_iter().chain(warnings) {
                c.diags.push(diag);
            }
            None
        }
        Err(e) => {
            let loc = dbc_location(&Arc::from(path.display().to_string()), 1);
            c.diags.push(Diagnostic::error(loc, format!("cannot use DBC file: {e}")));
            None
        }
    }
}

fn add_dbc(c: &mut Compiler, key: PathBuf, dbc: crate::dbc::Dbc) -> usize {
    for warning in &dbc.warnings {
        c.diags.push(warning.clone());
    }
    let i = c.dbcs.len();
    c.dbcs.push(Arc::new(dbc));
    c.dbc_index.insert(key, i);
    i
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_owned()
}

/// The id of the port called `name`, or an error at `span` with a suggestion.
pub(crate) fn find_port(
    c: &mut Compiler,
    ports: &[PortBuild],
    source: &RuleSource,
    name: &toml::Spanned<String>,
) -> Option<PortId> {
    match ports.iter().position(|p| &p.port.name == name.get_ref()) {
        Some(i) => Some(PortId(i as u8)),
        None => {
            let d = c.diags.error(source, &name.span(), format!("unknown port `{}`", name.get_ref()));
            d.help = did_you_mean(name.get_ref(), ports.iter().map(|p| p.port.name.as_str()))
                .or_else(|| Some("declare it with `[ports.NAME]`".to_owned()));
            None
        }
    }
}
