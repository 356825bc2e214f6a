//! A small peer of the live gateway for end-to-end tests (`tests/vcan/daemon_*.sh`):
//! builds valid frames of the reference vehicle (alive counter, checksum, and
//! SecOC where the rules secure the id) for `cansend`, and plays a device of
//! the Ethernet link (sealed datagrams out, the gateway's telemetry in).
//!
//! ```text
//! daemon_peer frame --message VCU_Speed --counter 3 [--signal VehicleSpeed=42] [--keys DIR --freshness N]
//! daemon_peer send --keys DIR --device head-unit --to 127.0.0.1:47800 --pn 1 --frame 3A0#0102 [--save FILE]
//!                  [--count N] [--listen-ms MS]
//! daemon_peer resend --to 127.0.0.1:47800 FILE
//! ```
//!
//! `frame` prints `ID#HEX` (`ID##1HEX` for CAN FD). `send` seals the frames
//! with the device's device-to-gateway key under packet number `--pn` (then
//! `--pn + 1`... for `--count` datagrams), optionally keeps the first datagram
//! in `--save`, then listens on the same socket for `--listen-ms` and prints
//! every frame the gateway sealed back to the device (`rx ID#HEX`), opened
//! with the device's gateway-to-device key. `resend` sends saved bytes again
//! (a replay). Simulation keys only.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::keys::{Direction, FileKeyStore, FileKeyStoreConfig, KeyStore};
use bulkhead::link::{self, LinkReceiver, LinkSender, MemoryKeys};
use bulkhead::rules::Medium;
use bulkhead::secoc::{CounterKey, ManagerConfig, SecOcKey, SecOcManager, SenderConfig, Snapshot};
use clap::Parser;

#[derive(Parser)]
enum Command {
    /// Print a valid frame of the reference vehicle for cansend.
    Frame {
        /// The DBC message.
        #[arg(long)]
        message: String,
        /// The port it is sent on (default: the first port whose DBC has it).
        #[arg(long)]
        port: Option<String>,
        /// The alive counter value.
        #[arg(long, default_value_t = 0)]
        counter: u64,
        /// Physical signal values, NAME=VALUE.
        #[arg(long = "signal")]
        signals: Vec<String>,
        /// Key directory (for SecOC-secured messages).
        #[arg(long)]
        keys: Option<PathBuf>,
        /// SecOC freshness: the frame is signed with the value right after this one.
        #[arg(long, default_value_t = 0)]
        freshness: u64,
    },
    /// Seal frames as a device of the link and send them to the gateway.
    Send {
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        device: String,
        #[arg(long)]
        to: SocketAddr,
        #[arg(long)]
        pn: u64,
        #[arg(long = "frame", required = true)]
        frames: Vec<String>,
        #[arg(long, default_value_t = 1)]
        count: u64,
        #[arg(long)]
        save: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        listen_ms: u64,
    },
    /// Send the bytes of a saved datagram again.
    Resend {
        #[arg(long)]
        to: SocketAddr,
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Command::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("daemon_peer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Frame { message, port, counter, signals, keys, freshness } => {
            let frame = build_frame(&message, port.as_deref(), counter, &signals, keys, freshness)?;
            println!("{}", candump(&frame));
            Ok(())
        }
        Command::Send { keys, device, to, pn, frames, count, save, listen_ms } => {
            let store = FileKeyStore::load(FileKeyStoreConfig::new(&keys))?;
            let frames: Vec<Frame> = frames.iter().map(|f| parse_frame(f)).collect::<Result<_, _>>()?;
            let (key_id, key) = link_key(&store, &device, Direction::DeviceToGateway)?;
            let mut sender = LinkSender::new(key_id, key, pn)?;
            let socket = UdpSocket::bind("127.0.0.1:0")?;
            let mut buf = vec![0u8; link::MAX_DATAGRAM_LEN];
            for i in 0..count {
                let sealed = sender.seal(&frames, &mut buf)?;
                let bytes = buf.get(..sealed.len).context("sealed length")?;
                socket.send_to(bytes, to)?;
                if i == 0
                    && let Some(path) = &save
                {
                    std::fs::write(path, bytes)?;
                }
            }
            if listen_ms > 0 {
                listen(&store, &device, &socket, Duration::from_millis(listen_ms))?;
            }
            Ok(())
        }
        Command::Resend { to, file } => {
            let bytes = std::fs::read(&file)?;
            UdpSocket::bind("127.0.0.1:0")?.send_to(&bytes, to)?;
            Ok(())
        }
    }
}

