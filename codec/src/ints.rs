//! Integer arguments: the text of `INT`, `LONG`, `GET` and `PUT`, and the two's-complement bytes
//! of `LONG1`/`LONG4`. Every conversion is linear in the number of digits.

use crate::tape::{self, Tape};

/// An integer literal as Python's `int(text, base)` reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct IntLiteral {
    pub negative: bool,
    /// 2, 8, 10 or 16.
    pub radix: u32,
    /// ASCII digits without underscores, leading zeros kept (they count against the digit limit).
    pub digits: Vec<u8>,
}

impl IntLiteral {
    /// The magnitude when it fits in a `u64`.
    pub fn magnitude(&self) -> Option<u64> {
        let mut value = 0u64;
        for &digit in &self.digits {
            value = value
                .checked_mul(u64::from(self.radix))?
                .checked_add(u64::from(digit_value(digit)))?;
        }
        Some(value)
    }
}

/// Python's `bytes.isspace()` set, which `int()` strips.
#[inline]
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

#[inline]
fn digit_value(byte: u8) -> u32 {
    match byte {
        b'0'..=b'9' => u32::from(byte - b'0'),
        b'a'..=b'z' => u32::from(byte - b'a') + 10,
        b'A'..=b'Z' => u32::from(byte - b'A') + 10,
        _ => u32::MAX,
    }
}

/// Parses `text` like Python's `int(text, 0)` (`base0`: `0x`/`0o`/`0b` prefixes, no leading
/// zeros on decimals) or `int(text, 10)`: surrounding whitespace, a sign, and single underscores
/// between digits are allowed. The text ends at its first NUL, as for CPython's
/// `PyLong_FromString` on a line (`LONG`, `GET`, `PUT`, and `INT` past `strtol`).
pub fn parse_python_int(text: &[u8], base0: bool) -> Option<IntLiteral> {
    let text = c_string(text);
    let start = text.iter().position(|&b| !is_space(b))?;
    let end = text.iter().rposition(|&b| !is_space(b))? + 1;
    let mut rest = text.get(start..end)?;
    let negative = match rest.first() {
        Some(b'-') => true,
        Some(b'+') => false,
        _ => false,
    };
    if matches!(rest.first(), Some(b'-' | b'+')) {
        rest = rest.get(1..)?;
    }
    let mut radix = 10;
    let mut after_prefix = false;
    if base0 && rest.len() >= 2 && rest[0] == b'0' {
        radix = match rest[1] | 0x20 {
            b'x' => 16,
            b'o' => 8,
            b'b' => 2,
            _ => 10,
        };
        if radix != 10 {
            rest = rest.get(2..)?;
            after_prefix = true;
        }
    }
    if after_prefix && rest.first() == Some(&b'_') {
        rest = rest.get(1..)?;
    }
    let mut digits = Vec::with_capacity(rest.len());
    let mut last_was_digit = false;
    for &byte in rest {
        if byte == b'_' {
            if !last_was_digit {
                return None;
            }
            last_was_digit = false;
        } else {
            if digit_value(byte) >= radix {
                return None;
            }
            digits.push(byte);
            last_was_digit = true;
        }
    }
    if !last_was_digit {
        return None;
    }
    if base0 && radix == 10 && digits[0] == b'0' && digits.iter().any(|&d| d != b'0') {
        return None;
    }
    Some(IntLiteral {
        negative,
        radix,
        digits,
    })
}

/// The text that CPython's C unpickler parses out of a text-opcode line: it hands the line to C
/// functions (`strtol`, `PyLong_FromString`, `PyOS_string_to_double`) as a C string, so the
/// text ends at the first NUL byte (`I12\0junk` is 12).
pub fn c_string(line: &[u8]) -> &[u8] {
    match line.iter().position(|&b| b == 0) {
        Some(end) => &line[..end],
        None => line,
    }
}

