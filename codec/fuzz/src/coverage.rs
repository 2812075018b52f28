//! The coverage-guided fuzz target (libFuzzer through `libfuzzer-sys`), with overflow checks and
//! debug assertions on. `bash codec/fuzz/run.sh [SECONDS]` seeds it with CPython's vectors, the
//! pickles under `tests/fixtures/` and the regressions, and runs it.
//!
//! The input's first byte chooses the encoding, the limits and the window size, so that the
//! fuzzer explores them like the rest of the input; the remaining bytes are the pickle.

#![no_main]

use lazyscribe_codec::{Decoder, Encoding, Limits, Status};
use libfuzzer_sys::fuzz_target;

/// Window sizes: byte by byte, odd splits, and the 1 MiB default of `codec/decode.ts`.
const WINDOWS: [u64; 8] = [1, 2, 3, 7, 64, 4096, 65536, 1 << 20];

fuzz_target!(|input: &[u8]| {
    let (config, data) = match input.split_first() {
        Some((&config, data)) => (config, data),
        None => return,
    };
    let encoding = Encoding::from_abi(u32::from(config & 3)).unwrap_or(Encoding::Ascii);
    let limits = if config & 4 == 0 {
        Limits::default()
    } else {
        Limits {
            max_depth: 20,
            max_memo: 50,
            max_int_digits: 50,
            max_nodes: 5000,
        }
    };
    decode(data, encoding, limits, WINDOWS[usize::from(config >> 5)]);
});

/// Decodes `data` window by window, as `codec/decode.ts` does, and checks the ABI's promises:
/// `MORE` makes progress and stays inside the input, an error leaves an empty tape, and the
/// decode ends in fewer steps than there are input bytes.
fn decode(data: &[u8], encoding: Encoding, limits: Limits, window: u64) {
    let total = data.len() as u64;
    let mut decoder = Decoder::new(total, encoding, limits);
    let (mut offset, mut need) = (0u64, 0u64);
    for _ in 0..=data.len() + 1 {
        let len = window.max(need).min(total - offset);
        let slice = &data[offset as usize..(offset + len) as usize];
        match decoder.step(slice, offset) {
            Status::More => {
                let next = decoder.next_offset();
                assert!(next > offset || decoder.need > len, "MORE without progress");
                assert!(next <= total, "MORE past the end of the input");
                offset = next;
                need = decoder.need;
            }
            Status::Done => {
                assert!(decoder.next_offset() <= total, "DONE past the end");
                return;
            }
            Status::Error => {
                assert!(decoder.tape.words.is_empty(), "an error with a tape");
                assert!(!decoder.error.is_empty(), "an error without a message");
                assert!(decoder.need <= total, "an error offset past the input");
                return;
            }
        }
    }
    panic!("more steps than input bytes");
}
