//! The tape: the flat, already-validated construction program that TypeScript materializes, and
//! the side streams its instructions consume in order (see `codec/README.md`, "Tape instructions").

pub const STOP: i32 = 0;
pub const NONE: i32 = 1;
pub const TRUE: i32 = 2;
pub const FALSE: i32 = 3;
pub const INT32: i32 = 4;
pub const INT_F64: i32 = 5;
pub const INT_TEXT: i32 = 6;
pub const INT_HEX: i32 = 7;
pub const FLOAT: i32 = 8;
pub const STR: i32 = 9;
pub const STR16: i32 = 10;
pub const BYTES: i32 = 11;
pub const BYTEARRAY: i32 = 12;
pub const ARENA_BYTES: i32 = 13;
pub const EMPTY_LIST: i32 = 14;
pub const EMPTY_DICT: i32 = 15;
pub const EMPTY_SET: i32 = 16;
pub const LIST: i32 = 17;
pub const TUPLE: i32 = 18;
pub const DICT: i32 = 19;
pub const FROZENSET: i32 = 20;
pub const APPEND: i32 = 21;
pub const APPENDS: i32 = 22;
pub const SETITEM: i32 = 23;
pub const SETITEMS: i32 = 24;
pub const ADDITEMS: i32 = 25;
pub const POP: i32 = 26;
pub const DUP: i32 = 27;
pub const PUT: i32 = 28;
pub const GET: i32 = 29;
pub const GLOBAL: i32 = 30;
pub const REDUCE: i32 = 31;
pub const BUILD: i32 = 32;
pub const NEWOBJ: i32 = 33;
pub const NEWOBJ_EX: i32 = 34;
pub const INST: i32 = 35;
pub const OBJ: i32 = 36;
pub const PERSID: i32 = 37;
pub const BINPERSID: i32 = 38;
pub const EXT: i32 = 39;
pub const NEXT_BUFFER: i32 = 40;
pub const READONLY_BUFFER: i32 = 41;
pub const PROTO: i32 = 42;
pub const INT64: i32 = 43;
pub const INT32S: i32 = 44;
pub const FLOATS: i32 = 45;
pub const GETS: i32 = 46;
pub const APPEND_INT32S: i32 = 47;
pub const APPEND_FLOATS: i32 = 48;
pub const APPEND_GETS: i32 = 49;
pub const APPEND_STRS: i32 = 50;
pub const SETITEMS_STRS: i32 = 51;

/// Integers with a magnitude up to this travel as exact `f64` values (`INT_F64`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// One step's output. Counts are written as `i32` words; TypeScript reads them as unsigned.
#[derive(Default)]
pub struct Tape {
    pub words: Vec<i32>,
    pub floats: Vec<f64>,
    pub text: Vec<u8>,
    pub units: Vec<u16>,
    pub bytes: Vec<u8>,
}

impl Tape {
    pub fn clear(&mut self) {
        self.words.clear();
        self.floats.clear();
        self.text.clear();
        self.units.clear();
        self.bytes.clear();
    }

    #[inline(always)]
    pub fn op(&mut self, code: i32) {
        self.words.push(code);
    }

    #[inline(always)]
    pub fn op_count(&mut self, code: i32, count: usize) {
        self.words.push(code);
        self.words.push(count as u32 as i32);
    }

    /// An absolute input offset as two words, low then high.
    #[inline]
    pub fn offset(&mut self, offset: u64) {
        self.words.push(offset as u32 as i32);
        self.words.push((offset >> 32) as u32 as i32);
    }

    /// An int whose magnitude is at most [`MAX_SAFE_INTEGER`].
    #[inline]
    pub fn small_int(&mut self, value: i64) {
        if let Ok(word) = i32::try_from(value) {
            self.words.push(INT32);
            self.words.push(word);
        } else {
            self.words.push(INT_F64);
            self.floats.push(value as f64);
        }
    }

    /// Any `i64`.
    #[inline]
    pub fn int(&mut self, value: i64) {
        if value.unsigned_abs() <= MAX_SAFE_INTEGER {
            self.small_int(value);
        } else {
            self.int64(value);
        }
    }

    /// An int given by its sign and magnitude, when it fits an `i64`: `INT32`, `INT_F64`, or
    /// `INT64` beyond 2⁵³. Returns `false` (and writes nothing) when it does not fit.
    #[inline]
    pub fn try_small_int(&mut self, negative: bool, magnitude: u64) -> bool {
        if magnitude <= MAX_SAFE_INTEGER {
            let value = magnitude as i64;
            self.small_int(if negative { -value } else { value });
            return true;
        }
        let value = if negative {
            // 2⁶³ becomes `i64::MIN` and negates to itself.
            Some(magnitude as i64)
                .filter(|_| magnitude <= 1 << 63)
                .map(i64::wrapping_neg)
        } else {
            i64::try_from(magnitude).ok()
        };
        match value {
            Some(value) => {
                self.int64(value);
                true
            }
            None => false,
        }
    }

    /// An int outside the safe `f64` range, as its 64 bits in the float stream: TypeScript reads
    /// that slot through a `BigInt64Array`, never as a double, so the bits stay exact.
    #[inline]
    pub fn int64(&mut self, value: i64) {
        self.words.push(INT64);
        self.floats.push(f64::from_bits(value as u64));
    }

    /// A float as the 8 big-endian bytes `BINFLOAT` writes, kept in that order: TypeScript reads
    /// its slot through a big-endian `DataView` load (one instruction), where wasm has no byte
    /// swap (a dozen shifts and masks per float).
    #[inline]
    pub fn float(&mut self, big_endian: [u8; 8]) {
        self.words.push(FLOAT);
        self.floats.push(f64::from_ne_bytes(big_endian));
    }

    /// A string already validated as UTF-8 without surrogates, of `units` UTF-16 code units.
    #[inline(always)]
    pub fn str_utf8(&mut self, utf8: &[u8], units: usize) {
        self.text.extend_from_slice(utf8);
        self.op_count(STR, units);
    }

    /// A string whose code points are the given bytes (Latin-1).
    pub fn str_latin1(&mut self, latin1: &[u8]) {
        for &byte in latin1 {
            if byte < 0x80 {
                self.text.push(byte);
            } else {
                self.text.push(0xc0 | (byte >> 6));
                self.text.push(0x80 | (byte & 0x3f));
            }
        }
        self.op_count(STR, latin1.len());
    }

    /// A string of the UTF-16 code units appended to `units` since `start`.
    #[inline]
    pub fn str16_since(&mut self, start: usize) {
        let count = self.units.len().saturating_sub(start);
        self.op_count(STR16, count);
    }

    /// A `BYTES` or `BYTEARRAY` view of the input.
    #[inline]
    pub fn input_view(&mut self, code: i32, offset: u64, len: u64) {
        self.words.push(code);
        self.offset(offset);
        self.offset(len);
    }

    /// `bytes` computed by the machine (the byte arena).
    pub fn arena_bytes(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        self.op_count(ARENA_BYTES, data.len());
    }
}