/// C's `strtol(line, &end, 0)` as CPython's `INT` opcode tries it first: leading whitespace, a
/// sign, `0x` hex, a leading `0` for octal; the whole line up to its first NUL must be consumed
/// and fit in 64 bits. A line that starts with NUL is 0 (`strtol("")` converts nothing and ends
/// on the NUL, which CPython accepts).
pub fn parse_c_long(line: &[u8]) -> Option<i64> {
    if line.first() == Some(&0) {
        return Some(0);
    }
    let line = c_string(line);
    let start = line.iter().position(|&b| !is_space(b))?;
    let mut rest = line.get(start..)?;
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'-' | b'+')) {
        rest = rest.get(1..)?;
    }
    let radix = match rest {
        [b'0', b'x' | b'X', next, ..] if digit_value(*next) < 16 => {
            rest = rest.get(2..)?;
            16
        }
        [b'0', ..] => 8,
        _ => 10,
    };
    if rest.is_empty() {
        return None;
    }
    let mut magnitude = 0u64;
    for &byte in rest {
        let digit = digit_value(byte);
        if digit >= radix {
            return None;
        }
        magnitude = magnitude
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
    }
    if !negative {
        i64::try_from(magnitude).ok()
    } else if magnitude == 1u64 << 63 {
        Some(i64::MIN)
    } else {
        i64::try_from(magnitude).ok().map(|m| -m)
    }
}

/// Pushes an int given as a literal: `INT32`/`INT_F64` when exact in `f64`, else `INT_TEXT`
/// (decimal) or `INT_HEX` (every power-of-two radix).
pub fn push_literal(literal: &IntLiteral, tape: &mut Tape) {
    let significant = match literal.digits.iter().position(|&d| d != b'0') {
        Some(first) => &literal.digits[first..],
        None => {
            tape.small_int(0);
            return;
        }
    };
    if let Some(magnitude) = literal.magnitude() {
        if tape.try_small_int(literal.negative, magnitude) {
            return;
        }
    }
    match literal.radix {
        10 => {
            let start = tape.text.len();
            if literal.negative {
                tape.text.push(b'-');
            }
            tape.text.extend_from_slice(significant);
            let len = tape.text.len() - start;
            tape.op_count(tape::INT_TEXT, len);
        }
        16 => {
            let start = tape.text.len();
            tape.text
                .extend(significant.iter().map(|d| d.to_ascii_lowercase()));
            push_hex_op(tape, start, literal.negative);
        }
        radix => {
            let bits = if radix == 8 { 3 } else { 1 };
            push_power_of_two_digits(significant, bits, literal.negative, tape);
        }
    }
}

