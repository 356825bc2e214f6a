//! The management thread: a single-threaded tokio runtime serving the
//! management socket (Unix, JSON lines), the optional Prometheus endpoint
//! (HTTP on loopback) and the signals (SIGTERM, SIGINT: stop; SIGHUP:
//! reload). Requests go to the gateway thread over a bounded channel, with a
//! wake-up byte for its epoll set, and the answer comes back on a oneshot
//! channel. Nothing here touches the engine.
//!
//! The Unix socket is created mode 0660 in a directory the daemon owns. Every
//! connection's peer credentials (`SO_PEERCRED`) are checked first: only root
//! and the daemon's own user are served; anyone else gets one refusal line
//! and is disconnected. Lines are limited to [`MAX_LINE`] bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;

use super::control::Request;
use super::ops::Reply;
use super::poller::Waker;

/// Longest request line accepted.
pub const MAX_LINE: usize = 64 * 1024;
/// Requests waiting for the gateway task at most.
pub const COMMAND_QUEUE: usize = 16;

/// A request for the gateway and where to answer.
#[derive(Debug)]
pub struct Command {
    /// The request.
    pub request: Request,
    /// The answer goes here.
    pub reply: oneshot::Sender<Reply>,
}

/// What the management thread hands the gateway thread.
#[derive(Debug)]
pub enum Message {
    /// A management request.
    Request(Command),
    /// SIGHUP.
    Reload,
    /// SIGTERM or SIGINT.
    Stop,
}

/// The management thread's end of the channel to the gateway.
#[derive(Clone, Debug)]
pub struct Control {
    tx: std::sync::mpsc::SyncSender<Message>,
    waker: Arc<Waker>,
}

impl Control {
    /// A channel of [`COMMAND_QUEUE`] messages and the gateway's receiving end.
    pub fn new(waker: Waker) -> (Control, std::sync::mpsc::Receiver<Message>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(COMMAND_QUEUE);
        (Control { tx, waker: Arc::new(waker) }, rx)
    }

    /// Queues `message` and wakes the gateway; false when the queue is full or the gateway gone.
    pub fn send(&self, message: Message) -> bool {
        let sent = self.tx.try_send(message).is_ok();
        self.waker.wake();
        sent
    }

    async fn ask(&self, request: Request) -> Option<Reply> {
        let (reply, answer) = oneshot::channel();
        if !self.send(Message::Request(Command { request, reply })) {
            return None;
        }
        answer.await.ok()
    }
}

/// Starts the management thread; returns once its signal handlers are installed.
pub fn spawn(
    management: std::os::unix::net::UnixListener,
    metrics: Option<std::net::TcpListener>,
    control: Control,
    own_uid: u32,
) -> std::io::Result<()> {
    let (started_tx, started_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
    std::thread::Builder::new().name("bulkhead-manage".to_owned()).spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_io().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = started_tx.send(Err(e));
                return;
            }
        };
        runtime.block_on(async move {
            let setup = async {
                let listener = UnixListener::from_std(management)?;
                tokio::spawn(serve_management(listener, control.clone(), own_uid));
                if let Some(metrics) = metrics {
                    tokio::spawn(serve_metrics(TcpListener::from_std(metrics)?, control.clone()));
                }
                Ok::<_, std::io::Error>((
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::interrupt())?,
                    signal(SignalKind::hangup())?,
                ))
            };
            let (mut terminate, mut interrupt, mut hangup) = match setup.await {
                Ok(signals) => {
                    let _ = started_tx.send(Ok(()));
                    signals
                }
                Err(e) => {
                    let _ = started_tx.send(Err(e));
                    return;
                }
            };
            loop {
                let message = tokio::select! {
                    _ = terminate.recv() => Message::Stop,
                    _ = interrupt.recv() => Message::Stop,
                    _ = hangup.recv() => Message::Reload,
                };
                control.send(message);
            }
        });
    })?;
    started_rx.recv().unwrap_or_else(|_| Err(std::io::Error::other("the management thread died at start")))
}

