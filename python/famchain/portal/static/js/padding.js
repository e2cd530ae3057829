/**
 * @file Padmé padding with a 256-byte floor, as famchain/crypto/padding.py defines it.
 *
 * Every section plaintext and key-bundle body is sealed as `u32 length L | L bytes | zeros` up to
 * `paddedSize(L) = max(256, padme(L + 4))`, where for n >= 1: E = floor(log2 n), S = floor(log2 E) + 1,
 * z = E - S, padme(n) = n rounded up to a multiple of 2^z. A sealed length reveals only a size class.
 * Lengths are JavaScript numbers: exact up to 2^53, far above the 256 MiB section limit.
 */
import { concat, u32 } from "./_bytes.js";
import { MalformedError } from "./errors.js";

export const PAD_FLOOR = 256;
export const LENGTH_PREFIX = 4;

/** Exact bit length of a non-negative safe integer (Math.log2 can round up just below a power of two). */
function bitLength(n) {
  let bits = 0;
  for (let v = n; v >= 1; v = Math.floor(v / 2)) bits += 1;
  return bits;
}

/** @param {number} length - At least 1. @returns {number} The Padmé size class that contains it. */
export function padme(length) {
  if (!Number.isSafeInteger(length) || length < 1) throw new RangeError("padme is defined for lengths >= 1");
  const exponent = bitLength(length) - 1;
  const zeroBits = exponent - bitLength(exponent);
  const step = 2 ** zeroBits;
  return Math.ceil(length / step) * step;
}

/** @param {number} length @returns {number} `max(256, padme(length + 4))`. */
export function paddedSize(length) {
  return Math.max(PAD_FLOOR, padme(length + LENGTH_PREFIX));
}

/** @param {number} size @returns {boolean} Whether some plaintext pads to exactly `size` bytes. */
export function isSizeClass(size) {
  return Number.isSafeInteger(size) && size >= PAD_FLOOR && padme(size) === size;
}

/** @param {Uint8Array} data @returns {Uint8Array} Length prefix, data, zero padding. */
export function pad(data) {
  if (data.length >= 2 ** 32) throw new RangeError("padding input must be shorter than 2**32 bytes");
  const out = new Uint8Array(paddedSize(data.length));
  out.set(concat(u32(data.length), data));
  return out;
}

/**
 * Decodes `pad` output strictly (one encoding per plaintext).
 * @param {Uint8Array} padded
 * @param {string} what - Names the object in the error.
 * @returns {Uint8Array} A view of the plaintext.
 * @throws {MalformedError} Not a size class, a length prefix that does not fit, or non-zero padding.
 */
export function unpad(padded, what) {
  if (!isSizeClass(padded.length)) throw new MalformedError(what, `${padded.length} bytes is not a padded size class`);
  const length = ((padded[0] << 24) >>> 0) + (padded[1] << 16) + (padded[2] << 8) + padded[3];
  if (paddedSize(length) !== padded.length) {
    throw new MalformedError(what, `length prefix ${length} does not belong to size class ${padded.length}`);
  }
  const end = LENGTH_PREFIX + length;
  let nonzero = 0;
  for (let i = end; i < padded.length; i++) nonzero |= padded[i];
  if (nonzero) throw new MalformedError(what, "non-zero padding");
  return padded.subarray(LENGTH_PREFIX, end);
}
