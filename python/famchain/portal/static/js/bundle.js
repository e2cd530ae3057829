/**
 * @file Key bundles (FCKB version 2): open them, and create them when the patient grants a request.
 *
 * The format is famchain/crypto/bundle.py's (its module docstring is the specification):
 *
 *     "FCKB" | u8 version=2 | ephemeral_pubkey[64] | ciphertext (size class + 16)
 *     shared     = ECDH(ephemeral, grantee).x
 *     kek|nonce  = HKDF-SHA256(shared, salt=none, info="famchain bundle kek" | ephemeral_pubkey | grantee_pubkey, L=44)
 *     ciphertext = AES-256-GCM(kek, nonce, pad(body), aad="FCKB" | 0x02 | ephemeral_pubkey)
 *     body       = u16 n (1..4096), then entries sorted by (context_digest, envelope_digest, kind), unique:
 *                  context_digest[32] | envelope_digest[32] | u8 kind (1 keys, 2 emergency shares) |
 *                  mac_key[32] | u8 count (1..64) | count x (lp8 name | key[32] or Shamir share bytes)
 *
 * The bytes show neither grantee nor records: only a padded size class. `releaseKeys` is Python's
 * `famchain.crypto.envelope.release_keys`: the patient's browser re-wraps, for a grantee, the section keys
 * it holds in existing envelopes; Python's `open_bundle` / `open_all(..., bundles=...)` open the result.
 */
import { sha256 } from "../vendor/noble.js";
import { asBytes, checkSectionName, compare, concat, lp8, MAX_SECTIONS, Reader, toHex, u16, u8, utf8 } from "./_bytes.js";
import { aesGcmDecrypt, aesGcmEncrypt, KEY_SIZE, NONCE_SIZE, TAG_SIZE } from "./aead.js";
import { asEnvelope, checkContext, contextDigest, describe, ownAccess } from "./_envelope.js";
import { rawCid } from "./cid.js";
import { InputError, NotARecipientError } from "./errors.js";
import { addressFromPrivateKey, ecdh, ephemeralKey, hkdf, isPublicKey, parsePrivateKey, parsePublicKey, PUBLIC_KEY_SIZE, publicKeyFromPrivate, systemEntropy } from "./keywrap.js";
import { isSizeClass, pad, unpad } from "./padding.js";

export const BUNDLE_MAGIC = utf8("FCKB");
export const BUNDLE_VERSION = 2;
export const MAX_BUNDLE_ENTRIES = 4096;
export const KEYS = 1;
export const SHARES = 2;
const KEK_INFO = utf8("famchain bundle kek");
const SHARE_VERSION = 1;

/**
 * A sealed bundle: opaque until its grantee opens it.
 * @typedef {object} KeyBundle
 * @property {Uint8Array} bytes
 * @property {Uint8Array} digest - SHA-256 of the bytes (the `bundleDigest` announced on chain).
 * @property {Uint8Array} ephemeralPublicKey
 * @property {Uint8Array} ciphertext
 */

/**
 * One decrypted entry.
 * @typedef {object} BundleEntry
 * @property {Uint8Array} contextDigest
 * @property {Uint8Array} envelopeDigest
 * @property {number} kind - KEYS (1) or SHARES (2).
 * @property {Uint8Array} macKey
 * @property {[string, Uint8Array][]} keys - For KEYS: `[section, key]`, names sorted.
 * @property {[string, {x: number, threshold: number, y: Uint8Array}][]} shares - For SHARES.
 */

/**
 * Parses a bundle's bytes (only the structure can be checked without the grantee's key).
 * @param {Uint8Array|string} data
 * @returns {KeyBundle}
 * @throws {MalformedError}
 */
export function parseBundle(data) {
  const bytes = asBytes(data, "key bundle");
  const rd = new Reader(bytes, "key bundle");
  if (compare(rd.take(4, "magic"), BUNDLE_MAGIC) !== 0) throw rd.fail("bad magic");
  const version = rd.uint(1, "version");
  if (version !== BUNDLE_VERSION) throw rd.fail(`unsupported version ${version}`);
  const ephemeralPublicKey = rd.take(PUBLIC_KEY_SIZE, "ephemeral public key");
  if (!isPublicKey(ephemeralPublicKey)) throw rd.fail("ephemeral public key is not a secp256k1 point");
  const size = rd.remaining;
  if (!isSizeClass(size - TAG_SIZE)) throw rd.fail(`ciphertext of ${size} bytes is not a padded size class plus the tag`);
  return Object.freeze({ bytes, digest: sha256(bytes), ephemeralPublicKey, ciphertext: rd.take(size, "ciphertext") });
}

function kek(shared, ephemeralPublicKey, granteePublicKey) {
  const okm = hkdf(shared, concat(KEK_INFO, ephemeralPublicKey, granteePublicKey), KEY_SIZE + NONCE_SIZE);
  return [okm.subarray(0, KEY_SIZE), okm.subarray(KEY_SIZE)];
}

