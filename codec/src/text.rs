//! Text arguments: UTF-8 with `surrogatepass`, Python's `codecs.escape_decode` (protocol-0
//! `STRING`) and `raw-unicode-escape` (protocol-0 `UNICODE`).

use crate::tape::Tape;

/// The number of UTF-16 code units of valid UTF-8 text.
#[inline]
pub fn utf16_len(utf8: &[u8]) -> usize {
    let mut units = 0usize;
    for &byte in utf8 {
        // Every byte that is not a continuation starts a code point; 4-byte ones need a pair.
        units += usize::from((byte & 0xc0) != 0x80) + usize::from(byte >= 0xf0);
    }
    units
}

/// The number of UTF-16 code units of `utf8` when it is valid UTF-8 without surrogates, else
/// `None`. ASCII, the common case, is checked eight bytes at a time: wasm has no SIMD here, and
/// a byte loop cost more than everything else a short string needs.
#[inline(always)]
pub fn utf8_units(utf8: &[u8]) -> Option<usize> {
    let mut chunks = utf8.chunks_exact(8);
    let mut ascii = 0usize;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if u64::from_le_bytes(word) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        ascii += 8;
    }
    let rest = utf8.get(ascii..).unwrap_or(&[]);
    if rest.iter().all(|&byte| byte < 0x80) {
        return Some(utf8.len());
    }
    Some(ascii + non_ascii_units(rest)?)
}

/// `utf8_units` of text that is not all ASCII. Text of 1- and 2-byte sequences (U+0000–U+07FF:
/// Latin, Greek, Cyrillic, and the Latin-1 strings that carry `bytes` at protocol 2) is checked
/// eight bytes at a time: `from_utf8`'s byte loop mispredicts on every byte of such text (100 MB
/// of Latin-1 binary data: 404 ms for `from_utf8` and `utf16_len`, 35 ms this way). The first
/// word with a 3- or 4-byte sequence, or with an error, hands the rest to `from_utf8`.
#[inline(never)]
fn non_ascii_units(utf8: &[u8]) -> Option<usize> {
    const BIT7: u64 = 0x8080_8080_8080_8080;
    let mut units = 0usize;
    let mut checked = 0usize;
    // Bit 7 of byte 0 set when the previous word ended with a 2-byte lead.
    let mut carry = 0u64;
    for chunk in utf8.chunks_exact(8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let word = u64::from_le_bytes(bytes);
        let bit6 = (word << 1) & BIT7;
        let bit5 = (word << 2) & BIT7;
        let continuation = word & BIT7 & !bit6;
        let lead2 = word & BIT7 & bit6 & !bit5;
        let lead34 = word & BIT7 & bit6 & bit5;
        // 0xC0 and 0xC1 (overlong) are the 2-byte leads whose bits 4 to 1 are all zero.
        let bits4to1 = ((word << 3) | (word << 4) | (word << 5) | (word << 6)) & BIT7;
        let overlong = lead2 & !bits4to1;
        if lead34 | overlong != 0 || continuation != (lead2 << 8) | carry {
            break;
        }
        carry = lead2 >> 56;
        units += 8 - continuation.count_ones() as usize;
        checked += 8;
    }
    // A lead that ended the checked words is checked again, with its continuation, by from_utf8.
    let back = usize::from(carry != 0);
    let rest = &utf8[checked - back..];
    core::str::from_utf8(rest).ok()?;
    Some(units - back + utf16_len(rest))
}

/// Pushes `input`, decoded as UTF-8 with CPython's `surrogatepass` error handler, as a `STR`
/// (when it holds no surrogate) or a `STR16`.
///
/// # Errors
/// A message naming the first undecodable byte and its position in the string.
pub fn push_utf8_surrogatepass(input: &[u8], tape: &mut Tape) -> Result<(), String> {
    if let Some(units) = utf8_units(input) {
        tape.str_utf8(input, units);
        return Ok(());
    }
    let start = tape.units.len();
    if let Err(message) = decode_utf8_to_utf16(input, &mut tape.units) {
        tape.units.truncate(start);
        return Err(message);
    }
    tape.str16_since(start);
    Ok(())
}

