//! Test harness for the live daemon: a scratch directory with a fresh key set
//! for the reference rules (and a trusted bundle signing key), a
//! configuration binding the infotainment port to a free UDP port on
//! loopback, the real `bulkhead run` as a child process, and a client of its
//! management socket. No CAN interface is needed: CAN ports are down (the
//! daemon retries them), the link and the management socket work.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bulkhead::frame::{CanId, Frame};
use bulkhead::keys::{
    self, Direction, FileKeyStore, FileKeyStoreConfig, KeyStore, KeygenOptions, LinkSuite, Overwrite,
};
use bulkhead::link::{self, LinkSender};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_bulkhead");

/// A scratch installation of the daemon.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub keys: PathBuf,
    pub state: PathBuf,
    pub socket: PathBuf,
    pub rules: PathBuf,
    pub link: SocketAddr,
    pub signing_key: PathBuf,
    pub stranger_key: PathBuf,
}

fn free_udp_port() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr")
}

impl Setup {
    /// Keys, a copy of the reference rules (so a test may break them), a configuration.
    pub fn new(extra_config: &str) -> Setup {
        Setup::with_keys_section("", extra_config)
    }

    /// As [`Setup::new`], with more lines in the `[keys]` section.
    pub fn with_keys_section(keys_extra: &str, extra_config: &str) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let keys_dir = dir.path().join("keys");
        std::fs::create_dir(&keys_dir).expect("keys dir");
        std::fs::set_permissions(&keys_dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");
        let options = KeygenOptions { overwrite: Overwrite::Refuse, revocation_list: None };
        for name in ["drive-das", "drive-di", "body-gateway"] {
            keys::generate_secoc_key(name, &keys_dir.join(format!("secoc-{name}.key")), &options).expect("secoc key");
        }
        for device in ["head-unit", "phone-app", "media-player"] {
            for (direction, tag) in [(Direction::DeviceToGateway, "in"), (Direction::GatewayToDevice, "out")] {
                let path = keys_dir.join(format!("link-{device}-{tag}.key"));
                keys::generate_link_key(device, LinkSuite::Aes128Gcm, direction, &path, &options).expect("link key");
            }
        }
        let signing_key = dir.path().join("operator.key");
        keys::generate_signing_key(&signing_key, &keys_dir.join("operator.pub"), Overwrite::Refuse).expect("signing");
        let stranger_key = dir.path().join("stranger.key");
        keys::generate_signing_key(&stranger_key, &dir.path().join("stranger.pub"), Overwrite::Refuse)
            .expect("signing");

        let rules_dir = dir.path().join("rules");
        let dbc_dir = dir.path().join("dbc");
        std::fs::create_dir(&rules_dir).expect("rules dir");
        std::fs::create_dir(&dbc_dir).expect("dbc dir");
        std::fs::copy(root.join("rules/vehicle.toml"), rules_dir.join("vehicle.toml")).expect("copy rules");
        for dbc in ["drive.dbc", "body.dbc", "uds.dbc"] {
            std::fs::copy(root.join("dbc").join(dbc), dbc_dir.join(dbc)).expect("copy dbc");
        }
        let link = free_udp_port();
        let config = dir.path().join("gateway.toml");
        std::fs::write(
            &config,
            format!(
                "[rules]\nfiles = [\"rules/vehicle.toml\"]\n[keys]\ndirectory = \"keys\"\n{keys_extra}[state]\ndirectory = \"state\"\n\
                 [ports.infotainment]\nlisten = \"{link}\"\n[management]\nsocket = \"run/bulkhead.sock\"\n{extra_config}"
            ),
        )
        .expect("config");
        Setup {
            config,
            keys: keys_dir,
            state: dir.path().join("state"),
            socket: dir.path().join("run/bulkhead.sock"),
            rules: rules_dir.join("vehicle.toml"),
            link,
            signing_key,
            stranger_key,
            dir,
        }
    }

    /// Starts `bulkhead run` with this configuration.
    pub fn start(&self, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let log = self.dir.path().join(format!("daemon-{}.log", Instant::now().elapsed().as_nanos()));
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(BIN);
        command.arg("run").arg("--config").arg(&self.config).args(args);
        command.env_remove("NOTIFY_SOCKET").env_remove("WATCHDOG_USEC").env_remove("WATCHDOG_PID");
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr).spawn().expect("spawn daemon");
        let daemon = Daemon { child, log, socket: self.socket.clone() };
        daemon.wait_ready();
        daemon
    }

    /// Runs `bulkhead run` expecting it to fail at start; returns its stderr.
    pub fn start_failure(&self, args: &[&str]) -> String {
        let output = Command::new(BIN)
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        assert!(!output.status.success(), "the daemon should refuse to start");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// The key store of the scratch installation (device keys for sealing).
    pub fn store(&self) -> FileKeyStore {
        FileKeyStore::load(FileKeyStoreConfig::new(&self.keys)).expect("key store")
    }

    /// A sender as `device` starting at packet number `pn`.
    pub fn device_sender(&self, device: &str, pn: u64) -> LinkSender {
        let store = self.store();
        let info = store
            .link_keys()
            .into_iter()
            .find(|i| i.device.as_str() == device && i.direction == Direction::DeviceToGateway)
            .expect("device key");
        let key = store.link_key(info.id).expect("key");
        let prepared = link::LinkKey::new(key.suite(), key.secret().expose(), device).expect("prepared");
        LinkSender::new(info.id, prepared, pn).expect("sender")
    }
}

