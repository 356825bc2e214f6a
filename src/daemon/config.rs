//! The daemon's configuration file (`bulkhead run --config FILE`): what to
//! load, where to keep state, which sockets to open.
//!
//! The file is TOML; `docs/daemon.md` documents every key. Unknown keys are
//! refused, so a typo is an error with its position rather than a silently
//! ignored setting. Every error names the file, line and column. Relative
//! paths are resolved against the configuration file's directory, once, here:
//! nothing downstream depends on the working directory.
//!
//! Invariants of a [`Config`]: exactly one rule source (plain files or a
//! bundle); `require_signature` implies a bundle and a key directory; the
//! metrics address is a loopback address; port names are unique.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::{Diagnostic, Location};

/// Why a configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the configuration: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type.
    #[error("{0}")]
    Syntax(Box<Diagnostic>),
    /// A value is well-formed but not acceptable (conflicting keys, a
    /// non-loopback metrics address, a port the rules do not declare...).
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
}

/// Where the rules come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleSourceConfig {
    /// Plain rule files (their DBC files are found relative to them).
    Files(Vec<PathBuf>),
    /// A signed bundle, verified against the trusted keys of the key directory.
    Bundle(PathBuf),
}

/// `[keys]`: the key store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeysConfig {
    /// The key directory (`*.key` mode 0600, `*.pub`).
    pub directory: PathBuf,
    /// The revocation list, if any (it must exist when named).
    pub revocation_list: Option<PathBuf>,
}

/// `[ports.NAME]`: how one port of the rules is bound.
#[derive(Clone, Debug, PartialEq)]
pub struct PortBinding {
    /// The port's name in the rules.
    pub name: String,
    /// Where the section is, for errors found once the rules are known.
    pub location: Location,
    /// The CAN interface (overrides the rules' `interface`).
    pub interface: Option<String>,
    /// The UDP address an Ethernet (link) port listens on.
    pub listen: Option<SocketAddr>,
    /// Requested kernel receive buffer in bytes (`SO_RCVBUF`), if any.
    pub receive_buffer: Option<usize>,
}

/// A validated configuration with absolute paths.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The configuration file itself.
    pub file: PathBuf,
    /// The rules.
    pub rules: RuleSourceConfig,
    /// Only a signed bundle is accepted (at start and on reload).
    pub require_signature: bool,
    /// The key store, if any.
    pub keys: Option<KeysConfig>,
    /// The state directory (SecOC freshness, link packet-number marks).
    pub state_directory: PathBuf,
    /// Port bindings by rule port name (ports not listed use the rules' `interface`).
    pub ports: Vec<PortBinding>,
    /// The management socket (Unix, mode 0660).
    pub management_socket: PathBuf,
    /// The Prometheus endpoint (loopback only), if any.
    pub metrics: Option<SocketAddr>,
    /// The ingress capture file (candump `-l` format), if any.
    pub record: Option<PathBuf>,
    /// The user to switch to after opening sockets when started as root.
    pub user: Option<String>,
    /// The group to switch to (default: the user's primary group).
    pub group: Option<String>,
}