fn decode_utf8_to_utf16(input: &[u8], out: &mut Vec<u16>) -> Result<(), String> {
    let mut i = 0usize;
    while let Some(&lead) = input.get(i) {
        if lead < 0x80 {
            out.push(u16::from(lead));
            i += 1;
            continue;
        }
        // (length, lowest and highest valid second byte); `0xed` admits the encoded surrogates
        // U+D800..U+DFFF (`ed a0..bf xx`), which is what `surrogatepass` adds to strict UTF-8.
        let (len, low, high) = match lead {
            0xc2..=0xdf => (2, 0x80, 0xbf),
            0xe0 => (3, 0xa0, 0xbf),
            0xe1..=0xef => (3, 0x80, 0xbf),
            0xf0 => (4, 0x90, 0xbf),
            0xf1..=0xf3 => (4, 0x80, 0xbf),
            0xf4 => (4, 0x80, 0x8f),
            _ => return Err(utf8_error("invalid start byte", lead, i)),
        };
        let mut code_point = u32::from(lead) & (0x7f >> len);
        for k in 1..len {
            let byte = match input.get(i + k) {
                Some(&byte) => byte,
                None => return Err(format!("unexpected end of data at position {}", i)),
            };
            let (min, max) = if k == 1 { (low, high) } else { (0x80, 0xbf) };
            if byte < min || byte > max {
                return Err(utf8_error("invalid continuation byte", byte, i + k));
            }
            code_point = (code_point << 6) | (u32::from(byte) & 0x3f);
        }
        push_code_point(code_point, out);
        i += len;
    }
    Ok(())
}

fn utf8_error(reason: &str, byte: u8, position: usize) -> String {
    format!(
        "Cannot decode UTF-8: {} 0x{:02x} at position {}",
        reason, byte, position
    )
}

#[inline]
fn push_code_point(code_point: u32, out: &mut Vec<u16>) {
    if code_point < 0x1_0000 {
        out.push(code_point as u16);
    } else {
        let offset = code_point - 0x1_0000;
        out.push(0xd800 | (offset >> 10) as u16);
        out.push(0xdc00 | (offset & 0x3ff) as u16);
    }
}

