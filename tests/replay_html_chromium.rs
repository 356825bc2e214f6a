//! The HTML replay report in a real browser: the engine replays a synthetic
//! capture of the reference vehicle with attacks (flood, injection, markup in
//! a bus name), the page is rendered, and headless Chromium
//! - dumps the DOM after load: the charts are there with the expected numbers,
//!   ids, messages and transitions, the sorting script ran, the markup from
//!   the capture stayed text;
//! - takes a screenshot: a full, coloured page, not a blank one;
//! - writes a NetLog behind a proxy on a closed port: the page asked for
//!   nothing from the network (a control page with an external image shows
//!   the check does see requests), and the console has no error;
//! - clicks column headers (from a script added to a copy of the page): the
//!   tables sort, numbers descending first, text ascending, then reversed.
//!
//! Chromium comes from Debian (`scripts/setup-chromium`, run by this test when
//! `chromium` is not on the PATH; it needs root for apt-get).

mod common;
mod replay_report_support;

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bulkhead::replay::{self, NoSink, ReplayOptions, ReplayReport};
use replay_report_support::{EVIL_BUS, write_capture};
use serde_json::Value;

/// Longest a Chromium run may take.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(120);
/// Screenshot size.
const WINDOW: (u32, u32) = (1200, 2600);

/// `chromium` on the PATH, installing it with `scripts/setup-chromium` if missing.
fn chromium() -> PathBuf {
    let find = || {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join("chromium")).find(|c| c.is_file()))
            .unwrap_or_default()
    };
    if let Some(found) = find() {
        return found;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup-chromium");
    let status = Command::new("bash").arg(&script).status();
    find().unwrap_or_else(|| {
        panic!(
            "chromium is missing and {} could not install it ({status:?}): run scripts/setup-chromium as root \
             (apt-get install -y chromium)",
            script.display()
        )
    })
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    listener.local_addr().expect("local address").port()
}

/// What one Chromium run left behind.
struct Run {
    stdout: String,
    stderr: String,
    net_log: PathBuf,
}

/// Runs headless Chromium on `page` with `extra` arguments, in a fresh profile
/// under `dir`, behind a proxy on a closed port, writing a NetLog.
fn run_chromium(dir: &Path, name: &str, page: &Path, extra: &[String]) -> Run {
    let profile = dir.join(format!("{name}-profile"));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("profile dir");
    let net_log = dir.join(format!("{name}-netlog.json"));
    let (stdout_path, stderr_path) = (dir.join(format!("{name}.stdout")), dir.join(format!("{name}.stderr")));
    let mut args: Vec<OsString> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()).into());
    args.push(format!("--proxy-server=http://127.0.0.1:{}", closed_port()).into());
    args.push(format!("--log-net-log={}", net_log.display()).into());
    args.extend(extra.iter().map(OsString::from));
    args.push(format!("file://{}", page.display()).into());
    let mut child = Command::new(chromium())
        .args(&args)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    let (stdout, stderr) = (read(&stdout_path), read(&stderr_path));
    assert!(status.success(), "chromium failed ({status}): {args:?}\n{stderr}");
    Run { stdout, stderr, net_log }
}

/// The report of the attack capture, and the page written to `dir`.
fn report_page(dir_name: &str) -> (PathBuf, ReplayReport, PathBuf) {
    let (dir, capture) = write_capture(dir_name);
    let report = replay::replay(
        common::reference_rules(),
        &[capture],
        &ReplayOptions::default(),
        None,
        &mut NoSink,
        &mut |_| {},
    )
    .expect("replay the capture");
    let page = dir.join("report.html");
    std::fs::write(&page, replay::html::render(&report)).expect("write the page");
    (dir, report, page)
}