/// Seals `frames` with `sender` into datagram bytes.
pub fn seal(sender: &mut LinkSender, frames: &[Frame]) -> Vec<u8> {
    let mut buf = vec![0u8; link::MAX_DATAGRAM_LEN];
    let sealed = sender.seal(frames, &mut buf).expect("seal");
    buf.truncate(sealed.len);
    buf
}

/// A climate request of the head unit (HVAC_Cmd 0x340): valid content, its counter and checksum set.
pub fn climate_request(counter: u64) -> Frame {
    static RULES: std::sync::OnceLock<bulkhead::rules::CompiledRules> = std::sync::OnceLock::new();
    let rules = RULES.get_or_init(|| bulkhead::rules::reference().expect("rules").0);
    let port = rules.port_by_name("infotainment").expect("port");
    let id = CanId::standard(0x340).expect("id");
    let slot = rules.slots.iter().find(|s| s.port == port && s.id == id).expect("slot");
    let codec = slot.codec.as_ref().expect("codec");
    let mut data = vec![0u8; codec.size()];
    for (name, value) in [("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0), ("FanSpeed", 2.0)] {
        let signal = codec.signal_index(name).and_then(|i| codec.signal(i)).expect("signal");
        signal.encode_physical(value, &mut data).expect("encode");
    }
    slot.protect(&mut data, counter);
    Frame::classic(id, &data).expect("frame")
}

/// A running daemon (killed when dropped).
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
    pub socket: PathBuf,
}

impl Daemon {
    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            // The socket is bound before the rules and state are loaded: wait for an answer.
            if let Ok(stream) = UnixStream::connect(&self.socket) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut writer = stream.try_clone().expect("clone");
                let mut line = String::new();
                if writer.write_all(b"{\"command\":\"status\"}\n").is_ok()
                    && BufReader::new(stream).read_line(&mut line).is_ok()
                    && line.contains("\"ok\":true")
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the daemon did not open its management socket within 20 s; log:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One request on a fresh connection.
    pub fn ask(&self, request: Value) -> Value {
        let mut client = Client::connect(&self.socket);
        client.ask(&request)
    }

    pub fn status(&self) -> Value {
        self.ask(json!({ "command": "status" }))
    }

    /// Waits until `check(status)` holds (or panics with the last status after 10 s).
    pub fn wait_status(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let status = self.status();
            if check(&status) {
                return status;
            }
            if start.elapsed() > Duration::from_secs(10) {
                panic!("{what}: not reached within 10 s; status: {status:#}\nlog:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid() as i32), signal).expect("kill");
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "the daemon did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to the management socket.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    pub fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path).expect("connect to the management socket");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let writer = stream.try_clone().expect("clone");
        Client { reader: BufReader::new(stream), writer }
    }

    pub fn ask(&mut self, request: &Value) -> Value {
        self.writer.write_all(format!("{request}\n").as_bytes()).expect("write");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("answer {line:?} is not JSON: {e}"))
    }
}

/// Sends datagram bytes to the daemon's link port.
pub fn send_datagram(to: SocketAddr, bytes: &[u8]) {
    UdpSocket::bind("127.0.0.1:0").expect("bind").send_to(bytes, to).expect("send");
}

/// The count of a link drop reason in a status.
pub fn link_dropped(status: &Value, reason: &str) -> u64 {
    status["link"]["dropped"][reason].as_u64().unwrap_or(0)
}

/// The engine's count of a drop reason in a status.
pub fn dropped(status: &Value, reason: &str) -> u64 {
    status["counters"]["by_reason"][reason].as_u64().unwrap_or(0)
}

/// The counts of a route in a status.
pub fn route(status: &Value, name: &str) -> (u64, u64) {
    let route =
        status["routes"].as_array().and_then(|r| r.iter().find(|r| r["name"] == name)).cloned().unwrap_or_default();
    (route["forwarded"].as_u64().unwrap_or(0), route["dropped"].as_u64().unwrap_or(0))
}