function aad(ephemeralPublicKey) {
  return concat(BUNDLE_MAGIC, u8(BUNDLE_VERSION), ephemeralPublicKey);
}

/**
 * Decrypts a bundle with the grantee's private key.
 * @param {KeyBundle|Uint8Array|string} bundle
 * @param {Uint8Array|string} privateKey
 * @returns {Promise<{entries: BundleEntry[]}>}
 * @throws {AuthenticationError} Not for this key, or altered (the bytes cannot tell which).
 * @throws {MalformedError} The decrypted body is not canonical.
 */
export async function openBundle(bundle, privateKey) {
  const sealed = bundle && bundle.ciphertext instanceof Uint8Array ? bundle : parseBundle(bundle);
  const key = parsePrivateKey(privateKey);
  const shared = ecdh(key, sealed.ephemeralPublicKey);
  const [k, nonce] = kek(shared, sealed.ephemeralPublicKey, publicKeyFromPrivate(key));
  const padded = await aesGcmDecrypt(k, nonce, sealed.ciphertext, aad(sealed.ephemeralPublicKey), "key bundle");
  return parseBody(unpad(padded, "key bundle body"));
}

function readShare(rd) {
  const version = rd.uint(1, "share version");
  if (version !== SHARE_VERSION) throw rd.fail(`unsupported share version ${version}`);
  const x = rd.uint(1, "share x");
  const threshold = rd.uint(1, "share threshold");
  const length = rd.uint(2, "share length");
  if (x === 0) throw rd.fail("share x-coordinate is zero");
  if (threshold === 0) throw rd.fail("share threshold is zero");
  if (length === 0) throw rd.fail("share length is zero");
  return { x, threshold, y: rd.take(length, "share value") };
}

function sortKey(entry) {
  return concat(entry.contextDigest, entry.envelopeDigest, u8(entry.kind));
}

/**
 * Parses a decrypted, unpadded body (canonical form only).
 * @param {Uint8Array} body
 * @returns {{entries: BundleEntry[]}}
 * @throws {MalformedError}
 */
export function parseBody(body) {
  const rd = new Reader(body, "key bundle body");
  const n = rd.uint(2, "entry count");
  if (n < 1 || n > MAX_BUNDLE_ENTRIES) throw rd.fail(`entry count ${n} not in 1..${MAX_BUNDLE_ENTRIES}`);
  const entries = [];
  for (let i = 0; i < n; i++) {
    const entry = readEntry(rd);
    if (entries.length && compare(sortKey(entry), sortKey(entries.at(-1))) <= 0) throw rd.fail("entry out of order or duplicated");
    entries.push(entry);
  }
  rd.end();
  return { entries };
}

function readEntry(rd) {
  const contextDigest_ = rd.take(32, "context digest");
  const envelopeDigest = rd.take(32, "envelope digest");
  const kind = rd.uint(1, "entry kind");
  if (kind !== KEYS && kind !== SHARES) throw rd.fail(`unknown entry kind ${kind}`);
  const macKey = rd.take(KEY_SIZE, "mac key");
  const count = rd.uint(1, "section count");
  if (count < 1 || count > MAX_SECTIONS) throw rd.fail(`section count ${count} not in 1..${MAX_SECTIONS}`);
  const keys = [];
  const shares = [];
  let previous;
  for (let i = 0; i < count; i++) {
    const name = rd.sectionName();
    if (previous !== undefined && name <= previous) throw rd.fail(`section '${name}' out of order or duplicated`);
    previous = name;
    if (kind === KEYS) {
      keys.push([name, rd.take(KEY_SIZE, "section key")]);
      continue;
    }
    const share = readShare(rd);
    if (share.y.length !== KEY_SIZE) throw rd.fail(`a share of a section key must be ${KEY_SIZE} bytes`);
    if (shares.length && (share.x !== shares[0][1].x || share.threshold !== shares[0][1].threshold)) {
      throw rd.fail("shares of one entry must have one x-coordinate and one threshold");
    }
    shares.push([name, share]);
  }
  return { contextDigest: contextDigest_, envelopeDigest, kind, macKey, keys, shares };
}

/** The canonical body bytes of sorted, unique entries. */
export function encodeBody(entries) {
  const parts = [u16(entries.length)];
  for (const e of entries) {
    parts.push(sortKey(e), e.macKey);
    if (e.kind === KEYS) {
      parts.push(u8(e.keys.length), ...e.keys.map(([n, k]) => concat(lp8(utf8(n)), k)));
    } else {
      parts.push(u8(e.shares.length));
      for (const [n, s] of e.shares) {
        parts.push(lp8(utf8(n)), Uint8Array.of(SHARE_VERSION, s.x, s.threshold), u16(s.y.length), s.y);
      }
    }
  }
  return concat(...parts);
}

