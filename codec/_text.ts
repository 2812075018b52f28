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
 * Writes `text` into `buf` at `pos`, one byte per character, when it is all ASCII; returns
 * whether it was (else what was written is garbage). `buf` must have room for `text.length`
 * bytes from `pos`.
 */
export function writeAscii(
  text: string,
  buf: Uint8Array,
  pos: number,
): boolean {
  const { read, written } = utf8.encodeInto(
    text,
    buf.subarray(pos, pos + text.length),
  );
  return read === text.length && written === text.length;
}

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

/** The UTF-8 bytes of each Latin-1 code point: the lead (or only) byte, and the trail byte. */
const LATIN1_LEAD = new Uint8Array(256);
const LATIN1_TRAIL = new Uint8Array(256);
for (let b = 0x80; b < 256; b++) {
  LATIN1_LEAD[b] = 0xc0 | (b >> 6);
  LATIN1_TRAIL[b] = 0x80 | (b & 0x3f);
}
for (let b = 0; b < 0x80; b++) LATIN1_LEAD[b] = b;

/**
 * @returns The length in UTF-8 of the text whose code points are the bytes of `data` (one byte
 * each below 0x80, two from 0x80).
 */
export function latin1Utf8Length(data: Uint8Array): number {
  const n = data.length;
  let high = 0;
  const head = Math.min(n, -data.byteOffset & 3);
  for (let i = 0; i < head; i++) high += data[i] >> 7;
  const count = (n - head) >>> 2;
  if (count > 0) {
    // Four bytes at a time, no test per byte: that one mispredicts on binary data (25× slower).
    const words = new Uint32Array(data.buffer, data.byteOffset + head, count);
    for (let k = 0; k < count; k++) {
      high += Math.imul((words[k] >>> 7) & 0x01010101, 0x01010101) >>> 24;
    }
  }
  for (let i = head + count * 4; i < n; i++) high += data[i] >> 7;
  return n + high;
}

/**
 * Writes the text whose code points are the bytes of `data` as UTF-8 into `buf` at `pos`.
 * `buf` must have room for {@linkcode latin1Utf8Length} bytes plus one: every byte writes a
 * trail byte too, which the next one overwrites when it was not needed.
 *
 * @returns The position after the last byte written.
 */
export function writeLatin1AsUtf8(
  data: Uint8Array,
  buf: Uint8Array,
  pos: number,
): number {
  // Branch-free: a test per byte mispredicts half the time on binary data (3× slower).
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const b = data[i];
    buf[pos] = LATIN1_LEAD[b];
    buf[pos + 1] = LATIN1_TRAIL[b];
    pos += 1 + (b >> 7);
  }
  return pos;
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
