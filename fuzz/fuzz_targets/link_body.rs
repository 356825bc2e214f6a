//! Fuzzes the plaintext body decoder directly: it must never panic; whatever it
//! accepts re-encodes to exactly the same bytes (the encoding is canonical) and
//! holds 1 to 128 frames; the iterator and `decode_body` agree.

#![no_main]

use bulkhead::link::{BodyReader, MAX_FRAMES_PER_DATAGRAM, decode_body, encode_body, encoded_len};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut frames = Vec::with_capacity(MAX_FRAMES_PER_DATAGRAM);
    let decoded = decode_body(data, &mut frames);
    let by_iterator: Result<Vec<_>, _> = BodyReader::new(data).collect();
    match decoded {
        Ok(()) => {
            assert_eq!(by_iterator.as_deref(), Ok(&frames[..]));
            assert!((1..=MAX_FRAMES_PER_DATAGRAM).contains(&frames.len()));
            assert_eq!(frames.iter().map(encoded_len).sum::<usize>(), data.len());
            let mut again = vec![0u8; data.len()];
            if let Ok(n) = encode_body(&frames, &mut again) {
                assert_eq!(&again[..n], data);
            } else {
                // Only bodies longer than a datagram can hold fail to re-encode.
                assert!(data.len() > bulkhead::link::MAX_BODY_LEN);
            }
        }
        Err(error) => {
            assert_eq!(by_iterator, Err(error));
            let _ = error.to_string();
        }
    }
});
