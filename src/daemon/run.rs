//! `bulkhead run`: start-up in a safe order, then the event loop.
//!
//! Order: read the configuration; open the sockets that may need privileges
//! (the link's UDP sockets, the management socket, the metrics listener);
//! when root, switch to the configured user; drop every capability; load keys
//! and rules and the state (as that user, so the key store's owner checks
//! hold); restrict the file system (Landlock); open the CAN sockets; start
//! the management thread (a single-threaded tokio runtime: management
//! socket, metrics, signals); tell systemd `READY=1` and loop.
//!
//! The loop, on the main thread, owns the engine and every socket of the
//! frame path ([`super::poller`]): it waits for anything (a readable port, the
//! timer, a wake-up from the management thread), reads what is there into
//! the ingress queues (trusted ports first) and hands them to the engine.
//! Every [`crate::engine::TIMER_TICK`] the engine's timer runs and the
//! watchdog is fed (at half of `WATCHDOG_USEC`): if the loop stalls, systemd
//! notices.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::config::{self, Config, ConfigError};
use super::gateway::Gateway;
use super::load::{self, LoadError};
use super::marks::MarkKind;
use super::notify::{self, Notifier};
use super::poller::{Poller, Ready};
use super::ports::{self, CanPort, LinkPort, PortIo};
use super::privileges::{self, PrivilegeError, Sandbox};
use super::record::Recorder;
use super::ring::BoundedQueue;
use super::server::{self, Control, Message};
use super::state::{self, StateError, StateOrigin};
use crate::bundle::LastGoodBundle;
use crate::diagnostic::Diagnostic;
use crate::engine::{Engine, TIMER_TICK};
use crate::keys::KeyStore;
use crate::rules::{CompiledRules, Medium};

/// Why the daemon could not start (or had to stop).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The configuration file is wrong.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Keys or rules could not be loaded.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The state directory cannot be trusted or used.
    #[error("{0}")]
    State(#[from] StateError),
    /// Privileges could not be dropped.
    #[error("{0}")]
    Privileges(#[from] PrivilegeError),
    /// The rules' SecOC configuration does not fit the persisted freshness.
    #[error("SecOC: {0}")]
    Secoc(#[from] crate::secoc::ConfigError),
    /// A socket could not be opened.
    #[error("{what}: {source}")]
    Socket {
        /// Which socket.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Options of `bulkhead run`.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The configuration file.
    pub config: PathBuf,
    /// Start with fresh state, moving the old files aside (dangerous).
    pub reset_state: bool,
}

/// Sockets opened before privileges are dropped.
struct EarlySockets {
    udp: Vec<(String, std::net::UdpSocket)>,
    management: std::os::unix::net::UnixListener,
    metrics: Option<std::net::TcpListener>,
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(options: &RunOptions) -> Result<(), DaemonError> {
    let config = config::load(&options.config)?;
    init_logging();
    let notifier = Notifier::from_env().unwrap_or_else(|_| Notifier::none());
    let early = open_early_sockets(&config)?;

    let account = match (&config.user, privileges::is_root()) {
        (Some(user), true) => Some(privileges::lookup(user, config.group.as_deref())?),
        _ => None,
    };
    if let Some(account) = &account {
        for path in [config.management_socket.clone(), config.state_directory.clone()] {
            if path.exists() {
                let _ = nix::unistd::chown(
                    &path,
                    Some(nix::unistd::Uid::from_raw(account.uid)),
                    Some(nix::unistd::Gid::from_raw(account.gid)),
                );
            }
        }
        privileges::switch_user(account)?;
        tracing::info!(target: "bulkhead::daemon", user = %account.name, uid = account.uid, gid = account.gid, "switched user");
    }
    privileges::drop_capabilities()?;

    let store = load::load_keys(&config).map_err(LoadError::from)?;
    let mut last_bundle = LastGoodBundle::new();
    let loaded = load::load_rules(&config, store.as_ref(), &mut last_bundle)?;
    let rules = Arc::clone(&loaded.rules);
    check_bindings(&config, &rules)?;
    let state = state::open(&config.state_directory, options.reset_state)?;
    match state.origin {
        StateOrigin::Restored => {}
        StateOrigin::FirstStart => {
            tracing::warn!(target: "bulkhead::daemon", directory = %config.state_directory.display(), "first start: empty state created")
        }
        StateOrigin::Reset => {
            tracing::warn!(target: "bulkhead::daemon", directory = %config.state_directory.display(), "--reset-state: old state moved aside, starting fresh")
        }
    }
    let mut engine = Engine::with_freshness(Arc::clone(&rules), &state.snapshot)?;
    for (kind, key, mark) in state.marks.marks().iter() {
        if kind == MarkKind::Receive {
            engine.restore_link_high_water(key, mark);
        }
    }
    if let Some(store) = &store {
        let report = engine.install_keys(store as &dyn KeyStore);
        tracing::info!(target: "bulkhead::daemon", link_keys = report.link_keys, revoked = report.revoked, missing_secoc = ?report.missing_secoc, "keys installed");
    }

    let mut read_paths = config.read_paths();
    read_paths.extend(rules.dbcs.iter().map(|d| PathBuf::from(d.source.as_ref())));
    let mut write_paths = vec![config.state_directory.clone()];
    write_paths.extend(config.management_socket.parent().map(Path::to_path_buf));
    write_paths.extend(config.record.iter().cloned());
    let sandbox =
        privileges::restrict_filesystem(&privileges::parents(&read_paths), &privileges::parents(&write_paths))?;
    match sandbox {
        Sandbox::Full => tracing::info!(target: "bulkhead::daemon", "landlock: file system restricted"),
        Sandbox::Partial => tracing::warn!(target: "bulkhead::daemon", "landlock: partially enforced (older kernel)"),
        Sandbox::Unsupported => {
            tracing::warn!(target: "bulkhead::daemon", "landlock: not supported by this kernel, file system not restricted")
        }
    }

    let socket_path = config.management_socket.clone();
    let result = serve(config, engine, store, last_bundle, state, early, notifier);
    let _ = std::fs::remove_file(&socket_path);
    result
}

fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(std::io::stderr)
        .try_init();
}

fn open_early_sockets(config: &Config) -> Result<EarlySockets, DaemonError> {
    let mut udp = Vec::new();
    for binding in &config.ports {
        if let Some(address) = binding.listen {
            let socket = std::net::UdpSocket::bind(address).map_err(|source| DaemonError::Socket {
                what: format!("port {}: UDP {address}", binding.name),
                source,
            })?;
            socket
                .set_nonblocking(true)
                .map_err(|source| DaemonError::Socket { what: format!("port {}", binding.name), source })?;
            if let Some(size) = binding.receive_buffer {
                let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&socket, size);
            }
            udp.push((binding.name.clone(), socket));
        }
    }
    let path = &config.management_socket;
    let socket_error = |source| DaemonError::Socket { what: format!("management socket {}", path.display()), source };
    if let Some(dir) = path.parent()
        && !dir.exists()
    {
        std::fs::DirBuilder::new().recursive(true).create(dir).map_err(socket_error)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750)).map_err(socket_error)?;
    }
    // A socket file left by a crash: remove it only if nothing answers on it.
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(socket_error(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another bulkhead daemon answers on it",
            )));
        }
        std::fs::remove_file(path).map_err(socket_error)?;
    }
    let management = std::os::unix::net::UnixListener::bind(path).map_err(socket_error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(socket_error)?;
    management.set_nonblocking(true).map_err(socket_error)?;
    let metrics = match config.metrics {
        Some(address) => {
            let listener = std::net::TcpListener::bind(address)
                .map_err(|source| DaemonError::Socket { what: format!("metrics {address}"), source })?;
            listener
                .set_nonblocking(true)
                .map_err(|source| DaemonError::Socket { what: format!("metrics {address}"), source })?;
            Some(listener)
        }
        None => None,
    };
    Ok(EarlySockets { udp, management, metrics })
}

