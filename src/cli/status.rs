//! `bulkhead status`: asks a running daemon over its management socket.
//!
//! Without options it prints a summary (or the whole status as JSON with
//! `--json`, every second with `--watch`); `--reload` asks for a reload and
//! `--reset-mode --key SECRET.key` sends the signed command that returns the
//! gateway to normal mode (challenge, Ed25519 signature, see docs/daemon.md).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use bulkhead::daemon::control;
use serde_json::{Value, json};

/// Where the packaged service puts the socket.
const DEFAULT_SOCKET: &str = "/run/bulkhead/bulkhead.sock";

#[derive(clap::Args)]
pub struct Args {
    /// The daemon's management socket (default: the one `--config` names, else /run/bulkhead/bulkhead.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Find the socket in this daemon configuration file.
    #[arg(long, short, value_name = "FILE", conflicts_with = "socket")]
    config: Option<PathBuf>,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
    /// Print the status again every second until interrupted.
    #[arg(long, conflicts_with_all = ["reload", "reset_mode", "metrics"])]
    watch: bool,
    /// Ask the daemon to reload keys and rules (as SIGHUP does).
    #[arg(long, conflicts_with_all = ["reset_mode", "metrics"])]
    reload: bool,
    /// Return the gateway to normal mode: signed with --key.
    #[arg(long, requires = "key", conflicts_with = "metrics")]
    reset_mode: bool,
    /// A bundle signing key (`bulkhead keygen signing`) whose public key the gateway trusts.
    #[arg(long, value_name = "SECRET.key")]
    key: Option<PathBuf>,
    /// Print the Prometheus metrics.
    #[arg(long)]
    metrics: bool,
}

/// One connection to the daemon.
struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    fn connect(path: &Path) -> anyhow::Result<Self> {
        let stream = UnixStream::connect(path)
            .with_context(|| format!("cannot connect to the daemon's management socket {}", path.display()))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let writer = stream.try_clone()?;
        Ok(Client { reader: BufReader::new(stream), writer })
    }

    fn ask(&mut self, request: &Value) -> anyhow::Result<Value> {
        // A daemon that refuses the peer answers and closes before reading:
        // the write may fail, the refusal is still there to read.
        let sent = self.writer.write_all(format!("{request}\n").as_bytes());
        let mut line = String::new();
        let read = self.reader.read_line(&mut line);
        match (read, sent) {
            (Ok(n), _) if n > 0 => serde_json::from_str(&line).context("the daemon's answer is not JSON"),
            (_, Err(e)) => bail!("cannot send the request to the daemon: {e}"),
            (Err(e), Ok(())) => bail!("no answer from the daemon: {e}"),
            (Ok(_), Ok(())) => bail!("the daemon closed the connection without answering"),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let socket = match (&args.socket, &args.config) {
        (Some(socket), _) => socket.clone(),
        (None, Some(config)) => bulkhead::daemon::config::load(config)?.management_socket,
        (None, None) => PathBuf::from(DEFAULT_SOCKET),
    };
    let mut client = Client::connect(&socket)?;
    if args.reload {
        return finish(client.ask(&json!({ "command": "reload" }))?, args.json, |v| {
            format!("reloaded: rules `{}`", v["reload"]["rules"].as_str().unwrap_or("?"))
        });
    }
    if args.reset_mode {
        let key_path = args.key.as_deref().context("--reset-mode needs --key")?;
        let key = bulkhead::keys::load_signing_key(key_path)?;
        let challenge = client.ask(&json!({ "command": "challenge" }))?;
        let nonce: [u8; 32] = control::unhex(challenge["nonce"].as_str())
            .with_context(|| format!("the daemon gave no challenge: {challenge}"))?;
        let answer = client.ask(&control::signed_request(&key, "reset-mode", &nonce))?;
        return finish(answer, args.json, |v| format!("mode: {}", v["mode"].as_str().unwrap_or("?")));
    }
    if args.metrics {
        let answer = client.ask(&json!({ "command": "metrics" }))?;
        return finish(answer, args.json, |v| v["metrics"].as_str().unwrap_or("").trim_end().to_owned());
    }
    loop {
        let status = client.ask(&json!({ "command": "status" }))?;
        if args.json {
            println!("{status}");
        } else {
            print!("{}", render(&status));
        }
        std::io::stdout().flush()?;
        if !args.watch {
            return Ok(if status["ok"] == true { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        std::thread::sleep(Duration::from_secs(1));
        if !args.json {
            println!();
        }
    }
}

fn finish(answer: Value, as_json: bool, text: impl Fn(&Value) -> String) -> anyhow::Result<ExitCode> {
    if as_json {
        println!("{answer}");
    } else if answer["ok"] == true {
        println!("{}", text(&answer));
    } else {
        eprintln!("refused: {}", answer["error"].as_str().unwrap_or("(no reason given)"));
    }
    Ok(if answer["ok"] == true { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A summary for people.
fn render(status: &Value) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if status["ok"] != true {
        let _ = writeln!(out, "error: {}", status["error"].as_str().unwrap_or("?"));
        return out;
    }
    let num = |v: &Value| v.as_u64().unwrap_or(0);
    let _ = writeln!(
        out,
        "{} (pid {}, up {:.0} s): mode {}{}",
        status["gateway"].as_str().unwrap_or("?"),
        status["pid"],
        status["uptime_s"].as_f64().unwrap_or(0.0),
        status["mode"].as_str().unwrap_or("?"),
        status["mode_cause"].as_str().map(|c| format!(" ({c})")).unwrap_or_default(),
    );
    let c = &status["counters"];
    let _ = writeln!(
        out,
        "frames {}  forwarded {}  dropped {}",
        num(&c["frames"]),
        num(&c["forwarded"]),
        num(&c["dropped"])
    );
    if let Some(reasons) = c["by_reason"].as_object() {
        let nonzero: Vec<String> =
            reasons.iter().filter(|(_, n)| num(n) > 0).map(|(r, n)| format!("{r} {}", num(n))).collect();
        if !nonzero.is_empty() {
            let _ = writeln!(out, "drops: {}", nonzero.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "{:<14} {:<9} {:<8} {:<6} {:>10} {:>10} {:>10} {:>9}",
        "port", "medium", "trust", "state", "received", "dropped", "sent", "frames/s"
    );
    for p in status["ports"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:<14} {:<9} {:<8} {:<6} {:>10} {:>10} {:>10} {:>9.1}",
            p["name"].as_str().unwrap_or("?"),
            p["medium"].as_str().unwrap_or("?"),
            p["trust"].as_str().unwrap_or("?"),
            p["state"].as_str().unwrap_or("?"),
            num(&p["received"]),
            num(&p["dropped"]),
            num(&p["sent"]),
            p["load_fps"].as_f64().unwrap_or(0.0),
        );
    }
    let link = &status["link"];
    let _ = writeln!(
        out,
        "link: {} datagrams accepted, {} sent",
        num(&link["accepted_datagrams"]),
        num(&link["sent_datagrams"])
    );
    let r = &status["reloads"];
    let _ = writeln!(out, "reloads: {} ok, {} refused", num(&r["ok"]), num(&r["refused"]));
    if let Some(error) = r["last_error"].as_str() {
        let _ = writeln!(out, "last refused reload: {error}");
    }
    let events = status["events"]["recent"].as_array().cloned().unwrap_or_default();
    if !events.is_empty() {
        let _ = writeln!(out, "recent events:");
        for e in events.iter().rev().take(10) {
            let _ = writeln!(out, "  {e}");
        }
    }
    out
}
