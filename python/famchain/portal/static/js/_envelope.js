/**
 * @file The envelope v2 format and its derivations (private: use envelope.js and bundle.js).
 *
 * The byte layout, labels and derivations are those of famchain/crypto/envelope.py's module docstring; the
 * names below follow it. This module parses, computes the reader's tag and KEK, unwraps the reader's own
 * entry and checks MAC and key commitments; envelope.js decrypts sections and bundle.js re-wraps keys.
 */
import { hmac, sha256 } from "../vendor/noble.js";
import { compare, concat, equal, asBytes, fromBigInt, lp8, MAX_SECTIONS, Reader, toBigInt, toHex, u8, utf8 } from "./_bytes.js";
import { AEAD_NAMES, aesGcmDecrypt, KEY_SIZE, NONCE_SIZE, TAG_SIZE } from "./aead.js";
import { AuthenticationError, ContextMismatchError, InputError, KeyCommitmentError, MalformedError } from "./errors.js";
import { addressBytes, ecdh, hkdf, isPublicKey, PUBLIC_KEY_SIZE, publicKeyFromPrivate } from "./keywrap.js";
import { isSizeClass, paddedSize } from "./padding.js";

export const ENVELOPE_MAGIC = utf8("FCEV");
export const FORMAT_VERSION = 2;
export const MAX_SECTION_BYTES = 2 ** 28;
export const MAX_RECIPIENTS = 1024;
export const MIN_RECIPIENT_ENTRIES = 4;
export const CONTEXT_SIZE = 124;
export const DIGEST_SIZE = 32;
export const MAC_SIZE = 32;
export const ENTRY_TAG_SIZE = 16;
const MASK_SIZE = 8;
const MAX_CIPHERTEXT = paddedSize(MAX_SECTION_BYTES) + TAG_SIZE;

const CONTEXT_LABEL = utf8("famchain/v2/context");
const HEADER_LABEL = utf8("famchain/v2/header");
const COMMIT_LABEL = utf8("famchain key commitment v2");
const SECTION_LABEL = utf8("famchain/v2/section");
const MAC_LABEL = utf8("famchain/v2/mac");
const RECIPIENT_TAG_INFO = utf8("famchain recipient tag");
const RECIPIENT_KEK_INFO = utf8("famchain kek");
const CUSTODIAN_TAG_INFO = utf8("famchain custodian tag");
const CUSTODIAN_KEK_INFO = utf8("famchain custodian kek");
const WHAT = "envelope";

// --- context ---------------------------------------------------------------------------------------------

/**
 * What a sealed record is bound to; the reader takes it from the chain anchor, never from the envelope.
 * @typedef {object} EnvelopeContext
 * @property {Uint8Array|string} salt - The author's 32-byte salt (bytes or hex).
 * @property {string} patient - The patient's address.
 * @property {string} author - The author's address.
 * @property {bigint|number|string} chainId - The chain id (1 .. 2^256 - 1).
 * @property {string} registry - The RecordRegistry address.
 */

/**
 * `salt[32] | patient[20] | author[20] | chain_id u256 | registry[20]` (124 bytes).
 * @param {EnvelopeContext} context
 * @returns {Uint8Array}
 * @throws {InputError} A field is malformed.
 */
export function contextBytes(context) {
  if (context === null || typeof context !== "object") throw new InputError("an envelope context is required");
  const salt = asBytes(context.salt, "salt");
  if (salt.length !== 32) throw new InputError("salt must be 32 bytes");
  let chainId;
  try {
    chainId = BigInt(context.chainId);
  } catch {
    throw new InputError(`chain id must be a positive uint256, got ${context.chainId}`);
  }
  if (chainId <= 0n || chainId >= 2n ** 256n) throw new InputError(`chain id must be a positive uint256, got ${chainId}`);
  return concat(
    salt,
    addressBytes(context.patient),
    addressBytes(context.author),
    fromBigInt(chainId, 32),
    addressBytes(context.registry),
  );
}

/** `SHA-256("famchain/v2/context" | context)`. @param {EnvelopeContext|Uint8Array} context */
export function contextDigest(context) {
  const ctx = context instanceof Uint8Array ? context : contextBytes(context);
  return sha256(concat(CONTEXT_LABEL, ctx));
}

