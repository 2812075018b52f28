//! `lazyscribe_codec`: the pickle machine of `@lazyscribe/artifacts`.
//!
//! It runs a pickle (protocols 0–5) over windows of the input, validates every opcode the way
//! CPython's C unpickler does, and writes a flat tape of construction instructions that the
//! TypeScript half (`codec/decode.ts`) materializes. Nothing is ever executed. The raw
//! `extern "C"` ABI below is specified in `codec/README.md`.

mod decoder;
mod floats;
mod ints;
mod memo;
mod opcodes;
mod tape;
mod text;

#[cfg(test)]
mod tests;

pub use decoder::{Decoder, Encoding, Limits, Status};
pub use tape::Tape;

use std::alloc::{alloc, dealloc, Layout};

/// A decoder and the result block that `lsa_decoder_result` points at.
pub struct Handle {
    decoder: Decoder,
    result: [f64; 14],
    error: Vec<u8>,
}

impl Handle {
    fn fill_result(&mut self, status: Status) {
        let tape = &self.decoder.tape;
        let error_ptr = if status == Status::Error {
            let message = self.decoder.error.as_bytes();
            self.error.clear();
            self.error
                .extend_from_slice(&(message.len() as u32).to_le_bytes());
            self.error.extend_from_slice(message);
            self.error.as_ptr() as usize as f64
        } else {
            0.0
        };
        self.result = [
            status as u32 as f64,
            tape.words.as_ptr() as usize as f64,
            tape.words.len() as f64,
            tape.floats.as_ptr() as usize as f64,
            tape.floats.len() as f64,
            tape.text.as_ptr() as usize as f64,
            tape.text.len() as f64,
            tape.units.as_ptr() as usize as f64,
            tape.units.len() as f64,
            self.decoder.next_offset() as f64,
            self.decoder.need as f64,
            error_ptr,
            tape.bytes.as_ptr() as usize as f64,
            tape.bytes.len() as f64,
        ];
    }
}

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.max(1), 8).ok()
}

/// Allocates `size` bytes aligned to 8; returns 0 when that is impossible.
#[no_mangle]
pub extern "C" fn lsa_alloc(size: usize) -> usize {
    match layout(size) {
        // SAFETY: the layout has a non-zero size.
        Some(layout) => unsafe { alloc(layout) as usize },
        None => 0,
    }
}

/// Frees what [`lsa_alloc`] returned for the same `size`.
///
/// # Safety
/// `ptr` must come from `lsa_alloc(size)` and not have been freed.
#[no_mangle]
pub unsafe extern "C" fn lsa_free(ptr: usize, size: usize) {
    if let (false, Some(layout)) = (ptr == 0, layout(size)) {
        dealloc(ptr as *mut u8, layout);
    }
}

/// Makes a decoder for an input of `total_len` bytes; returns its handle, or 0 for an unknown
/// `encoding`. Limits of 0 mean "no limit".
#[no_mangle]
pub extern "C" fn lsa_decoder_new(
    total_len: f64,
    encoding: u32,
    max_depth: u32,
    max_memo: u32,
    max_int_digits: u32,
    max_nodes: f64,
) -> usize {
    let encoding = match Encoding::from_abi(encoding) {
        Some(encoding) => encoding,
        None => return 0,
    };
    let limits = Limits {
        max_depth,
        max_memo,
        max_int_digits,
        max_nodes: max_nodes as u64,
    };
    let handle = Box::new(Handle {
        decoder: Decoder::new(total_len as u64, encoding, limits),
        result: [0.0; 14],
        error: Vec::new(),
    });
    Box::into_raw(handle) as usize
}

/// Parses the window `[window_offset, window_offset + window_len)` of the input; returns the
/// status (0 `DONE`, 1 `MORE`, 2 `ERROR`) and fills the result block. A 0 handle (what
/// [`lsa_decoder_new`] returns for an unknown encoding) gives `ERROR` and no result block.
///
/// # Safety
/// `handle` must come from [`lsa_decoder_new`]; `window_ptr` must point at `window_len`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn lsa_decoder_step(
    handle: usize,
    window_ptr: usize,
    window_len: usize,
    window_offset: f64,
) -> u32 {
    if handle == 0 {
        return Status::Error as u32;
    }
    let handle = &mut *(handle as *mut Handle);
    let window: &[u8] = if window_len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(window_ptr as *const u8, window_len)
    };
    let status = handle.decoder.step(window, window_offset as u64);
    handle.fill_result(status);
    status as u32
}

/// The address of the result block: 14 `f64` values (see `codec/README.md`).
///
/// # Safety
/// `handle` must come from [`lsa_decoder_new`].
#[no_mangle]
pub unsafe extern "C" fn lsa_decoder_result(handle: usize) -> usize {
    if handle == 0 {
        return 0;
    }
    (*(handle as *const Handle)).result.as_ptr() as usize
}

/// Frees a decoder and its buffers.
///
/// # Safety
/// `handle` must come from [`lsa_decoder_new`] and not have been freed.
#[no_mangle]
pub unsafe extern "C" fn lsa_decoder_free(handle: usize) {
    if handle != 0 {
        drop(Box::from_raw(handle as *mut Handle));
    }
}

#[cfg(test)]
mod abi_tests {
    use super::*;

    #[test]
    fn the_abi_runs_a_pickle() {
        let data = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01\x85\x94.";
        let handle = lsa_decoder_new(data.len() as f64, 0, 100, 100, 4300, 1e6);
        assert_ne!(handle, 0);
        let window = lsa_alloc(data.len());
        // SAFETY: `window` holds `data.len()` bytes; `handle` is live until freed below.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), window as *mut u8, data.len());
            assert_eq!(lsa_decoder_step(handle, window, data.len(), 0.0), 0);
            let block = std::slice::from_raw_parts(lsa_decoder_result(handle) as *const f64, 14);
            let tape =
                std::slice::from_raw_parts(block[1] as usize as *const i32, block[2] as usize);
            assert_eq!(
                tape,
                [
                    tape::PROTO,
                    4,
                    tape::INT32,
                    1,
                    tape::TUPLE,
                    1,
                    tape::PUT,
                    0,
                    tape::STOP
                ]
            );
            assert_eq!(block[9], data.len() as f64);
            assert_eq!(lsa_decoder_step(handle, window, 0, block[9]), 2);
            let block = std::slice::from_raw_parts(lsa_decoder_result(handle) as *const f64, 14);
            let error = block[11] as usize as *const u8;
            let len = u32::from_le_bytes(*(error as *const [u8; 4])) as usize;
            let message =
                std::str::from_utf8(std::slice::from_raw_parts(error.add(4), len)).unwrap();
            assert_eq!(message, "The decoder has already finished");
            lsa_free(window, data.len());
            lsa_decoder_free(handle);
        }
        assert_eq!(lsa_decoder_new(1.0, 4, 0, 0, 0, 0.0), 0);
        // SAFETY: a 0 handle is refused without being dereferenced.
        unsafe {
            assert_eq!(lsa_decoder_step(0, 0, 0, 0.0), 2);
            assert_eq!(lsa_decoder_result(0), 0);
            lsa_decoder_free(0);
        }
    }
}