/// `n` with thousands separators, as the page writes counts.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn the_page_loads_with_its_charts_numbers_and_script() {
    let (dir, report, page) = report_page("replay-html-dom");
    let dom = run_chromium(&dir, "dom", &page, &["--dump-dom".to_owned()]).stdout;
    assert!(dom.contains("</html>"), "no DOM dumped:\n{dom}");

    // The inline script ran: it marks the page ready and makes headers focusable.
    assert!(dom.contains(r#"data-ready="1""#), "the sorting script did not run");
    assert!(dom.matches(r#"tabindex="0""#).count() >= 20, "table headers were not wired up");

    // Every chart is there and drew something.
    for chart in ["mode-band", "traffic", "id-rows", "reason-bars", "reasons-over-time"] {
        assert!(dom.contains(&format!(r#"<svg class="chart" id="{chart}""#)), "no {chart} chart");
    }
    assert!(dom.matches("<rect").count() > 200, "too few shapes drawn");

    // The headline numbers.
    assert_eq!(report.frames, report.forwarded + report.dropped + report.unmapped);
    for n in [report.frames, report.forwarded, report.dropped, report.unmapped] {
        assert!(dom.contains(&format!(r#"<div class="v">{}</div>"#, grouped(n))), "no card with {n}");
    }
    let percent = |n: u64| format!("{:.2}%", 100.0 * n as f64 / report.frames as f64);
    assert!(dom.contains(&percent(report.dropped)) && dom.contains(&percent(report.forwarded)));

    // The busiest ids have rows with their message names; the flood id leads.
    assert!(dom.contains(r#"data-port="infotainment" data-id="0x000""#), "no row for the flood id");
    assert!(dom.contains(r#"data-port="drive" data-id="0x110""#), "no row for VCU_Speed");
    assert!(dom.contains(r#"<tspan class="msg">VCU_Speed</tspan>"#));
    let first_row = dom.find(r#"class="id-row""#).map(|at| &dom[at..at + 80]).unwrap_or_default();
    assert!(first_row.contains("infotainment"), "the busiest id is the flood: {first_row}");

    // The drop reasons and the mode transitions with their causes.
    for reason in ["ingress-budget", "too-fast", "cut-degraded"] {
        assert!(dom.contains(&format!(r#"data-reason="{reason}""#)), "no bar for {reason}");
    }
    assert_eq!(report.modes.len(), 3);
    assert_eq!(dom.matches(r#"<g class="transition">"#).count(), 3);
    for cause in ["trigger infotainment-flood", "recovered: quiet period over", "trigger drive-injection"] {
        assert!(dom.contains(cause), "no transition caused by {cause}");
    }
    assert!(dom.contains(r#"<span class="mode mode-degraded">degraded</span>"#), "final mode");

    // The bus name from the capture stayed text.
    assert!(dom.contains("&lt;img/src=x&gt;"), "the bus name is not shown");
    assert!(!dom.contains(EVIL_BUS) && !dom.contains("<img"), "markup from the capture became an element");
}

/// Counts pixels of an RGB(A) image close to `colour`.
fn near(pixels: &[[u8; 3]], colour: [u8; 3], tolerance: i32) -> usize {
    pixels
        .iter()
        .filter(|p| p.iter().zip(colour).all(|(&a, b)| (i32::from(a) - i32::from(b)).abs() <= tolerance))
        .count()
}

#[test]
fn the_page_renders_to_a_coloured_screenshot() {
    let (dir, _, page) = report_page("replay-html-screenshot");
    let png_path = dir.join("report.png");
    run_chromium(
        &dir,
        "screenshot",
        &page,
        &[
            format!("--screenshot={}", png_path.display()),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            "--hide-scrollbars".to_owned(),
        ],
    );
    let bytes = std::fs::read(&png_path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png_path.display()));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buffer).expect("PNG pixels");
    assert_eq!((info.width, info.height), WINDOW);
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    let pixels: Vec<[u8; 3]> =
        buffer[..info.buffer_size()].chunks_exact(channels).map(|p| [p[0], p[1], p[2]]).collect();
    let total = pixels.len();
    let background = near(&pixels, [0xfa, 0xfa, 0xfa], 3) + near(&pixels, [0xff, 0xff, 0xff], 0);
    assert!(background < total * 95 / 100, "the page is nearly blank: {background} of {total} background pixels");
    // The verdict colours and the degraded mode's amber are on screen.
    let forwarded = near(&pixels, [0x2e, 0x9e, 0x5b], 24);
    let dropped = near(&pixels, [0xd6, 0x33, 0x2a], 24);
    let degraded = near(&pixels, [0xf2, 0xb8, 0x4b], 8);
    assert!(forwarded > 300, "forwarded green: {forwarded} pixels");
    assert!(dropped > 300, "dropped red: {dropped} pixels");
    assert!(degraded > 2000, "degraded amber: {degraded} pixels");
}

/// Requests the page made (not Chromium's own background ones): NetLog
/// `URL_REQUEST_START_JOB` events for a non-file URL in the page's
/// network isolation key (`file://`).
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).unwrap_or_else(|e| panic!("no NetLog at {}: {e}", net_log.display()));
    let log: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("NetLog {}: {e}", net_log.display()));
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64().expect("event type");
    log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| e["params"]["network_isolation_key"].as_str().is_some_and(|k| k.contains("file://")))
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|url| !url.starts_with("file:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_page_makes_no_network_request() {
    let (dir, _, page) = report_page("replay-html-network");
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(!html.contains("http://") && !html.contains("https://"), "a URL in the page");

    let run = run_chromium(&dir, "network", &page, &["--dump-dom".to_owned()]);
    assert!(run.stdout.contains(r#"data-ready="1""#), "the page did not load");
    let requests = page_requests(&run.net_log);
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
    let console: Vec<&str> = run.stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages (script errors, refused loads): {console:#?}");

    // Control: without the page's Content-Security-Policy, an external image
    // is requested, and the check above sees it.
    let probe = format!("http://127.0.0.1:{}/probe.png", closed_port());
    let csp_end = html.find("<meta name=\"viewport\"").expect("meta viewport");
    let csp_start = html.find("<meta http-equiv=\"Content-Security-Policy\"").expect("CSP meta");
    let control = format!("{}{}", &html[..csp_start], &html[csp_end..])
        .replace("</main>", &format!("<img src=\"{probe}\"></main>"));
    let control_page = dir.join("control.html");
    std::fs::write(&control_page, control).expect("write the control page");
    let run = run_chromium(&dir, "control", &control_page, &["--dump-dom".to_owned()]);
    assert_eq!(page_requests(&run.net_log), [probe], "the NetLog check does not see a page's request");
}

/// The values of attribute `name` on the dumped `<body>`.
fn body_attribute<'a>(dom: &'a str, name: &str) -> &'a str {
    let body = dom.find("<body").map(|at| &dom[at..]).unwrap_or_default();
    let tag = body.split('>').next().unwrap_or_default();
    let start =
        tag.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("no {name} on <body>: {tag}")) + name.len() + 2;
    tag[start..].split('"').next().unwrap_or_default()
}

#[test]
fn the_tables_sort_when_a_header_is_clicked() {
    let (dir, report, page) = report_page("replay-html-sort");
    // A copy of the page with a script that clicks headers of the per-id table
    // (after the page's own script has wired them) and records the orders.
    let clicker = r#"<script>
var table = document.getElementById("id-table");
var heads = table.tHead.rows[0].cells;
function column(k, numeric) {
  return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
    return numeric ? r.cells[k].getAttribute("data-v") : r.cells[k].textContent;
  }).join("|");
}
heads[3].click();
document.body.setAttribute("data-frames-first-click", column(3, true));
heads[3].click();
document.body.setAttribute("data-frames-second-click", column(3, true));
heads[2].click();
document.body.setAttribute("data-message-first-click", column(2, false));
document.body.setAttribute("data-sorted-header", heads[2].getAttribute("aria-sort"));
</script>
</body>"#;
    let html = std::fs::read_to_string(&page).expect("page").replace("</body>", clicker);
    let copy = dir.join("sort.html");
    std::fs::write(&copy, html).expect("write the copy");
    let dom = run_chromium(&dir, "sort", &copy, &["--dump-dom".to_owned()]).stdout;

    let numbers = |name: &str| -> Vec<u64> {
        body_attribute(&dom, name).split('|').map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: {v}"))).collect()
    };
    let first = numbers("data-frames-first-click");
    assert_eq!(first.len(), report.ids.len());
    assert!(first.windows(2).all(|w| w[0] >= w[1]), "a number column sorts descending first: {first:?}");
    assert_eq!(first.first().copied(), report.ids.iter().map(|i| i.frames).max());
    let second = numbers("data-frames-second-click");
    assert!(second.windows(2).all(|w| w[0] <= w[1]), "the second click reverses: {second:?}");
    let messages: Vec<String> =
        body_attribute(&dom, "data-message-first-click").split('|').map(str::to_lowercase).collect();
    assert!(messages.windows(2).all(|w| w[0] <= w[1]), "a text column sorts ascending first: {messages:?}");
    assert_eq!(body_attribute(&dom, "data-sorted-header"), "ascending");
}
