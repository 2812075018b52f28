/**
 * The output buffer of the encoder: a growable `Uint8Array` that frames its content exactly as
 * CPython's C pickler does (`Modules/_pickle.c`: `_Pickler_Write`, `_Pickler_OpcodeBoundary`,
 * `_Pickler_CommitFrame`, `_Pickler_write_bytes`), so that protocol 4+ output has the same
 * `FRAME`s, byte for byte.
 *
 * @module
 */

/** The `FRAME` opcode. */
const FRAME = 0x95;
/** A frame is closed at the first opcode boundary once it holds this many bytes. */
export const FRAME_SIZE_TARGET = 64 * 1024;
/** A closed frame shorter than this loses its header. */
const FRAME_SIZE_MIN = 4;
/** `FRAME` and its 8-byte length. */
const FRAME_HEADER_SIZE = 9;
/** The first allocation. */
const INITIAL_CAPACITY = 8 * 1024;
/** Outputs up to this size are copied out so that the buffer can be reused. */
const COPY_OUT_LIMIT = 1024 * 1024;
/**
 * The largest buffer kept between calls: what a large output's successor starts with, at
 * most, and what a larger buffer shrinks to.
 */
const KEPT_CAPACITY_LIMIT = 16 * 1024 * 1024;

/** The output of one `encode()`; reset between calls. */
export class Writer {
  /** The bytes; only `[0, pos)` is written. */
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(INITIAL_CAPACITY);
  /** A view of {@linkcode buf} for multi-byte numbers. */
  view: DataView = new DataView(this.buf.buffer);
  /** The write position. */
  pos = 0;
  /** Whether writes go into frames (protocol 4+ after the `PROTO` opcode). */
  framing = false;
  /** Where the open frame's header was reserved, or -1 when no frame is open. */
  frameStart = -1;

  /** Starts a new output, keeping the buffer (up to {@linkcode KEPT_CAPACITY_LIMIT}). */
  reset(): void {
    this.pos = 0;
    this.framing = false;
    this.frameStart = -1;
    if (this.buf.length > KEPT_CAPACITY_LIMIT) {
      this.replace(KEPT_CAPACITY_LIMIT);
    }
  }

