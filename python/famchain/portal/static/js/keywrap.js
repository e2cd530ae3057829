/**
 * @file secp256k1 keys for encryption, as famchain/crypto/keywrap.py defines them.
 *
 * Public keys are 64-byte uncompressed points without the `0x04` prefix (the form registered on chain);
 * `ecdh(a, B)` is the 32-byte x-coordinate of `a * B`; `hkdf(ikm, info, L)` is HKDF-SHA256 (RFC 5869) with
 * no salt. An account's address is the last 20 bytes of keccak-256 of its public key.
 */
import { hkdf as nobleHkdf, keccak_256, secp256k1, sha256 } from "../vendor/noble.js";
import { asBytes, concat, toBigInt, toHex, utf8 } from "./_bytes.js";
import { InputError, InvalidKeyError } from "./errors.js";

export const PRIVATE_KEY_SIZE = 32;
export const PUBLIC_KEY_SIZE = 64;
/** The order n of secp256k1's group. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * Checks a 32-byte private key (1 <= k < n).
 * @param {Uint8Array|string} privateKey - Bytes or hex.
 * @returns {Uint8Array}
 * @throws {InvalidKeyError}
 */
export function parsePrivateKey(privateKey) {
  let key;
  try {
    key = asBytes(privateKey, "private key");
  } catch {
    throw new InvalidKeyError("private key", "expected 32 bytes or hex");
  }
  if (key.length !== PRIVATE_KEY_SIZE) throw new InvalidKeyError("private key", `expected ${PRIVATE_KEY_SIZE} bytes`);
  const k = toBigInt(key);
  if (k === 0n || k >= SECP256K1_N) throw new InvalidKeyError("private key", "not in the secp256k1 scalar range");
  return key;
}

/**
 * Normalizes a public key given as 64 or 65 (`0x04`-prefixed) bytes or hex, and checks it is on the curve.
 * @param {Uint8Array|string} value
 * @returns {Uint8Array} The 64-byte form.
 * @throws {InvalidKeyError}
 */
export function parsePublicKey(value) {
  let raw;
  try {
    raw = asBytes(value, "public key");
  } catch {
    throw new InvalidKeyError("public key", "not hexadecimal");
  }
  if (raw.length === PUBLIC_KEY_SIZE + 1 && raw[0] === 4) raw = raw.subarray(1);
  if (!isPublicKey(raw)) {
    throw new InvalidKeyError(
      "public key",
      raw.length === PUBLIC_KEY_SIZE
        ? "not a point on secp256k1"
        : `expected ${PUBLIC_KEY_SIZE} bytes (uncompressed, no 0x04 prefix)`,
    );
  }
  return raw;
}

/** @param {Uint8Array} value @returns {boolean} Whether it is a 64-byte uncompressed secp256k1 point. */
export function isPublicKey(value) {
  if (!(value instanceof Uint8Array) || value.length !== PUBLIC_KEY_SIZE) return false;
  try {
    secp256k1.Point.fromBytes(concat(Uint8Array.of(4), value)).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/** @param {Uint8Array|string} privateKey @returns {Uint8Array} The 64-byte public key. */
export function publicKeyFromPrivate(privateKey) {
  return secp256k1.getPublicKey(parsePrivateKey(privateKey), false).subarray(1);
}

/**
 * The x-coordinate of `privateKey * publicKey`.
 * @param {Uint8Array} privateKey - 32 bytes.
 * @param {Uint8Array} publicKey - 64 bytes.
 * @returns {Uint8Array} 32 bytes.
 */
export function ecdh(privateKey, publicKey) {
  const point = concat(Uint8Array.of(4), parsePublicKey(publicKey));
  return secp256k1.getSharedSecret(parsePrivateKey(privateKey), point, true).subarray(1);
}

/** HKDF-SHA256 with no salt. @returns {Uint8Array} */
export function hkdf(ikm, info, length) {
  return nobleHkdf(sha256, ikm, undefined, info, length);
}

/**
 * EIP-55 mixed-case form of a 20-byte address.
 * @param {Uint8Array|string} address - 20 bytes, or hex with `0x`.
 * @returns {string}
 */
export function toChecksumAddress(address) {
  const raw = typeof address === "string" ? addressBytes(address) : address;
  const lower = toHex(raw);
  const hash = toHex(keccak_256(utf8(lower)));
  let out = "0x";
  for (let i = 0; i < 40; i++) out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  return out;
}

/**
 * The 20 bytes of an address (any case; a mixed-case address must carry a valid EIP-55 checksum).
 * @param {string} address
 * @returns {Uint8Array}
 * @throws {InputError}
 */
export function addressBytes(address) {
  if (typeof address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(address)) {
    throw new InputError(`not an Ethereum address: ${JSON.stringify(address)}`);
  }
  const raw = asBytes(address, "address");
  const body = address.slice(2);
  if (body !== body.toLowerCase() && body !== body.toUpperCase() && toChecksumAddress(raw) !== address) {
    throw new InputError(`address ${address} has a bad EIP-55 checksum`);
  }
  return raw;
}

/** @param {Uint8Array} publicKey - 64 bytes. @returns {string} The checksummed address. */
export function addressFromPublicKey(publicKey) {
  return toChecksumAddress(keccak_256(parsePublicKey(publicKey)).subarray(12));
}

/** @param {Uint8Array|string} privateKey @returns {string} The checksummed address. */
export function addressFromPrivateKey(privateKey) {
  return addressFromPublicKey(publicKeyFromPrivate(privateKey));
}

/**
 * The randomness hook: `(size, what) => Uint8Array`. Library calls use `systemEntropy`; only tests pass a
 * scripted source to reproduce famchain's test vectors byte for byte (`what` names the draw as in Python).
 * @callback Entropy
 * @param {number} size
 * @param {string} what
 * @returns {Uint8Array}
 */

/** @type {Entropy} The browser's CSPRNG. */
export function systemEntropy(size) {
  return crypto.getRandomValues(new Uint8Array(size));
}

/**
 * Draws a one-time key pair: 32 bytes, again while they are not a scalar in 1 .. n-1.
 * @param {Entropy} entropy
 * @returns {{privateKey: Uint8Array, publicKey: Uint8Array}}
 */
export function ephemeralKey(entropy) {
  for (;;) {
    const candidate = entropy(PRIVATE_KEY_SIZE, "ephemeral private key");
    const k = toBigInt(candidate);
    if (k > 0n && k < SECP256K1_N) return { privateKey: candidate, publicKey: publicKeyFromPrivate(candidate) };
  }
}
