//! Fuzzes the readers of SavvyCAN's exports (CRTD, BUSMASTER, Microchip,
//! generic CSV, CARBUS Analyzer) and format detection on the same bytes.
#![no_main]

use bulkhead::logs::LogFormat;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    for format in [LogFormat::Crtd, LogFormat::BusMaster, LogFormat::Microchip, LogFormat::GenericCsv, LogFormat::CarBus] {
        common::check(format, data);
    }
});