/// Accept errors in a row after which a listener gives up (logged; the
/// gateway keeps forwarding). There is no timer to back off with: the
/// runtime has no time driver, so that the frame path reads no clock.
const MAX_ACCEPT_ERRORS: u32 = 1000;
/// Metrics connections served at once at most (a silent client holds one).
const MAX_METRICS_CONNECTIONS: usize = 8;

/// Serves the management socket until the listener fails for good.
pub async fn serve_management(listener: UnixListener, commands: Control, own_uid: u32) {
    let mut errors = 0;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            errors += 1;
            if errors >= MAX_ACCEPT_ERRORS {
                tracing::error!(target: "bulkhead::daemon", "the management socket keeps failing; no longer accepting");
                return;
            }
            tokio::task::yield_now().await;
            continue;
        };
        errors = 0;
        let commands = commands.clone();
        tokio::spawn(async move {
            let _ = connection(stream, commands, own_uid).await;
        });
    }
}

async fn connection(stream: UnixStream, commands: Control, own_uid: u32) -> std::io::Result<()> {
    let allowed = stream.peer_cred().map(|cred| cred.uid() == 0 || cred.uid() == own_uid).unwrap_or(false);
    let (read, mut write) = stream.into_split();
    if !allowed {
        let refusal =
            json!({ "ok": false, "error": "permission denied: only root and the daemon's user may manage it" });
        write.write_all(format!("{refusal}\n").as_bytes()).await?;
        return Ok(());
    }
    let mut reader = BufReader::new(read).take(MAX_LINE as u64);
    let mut line = String::new();
    loop {
        line.clear();
        reader.set_limit(MAX_LINE as u64);
        let n = reader.read_line(&mut line).await?;
        if n == 0 {
            return Ok(());
        }
        if !line.ends_with('\n') && n >= MAX_LINE {
            let error = json!({ "ok": false, "error": format!("request longer than {MAX_LINE} bytes") });
            write.write_all(format!("{error}\n").as_bytes()).await?;
            return Ok(());
        }
        let answer = match serde_json::from_str::<Request>(line.trim()) {
            Ok(request) => match commands.ask(request).await {
                Some(Reply::Json(value)) => value,
                Some(Reply::Text(text)) => json!({ "ok": true, "metrics": text }),
                None => json!({ "ok": false, "error": "the gateway is busy or shutting down: try again" }),
            },
            Err(e) => json!({ "ok": false, "error": format!("not a request: {e}") }),
        };
        write.write_all(format!("{answer}\n").as_bytes()).await?;
    }
}

/// Serves `GET /metrics` on a loopback TCP listener.
pub async fn serve_metrics(listener: TcpListener, commands: Control) {
    let open = Arc::new(AtomicUsize::new(0));
    let mut errors = 0;
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            errors += 1;
            if errors >= MAX_ACCEPT_ERRORS {
                tracing::error!(target: "bulkhead::daemon", "the metrics listener keeps failing; no longer accepting");
                return;
            }
            tokio::task::yield_now().await;
            continue;
        };
        errors = 0;
        if open.load(Ordering::Relaxed) >= MAX_METRICS_CONNECTIONS {
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let guard = ConnectionGuard(Arc::clone(&open));
        let commands = commands.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let mut head = Vec::with_capacity(1024);
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or(&[])),
                }
            }
            let response = if head.starts_with(b"GET /metrics ") || head.starts_with(b"GET /metrics?") {
                let request = Request { command: "metrics".into(), nonce: None, public_key: None, signature: None };
                match commands.ask(request).await {
                    Some(Reply::Text(text)) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    ),
                    _ => {
                        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
                    }
                }
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
            };
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}

/// Counts an open metrics connection until dropped.
struct ConnectionGuard(Arc<AtomicUsize>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
