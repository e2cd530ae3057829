/**
 * @file The errors the portal's browser modules throw on purpose.
 *
 * Each class has the same name as its counterpart in famchain's Python library (famchain/errors.py), so a
 * test (or a log reader) can compare the two readers error for error; `error.name` is that class name. The
 * screens turn these into sentences; everything else thrown is a bug.
 */

/** Root of every error thrown on purpose. */
export class FamchainError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** User-supplied data (an address, a section name, a key) is malformed. */
export class InputError extends FamchainError {}

/** Bytes do not match what they claim to be: a bad tag, a bad hash, a truncated or altered object. */
export class IntegrityError extends FamchainError {}

/** A cryptographic operation cannot be done (no key for this reader, an algorithm this reader lacks). */
export class CryptoError extends FamchainError {}

/** Serialized bytes (an envelope, a key bundle, a CID) do not parse as the canonical format. */
export class MalformedError extends IntegrityError {
  /**
   * @param {string} what - The object being parsed.
   * @param {string} reason - What is wrong.
   */
  constructor(what, reason) {
    super(`malformed ${what}: ${reason}`);
    this.what = what;
    this.reason = reason;
  }
}

/** An authenticated-encryption tag or MAC does not verify: the bytes were altered or belong elsewhere. */
export class AuthenticationError extends IntegrityError {
  /** @param {string} what - The object that failed. */
  constructor(what, message = undefined) {
    super(message ?? `${what} failed authentication: altered bytes, or sealed for another context`);
    this.what = what;
  }
}

/** A key does not match the commitment the envelope carries for it (checked before any decryption). */
export class KeyCommitmentError extends AuthenticationError {
  /** @param {string} what - Whose key (a section, or the envelope MAC). */
  constructor(what) {
    super(
      what,
      `the key for ${what} does not match its commitment: altered bytes, or a key other than the sealed ` +
        "one was handed out",
    );
  }
}

/** An envelope is bound to another record, patient, author, chain or registry than the one expected. */
export class ContextMismatchError extends IntegrityError {
  constructor(field, expected, found) {
    super(`envelope ${field} is ${found}, expected ${expected}`);
    this.field = field;
  }
}

/** The content fetched for a CID does not hash to it (corrupted, or served altered). */
export class BlockIntegrityError extends IntegrityError {
  constructor(cid, source = "the store") {
    super(`content ${cid} from ${source} does not match its CID (corrupted or altered)`);
    this.cid = cid;
  }
}

/** The reader holds no key in this envelope (or none for the asked section). */
export class NotARecipientError extends CryptoError {
  constructor(reader, what = "this envelope") {
    super(`${reader} is not a recipient of ${what}`);
    this.reader = reader;
  }
}

/** The section name is not present in the envelope. */
export class UnknownSectionError extends InputError {
  constructor(section, present) {
    super(`no section '${section}' in this envelope (present: ${present.join(", ") || "none"})`);
    this.section = section;
  }
}

/** A private or public key is not a valid secp256k1 key. */
export class InvalidKeyError extends CryptoError {
  constructor(kind, reason) {
    super(`invalid ${kind}: ${reason}`);
    this.kind = kind;
  }
}

/**
 * A section is sealed with an algorithm this browser cannot run (SM4-GCM when its module cannot be loaded).
 * Reported per section by `openEnvelope`; the other sections still open.
 */
export class AlgorithmUnavailableError extends CryptoError {
  constructor(algorithm, message) {
    super(message);
    this.algorithm = algorithm;
  }
}

/**
 * The wallet refused, is missing, or answered for another account or chain.
 * `code` is the EIP-1193 error code when the wallet gave one (4001: the user rejected the request).
 */
export class WalletError extends FamchainError {
  constructor(message, code = undefined) {
    super(message);
    this.code = code;
  }
}

/** No EIP-6963 wallet announced itself and `window.ethereum` is absent. */
export class NoWalletError extends WalletError {
  constructor() {
    super("no Ethereum wallet found in this browser: install or enable one, then reload the page");
  }
}

/** The user rejected the request in the wallet (EIP-1193 code 4001). */
export class UserRejectedError extends WalletError {
  constructor(what = "the request") {
    super(`you rejected ${what} in your wallet; nothing was signed or sent`, 4001);
  }
}

/** The wallet is connected to another chain than the portal's. */
export class WrongChainError extends WalletError {
  constructor(expected, found) {
    super(
      `your wallet is on chain ${found}, but this portal works on chain ${expected}: switch networks in ` +
        "your wallet and try again",
    );
    this.expected = expected;
    this.found = found;
  }
}

/** The wallet answered for (or signed with) another account than the one expected. */
export class WrongAccountError extends WalletError {
  constructor(expected, found) {
    super(
      `the wallet signed with ${found}, not with ${expected}: select account ${expected} in your wallet ` +
        "and try again",
    );
    this.expected = expected;
    this.found = found;
  }
}