/**
 * Encrypts entries to a grantee.
 * @param {BundleEntry[]} entries
 * @param {Uint8Array} granteePublicKey - 64 bytes.
 * @param {import("./keywrap.js").Entropy} entropy
 * @returns {Promise<KeyBundle>}
 */
export async function sealBundle(entries, granteePublicKey, entropy = systemEntropy) {
  const grantee = parsePublicKey(granteePublicKey);
  const ordered = [...entries].sort((a, b) => compare(sortKey(a), sortKey(b)));
  if (!ordered.length) throw new InputError("nothing to release: no requested section is present in the given records");
  if (ordered.length > MAX_BUNDLE_ENTRIES) throw new InputError(`a key bundle holds at most ${MAX_BUNDLE_ENTRIES} entries, got ${ordered.length}`);
  if (ordered.some((e, i) => i > 0 && compare(sortKey(e), sortKey(ordered[i - 1])) === 0)) {
    throw new InputError("two bundle entries for the same envelope and kind");
  }
  const ephemeral = ephemeralKey(entropy);
  const [k, nonce] = kek(ecdh(ephemeral.privateKey, grantee), ephemeral.publicKey, grantee);
  const ciphertext = await aesGcmEncrypt(k, nonce, pad(encodeBody(ordered)), aad(ephemeral.publicKey));
  return parseBundle(concat(BUNDLE_MAGIC, u8(BUNDLE_VERSION), ephemeral.publicKey, ciphertext));
}

/**
 * One record whose keys are released.
 * @typedef {object} Grant
 * @property {import("./_envelope.js").Envelope|Uint8Array|string} envelope - Parsed, bytes or hex.
 * @property {import("./_envelope.js").EnvelopeContext} context - From the chain anchor.
 * @property {string[]|null} [sections] - The sections to release; null or absent means every section.
 */

/**
 * Re-wraps section keys of existing records for one grantee (the consent was given after sealing).
 *
 * For each grant the requested sections present in the envelope are released; records holding none of
 * them are skipped, so one consent's sections can be applied to a whole card. The same envelope given
 * twice releases the union. Every key is checked against the envelope's commitments before it is wrapped.
 *
 * @param {Uint8Array|string} releaserPrivateKey - A recipient of each envelope (the patient's derived key).
 * @param {Uint8Array|string} granteePublicKey - The grantee's encryption public key (64 or 65 bytes, or hex).
 * @param {Grant[]} grants
 * @param {{entropy?: import("./keywrap.js").Entropy}} [options] - `entropy` only for test vectors.
 * @returns {Promise<KeyBundle & {cid: string, sections: string[]}>} The bundle, its raw CIDv1 and the union
 *   of released section names (for the on-chain KeyRelease announcement).
 * @throws {InputError} Nothing to release, or a bad section name.
 * @throws {ContextMismatchError} A context does not match its envelope.
 * @throws {NotARecipientError} The releaser lacks an entry, or a key for a requested section.
 * @throws {IntegrityError} An envelope fails authentication for the releaser.
 * @throws {InvalidKeyError} A key is malformed.
 */
export async function releaseKeys(releaserPrivateKey, granteePublicKey, grants, { entropy = systemEntropy } = {}) {
  const grantee = parsePublicKey(granteePublicKey);
  const releaser = parsePrivateKey(releaserPrivateKey);
  const chosen = new Map();
  for (const { envelope, context, sections = null } of grants) {
    const env = asEnvelope(envelope);
    const present = new Set(env.sectionNames);
    const wanted = sections === null ? [...present] : sections.map(checkSectionName).filter((n) => present.has(n));
    if (!wanted.length) continue;
    const id = toHex(contextDigest(context)) + toHex(env.digest);
    if (chosen.has(id)) wanted.forEach((n) => chosen.get(id).names.add(n));
    else chosen.set(id, { env, context, names: new Set(wanted) });
  }
  const entries = [];
  for (const { env, context, names } of chosen.values()) {
    const ctx = checkContext(env, context);
    const access = await ownAccess(env, releaser, ctx);
    if (access === null) throw new NotARecipientError(addressFromPrivateKey(releaser), describe(env));
    const missing = [...names].filter((n) => !access.keys.has(n)).sort();
    if (missing.length) throw new NotARecipientError(addressFromPrivateKey(releaser), `section '${missing[0]}' of ${describe(env)}`);
    const keys = [...names].sort().map((n) => [n, access.keys.get(n)]);
    entries.push({ contextDigest: contextDigest(ctx), envelopeDigest: env.digest, kind: KEYS, macKey: access.macKey, keys, shares: [] });
  }
  const bundle = await sealBundle(entries, grantee, entropy);
  const sections = [...new Set(entries.flatMap((e) => e.keys.map(([n]) => n)))].sort();
  return { ...bundle, cid: rawCid(bundle.bytes), sections };
}

