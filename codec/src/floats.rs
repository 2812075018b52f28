//! Float arguments: the `repr()` text of `FLOAT` and the big-endian IEEE 754 double of `BINFLOAT`.

/// Parses a `FLOAT` line like CPython's `PyOS_string_to_double` with an overflow error:
/// `[+-]` then digits with an optional fraction and exponent, or `inf`, `infinity`, `nan`
/// (any case). No whitespace, no underscores. The text ends at its first NUL, as the C string
/// CPython parses (`F1.5\0junk` is 1.5).
///
/// # Errors
/// When the text is no float literal, or its finite value overflows a double.
pub fn parse_float_text(text: &[u8]) -> Result<f64, &'static str> {
    let text = crate::ints::c_string(text);
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let special = if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        Some(f64::INFINITY)
    } else if body.eq_ignore_ascii_case(b"nan") {
        Some(f64::NAN)
    } else {
        None
    };
    if let Some(value) = special {
        return Ok(if negative { -value } else { value });
    }
    if !is_decimal_literal(body) {
        return Err("Could not convert string to float");
    }
    let value: f64 = core::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("Could not convert string to float")?;
    if value.is_infinite() {
        return Err("Float value too large to convert to a double");
    }
    Ok(value)
}

/// `digits [. digits] [e [+-] digits]` with at least one mantissa digit, or `. digits`.
fn is_decimal_literal(body: &[u8]) -> bool {
    let mut i = 0usize;
    let mut mantissa_digits = 0usize;
    while body.get(i).map_or(false, u8::is_ascii_digit) {
        i += 1;
        mantissa_digits += 1;
    }
    if body.get(i) == Some(&b'.') {
        i += 1;
        while body.get(i).map_or(false, u8::is_ascii_digit) {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return false;
    }
    if matches!(body.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(body.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent_start = i;
        while body.get(i).map_or(false, u8::is_ascii_digit) {
            i += 1;
        }
        if i == exponent_start {
            return false;
        }
    }
    i == body.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_text() {
        assert_eq!(parse_float_text(b"1e+100"), Ok(1e100));
        assert_eq!(
            parse_float_text(b"-0.0").map(f64::to_bits),
            Ok((-0.0f64).to_bits())
        );
        assert_eq!(parse_float_text(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_float_text(b"Infinity"), Ok(f64::INFINITY));
        assert!(parse_float_text(b"nan").unwrap().is_nan());
        assert_eq!(parse_float_text(b".5"), Ok(0.5));
        assert_eq!(parse_float_text(b"5."), Ok(5.0));
        assert_eq!(parse_float_text(b"1e-500"), Ok(0.0));
        assert_eq!(parse_float_text(b"0.1"), Ok(0.1));
        assert_eq!(parse_float_text(b"1.5\0zz"), Ok(1.5));
        assert!(parse_float_text(b"\01.5").is_err());
        assert!(parse_float_text(b"1e500").is_err());
        for bad in [
            &b""[..],
            b".",
            b"e5",
            b"1e",
            b"1_0",
            b" 1",
            b"1 ",
            b"0x10",
            b"in",
            b"--1",
        ] {
            assert!(parse_float_text(bad).is_err(), "{:?}", bad);
        }
    }
}