// --- parsing ---------------------------------------------------------------------------------------------

/**
 * One encrypted section.
 * @typedef {object} SealedSection
 * @property {string} name
 * @property {number} aeadId - 1, 2 or 3.
 * @property {string} algorithm - The registry name (`aes-256-gcm`, `chacha20-poly1305`, `sm4-gcm`).
 * @property {Uint8Array} commitment
 * @property {Uint8Array} nonce
 * @property {Uint8Array} ciphertext - Padded plaintext, encrypted, tag appended.
 */

/**
 * A parsed envelope (views into `bytes`).
 * @typedef {object} Envelope
 * @property {Uint8Array} bytes - The canonical serialization.
 * @property {Uint8Array} digest - SHA-256 of the bytes (the digest of the envelope's raw CIDv1).
 * @property {Uint8Array} contextDigest
 * @property {Uint8Array} ephemeralPublicKey
 * @property {SealedSection[]} sections - In name order.
 * @property {string[]} sectionNames
 * @property {Uint8Array} macCommitment
 * @property {{threshold: number, custodians: number, sections: string[]}|null} emergency
 * @property {{tag: Uint8Array, wrapped: Uint8Array}[]} recipients - Dummies included, sorted by tag.
 * @property {{tag: Uint8Array, wrapped: Uint8Array}[]} custodians
 * @property {Uint8Array} prefix - The header bytes `header_digest` covers.
 * @property {Uint8Array} mac
 */

/**
 * Parses the canonical envelope serialization, rejecting anything that would not re-serialize identically.
 * Only the structure is checked; authenticity is checked when a reader opens it.
 * @param {Uint8Array|string} data - Bytes or hex.
 * @returns {Envelope}
 * @throws {MalformedError}
 */
export function parseEnvelope(data) {
  let bytes;
  try {
    bytes = asBytes(data, WHAT);
  } catch {
    throw new MalformedError(WHAT, `expected bytes, got ${typeof data}`);
  }
  const rd = new Reader(bytes, WHAT);
  if (!equal(rd.take(4, "magic"), ENVELOPE_MAGIC)) throw rd.fail("bad magic");
  const version = rd.uint(1, "version");
  if (version !== FORMAT_VERSION) throw rd.fail(`unsupported version ${version}`);
  const ctxDigest = rd.take(DIGEST_SIZE, "context digest");
  const ephemeral = rd.take(PUBLIC_KEY_SIZE, "ephemeral public key");
  if (!isPublicKey(ephemeral)) throw rd.fail("ephemeral public key is not a secp256k1 point");
  const nSections = rd.uint(1, "section count");
  if (nSections < 1 || nSections > MAX_SECTIONS) throw rd.fail(`section count ${nSections} not in 1..${MAX_SECTIONS}`);
  const sections = [];
  for (let i = 0; i < nSections; i++) sections.push(readSection(rd, sections.at(-1)?.name));
  const names = sections.map((s) => s.name);
  const macCommitment = rd.take(32, "mac commitment");
  const emergency = readEmergency(rd, names);
  const nEntries = rd.uint(2, "recipient entry count");
  if (nEntries < MIN_RECIPIENT_ENTRIES || nEntries > MAX_RECIPIENTS || (nEntries & (nEntries - 1)) !== 0) {
    throw rd.fail(`recipient entry count ${nEntries} is not a power of two in ${MIN_RECIPIENT_ENTRIES}..${MAX_RECIPIENTS}`);
  }
  const prefix = bytes.subarray(0, rd.pos);
  const recipients = readEntries(rd, nEntries, recipientWrapSize(nSections), "recipient");
  const custodians = emergency ? readEntries(rd, emergency.custodians, custodianWrapSize(emergency.sections.length), "custodian") : [];
  const mac = rd.take(MAC_SIZE, "mac");
  rd.end();
  return Object.freeze({
    bytes,
    digest: sha256(bytes),
    contextDigest: ctxDigest,
    ephemeralPublicKey: ephemeral,
    sections,
    sectionNames: names,
    macCommitment,
    emergency,
    recipients,
    custodians,
    prefix,
    mac,
  });
}

