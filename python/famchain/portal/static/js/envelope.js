/**
 * @file Opening sealed records (envelope v2) in the browser, byte-compatible with famchain's Python reader.
 *
 * The byte format and every derivation are specified in famchain/crypto/envelope.py's module docstring; the
 * vectors in famchain/crypto/vectors/envelope-v2.json open here byte for byte (the test suite checks it).
 *
 * Opening costs one ECDH whatever the number of recipients: the reader computes its anonymous tag,
 * binary-searches it among the recipient entries, unwraps its entry with a key bound to the header digest,
 * checks the MAC-key commitment and the MAC over the whole envelope, checks each granted section key
 * against its commitment, and only then decrypts and unpads. Keys the patient released later come from key
 * bundles (`bundles`). The context (salt, patient, author, chain id, registry) comes from the chain anchor,
 * never from the envelope.
 *
 * Errors have the names of the Python reader's (`error.name`): MalformedError, ContextMismatchError,
 * NotARecipientError, AuthenticationError, KeyCommitmentError, UnknownSectionError, InvalidKeyError.
 * A section sealed with SM4-GCM that this browser cannot open comes back as an AlgorithmUnavailableError
 * for that section only (see aead.js).
 */
import { toHex } from "./_bytes.js";
import { aeadDecrypt } from "./aead.js";
import {
  asEnvelope,
  authenticate,
  checkContext,
  checkKey,
  contextBytes,
  contextDigest,
  describe,
  hasEntry,
  ownAccess,
  parseEnvelope,
  sectionAad,
} from "./_envelope.js";
import { KEYS, openBundle } from "./bundle.js";
import { AlgorithmUnavailableError, AuthenticationError, NotARecipientError, UnknownSectionError } from "./errors.js";
import { addressFromPrivateKey, parsePrivateKey } from "./keywrap.js";
import { unpad } from "./padding.js";

export { contextBytes, contextDigest, parseEnvelope };

/**
 * What `openEnvelope` gives for one section.
 * @typedef {object} SectionResult
 * @property {string} name
 * @property {string} algorithm - `aes-256-gcm`, `chacha20-poly1305` or `sm4-gcm`.
 * @property {"opened"|"withheld"|"unavailable"} status - Opened; not released to this reader; or sealed
 *   with an algorithm this browser cannot run (`error` says so; the famchain CLI opens it).
 * @property {Uint8Array} [plaintext] - When opened.
 * @property {AlgorithmUnavailableError} [error] - When unavailable.
 */

/**
 * Tells whether the envelope holds a recipient entry for this key under this context.
 * One ECDH and a tag lookup; nothing is decrypted or authenticated.
 * @param {import("./_envelope.js").Envelope|Uint8Array|string} envelope
 * @param {Uint8Array|string} privateKey
 * @param {import("./_envelope.js").EnvelopeContext} context
 * @returns {boolean}
 * @throws {InvalidKeyError} The private key is not a valid secp256k1 key.
 */
export function isRecipient(envelope, privateKey, context) {
  return hasEntry(asEnvelope(envelope), parsePrivateKey(privateKey), contextBytes(context));
}

async function openedBundles(bundles, privateKey) {
  const out = [];
  for (const bundle of bundles) {
    if (bundle && Array.isArray(bundle.entries)) {
      out.push(bundle);
      continue;
    }
    try {
      out.push(await openBundle(bundle, privateKey));
    } catch (err) {
      // The bytes do not name their grantee: a bundle that does not open is someone else's (or altered).
      if (!(err instanceof AuthenticationError)) throw err;
    }
  }
  return out;
}

/** Every key the reader holds for the envelope, from its own entry and from bundles, all checked. */
async function unlock(envelope, privateKey, context, bundles) {
  const ctx = checkContext(envelope, context);
  let found = false;
  const keys = new Map();
  const own = await ownAccess(envelope, privateKey, ctx);
  if (own !== null) {
    found = true;
    own.keys.forEach((k, n) => keys.set(n, k));
  }
  for (const opened of await openedBundles(bundles, privateKey)) {
    for (const entry of opened.entries) {
      if (entry.kind !== KEYS || toHex(entry.contextDigest) !== toHex(envelope.contextDigest)) continue;
      if (toHex(entry.envelopeDigest) !== toHex(envelope.digest)) continue;
      authenticate(envelope, ctx, entry.macKey);
      for (const [name, key] of entry.keys) {
        const section = envelope.sections.find((s) => s.name === name);
        if (section === undefined) throw new AuthenticationError(`key bundle entry for section '${name}'`);
        checkKey(section, key, ctx);
        keys.set(name, key);
      }
      found = true;
    }
  }
  if (!found) throw new NotARecipientError(addressFromPrivateKey(privateKey), describe(envelope));
  return { ctx, keys };
}

