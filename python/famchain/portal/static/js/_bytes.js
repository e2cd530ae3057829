/**
 * @file Byte helpers shared by the portal's crypto modules (private: import the public modules instead).
 *
 * Integers are unsigned big-endian, as in every famchain byte format. `Reader` mirrors famchain's Python
 * `crypto/_codec.Reader`: every shortfall is a `MalformedError` naming the object and the byte offset.
 */
import { InputError, MalformedError } from "./errors.js";

const HEX = /^(0x)?([0-9a-fA-F]{2})*$/;
const ENCODER = new TextEncoder();

/** @param {string} text @returns {Uint8Array} UTF-8 bytes. */
export function utf8(text) {
  return ENCODER.encode(text);
}

/**
 * Decodes hex (with or without `0x`).
 * @param {string} text
 * @param {string} [what] - Names the value in the error.
 * @returns {Uint8Array}
 */
export function fromHex(text, what = "hex value") {
  if (typeof text !== "string" || !HEX.test(text)) throw new InputError(`${what} is not hexadecimal bytes`);
  const body = text.startsWith("0x") ? text.slice(2) : text;
  const out = new Uint8Array(body.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(body.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** @param {Uint8Array} bytes @returns {string} Lower-case hex without `0x`. */
export function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Accepts bytes as a Uint8Array (or any ArrayBufferView / ArrayBuffer) or hex text.
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView|string} value
 * @param {string} what
 * @returns {Uint8Array}
 */
export function asBytes(value, what) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return fromHex(value, what);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new InputError(`${what} must be bytes (Uint8Array or hex), got ${typeof value}`);
}

/** @param {...Uint8Array} parts @returns {Uint8Array} */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Constant-time equality of two byte strings of the same length (false when lengths differ). */
export function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Bytewise order: negative, zero or positive like a comparator. */
export function compare(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** @param {number} v @returns {Uint8Array} One byte. */
export function u8(v) {
  return Uint8Array.of(v);
}

/** @param {number} v @returns {Uint8Array} Two bytes, big-endian. */
export function u16(v) {
  return Uint8Array.of(v >>> 8, v & 0xff);
}

/** @param {number} v @returns {Uint8Array} Four bytes, big-endian. */
export function u32(v) {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** @param {Uint8Array} data @returns {Uint8Array} One length byte, then the data (at most 255 bytes). */
export function lp8(data) {
  return concat(u8(data.length), data);
}

/** @param {Uint8Array} bytes @returns {bigint} The big-endian unsigned integer. */
export function toBigInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

/** @param {bigint} value @param {number} size @returns {Uint8Array} `size` bytes, big-endian. */
export function fromBigInt(value, size) {
  const out = new Uint8Array(size);
  let v = value;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new InputError(`${value} does not fit in ${size} bytes`);
  return out;
}

export const MAX_SECTIONS = 64;
export const MAX_SECTION_NAME = 64;
const SECTION_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Validates a section name: `[a-z][a-z0-9_]*`, at most 64 characters.
 * @param {string} name
 * @returns {string} The name.
 * @throws {InputError}
 */
export function checkSectionName(name) {
  if (typeof name !== "string" || name.length > MAX_SECTION_NAME || !SECTION_NAME.test(name)) {
    throw new InputError(`invalid section name '${name}': expected [a-z][a-z0-9_]*, at most ${MAX_SECTION_NAME}`);
  }
  return name;
}

/** Consumes a byte string front to back; every shortfall is a `MalformedError`. */
export class Reader {
  /** @param {Uint8Array} data @param {string} what - Names the object in errors. */
  constructor(data, what) {
    this.data = data;
    this.pos = 0;
    this.what = what;
  }

  /** @param {string} reason @returns {MalformedError} */
  fail(reason) {
    return new MalformedError(this.what, `${reason} (at byte ${this.pos})`);
  }

  get remaining() {
    return this.data.length - this.pos;
  }

  /** @param {number} size @param {string} field @returns {Uint8Array} A view of the next `size` bytes. */
  take(size, field) {
    if (size > this.remaining) throw this.fail(`${field} needs ${size} bytes, only ${this.remaining} left`);
    const out = this.data.subarray(this.pos, this.pos + size);
    this.pos += size;
    return out;
  }

  /** @param {number} size - 1, 2 or 4. @param {string} field @returns {number} */
  uint(size, field) {
    const b = this.take(size, field);
    let v = 0;
    for (const x of b) v = v * 256 + x;
    return v;
  }

  /** Reads `lp8` ASCII and checks it is a valid section name. */
  sectionName() {
    const raw = this.take(this.uint(1, "section name"), "section name");
    const text = String.fromCharCode(...raw);
    if (raw.some((b) => b > 0x7f)) throw this.fail(`invalid section name ${JSON.stringify(text)}`);
    try {
      return checkSectionName(text);
    } catch {
      throw this.fail(`invalid section name ${JSON.stringify(text)}`);
    }
  }

  end() {
    if (this.remaining) throw this.fail(`${this.remaining} trailing bytes`);
  }
}