  /**
   * Makes room for `n` more bytes at {@linkcode pos}, opening a frame first when framing is on
   * and none is open, as `_Pickler_Write` does.
   */
  reserve(n: number): void {
    if (this.frameStart < 0 && this.framing) this.openFrame();
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Writes one opcode byte. */
  byte(b: number): void {
    if (this.frameStart < 0 && this.framing) this.openFrame();
    if (this.pos === this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /** Writes two bytes. */
  byte2(a: number, b: number): void {
    this.reserve(2);
    const buf = this.buf;
    buf[this.pos++] = a;
    buf[this.pos++] = b;
  }

  /** Writes bytes. */
  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Writes a string of code points below 0x80 (opcode text such as `I12\n`). */
  ascii(text: string): void {
    const n = text.length;
    this.reserve(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
  }

  /** Writes a little-endian unsigned 32-bit number (no reservation). */
  u32At(pos: number, value: number): void {
    this.view.setUint32(pos, value, true);
  }

  /** Writes a little-endian unsigned 64-bit size (no reservation). */
  u64At(pos: number, value: number): void {
    this.view.setUint32(pos, value % 0x100000000, true);
    this.view.setUint32(pos + 4, Math.floor(value / 0x100000000), true);
  }

  /**
   * The write position at which {@linkcode boundary} closes the open frame, for loops that
   * write many small values between checks; `Infinity` when no frame is open.
   */
  frameLimit(): number {
    return this.frameStart >= 0
      ? this.frameStart + FRAME_HEADER_SIZE + FRAME_SIZE_TARGET
      : Infinity;
  }

  /**
   * Called before each value is saved: closes the open frame once it reached the target size
   * (`_Pickler_OpcodeBoundary`).
   */
  boundary(): void {
    if (
      this.frameStart >= 0 &&
      this.pos - this.frameStart - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET
    ) {
      this.commitFrame();
    }
  }

  /**
   * Starts a payload of `length` bytes and reserves `room` bytes for it and its header. As in
   * `_Pickler_write_bytes`, a payload of 64 KiB or more closes the open frame and is written
   * outside any frame. Returns the framing that {@linkcode endPayload} restores.
   */
  beginPayload(length: number, room: number): boolean {
    const framing = this.framing;
    if (length >= FRAME_SIZE_TARGET) {
      this.commitFrame();
      this.framing = false;
    }
    this.reserve(room);
    return framing;
  }

  /** Ends what {@linkcode beginPayload} started. */
  endPayload(framing: boolean): void {
    this.framing = framing;
  }

  /**
   * Writes an opcode header and its payload, outside any frame when the payload is large.
   *
   * @param header The opcode and its length field.
   * @param headerLength How many bytes of `header` to write.
   * @param payload The bytes.
   */
  headerAndPayload(
    header: Uint8Array,
    headerLength: number,
    payload: Uint8Array,
  ): void {
    const framing = this.beginPayload(
      payload.length,
      headerLength + payload.length,
    );
    this.buf.set(header.subarray(0, headerLength), this.pos);
    this.pos += headerLength;
    this.buf.set(payload, this.pos);
    this.pos += payload.length;
    this.endPayload(framing);
  }

  /**
   * Closes the open frame: writes its `FRAME` header, or removes the reserved header when the
   * frame is too small to deserve one (`_Pickler_CommitFrame`).
   */
  commitFrame(): void {
    const start = this.frameStart;
    if (start < 0) return;
    const length = this.pos - start - FRAME_HEADER_SIZE;
    if (length >= FRAME_SIZE_MIN) {
      this.buf[start] = FRAME;
      this.u64At(start + 1, length);
    } else {
      this.buf.copyWithin(start, start + FRAME_HEADER_SIZE, this.pos);
      this.pos -= FRAME_HEADER_SIZE;
    }
    this.frameStart = -1;
  }

  /**
   * Returns the output. A small output is copied so that the buffer serves the next call; a
   * large one is handed over without a copy and the next call starts a fresh buffer of about
   * its size (up to {@linkcode KEPT_CAPACITY_LIMIT}).
   *
   * @param shared Return a view of the buffer, which the next call overwrites, and keep it (up
   * to {@linkcode KEPT_CAPACITY_LIMIT}).
   */
  finish(shared: boolean): Uint8Array<ArrayBuffer> {
    const pos = this.pos;
    if (shared) return this.buf.subarray(0, pos);
    if (pos <= COPY_OUT_LIMIT) return this.buf.slice(0, pos);
    const out = this.buf.subarray(0, pos);
    // The next value is often of the same size (a loop saving similar values). Doubling up from
    // 8 KiB again would copy as many bytes as the output holds and write twice as many fresh
    // pages (~2 ms for 5 MB); the pages of a large allocation take memory only once written.
    this.replace(Math.min(pos + (pos >> 3), KEPT_CAPACITY_LIMIT));
    return out;
  }

  private openFrame(): void {
    if (this.pos + FRAME_HEADER_SIZE > this.buf.length) {
      this.grow(FRAME_HEADER_SIZE);
    }
    this.frameStart = this.pos;
    this.pos += FRAME_HEADER_SIZE;
  }

  private grow(n: number): void {
    const needed = this.pos + n;
    // Doubling amortizes small writes; a big payload gets exactly its room (plus slack for
    // what follows), so that a 64 MiB `bytes` is copied once, not once per doubling.
    const doubled = this.buf.length * 2;
    const capacity = doubled >= needed ? doubled : needed + FRAME_SIZE_TARGET;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private replace(capacity: number): void {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }
}
