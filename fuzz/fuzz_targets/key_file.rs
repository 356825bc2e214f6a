//! Fuzzes the key file and revocation list parsers: no input may panic, every
//! error must render, and whatever parses must render to a file that parses
//! back to the same rendering.
#![no_main]

use bulkhead::keys::{parse_key_file, parse_revocation_list, render_key_file, render_revocation_list};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_key_file("fuzz.key", data) {
        Ok(key) => {
            let text = render_key_file(&key);
            let again = parse_key_file("rendered.key", text.as_bytes()).expect("a rendered key file parses");
            assert_eq!(again.kind(), key.kind());
            assert_eq!(render_key_file(&again).as_str(), text.as_str());
        }
        Err(error) => {
            let _ = error.to_string();
            if let Some(diagnostic) = error.to_diagnostic() {
                let _ = diagnostic.to_string();
            }
        }
    }
    match parse_revocation_list("fuzz.list", data) {
        Ok(ids) => {
            let text = render_revocation_list(&ids);
            assert_eq!(parse_revocation_list("rendered.list", text.as_bytes()).expect("rendered list parses"), ids);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
