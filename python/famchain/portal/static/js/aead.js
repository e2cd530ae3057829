/**
 * @file The AEAD algorithms an envelope section may use, as famchain/crypto/aead.py registers them.
 *
 * | id | name              | here                                                                        |
 * |----|-------------------|-----------------------------------------------------------------------------|
 * | 1  | aes-256-gcm       | WebCrypto (noble-ciphers' `gcm` where `crypto.subtle` is absent: plain http) |
 * | 2  | chacha20-poly1305 | noble-ciphers `chacha20poly1305`                                            |
 * | 3  | sm4-gcm           | sm-crypto-v2 `sm4` in GCM mode, loaded on first use, under the 16-byte key  |
 * |    |                   | `HKDF-SHA256(key, salt=none, info="famchain sm4-gcm key", L=16)`            |
 *
 * Every algorithm takes a 32-byte key and a 12-byte nonce and appends a 16-byte tag. A tag that does not
 * verify is an `AuthenticationError`; an SM4 module that cannot be loaded is an `AlgorithmUnavailableError`
 * whose message tells the reader to use the famchain CLI.
 */
import { chacha20poly1305, gcm } from "../vendor/noble.js";
import { utf8 } from "./_bytes.js";
import { AlgorithmUnavailableError, AuthenticationError } from "./errors.js";
import { hkdf } from "./keywrap.js";

export const KEY_SIZE = 32;
export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;

export const AES_256_GCM = "aes-256-gcm";
export const CHACHA20_POLY1305 = "chacha20-poly1305";
export const SM4_GCM = "sm4-gcm";

/** Envelope algorithm id -> registry name. */
export const AEAD_NAMES = Object.freeze({ 1: AES_256_GCM, 2: CHACHA20_POLY1305, 3: SM4_GCM });

const SM4_KEY_INFO = utf8("famchain sm4-gcm key");
/** Where the SM4 implementation is loaded from (relative to this module). */
export const SM4_MODULE = new URL("../vendor/sm-crypto-v2.js", import.meta.url).href;
export const SM4_UNAVAILABLE =
  "sealed with SM4-GCM, which this browser reader cannot open; use the famchain CLI";

let sm4Module = null;

function subtle() {
  // crypto.subtle exists only in secure contexts (https, localhost); plain-http portals fall back to noble.
  return globalThis.crypto?.subtle ?? null;
}

async function loadSm4() {
  if (sm4Module === null) {
    sm4Module = import(SM4_MODULE).then(
      (m) => m.sm4,
      (cause) => {
        sm4Module = null; // a later call may succeed (the file was only unreachable)
        throw new AlgorithmUnavailableError(SM4_GCM, `${SM4_UNAVAILABLE} (${cause?.message ?? cause})`);
      },
    );
  }
  return sm4Module;
}

/**
 * AES-256-GCM encryption (key wraps and key bundles).
 * @param {Uint8Array} key - 32 bytes.
 * @param {Uint8Array} nonce - 12 bytes.
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>} Ciphertext with the tag appended.
 */
export async function aesGcmEncrypt(key, nonce, plaintext, aad) {
  const s = subtle();
  if (s === null) return gcm(key, nonce, aad).encrypt(plaintext);
  const k = await s.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  return new Uint8Array(await s.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, k, plaintext));
}

/**
 * AES-256-GCM decryption.
 * @returns {Promise<Uint8Array>}
 * @throws {AuthenticationError} The tag does not verify.
 */
export async function aesGcmDecrypt(key, nonce, data, aad, what = "ciphertext") {
  if (data.length < TAG_SIZE) throw new AuthenticationError(what);
  const s = subtle();
  try {
    if (s === null) return gcm(key, nonce, aad).decrypt(data);
    const k = await s.importKey("raw", key, "AES-GCM", false, ["decrypt"]);
    const iv = { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 };
    return new Uint8Array(await s.decrypt(iv, k, data));
  } catch {
    throw new AuthenticationError(what);
  }
}

/**
 * Decrypts and authenticates one section's ciphertext with the algorithm its id names.
 * @param {number} aeadId - 1, 2 or 3.
 * @param {Uint8Array} key - The 32-byte section key.
 * @param {Uint8Array} nonce
 * @param {Uint8Array} data - Ciphertext with its tag.
 * @param {Uint8Array} aad
 * @param {string} what - Names the object in errors.
 * @returns {Promise<Uint8Array>}
 * @throws {AuthenticationError} The tag does not verify.
 * @throws {AlgorithmUnavailableError} SM4-GCM cannot be loaded here.
 */
export async function aeadDecrypt(aeadId, key, nonce, data, aad, what) {
  if (data.length < TAG_SIZE) throw new AuthenticationError(what);
  if (aeadId === 1) return aesGcmDecrypt(key, nonce, data, aad, what);
  if (aeadId === 2) {
    try {
      return chacha20poly1305(key, nonce, aad).decrypt(data);
    } catch {
      throw new AuthenticationError(what);
    }
  }
  if (aeadId === 3) {
    const sm4 = await loadSm4();
    const body = data.subarray(0, data.length - TAG_SIZE);
    const tag = data.subarray(data.length - TAG_SIZE);
    try {
      // The tag is always passed: sm-crypto-v2 checks it (in constant time) before decrypting.
      const options = { mode: "gcm", iv: nonce, associatedData: aad, tag, output: "array" };
      return sm4.decrypt(body, hkdf(key, SM4_KEY_INFO, 16), options);
    } catch {
      throw new AuthenticationError(what);
    }
  }
  throw new RangeError(`unknown aead id ${aeadId}`);
}

/**
 * Encrypts with the algorithm an id names (tests and future sealing in the browser).
 * @returns {Promise<Uint8Array>} Ciphertext with the tag appended.
 */
export async function aeadEncrypt(aeadId, key, nonce, plaintext, aad) {
  if (aeadId === 1) return aesGcmEncrypt(key, nonce, plaintext, aad);
  if (aeadId === 2) return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
  if (aeadId === 3) {
    const sm4 = await loadSm4();
    const options = { mode: "gcm", iv: nonce, associatedData: aad, output: "array", outputTag: true };
    const { output, tag } = sm4.encrypt(plaintext, hkdf(key, SM4_KEY_INFO, 16), options);
    const out = new Uint8Array(output.length + TAG_SIZE);
    out.set(output);
    out.set(tag, output.length);
    return out;
  }
  throw new RangeError(`unknown aead id ${aeadId}`);
}
