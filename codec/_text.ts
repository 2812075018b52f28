/**
 * Text encodings the pickler needs that the platform does not offer: UTF-8 with CPython's
 * `surrogatepass` error handler, `raw-unicode-escape` as `Modules/_pickle.c` writes it, and
 * Python's `repr()` of a float.
 *
 * @module
 */

const utf8 = new TextEncoder();

/** Strings at least this long are encoded by `TextEncoder.encodeInto` when well formed. */
const NATIVE_MIN_LENGTH = 64;

/** `String.prototype.isWellFormed` (ES2024); without it every string takes the JS loop. */
const CAN_CHECK = typeof "".isWellFormed === "function";

/**
 * Encodes `text` as UTF-8 into `buf` at `pos`, writing a lone surrogate as its 3-byte form
 * (`surrogatepass`). `buf` must have room for `3 * text.length` bytes.
 *
 * @returns The position after the last byte written.
 */
export function writeUtf8(text: string, buf: Uint8Array, pos: number): number {
  const n = text.length;
  if (n >= NATIVE_MIN_LENGTH && CAN_CHECK && text.isWellFormed()) {
    return pos + utf8.encodeInto(text, buf.subarray(pos)).written;
  }
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          buf[pos++] = 0xf0 | (c >> 18);
          buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
          buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
          buf[pos++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** @returns The length of `text` in UTF-8 with `surrogatepass`. */
export function utf8Length(text: string): number {
  const n = text.length;
  let length = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      length += 1;
    } else if (
      c >= 0xd800 && c <= 0xdbff && i + 1 < n &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      length += 2;
      i++;
    } else {
      length += 2;
    }
  }
  return length;
}

const HEX = "0123456789abcdef";

/**
 * Encodes `text` as CPython's pickler does for the protocol 0 `UNICODE` opcode: code points up
 * to U+00FF as one byte, except `\`, NUL, `\n`, `\r` and `\x1a`, which become `\u005c`-style
 * escapes like everything from U+0100 (`\U0001f600` above U+FFFF; lone surrogates as `\ud800`).
 *
 * @returns The bytes.
 */
export function rawUnicodeEscape(text: string): Uint8Array {
  const out: number[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0x10000) {
      out.push(0x5c, 0x55);
      for (let shift = 28; shift >= 0; shift -= 4) {
        out.push(HEX.charCodeAt((c >> shift) & 0xf));
      }
    } else if (
      c >= 0x100 || c === 0x5c || c === 0 || c === 0x0a || c === 0x0d ||
      c === 0x1a
    ) {
      out.push(0x5c, 0x75);
      for (let shift = 12; shift >= 0; shift -= 4) {
        out.push(HEX.charCodeAt((c >> shift) & 0xf));
      }
    } else {
      out.push(c);
    }
  }
  return Uint8Array.from(out);
}

/**
 * Formats a float as Python's `repr()` does: the shortest digits that round-trip, fixed
 * notation for exponents from -4 to 15 (always with a fractional part, `2.0`), scientific
 * notation with a signed, at least two-digit exponent otherwise (`1e+16`, `1e-05`), and `inf`,
 * `-inf`, `nan`.
 *
 * @returns The text.
 */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa, exponentText] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  const sign = mantissa[0] === "-" ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "");
  if (exponent >= -4 && exponent < 16) {
    if (exponent >= 0) {
      const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
      const fraction = digits.slice(exponent + 1);
      return `${sign}${whole}.${fraction === "" ? "0" : fraction}`;
    }
    return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
  const magnitude = String(Math.abs(exponent)).padStart(2, "0");
  return `${sign}${digits[0]}${fraction}e${
    exponent < 0 ? "-" : "+"
  }${magnitude}`;
}
