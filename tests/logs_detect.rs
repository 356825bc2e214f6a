//! `LogFormat::detect` on every file under `../shared/data/logs/`: each
//! capture is recognised as its format (by content, whatever its extension),
//! everything else (DBC files, READMEs, licenses, the variants collection) is
//! not a capture; and every capture then reads.

mod logs_support;

use std::io::Read;
use std::path::{Path, PathBuf};

use bulkhead::logs::LogFormat;
use logs_support::{logs_dir, read_file};

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The format each sample file is in, `None` for files that are not captures.
fn expected(relative: &str) -> Option<LogFormat> {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    let ext = name.rsplit('.').next().unwrap_or("");
    if matches!(ext, "dbc" | "md") || name.starts_with("LICENSE") || name == "SOURCE.txt" {
        return None;
    }
    Some(match relative {
        "candump_variants/format_variants_from_cantools_test_logreader.txt" => return None,
        "savvycan_formats/BusMasterLog.log" => LogFormat::BusMaster,
        "savvycan_formats/CRTD_Log.txt" => LogFormat::Crtd,
        "savvycan_formats/CarBusAnalyzer.trc" => LogFormat::CarBus,
        "savvycan_formats/GenericID_Log.csv" => LogFormat::GenericCsv,
        "savvycan_formats/MicrochipLog.log" => LogFormat::Microchip,
        _ => match ext {
            "log" => LogFormat::Candump,
            "csv" => LogFormat::GvretCsv,
            "asc" | "gz" => LogFormat::Asc,
            "trc" => LogFormat::Trc,
            "blf" => LogFormat::Blf,
            _ => panic!("no expectation for {relative}"),
        },
    })
}

/// Files whose frames are not all valid (each explained where it is tested).
const WITH_REFUSALS: [&str; 6] = [
    "hyundai_kona_ev/250105-1-2020-comp-can-heating.csv",
    "hyundai_kona_ev/candump_converted/250105-1-2020-comp-can-heating.log",
    "python_can_formats/single_frame.asc",
    "python_can_formats/test_CanMessage.blf",
    "python_can_formats/test_CanMessage2.blf",
    "python_can_formats/test_CanFdMessage.blf",
];

#[test]
fn every_sample_file_is_detected_right_and_reads() {
    let Some(dir) = logs_dir() else { return };
    let mut files = Vec::new();
    all_files(&dir, &mut files);
    files.sort();
    let mut captures = 0;
    for path in &files {
        let relative = path.strip_prefix(&dir).expect("under dir").to_string_lossy().replace('\\', "/");
        let mut head = std::fs::read(path).expect("read");
        if head.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            flate2::read::MultiGzDecoder::new(&head[..]).read_to_end(&mut plain).expect("gunzip");
            head = plain;
        }
        head.truncate(4096);
        let want = expected(&relative);
        assert_eq!(LogFormat::detect(&head, path), want, "{relative}");
        if want.is_none() {
            continue;
        }
        captures += 1;
        let strict = read_file(path, false);
        let refusals = WITH_REFUSALS.contains(&relative.as_str()) || relative.ends_with("test_CanFdMessage64.blf");
        assert_eq!(
            !strict.errors.is_empty(),
            refusals,
            "{relative}: {:?}",
            strict.errors.first().map(ToString::to_string)
        );
        let lenient = read_file(path, true);
        assert!(lenient.errors.is_empty(), "{relative}");
        assert_eq!(lenient.skipped > 0, refusals, "{relative}");
    }
    assert_eq!(captures, 54, "captures under {}", dir.display());
}

#[test]
fn names_round_trip() {
    for format in LogFormat::ALL {
        assert_eq!(LogFormat::from_name(format.name()), Some(format));
        assert_eq!(format.to_string(), format.name());
    }
    assert_eq!(LogFormat::from_name("pcap"), None);
}

#[test]
fn unknown_content_falls_back_to_the_extension_or_fails() {
    assert_eq!(LogFormat::detect(b"", Path::new("x.asc")), Some(LogFormat::Asc));
    assert_eq!(LogFormat::detect(b"", Path::new("x.trc.gz")), Some(LogFormat::Trc));
    assert_eq!(LogFormat::detect(b"hello", Path::new("x.txt")), None);
    let err = bulkhead::logs::open(Path::new("/dev/null"), None, Default::default()).err().expect("unknown");
    assert!(err.to_string().contains("the file is empty"), "{err}");
}
