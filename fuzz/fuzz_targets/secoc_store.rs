//! The freshness store file: any bytes are refused or read, never a panic;
//! what is read renders back to a file that reads the same.
#![no_main]

use std::path::Path;

use bulkhead::secoc::store_format::{parse, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.store");
    if let Ok(snapshot) = parse(path, data) {
        let again = parse(path, render(&snapshot).as_bytes()).expect("a rendered store reads back");
        assert_eq!(again, snapshot);
    }
});