/// Every port binding of the configuration must name a port of the rules, with the right kind of binding.
fn check_bindings(config: &Config, rules: &CompiledRules) -> Result<(), DaemonError> {
    let invalid = |binding: &config::PortBinding, message: String| {
        DaemonError::Config(ConfigError::Invalid(Box::new(Diagnostic::error(binding.location.clone(), message))))
    };
    for binding in &config.ports {
        let Some(port) = rules.port_by_name(&binding.name).and_then(|id| rules.port(id)) else {
            let names: Vec<&str> = rules.ports.iter().map(|p| p.name.as_str()).collect();
            return Err(invalid(
                binding,
                format!("the rules have no port `{}` (they have: {})", binding.name, names.join(", ")),
            ));
        };
        match (port.medium, binding.listen.is_some(), binding.interface.is_some()) {
            (Medium::Ethernet, _, true) => {
                return Err(invalid(
                    binding,
                    format!("port `{}` is Ethernet: give `listen`, not `interface`", port.name),
                ));
            }
            (Medium::Can | Medium::CanFd, true, _) => {
                return Err(invalid(binding, format!("port `{}` is CAN: give `interface`, not `listen`", port.name)));
            }
            _ => {}
        }
    }
    Ok(())
}

fn serve(
    config: Config,
    engine: Engine,
    store: Option<crate::keys::FileKeyStore>,
    last_bundle: LastGoodBundle,
    state: state::State,
    early: EarlySockets,
    notifier: Notifier,
) -> Result<(), DaemonError> {
    let rules = Arc::clone(engine.rules());
    let started = Instant::now();
    let (poller, waker) =
        Poller::new(TIMER_TICK).map_err(|source| DaemonError::Socket { what: "epoll".to_owned(), source })?;
    let mut udp = early.udp;
    let marks = state.marks.marks().clone();
    let send_mark = |key| marks.get(MarkKind::Send, key);
    let mut port_io = Vec::new();
    let mut down_at_start = Vec::new();
    for (index, port) in rules.ports.iter().enumerate() {
        let id = crate::rules::PortId(index as u8);
        let binding = config.port(&port.name);
        let socket_error = |source| DaemonError::Socket { what: format!("port {}", port.name), source };
        let io = match port.medium {
            Medium::Ethernet => match udp.iter().position(|(name, _)| name == &port.name) {
                Some(i) => {
                    let (_, socket) = udp.swap_remove(i);
                    poller.add(&socket, index).map_err(socket_error)?;
                    let store = store.as_ref().map(|s| s as &dyn KeyStore);
                    PortIo::Link(LinkPort {
                        socket,
                        peers: ports::build_peers(&rules, id, store, &send_mark, Vec::new()),
                    })
                }
                None => {
                    tracing::warn!(target: "bulkhead::daemon", port = %port.name, "Ethernet port not bound (no `listen` in the configuration): its frames are dropped");
                    PortIo::Unbound
                }
            },
            Medium::Can | Medium::CanFd => {
                let interface = binding.and_then(|b| b.interface.clone()).or_else(|| port.interface.clone());
                match interface {
                    Some(interface) => {
                        let mut can = CanPort {
                            interface,
                            filters: super::can_io::receive_filters(port),
                            receive_buffer: binding.and_then(|b| b.receive_buffer),
                            socket: None,
                            egress: BoundedQueue::new(ports::EGRESS_CAPACITY),
                        };
                        match can.open() {
                            Ok(()) => {
                                if let Some(socket) = &can.socket {
                                    poller.add(socket, index).map_err(socket_error)?;
                                }
                            }
                            Err(error) => {
                                tracing::error!(target: "bulkhead::daemon", port = %port.name, interface = %can.interface, error = %error, "CAN port down at start; retrying while the daemon runs");
                                down_at_start.push((index, error.to_string()));
                            }
                        }
                        PortIo::Can(can)
                    }
                    None => {
                        tracing::warn!(target: "bulkhead::daemon", port = %port.name, "CAN port without an interface: its frames are dropped");
                        PortIo::Unbound
                    }
                }
            }
        };
        port_io.push(io);
    }

    let mut gateway =
        Gateway::new(config.clone(), engine, store, last_bundle, state.freshness, state.marks, port_io, started);
    gateway.poller = Some(poller);
    for (index, error) in down_at_start {
        gateway.stats.port_down[index] = Some(error);
        gateway.stats.down_pending[index] = true;
    }
    if let Some(path) = &config.record {
        let base = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        gateway.recorder = Some(
            Recorder::open(path, base)
                .map_err(|source| DaemonError::Socket { what: format!("record file {}", path.display()), source })?,
        );
    }

    let (control, messages) = Control::new(waker);
    let own_uid = nix::unistd::geteuid().as_raw();
    server::spawn(early.management, early.metrics, control, own_uid)
        .map_err(|source| DaemonError::Socket { what: "management thread".to_owned(), source })?;

    let watchdog = notify::watchdog_interval().map(|i| i / 2);
    let mut last_ping = Instant::now();
    let _ = notifier.notify(&notify::ready_message(&format!("forwarding with rules `{}`", rules.name)));
    let _ = notifier.notify("WATCHDOG=1");
    tracing::info!(target: "bulkhead::daemon", rules = %rules.name, ports = rules.ports.len(), pid = std::process::id(), "ready");

    let mut ready = Ready::default();
    let mut hostile_left = false;
    'serve: while let Some(poller) = gateway.poller.as_mut() {
        poller
            .wait(hostile_left, &mut ready)
            .map_err(|source| DaemonError::Socket { what: "epoll".to_owned(), source })?;
        gateway.read_ports(&ready.ports);
        hostile_left = gateway.has_work() && gateway.process();
        if ready.tick {
            gateway.on_tick();
            if let Some(half) = watchdog
                && last_ping.elapsed() >= half
            {
                let _ = notifier.notify("WATCHDOG=1");
                last_ping = Instant::now();
            }
        }
        if ready.wake {
            while let Ok(message) = messages.try_recv() {
                match message {
                    Message::Stop => break 'serve,
                    Message::Reload => {
                        reload(&mut gateway, &notifier);
                    }
                    Message::Request(command) => {
                        let reply = if command.request.command == "reload" {
                            super::ops::Reply::Json(reload(&mut gateway, &notifier))
                        } else {
                            gateway.command(&command.request)
                        };
                        let _ = command.reply.send(reply);
                    }
                }
            }
        }
    }
    let _ = notifier.notify("STOPPING=1");
    gateway.drain_engine();
    if let Some(recorder) = &mut gateway.recorder {
        let _ = recorder.flush();
    }
    tracing::info!(target: "bulkhead::daemon", "stopped");
    Ok(())
}

fn reload(gateway: &mut Gateway, notifier: &Notifier) -> serde_json::Value {
    let _ = notifier.notify(&notify::reloading_message());
    let outcome = gateway.reload();
    let status = if outcome["ok"] == true { "reloaded" } else { "reload refused, running the last good rules" };
    let _ = notifier.notify(&notify::ready_message(status));
    outcome
}