function readSection(rd, previous) {
  const name = rd.sectionName();
  if (previous !== undefined && compare(utf8(name), utf8(previous)) <= 0) {
    throw rd.fail(`section '${name}' out of order or duplicated`);
  }
  const aeadId = rd.uint(1, "aead id");
  const algorithm = AEAD_NAMES[aeadId];
  if (algorithm === undefined) throw rd.fail(`unknown aead id ${aeadId}`);
  const commitment = rd.take(32, "key commitment");
  const nonce = rd.take(NONCE_SIZE, "nonce");
  const size = rd.uint(4, "ciphertext length");
  if (size > MAX_CIPHERTEXT || !isSizeClass(size - TAG_SIZE)) {
    throw rd.fail(`ciphertext length ${size} is not a padded size class plus the tag`);
  }
  return Object.freeze({ name, aeadId, algorithm, commitment, nonce, ciphertext: rd.take(size, "ciphertext") });
}

function readEmergency(rd, names) {
  const count = rd.uint(1, "emergency section count");
  if (count === 0) return null;
  if (count > names.length) throw rd.fail(`emergency section count ${count} exceeds the ${names.length} sections`);
  const threshold = rd.uint(1, "emergency threshold");
  const custodians = rd.uint(1, "custodian count");
  if (threshold < 1 || threshold > custodians) {
    throw rd.fail(`emergency threshold ${threshold} not in 1..${custodians} (custodians)`);
  }
  const indices = [...rd.take(count, "emergency section indices")];
  if (indices.some((v, i) => i > 0 && v <= indices[i - 1]) || indices.at(-1) >= names.length) {
    throw rd.fail("emergency section indices not strictly increasing and in range");
  }
  return Object.freeze({ threshold, custodians, sections: indices.map((i) => names[i]) });
}

function readEntries(rd, count, wrapSize, kind) {
  const entries = [];
  for (let i = 0; i < count; i++) {
    const tag = rd.take(ENTRY_TAG_SIZE, `${kind} tag`);
    if (entries.length && compare(tag, entries.at(-1).tag) <= 0) throw rd.fail(`${kind} tags out of order or duplicated`);
    entries.push(Object.freeze({ tag, wrapped: rd.take(wrapSize, `${kind} wrap`) }));
  }
  return entries;
}

function recipientWrapSize(nSections) {
  return KEY_SIZE + MASK_SIZE + KEY_SIZE * nSections + TAG_SIZE;
}

function custodianWrapSize(nEmergency) {
  return KEY_SIZE + 1 + KEY_SIZE * nEmergency + TAG_SIZE;
}

/**
 * Accepts a parsed envelope or its bytes.
 * @param {Envelope|Uint8Array|string} envelope
 * @returns {Envelope}
 */
export function asEnvelope(envelope) {
  return envelope && typeof envelope === "object" && envelope.prefix instanceof Uint8Array ? envelope : parseEnvelope(envelope);
}

/** `envelope sha256:<hex>`, as errors name an envelope. */
export function describe(envelope) {
  return `envelope sha256:${toHex(envelope.digest)}`;
}

// --- derivations -----------------------------------------------------------------------------------------

export function headerDigest(ctx, prefix) {
  return sha256(concat(HEADER_LABEL, ctx, prefix));
}

export function commit(key, ctx, name, aeadId) {
  return hmac(sha256, key, concat(COMMIT_LABEL, ctx, lp8(utf8(name)), u8(aeadId)));
}

export function sectionAad(ctx, name, aeadId, commitment) {
  return concat(SECTION_LABEL, ctx, lp8(utf8(name)), u8(aeadId), commitment);
}

function entryTag(shared, ephemeral, publicKey, custodian) {
  return hkdf(shared, concat(custodian ? CUSTODIAN_TAG_INFO : RECIPIENT_TAG_INFO, ephemeral, publicKey), ENTRY_TAG_SIZE);
}

function entryKek(shared, header, publicKey, custodian) {
  const okm = hkdf(shared, concat(custodian ? CUSTODIAN_KEK_INFO : RECIPIENT_KEK_INFO, header, publicKey), KEY_SIZE + NONCE_SIZE);
  return [okm.subarray(0, KEY_SIZE), okm.subarray(KEY_SIZE)];
}