fn listen(store: &FileKeyStore, device: &str, socket: &UdpSocket, duration: Duration) -> anyhow::Result<()> {
    let (key_id, key) = link_key(store, device, Direction::GatewayToDevice)?;
    let mut keys = MemoryKeys::new();
    keys.insert(key_id, key)?;
    let mut receiver = LinkReceiver::new();
    let end = Instant::now() + duration;
    let mut buf = vec![0u8; 2048];
    while let Some(left) = end.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
        socket.set_read_timeout(Some(left))?;
        let Ok((n, _)) = socket.recv_from(&mut buf) else { break };
        match receiver.open(&keys, buf.get(..n).unwrap_or(&[])) {
            Ok(opened) => {
                for frame in opened.frames() {
                    println!("rx {}", candump(frame));
                }
            }
            Err(reason) => println!("rx-dropped {}", reason.name()),
        }
    }
    Ok(())
}

fn link_key(store: &FileKeyStore, device: &str, direction: Direction) -> anyhow::Result<(link::KeyId, link::LinkKey)> {
    let info = store
        .link_keys()
        .into_iter()
        .find(|i| i.device.as_str() == device && i.direction == direction)
        .with_context(|| format!("no {direction} link key of device {device}"))?;
    let key = store.link_key(info.id)?;
    Ok((info.id, link::LinkKey::new(key.suite(), key.secret().expose(), device)?))
}

fn build_frame(
    message: &str,
    port: Option<&str>,
    counter: u64,
    signals: &[String],
    keys: Option<PathBuf>,
    freshness: u64,
) -> anyhow::Result<Frame> {
    let (rules, _) = bulkhead::rules::reference()?;
    let slot = rules
        .slots
        .iter()
        .find(|s| {
            s.codec.as_ref().is_some_and(|c| c.name() == message)
                && port.is_none_or(|p| rules.port(s.port).is_some_and(|port| port.name == p))
        })
        .with_context(|| format!("no message {message} on a port of the reference rules"))?;
    let codec = slot.codec.as_ref().context("codec")?;
    let mut data = vec![0u8; codec.size()];
    for assignment in signals {
        let (name, value) = assignment.split_once('=').context("--signal NAME=VALUE")?;
        let signal =
            codec.signal_index(name).and_then(|i| codec.signal(i)).with_context(|| format!("no signal {name}"))?;
        signal.encode_physical(value.parse()?, &mut data).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    slot.protect(&mut data, counter);
    let fd = data.len() > 8;
    let Some(secured) = slot.secured.and_then(|i| rules.secured.get(i)) else {
        return Ok(if fd {
            Frame::fd(slot.id, &data, FdFlags { brs: true, esi: false })?
        } else {
            Frame::classic(slot.id, &data)?
        });
    };
    let dir = keys.context("a SecOC-secured message needs --keys")?;
    let store = FileKeyStore::load(FileKeyStoreConfig::new(&dir))?;
    let key = store.secoc_key(&secured.key).with_context(|| format!("no SecOC key {}", secured.key))?;
    let mut config = ManagerConfig::default();
    let fd_flags = (secured.profile.layout().frame_len() > 8
        || rules.port(secured.port).is_some_and(|p| p.medium == Medium::CanFd))
    .then_some(FdFlags { brs: true, esi: false });
    config.senders.push(SenderConfig {
        id: secured.id,
        profile: secured.profile,
        key: Some(SecOcKey::new(*key.secret().expose())),
        fd: fd_flags,
    });
    let mut snapshot = Snapshot::new();
    snapshot.set(CounterKey::send(secured.profile.layout().data_id()), freshness);
    let mut manager = SecOcManager::new(config, &snapshot)?;
    while let Some(s) = manager.persist_request() {
        manager.confirm_persisted(&s);
    }
    let range = secured.profile.layout().payload();
    let payload = data.get(range.offset()..range.end()).context("payload range")?;
    Ok(manager.authenticate_next(secured.id, payload)?)
}

fn parse_frame(text: &str) -> anyhow::Result<Frame> {
    let (id, rest) = text.split_once('#').context("a frame is ID#HEX")?;
    let raw = u32::from_str_radix(id, 16)?;
    let id = if id.len() > 3 { CanId::extended(raw)? } else { CanId::standard(raw)? };
    let (fd, hex) = match rest.strip_prefix('#') {
        Some(fd) => (true, fd.get(1..).unwrap_or("")),
        None => (false, rest),
    };
    if hex.len() % 2 != 0 {
        bail!("odd number of hex digits in {text}");
    }
    let data: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or(""), 16))
        .collect::<Result<_, _>>()?;
    Ok(if fd { Frame::fd(id, &data, FdFlags { brs: true, esi: false })? } else { Frame::classic(id, &data)? })
}

fn candump(frame: &Frame) -> String {
    let mut out = Vec::new();
    let _ = bulkhead::daemon::record::write_frame(&mut out, frame);
    String::from_utf8_lossy(&out).into_owned()
}