/// Python's `codecs.escape_decode` (C `PyBytes_DecodeEscape`) as the `STRING` opcode uses it:
/// unknown escapes keep their backslash, octal escapes wrap at 0o400.
///
/// # Errors
/// `Trailing \ in string` and `Invalid \x escape at position N`, as CPython.
pub fn escape_decode(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0usize;
    while let Some(&byte) = input.get(i) {
        i += 1;
        if byte != b'\\' {
            out.push(byte);
            continue;
        }
        let escape = match input.get(i) {
            Some(&escape) => escape,
            None => return Err("Trailing \\ in string".to_string()),
        };
        i += 1;
        match escape {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'a' => out.push(0x07),
            b'0'..=b'7' => {
                let mut value = u32::from(escape - b'0');
                for _ in 0..2 {
                    match input.get(i) {
                        Some(&digit @ b'0'..=b'7') => {
                            value = (value << 3) + u32::from(digit - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(value as u8);
            }
            b'x' => {
                let high = input.get(i).and_then(|&d| hex_value(d));
                let low = input.get(i + 1).and_then(|&d| hex_value(d));
                match (high, low) {
                    (Some(high), Some(low)) => {
                        out.push((high << 4) | low);
                        i += 2;
                    }
                    _ => {
                        return Err(format!("Invalid \\x escape at position {}", i - 2));
                    }
                }
            }
            _ => {
                out.push(b'\\');
                i -= 1;
            }
        }
    }
    Ok(out)
}

#[inline]
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Pushes `input` decoded as Python's `raw-unicode-escape`: bytes are Latin-1 code points,
/// except `\uXXXX` and `\UXXXXXXXX` after an even number of backslashes.
///
/// # Errors
/// `truncated \uXXXX escape`, `truncated \UXXXXXXXX escape`, `\Uxxxxxxxx out of range`.
pub fn push_raw_unicode_escape(input: &[u8], tape: &mut Tape) -> Result<(), String> {
    let mut units: Vec<u16> = Vec::with_capacity(input.len());
    let mut has_surrogate = false;
    let mut i = 0usize;
    while let Some(&byte) = input.get(i) {
        i += 1;
        if byte != b'\\' {
            units.push(u16::from(byte));
            continue;
        }
        let start = i - 1;
        let (count, message) = match input.get(i) {
            None => {
                units.push(u16::from(b'\\'));
                break;
            }
            Some(b'u') => (4, "truncated \\uXXXX escape"),
            Some(b'U') => (8, "truncated \\UXXXXXXXX escape"),
            Some(&other) => {
                // A backslash that does not start an escape stands for itself, and so does the
                // byte after it (that is the backslash parity rule).
                units.push(u16::from(b'\\'));
                units.push(u16::from(other));
                i += 1;
                continue;
            }
        };
        i += 1;
        let mut code_point = 0u32;
        for _ in 0..count {
            match input.get(i).and_then(|&d| hex_value(d)) {
                Some(digit) => code_point = (code_point << 4) | u32::from(digit),
                None => return Err(raw_unicode_error(message, start)),
            }
            i += 1;
        }
        if code_point > 0x10_ffff {
            return Err(raw_unicode_error("\\Uxxxxxxxx out of range", start));
        }
        has_surrogate |= (0xd800..=0xdfff).contains(&code_point);
        push_code_point(code_point, &mut units);
    }
    if has_surrogate {
        let start = tape.units.len();
        tape.units.extend_from_slice(&units);
        tape.str16_since(start);
    } else {
        let utf8: String = char::decode_utf16(units.iter().copied())
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        tape.str_utf8(utf8.as_bytes(), units.len());
    }
    Ok(())
}

fn raw_unicode_error(message: &str, position: usize) -> String {
    format!(
        "Cannot decode raw-unicode-escape: {} at position {}",
        message, position
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_decode_matches_python() {
        assert_eq!(
            escape_decode(br"a\nb\x41\101\\\'\q").unwrap(),
            b"a\nbAA\\'\\q"
        );
        assert_eq!(escape_decode(br"\777").unwrap(), [0xff]);
        assert_eq!(escape_decode(b"a\\\nb").unwrap(), b"ab");
        assert_eq!(escape_decode(br"\").unwrap_err(), "Trailing \\ in string");
        assert_eq!(
            escape_decode(br"ab\x4").unwrap_err(),
            "Invalid \\x escape at position 2"
        );
    }

    fn str16(tape: &Tape) -> Vec<u16> {
        tape.units.clone()
    }

    #[test]
    fn raw_unicode_escape_parity_and_surrogates() {
        let mut tape = Tape::default();
        push_raw_unicode_escape(br"\\u0041\u00e9\x", &mut tape).unwrap();
        assert_eq!(tape.text, "\\\\u0041é\\x".as_bytes());
        assert_eq!(tape.words, [crate::tape::STR, 10]);
        let mut tape = Tape::default();
        push_raw_unicode_escape(br"a\ud800\U0001F600", &mut tape).unwrap();
        assert_eq!(str16(&tape), [0x61, 0xd800, 0xd83d, 0xde00]);
        assert!(push_raw_unicode_escape(br"\u12", &mut tape)
            .unwrap_err()
            .contains("truncated \\uXXXX escape at position 0"));
        assert!(push_raw_unicode_escape(br"\U00110000", &mut tape)
            .unwrap_err()
            .contains("out of range"));
        let mut tape = Tape::default();
        push_raw_unicode_escape(b"\\", &mut tape).unwrap();
        assert_eq!(tape.text, b"\\");
    }

    #[test]
    fn utf8_units_agrees_with_from_utf8() {
        fn expected(bytes: &[u8]) -> Option<usize> {
            core::str::from_utf8(bytes)
                .ok()
                .map(|text| text.encode_utf16().count())
        }
        // Bytes drawn mostly from ASCII and the 2-byte range, with the edge bytes of UTF-8 mixed
        // in, at every length and alignment up to 40 bytes.
        const PICKS: [u8; 16] = [
            b'a', 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4,
            0xa9, 0x9f,
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let len = (next() % 41) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    match r % 4 {
                        0 => PICKS[((r >> 8) % 16) as usize],
                        1 => 0x80 | ((r >> 8) as u8 & 0x3f),
                        2 => 0xc2 + ((r >> 8) % 30) as u8,
                        _ => (r >> 8) as u8 & 0x7f,
                    }
                })
                .collect();
            assert_eq!(utf8_units(&bytes), expected(&bytes), "{:x?}", bytes);
        }
        // Valid text of 1- and 2-byte characters, then the same with one byte changed.
        for _ in 0..50_000 {
            let text: String = (0..next() % 30)
                .map(|_| char::from_u32((next() % 0x800) as u32).unwrap())
                .collect();
            let mut bytes = text.into_bytes();
            assert_eq!(utf8_units(&bytes), expected(&bytes));
            if !bytes.is_empty() {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = PICKS[(next() % 16) as usize];
                assert_eq!(utf8_units(&bytes), expected(&bytes), "{:x?}", bytes);
            }
        }
        let latin1: String = (0..4000u32)
            .map(|i| char::from((i * 7 % 256) as u8))
            .collect();
        for start in 0..16 {
            let text = &latin1.as_bytes()[start..];
            assert_eq!(utf8_units(text), expected(text));
        }
        let mixed = "aé€😀ßЖ".repeat(50);
        assert_eq!(utf8_units(mixed.as_bytes()), expected(mixed.as_bytes()));
    }

    #[test]
    fn surrogatepass() {
        let mut tape = Tape::default();
        push_utf8_surrogatepass(b"a\xed\xa0\x80\xf0\x9f\x98\x80", &mut tape).unwrap();
        assert_eq!(str16(&tape), [0x61, 0xd800, 0xd83d, 0xde00]);
        assert_eq!(tape.words, [crate::tape::STR16, 4]);
        for bad in [
            &b"\xff"[..],
            b"\xc0\x80",
            b"\xe0\x80\x80",
            b"\xf4\x90\x80\x80",
            b"\xe4\xb8",
        ] {
            assert!(push_utf8_surrogatepass(bad, &mut tape).is_err());
        }
        let mut tape = Tape::default();
        push_utf8_surrogatepass("é😀".as_bytes(), &mut tape).unwrap();
        assert_eq!(tape.words, [crate::tape::STR, 3]);
    }
}