/** Binary search of a tag among entries sorted by tag; the final comparison is constant-time. */
function lookup(entries, tag) {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(entries[mid].tag, tag) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < entries.length && equal(entries[lo].tag, tag) ? entries[lo] : null;
}

// --- checks ----------------------------------------------------------------------------------------------

/**
 * Checks the envelope is bound to the context; returns the 124 context bytes.
 * @throws {ContextMismatchError}
 */
export function checkContext(envelope, context) {
  const ctx = contextBytes(context);
  const digest = contextDigest(ctx);
  if (!equal(digest, envelope.contextDigest)) {
    throw new ContextMismatchError("context digest", `0x${toHex(digest)}`, `0x${toHex(envelope.contextDigest)}`);
  }
  return ctx;
}

/**
 * Checks the MAC key against its commitment, then the MAC over the whole envelope.
 * @throws {KeyCommitmentError|AuthenticationError}
 */
export function authenticate(envelope, ctx, macKey) {
  if (!equal(commit(macKey, ctx, "", 0), envelope.macCommitment)) throw new KeyCommitmentError("the envelope MAC");
  const body = envelope.bytes.subarray(0, envelope.bytes.length - MAC_SIZE);
  const expected = hmac(sha256, macKey, concat(MAC_LABEL, ctx, body));
  if (!equal(expected, envelope.mac)) throw new AuthenticationError(WHAT);
}

/** @throws {KeyCommitmentError} */
export function checkKey(section, key, ctx) {
  if (!equal(commit(key, ctx, section.name, section.aeadId), section.commitment)) {
    throw new KeyCommitmentError(`section '${section.name}'`);
  }
}

/**
 * Tells whether the envelope holds a recipient entry for this key (one ECDH, nothing decrypted).
 * @returns {boolean}
 */
export function hasEntry(envelope, privateKey, ctx) {
  if (!equal(contextDigest(ctx), envelope.contextDigest)) return false;
  const shared = ecdh(privateKey, envelope.ephemeralPublicKey);
  const tag = entryTag(shared, envelope.ephemeralPublicKey, publicKeyFromPrivate(privateKey), false);
  return lookup(envelope.recipients, tag) !== null;
}

/**
 * What the reader's own recipient entry gives, the envelope authenticated and every key checked.
 * @param {Envelope} envelope
 * @param {Uint8Array} privateKey
 * @param {Uint8Array} ctx - The 124 context bytes (already checked against the envelope).
 * @returns {Promise<{macKey: Uint8Array, keys: Map<string, Uint8Array>}|null>} Null without an entry.
 * @throws {AuthenticationError|KeyCommitmentError|MalformedError}
 */
export async function ownAccess(envelope, privateKey, ctx) {
  const publicKey = publicKeyFromPrivate(privateKey);
  const shared = ecdh(privateKey, envelope.ephemeralPublicKey);
  const tag = entryTag(shared, envelope.ephemeralPublicKey, publicKey, false);
  const entry = lookup(envelope.recipients, tag);
  if (entry === null) return null;
  const [kek, nonce] = entryKek(shared, headerDigest(ctx, envelope.prefix), publicKey, false);
  const blob = await aesGcmDecrypt(kek, nonce, entry.wrapped, tag, "recipient entry");
  const macKey = blob.subarray(0, KEY_SIZE);
  const mask = toBigInt(blob.subarray(KEY_SIZE, KEY_SIZE + MASK_SIZE));
  const n = envelope.sections.length;
  if (mask === 0n || mask >> BigInt(n) !== 0n) {
    throw new MalformedError("recipient entry", `section mask 0x${mask.toString(16)} does not fit ${n} sections`);
  }
  authenticate(envelope, ctx, macKey);
  const keys = new Map();
  envelope.sections.forEach((section, i) => {
    const start = KEY_SIZE + MASK_SIZE + KEY_SIZE * i;
    const slot = blob.subarray(start, start + KEY_SIZE);
    if ((mask >> BigInt(i)) & 1n) {
      checkKey(section, slot, ctx);
      keys.set(section.name, slot);
    } else if (slot.some((b) => b !== 0)) {
      throw new MalformedError("recipient entry", `slot ${i} holds a key the mask does not grant`);
    }
  });
  return { macKey, keys };
}
