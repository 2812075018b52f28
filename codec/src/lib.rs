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
/// status (0 `DONE`, 1 `MORE`, 2 `ERROR`) and fills the result block.
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
