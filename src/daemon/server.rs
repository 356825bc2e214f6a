//! The management socket (Unix, JSON lines) and the optional Prometheus
//! endpoint (HTTP on loopback), as tasks that forward requests to the
//! gateway task over a bounded channel and wait for its answer. They never
//! touch the engine themselves.
//!
//! The Unix socket is created mode 0660 in a directory the daemon owns. Every
//! connection's peer credentials (`SO_PEERCRED`) are checked first: only root
//! and the daemon's own user are served; anyone else gets one refusal line
//! and is disconnected. Lines are limited to [`MAX_LINE`] bytes.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::control::Request;
use super::ops::Reply;

/// Longest request line accepted.
pub const MAX_LINE: usize = 64 * 1024;
/// Requests waiting for the gateway task at most.
pub const COMMAND_QUEUE: usize = 16;

/// A request for the gateway task and where to answer.
#[derive(Debug)]
pub struct Command {
    /// The request.
    pub request: Request,
    /// The answer goes here.
    pub reply: oneshot::Sender<Reply>,
}

/// Serves the management socket until the listener fails.
pub async fn serve_management(listener: UnixListener, commands: mpsc::Sender<Command>, own_uid: u32) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let commands = commands.clone();
        tokio::spawn(async move {
            let _ = connection(stream, commands, own_uid).await;
        });
    }
}

async fn connection(stream: UnixStream, commands: mpsc::Sender<Command>, own_uid: u32) -> std::io::Result<()> {
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
            Ok(request) => match ask(&commands, request).await {
                Some(Reply::Json(value)) => value,
                Some(Reply::Text(text)) => json!({ "ok": true, "metrics": text }),
                None => json!({ "ok": false, "error": "the gateway is shutting down" }),
            },
            Err(e) => json!({ "ok": false, "error": format!("not a request: {e}") }),
        };
        write.write_all(format!("{answer}\n").as_bytes()).await?;
    }
}

async fn ask(commands: &mpsc::Sender<Command>, request: Request) -> Option<Reply> {
    let (reply, answer) = oneshot::channel();
    commands.send(Command { request, reply }).await.ok()?;
    answer.await.ok()
}

/// Serves `GET /metrics` on a loopback TCP listener.
pub async fn serve_metrics(listener: TcpListener, commands: mpsc::Sender<Command>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let commands = commands.clone();
        tokio::spawn(async move {
            let mut head = Vec::with_capacity(1024);
            let mut buf = [0u8; 1024];
            let read_head = async {
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                    let n = stream.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    head.extend_from_slice(buf.get(..n).unwrap_or(&[]));
                }
                Ok::<_, std::io::Error>(())
            };
            if tokio::time::timeout(Duration::from_secs(5), read_head).await.is_err() {
                return;
            }
            let response = if head.starts_with(b"GET /metrics ") || head.starts_with(b"GET /metrics?") {
                let request = Request { command: "metrics".into(), nonce: None, public_key: None, signature: None };
                match ask(&commands, request).await {
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
