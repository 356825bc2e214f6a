//! Fuzzes the gvret reader: any bytes, strict and lenient, must give records
//! or errors (never a panic, never a hang), and lenient reading must yield
//! exactly the strict reading's records.
#![no_main]

use bulkhead::logs::LogFormat;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::check(LogFormat::GvretCsv, data));