impl Config {
    /// The binding of the port called `name`, if the configuration has one.
    pub fn port(&self, name: &str) -> Option<&PortBinding> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Every file and directory the daemon reads after start (for reloads):
    /// the configuration, the rules or the bundle, the key directory and the
    /// revocation list.
    pub fn read_paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.file.clone()];
        match &self.rules {
            RuleSourceConfig::Files(files) => paths.extend(files.iter().cloned()),
            RuleSourceConfig::Bundle(bundle) => paths.push(bundle.clone()),
        }
        if let Some(keys) = &self.keys {
            paths.push(keys.directory.clone());
            paths.extend(keys.revocation_list.iter().cloned());
        }
        paths
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    rules: Spanned<RulesSection>,
    keys: Option<KeysSection>,
    state: StateSection,
    #[serde(default)]
    ports: BTreeMap<Spanned<String>, PortSection>,
    management: Option<ManagementSection>,
    record: Option<RecordSection>,
    run: Option<RunSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSection {
    files: Option<Spanned<Vec<Spanned<String>>>>,
    bundle: Option<Spanned<String>>,
    require_signature: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysSection {
    directory: Spanned<String>,
    revocation_list: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateSection {
    directory: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortSection {
    interface: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
    receive_buffer: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManagementSection {
    socket: Option<Spanned<String>>,
    metrics: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordSection {
    file: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSection {
    user: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
}

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read(path).map_err(|source| ConfigError::Io { file: path.to_owned(), source })?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    parse(&absolute, &text)
}

/// Parses configuration text; `path` names it in errors and anchors relative paths.
pub fn parse(path: &Path, text: &[u8]) -> Result<Config, ConfigError> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let here = |offset: usize| Location::from_offset(&name, text, offset);
    let invalid =
        |offset: usize, message: String| ConfigError::Invalid(Box::new(Diagnostic::error(here(offset), message)));
    let decoded = crate::diagnostic::decode_lossy(text);
    let file: ConfigFile = toml::from_str(&decoded).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        ConfigError::Syntax(Box::new(Diagnostic::error(here(offset), e.message().trim().to_owned())))
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let resolve = |value: &Spanned<String>| -> Result<PathBuf, ConfigError> {
        if value.get_ref().is_empty() {
            return Err(invalid(value.span().start, "an empty path".to_owned()));
        }
        Ok(base.join(value.get_ref()))
    };

    let rules_span = file.rules.span();
    let rules_section = file.rules.into_inner();
    let rules = match (&rules_section.files, &rules_section.bundle) {
        (Some(files), None) => {
            if files.get_ref().is_empty() {
                return Err(invalid(files.span().start, "`files` lists no rule file".to_owned()));
            }
            RuleSourceConfig::Files(files.get_ref().iter().map(&resolve).collect::<Result<_, _>>()?)
        }
        (None, Some(bundle)) => RuleSourceConfig::Bundle(resolve(bundle)?),
        (Some(_), Some(bundle)) => {
            return Err(invalid(bundle.span().start, "`[rules]` has both `files` and `bundle`: give one".to_owned()));
        }
        (None, None) => {
            return Err(invalid(rules_span.start, "`[rules]` needs `files = [...]` or `bundle = \"...\"`".to_owned()));
        }
    };
    let require_signature = rules_section.require_signature.as_ref().is_some_and(|r| *r.get_ref());
    if let (Some(flag), RuleSourceConfig::Files(_)) = (&rules_section.require_signature, &rules)
        && *flag.get_ref()
    {
        return Err(invalid(
            flag.span().start,
            "`require_signature = true` accepts only a signed bundle: set `bundle = \"...\"` instead of `files`"
                .to_owned(),
        ));
    }

    let keys = match &file.keys {
        Some(k) => Some(KeysConfig {
            directory: resolve(&k.directory)?,
            revocation_list: k.revocation_list.as_ref().map(&resolve).transpose()?,
        }),
        None => None,
    };
    if keys.is_none() && matches!(rules, RuleSourceConfig::Bundle(_)) {
        return Err(invalid(
            rules_span.start,
            "a bundle is verified against the trusted keys of `[keys] directory`, and there is no `[keys]` section"
                .to_owned(),
        ));
    }
    let state_directory = resolve(&file.state.directory)?;

    let mut ports = Vec::new();
    for (name, section) in &file.ports {
        let listen = match &section.listen {
            Some(addr) => Some(addr.get_ref().parse::<SocketAddr>().map_err(|_| {
                invalid(addr.span().start, format!("`{}` is not an address like 127.0.0.1:47800", addr.get_ref()))
            })?),
            None => None,
        };
        if let (Some(iface), Some(_)) = (&section.interface, &listen) {
            return Err(invalid(
                iface.span().start,
                format!("port `{}` has both `interface` (CAN) and `listen` (Ethernet): give one", name.get_ref()),
            ));
        }
        if let Some(iface) = &section.interface
            && !valid_interface_name(iface.get_ref())
        {
            return Err(invalid(
                iface.span().start,
                format!("`{}` is not an interface name (1 to 15 characters, no `/` or space)", iface.get_ref()),
            ));
        }
        let receive_buffer = match &section.receive_buffer {
            Some(size) if !(4096..=64 << 20).contains(size.get_ref()) => {
                return Err(invalid(
                    size.span().start,
                    format!("receive_buffer {} is outside 4096 ..= 67108864 bytes", size.get_ref()),
                ));
            }
            Some(size) => usize::try_from(*size.get_ref()).ok(),
            None => None,
        };
        ports.push(PortBinding {
            name: name.get_ref().clone(),
            location: here(name.span().start),
            interface: section.interface.as_ref().map(|i| i.get_ref().clone()),
            listen,
            receive_buffer,
        });
    }

    let management = file.management.as_ref();
    let management_socket = match management.and_then(|m| m.socket.as_ref()) {
        Some(socket) => resolve(socket)?,
        None => state_directory.join("bulkhead.sock"),
    };
    let metrics = match management.and_then(|m| m.metrics.as_ref()) {
        Some(addr) => {
            let parsed = addr.get_ref().parse::<SocketAddr>().map_err(|_| {
                invalid(addr.span().start, format!("`{}` is not an address like 127.0.0.1:9187", addr.get_ref()))
            })?;
            if !parsed.ip().is_loopback() {
                return Err(invalid(
                    addr.span().start,
                    format!("metrics listen on loopback only (127.0.0.0/8 or ::1), not {}", parsed.ip()),
                ));
            }
            Some(parsed)
        }
        None => None,
    };
    let record = file.record.as_ref().map(|r| resolve(&r.file)).transpose()?;
    let run = file.run.as_ref();
    let name_of = |v: Option<&Spanned<String>>| -> Result<Option<String>, ConfigError> {
        match v {
            Some(v) if !valid_account_name(v.get_ref()) => {
                Err(invalid(v.span().start, format!("`{}` is not a user or group name", v.get_ref())))
            }
            Some(v) => Ok(Some(v.get_ref().clone())),
            None => Ok(None),
        }
    };
    let user = name_of(run.and_then(|r| r.user.as_ref()))?;
    let group = name_of(run.and_then(|r| r.group.as_ref()))?;
    if let (None, Some(g)) = (&user, run.and_then(|r| r.group.as_ref())) {
        return Err(invalid(g.span().start, "`group` needs `user` as well".to_owned()));
    }

    Ok(Config {
        file: path.to_owned(),
        rules,
        require_signature,
        keys,
        state_directory,
        ports,
        management_socket,
        metrics,
        record,
        user,
        group,
    })
}

/// A Linux network interface name: 1 to 15 bytes, no `/`, no white space, not `.` or `..`.
pub fn valid_interface_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
}

fn valid_account_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && !name.starts_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("/etc/bulkhead/gateway.toml"), text.as_bytes())
    }

    const MINIMAL: &str = "[rules]\nfiles = [\"rules/vehicle.toml\"]\n[state]\ndirectory = \"state\"\n";

    #[test]
    fn minimal_file_resolves_paths_and_defaults() {
        let config = parse_text(MINIMAL).expect("valid");
        assert_eq!(config.rules, RuleSourceConfig::Files(vec![PathBuf::from("/etc/bulkhead/rules/vehicle.toml")]));
        assert_eq!(config.state_directory, PathBuf::from("/etc/bulkhead/state"));
        assert_eq!(config.management_socket, PathBuf::from("/etc/bulkhead/state/bulkhead.sock"));
        assert!(!config.require_signature && config.metrics.is_none() && config.keys.is_none());
    }

    #[test]
    fn absolute_paths_stay_absolute() {
        let config = parse_text("[rules]\nfiles = [\"/opt/r.toml\"]\n[state]\ndirectory = \"/var/lib/bulkhead\"\n")
            .expect("valid");
        assert_eq!(config.state_directory, PathBuf::from("/var/lib/bulkhead"));
    }

    fn error_at(text: &str) -> (u32, u32, String) {
        match parse_text(text) {
            Err(ConfigError::Syntax(d) | ConfigError::Invalid(d)) => (d.location.line, d.location.column, d.message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_line_and_column() {
        let (line, column, message) = error_at(&format!("{MINIMAL}[management]\nmetrics = \"0.0.0.0:9187\"\n"));
        assert_eq!((line, column), (6, 11), "{message}");
        assert!(message.contains("loopback"), "{message}");

        let (line, column, message) = error_at(&format!("{MINIMAL}[ports.drive]\ninterfcae = \"vcan0\"\n"));
        assert_eq!((line, column), (6, 1), "{message}");
        assert!(message.contains("interfcae"), "{message}");

        let (line, _, message) =
            error_at("[rules]\nfiles = [\"a.toml\"]\nrequire_signature = true\n[state]\ndirectory = \"s\"\n");
        assert_eq!(line, 3, "{message}");
        assert!(message.contains("bundle"), "{message}");

        let (line, column, message) = error_at(&format!("{MINIMAL}[ports.ivi]\nlisten = \"localhost\"\n"));
        assert_eq!((line, column), (6, 10), "{message}");

        let (line, _, message) = error_at("[rules]\nbundle = \"r.bundle\"\n[state]\ndirectory = \"s\"\n");
        assert_eq!(line, 1, "{message}");
        assert!(message.contains("[keys]"), "{message}");

        let (line, _, message) = error_at("[state]\ndirectory = \"s\"\n");
        assert_eq!(line, 1, "{message}");
        assert!(message.contains("rules"), "{message}");
    }

    #[test]
    fn ports_and_run_section() {
        let text = format!(
            "{MINIMAL}[ports.drive]\ninterface = \"can0\"\nreceive_buffer = 1048576\n[ports.infotainment]\nlisten = \"127.0.0.1:47800\"\n[run]\nuser = \"bulkhead\"\n"
        );
        let config = parse_text(&text).expect("valid");
        let drive = config.port("drive").expect("drive");
        assert_eq!(drive.interface.as_deref(), Some("can0"));
        assert_eq!(drive.receive_buffer, Some(1 << 20));
        assert_eq!(drive.location.line, 5);
        assert_eq!(config.port("infotainment").and_then(|p| p.listen), "127.0.0.1:47800".parse().ok());
        assert_eq!(config.user.as_deref(), Some("bulkhead"));
        let (_, _, message) = error_at(&format!("{MINIMAL}[ports.drive]\ninterface = \"a/b\"\n"));
        assert!(message.contains("interface name"), "{message}");
    }
}