async function decrypt(section, key, ctx) {
  checkKey(section, key, ctx);
  const what = `section '${section.name}'`;
  const aad = sectionAad(ctx, section.name, section.aeadId, section.commitment);
  const padded = await aeadDecrypt(section.aeadId, key, section.nonce, section.ciphertext, aad, what);
  return unpad(padded, `${what} plaintext`);
}

/**
 * Decrypts every section released to the reader; the others come back withheld.
 *
 * The whole envelope is authenticated before anything is decrypted, and either every released section
 * decrypts or an error is thrown (no partial plaintext). The one exception is a section whose algorithm
 * this browser lacks: it is reported per section (`status: "unavailable"`) and the others still open.
 *
 * @param {import("./_envelope.js").Envelope|Uint8Array|string} envelope - Parsed, bytes or hex.
 * @param {Uint8Array|string} privateKey - The reader's 32-byte secp256k1 key (e.g. `keys.js`'s derived key).
 * @param {import("./_envelope.js").EnvelopeContext} context - From the chain anchor.
 * @param {{bundles?: Array<Uint8Array|string|object>}} [options] - Key bundles (bytes, parsed or opened)
 *   that may hold keys for this reader; those that do not open with the reader's key are skipped. A sealed
 *   bundle costs one ECDH per call: when reading a whole card, open each bundle once (`openBundle`) and pass
 *   the opened ones.
 * @returns {Promise<Record<string, SectionResult>>} By section name, in envelope order.
 * @throws {MalformedError|ContextMismatchError|NotARecipientError|AuthenticationError|KeyCommitmentError}
 */
export async function openEnvelope(envelope, privateKey, context, { bundles = [] } = {}) {
  const env = asEnvelope(envelope);
  const key = parsePrivateKey(privateKey);
  const { ctx, keys } = await unlock(env, key, context, bundles);
  const out = {};
  for (const section of env.sections) {
    const base = { name: section.name, algorithm: section.algorithm };
    const sectionKey = keys.get(section.name);
    if (sectionKey === undefined) {
      out[section.name] = { ...base, status: "withheld" };
      continue;
    }
    try {
      out[section.name] = { ...base, status: "opened", plaintext: await decrypt(section, sectionKey, ctx) };
    } catch (err) {
      if (!(err instanceof AlgorithmUnavailableError)) throw err;
      out[section.name] = { ...base, status: "unavailable", error: err };
    }
  }
  return out;
}

/**
 * Decrypts one section for a reader (the whole envelope is authenticated first).
 * @param {import("./_envelope.js").Envelope|Uint8Array|string} envelope
 * @param {string} name
 * @param {Uint8Array|string} privateKey
 * @param {import("./_envelope.js").EnvelopeContext} context
 * @param {{bundles?: Array<Uint8Array|string|object>}} [options]
 * @returns {Promise<Uint8Array>}
 * @throws {UnknownSectionError} No such section.
 * @throws {NotARecipientError} No key for this reader, or none for this section.
 * @throws {AlgorithmUnavailableError} The section's algorithm cannot run in this browser.
 * @throws {MalformedError|ContextMismatchError|AuthenticationError|KeyCommitmentError}
 */
export async function openSection(envelope, name, privateKey, context, { bundles = [] } = {}) {
  const env = asEnvelope(envelope);
  const section = env.sections.find((s) => s.name === name);
  if (section === undefined) throw new UnknownSectionError(name, env.sectionNames);
  const key = parsePrivateKey(privateKey);
  const { ctx, keys } = await unlock(env, key, context, bundles);
  if (!keys.has(name)) throw new NotARecipientError(addressFromPrivateKey(key), `section '${name}' of ${describe(env)}`);
  return decrypt(section, keys.get(name), ctx);
}