fn push_hex_op(tape: &mut Tape, start: usize, negative: bool) {
    let len = tape.text.len() - start;
    tape.op_count(tape::INT_HEX, len);
    tape.words.push(i32::from(negative));
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Regroups octal or binary digits (most significant first, no leading zero) into hex digits.
fn push_power_of_two_digits(digits: &[u8], bits_per_digit: u32, negative: bool, tape: &mut Tape) {
    let mut nibbles: Vec<u8> = Vec::with_capacity(digits.len());
    let mut accumulator = 0u32;
    let mut bits = 0u32;
    for &digit in digits.iter().rev() {
        accumulator |= digit_value(digit) << bits;
        bits += bits_per_digit;
        while bits >= 4 {
            nibbles.push((accumulator & 0xf) as u8);
            accumulator >>= 4;
            bits -= 4;
        }
    }
    if bits > 0 {
        nibbles.push(accumulator as u8);
    }
    while nibbles.last() == Some(&0) {
        nibbles.pop();
    }
    let start = tape.text.len();
    tape.text
        .extend(nibbles.iter().rev().map(|&n| HEX[usize::from(n & 0xf)]));
    push_hex_op(tape, start, negative);
}

/// Pushes the int of `LONG1`/`LONG4`: little-endian two's complement bytes (empty means 0).
pub fn push_twos_complement(bytes: &[u8], tape: &mut Tape) {
    let negative = bytes.last().map_or(false, |&b| b & 0x80 != 0);
    if bytes.len() <= 8 {
        let fill = if negative { 0xff } else { 0 };
        let mut word = [fill; 8];
        word[..bytes.len()].copy_from_slice(bytes);
        tape.int(i64::from_le_bytes(word));
        return;
    }
    if negative {
        // The magnitude of a negative number is its two's complement: invert, then add one.
        let mut magnitude: Vec<u8> = bytes.iter().map(|&b| !b).collect();
        for byte in magnitude.iter_mut() {
            let (sum, carry) = byte.overflowing_add(1);
            *byte = sum;
            if !carry {
                break;
            }
        }
        push_magnitude_hex(&magnitude, true, tape);
    } else {
        push_magnitude_hex(bytes, false, tape);
    }
}

/// Pushes a magnitude given as little-endian bytes; small values still become `INT32`/`INT_F64`.
fn push_magnitude_hex(magnitude: &[u8], negative: bool, tape: &mut Tape) {
    let top = match magnitude.iter().rposition(|&b| b != 0) {
        Some(top) => top,
        None => {
            tape.small_int(0);
            return;
        }
    };
    if top < 8 {
        let mut word = [0u8; 8];
        word[..=top].copy_from_slice(&magnitude[..=top]);
        if tape.try_small_int(negative, u64::from_le_bytes(word)) {
            return;
        }
    }
    let start = tape.text.len();
    let high = magnitude[top];
    if high >= 0x10 {
        tape.text.push(HEX[usize::from(high >> 4)]);
    }
    tape.text.push(HEX[usize::from(high & 0xf)]);
    let digits = tape.text.len();
    tape.text.resize(digits + 2 * top, 0);
    if let Some(out) = tape.text.get_mut(digits..) {
        for (pair, &byte) in out.chunks_exact_mut(2).zip(magnitude[..top].iter().rev()) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
    }
    push_hex_op(tape, start, negative);
}


#[cfg(test)]
mod tests {
    use super::*;

    fn literal(text: &str, base0: bool) -> Option<(bool, u32, String)> {
        parse_python_int(text.as_bytes(), base0)
            .map(|l| (l.negative, l.radix, String::from_utf8(l.digits).unwrap()))
    }

    #[test]
    fn python_int_grammar() {
        assert_eq!(literal(" -1_000\n", true), Some((true, 10, "1000".into())));
        assert_eq!(literal("0x_fF", true), Some((false, 16, "fF".into())));
        assert_eq!(literal("0o17", true), Some((false, 8, "17".into())));
        assert_eq!(literal("0b101", true), Some((false, 2, "101".into())));
        assert_eq!(literal("000", true), Some((false, 10, "000".into())));
        assert_eq!(literal("007", true), None);
        assert_eq!(literal("007", false), Some((false, 10, "007".into())));
        for bad in [
            "", " ", "_1", "1_", "1__0", "0x", "1a", "+", "--1", "0x1g", "1 2",
        ] {
            assert_eq!(literal(bad, true), None, "{:?}", bad);
        }
    }

    #[test]
    fn c_strtol() {
        assert_eq!(parse_c_long(b"010"), Some(8));
        assert_eq!(parse_c_long(b"0x10"), Some(16));
        assert_eq!(parse_c_long(b" +1"), Some(1));
        assert_eq!(parse_c_long(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_c_long(b"9223372036854775808"), None);
        assert_eq!(parse_c_long(b"1 "), None);
        assert_eq!(parse_c_long(b"08"), None);
        assert_eq!(parse_c_long(b"0x"), None);
        assert_eq!(parse_c_long(b""), None);
        // C strings end at NUL: CPython loads `I12\0junk\n` as 12 and `I\0\n` as 0.
        assert_eq!(parse_c_long(b"12\0junk"), Some(12));
        assert_eq!(parse_c_long(b"\0"), Some(0));
        assert_eq!(parse_c_long(b"-\0"), None);
        assert!(parse_python_int(b"12\0zz", true).is_some());
        assert!(parse_python_int(b"\012", true).is_none());
    }

    /// The words, the float stream as bits (`INT64` slots are not numbers) and the text.
    fn run(f: impl FnOnce(&mut Tape)) -> (Vec<i32>, Vec<u64>, String) {
        let mut tape = Tape::default();
        f(&mut tape);
        (
            tape.words,
            tape.floats.iter().map(|f| f.to_bits()).collect(),
            String::from_utf8(tape.text).unwrap(),
        )
    }

    #[test]
    fn twos_complement() {
        assert_eq!(run(|t| push_twos_complement(&[], t)).0, [tape::INT32, 0]);
        assert_eq!(
            run(|t| push_twos_complement(&[0xff], t)).0,
            [tape::INT32, -1]
        );
        assert_eq!(
            run(|t| push_twos_complement(&[0, 0, 0, 0x80], t)).0,
            [tape::INT32, i32::MIN]
        );
        let (words, floats, _) = run(|t| push_twos_complement(&[1, 0, 0, 0, 0, 0, 0xe0, 0xff], t));
        assert_eq!(
            (words, floats),
            (
                vec![tape::INT_F64],
                vec![(-(((1u64 << 53) - 1) as f64)).to_bits()]
            )
        );
        assert_eq!(
            run(|t| push_twos_complement(&[0, 0, 0, 0, 0, 0, 0xe0, 0xff], t)),
            (vec![tape::INT64], vec![(-(1i64 << 53)) as u64], "".into())
        );
        assert_eq!(
            run(|t| push_twos_complement(&[0, 0, 0, 0, 0, 0, 0, 0x80], t)),
            (vec![tape::INT64], vec![1 << 63], "".into())
        );
        assert_eq!(
            run(|t| push_twos_complement(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], t)),
            (vec![tape::INT64], vec![i64::MAX as u64], "".into())
        );
        // -2**64: the bytes 00*8 ff, magnitude 1 followed by 16 zeros.
        let mut minus = vec![0u8; 8];
        minus.push(0xff);
        assert_eq!(
            run(|t| push_twos_complement(&minus, t)),
            (
                vec![tape::INT_HEX, 17, 1],
                vec![],
                "10000000000000000".into()
            )
        );
        let mut big = vec![0u8; 9];
        big[8] = 0x01;
        big[0] = 0x0f;
        assert_eq!(
            run(|t| push_twos_complement(&big, t)).2,
            "1000000000000000f"
        );
    }

    #[test]
    fn literals() {
        let lit = parse_python_int(b"-0o777777777777777777777", true).unwrap();
        assert_eq!(
            run(|t| push_literal(&lit, t)),
            (vec![tape::INT64], vec![(-i64::MAX) as u64], "".into())
        );
        let lit = parse_python_int(b"-0x8000000000000000", true).unwrap();
        assert_eq!(
            run(|t| push_literal(&lit, t)),
            (vec![tape::INT64], vec![1 << 63], "".into())
        );
        let lit = parse_python_int(b"0x8000000000000000", true).unwrap();
        assert_eq!(
            run(|t| push_literal(&lit, t)),
            (vec![tape::INT_HEX, 16, 0], vec![], "8000000000000000".into())
        );
        let lit = parse_python_int(b"0b1", true).unwrap();
        assert_eq!(run(|t| push_literal(&lit, t)).0, [tape::INT32, 1]);
        let lit = parse_python_int(b"-123456789012345678901", true).unwrap();
        assert_eq!(
            run(|t| push_literal(&lit, t)),
            (
                vec![tape::INT_TEXT, 22],
                vec![],
                "-123456789012345678901".into()
            )
        );
        let lit = parse_python_int(b"-0", true).unwrap();
        assert_eq!(run(|t| push_literal(&lit, t)).0, [tape::INT32, 0]);
    }
}
