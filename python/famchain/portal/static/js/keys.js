/**
 * @file The resident's record encryption key, derived in the browser from one wallet signature.
 *
 * A browser wallet cannot decrypt famchain envelopes (it never reveals its key and has no ECDH call), so
 * a resident who reads records in the portal registers a separate encryption key derived from a signature
 * of a fixed EIP-712 message. The derivation is also famchain/crypto/derived_key.py's, so the CLI, the
 * tests and the browser agree on the key:
 *
 *  1. The wallet signs (`eth_signTypedData_v4`) the typed data
 *       domain      {name: "famchain", version: "1", chainId}          (no verifyingContract)
 *       primaryType EncryptionKeyDerivation
 *       type        EncryptionKeyDerivation(string purpose,address account,address registry)
 *       message     {purpose: PURPOSE, account, registry}              registry = the ResidentRegistry
 *     and the signature must recover to `account` (else WrongAccountError: nothing is derived).
 *  2. ikm = the 64 bytes r ‖ s of the signature, with s in its low form (s <= n/2; a wallet that returns the
 *     mirrored high-s twin of the same signature gets the same key). v is not used.
 *  3. okm = HKDF-SHA256(ikm, salt = "famchain encryption key v1" (ASCII), info = the 20 address bytes of
 *     `account`, L = 48).
 *  4. private key = (int(okm, big-endian) mod (n − 1)) + 1, n the secp256k1 order: a scalar in 1 .. n−1
 *     with a bias below 2^-128. The public key is its 64-byte uncompressed point without the 0x04 prefix,
 *     the form `setEncryptionKeyWithSig` registers.
 *
 * Wallets that sign deterministically (RFC 6979: MetaMask, Rabby, hardware wallets, ethers) give the same
 * signature, hence the same key, on every device. The key lives in memory only; the portal never sees it.
 */
import { hkdf, keccak_256, secp256k1, sha256 } from "../vendor/noble.js";
import { asBytes, concat, fromBigInt, toBigInt, toHex, utf8 } from "./_bytes.js";
import { InputError, WrongAccountError } from "./errors.js";
import { addressBytes, addressFromPublicKey, publicKeyFromPrivate, SECP256K1_N, toChecksumAddress } from "./keywrap.js";

export const DOMAIN_NAME = "famchain";
export const DOMAIN_VERSION = "1";
export const PRIMARY_TYPE = "EncryptionKeyDerivation";
export const TYPE_STRING = "EncryptionKeyDerivation(string purpose,address account,address registry)";
export const PURPOSE = "famchain: derive my record encryption key. Sign only on a famchain portal you trust.";
export const SALT = "famchain encryption key v1";
export const OKM_SIZE = 48;
const DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId)";
const HALF_N = SECP256K1_N >> 1n;

/**
 * Which account, deployment and chain the key is for.
 * @typedef {object} DerivationParams
 * @property {bigint|number|string} chainId
 * @property {string} account - The resident's address.
 * @property {string} registry - The ResidentRegistry address.
 */

function chainIdOf(value) {
  let id;
  try {
    id = BigInt(value);
  } catch {
    throw new InputError(`chain id must be a positive uint256, got ${value}`);
  }
  if (id <= 0n || id >= 2n ** 256n) throw new InputError(`chain id must be a positive uint256, got ${id}`);
  return id;
}

/**
 * The exact typed data the wallet is asked to sign.
 * @param {DerivationParams} params
 * @returns {object} `eth_signTypedData_v4` JSON (chainId a number when it is a safe integer, else decimal text).
 */
export function derivationTypedData({ chainId, account, registry }) {
  const id = chainIdOf(chainId);
  return {
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
      ],
      [PRIMARY_TYPE]: [
        { name: "purpose", type: "string" },
        { name: "account", type: "address" },
        { name: "registry", type: "address" },
      ],
    },
    primaryType: PRIMARY_TYPE,
    domain: { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id.toString() },
    message: { purpose: PURPOSE, account: toChecksumAddress(account), registry: toChecksumAddress(registry) },
  };
}

function word(bytes20) {
  return concat(new Uint8Array(12), bytes20);
}

/**
 * The EIP-712 digest the wallet signs: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)).
 * @param {DerivationParams} params
 * @returns {Uint8Array} 32 bytes.
 */
export function derivationDigest({ chainId, account, registry }) {
  const domain = keccak_256(
    concat(keccak_256(utf8(DOMAIN_TYPE)), keccak_256(utf8(DOMAIN_NAME)), keccak_256(utf8(DOMAIN_VERSION)), fromBigInt(chainIdOf(chainId), 32)),
  );
  const struct = keccak_256(
    concat(keccak_256(utf8(TYPE_STRING)), keccak_256(utf8(PURPOSE)), word(addressBytes(account)), word(addressBytes(registry))),
  );
  return keccak_256(concat(Uint8Array.of(0x19, 0x01), domain, struct));
}

/**
 * The signer's address of a 65-byte `r ‖ s ‖ v` signature over a digest.
 * @param {Uint8Array} signature
 * @param {Uint8Array} digest
 * @returns {string} Checksummed address.
 * @throws {InputError} Not a recoverable signature.
 */
export function recoverSigner(signature, digest) {
  if (signature.length !== 65) throw new InputError(`a signature is 65 bytes (r ‖ s ‖ v), got ${signature.length}`);
  const v = signature[64];
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1) throw new InputError(`signature v must be 27 or 28, got ${v}`);
  try {
    const recovered = secp256k1.recoverPublicKey(concat(Uint8Array.of(recovery), signature.subarray(0, 64)), digest, { prehash: false });
    return addressFromPublicKey(secp256k1.Point.fromBytes(recovered).toBytes(false).subarray(1));
  } catch {
    throw new InputError("the signature does not recover to any account");
  }
}

/**
 * The derived key of a derivation signature (steps 2–4 of the module doc), after checking who signed.
 * @param {Uint8Array|string} signature - 65 bytes `r ‖ s ‖ v` (bytes or 0x hex, as wallets return it).
 * @param {DerivationParams} params
 * @returns {{account: string, privateKey: Uint8Array, publicKey: Uint8Array}}
 * @throws {WrongAccountError} The signature was made by another account.
 * @throws {InputError} Not a signature.
 */
export function keyFromSignature(signature, { chainId, account, registry }) {
  const sig = asBytes(signature, "signature");
  const expected = toChecksumAddress(account);
  const signer = recoverSigner(sig, derivationDigest({ chainId, account, registry }));
  if (signer !== expected) throw new WrongAccountError(expected, signer);
  let s = toBigInt(sig.subarray(32, 64));
  if (s > HALF_N) s = SECP256K1_N - s;
  const ikm = concat(sig.subarray(0, 32), fromBigInt(s, 32));
  const okm = hkdf(sha256, ikm, utf8(SALT), addressBytes(expected), OKM_SIZE);
  const privateKey = fromBigInt((toBigInt(okm) % (SECP256K1_N - 1n)) + 1n, 32);
  return { account: expected, privateKey, publicKey: publicKeyFromPrivate(privateKey) };
}

/**
 * Asks the wallet to sign the derivation message and derives the key.
 * @param {{signTypedData: (account: string, typedData: object) => Promise<string>}} wallet - e.g. eip6963.js's
 *   `Wallet` (connected, on the right chain).
 * @param {DerivationParams} params
 * @returns {Promise<{account: string, privateKey: Uint8Array, publicKey: Uint8Array, publicKeyHex: string}>}
 * @throws {UserRejectedError|WrongAccountError|WalletError}
 */
export async function deriveEncryptionKey(wallet, params) {
  const signature = await wallet.signTypedData(params.account, derivationTypedData(params));
  const key = keyFromSignature(signature, params);
  return { ...key, publicKeyHex: `0x${toHex(key.publicKey)}` };
}

/**
 * A gateway access token (docs/protocol.md, "Gateway"), signed with the resident's browser key: the portal's
 * `/ipfs/` serves sealed bytes only to a signed request, and accepts the resident's registered encryption key
 * as signing for the resident (so reading needs no wallet prompt). The same EIP-191 text as
 * famchain/storage/access.py.
 * @param {{gateway: string, reader: string, privateKey: Uint8Array, lifetime?: number, now?: number}} params -
 *   `gateway` the page's origin, `reader` the resident's account, `lifetime` seconds (120), `now` unix seconds.
 * @returns {{header: string, expires: number}} the `Authorization` value and when it expires.
 */
export function accessToken({ gateway, reader, privateKey, lifetime = 120, now = Date.now() / 1000 }) {
  const expires = Math.floor(now) + lifetime;
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const origin = new URL(gateway).origin.toLowerCase();
  const account = toChecksumAddress(reader);
  const text = `famchain gateway access\ngateway: ${origin}\nreader: ${account}\nexpires: ${expires}\nnonce: ${nonce}`;
  const message = utf8(text);
  const digest = keccak_256(concat(utf8(`\x19Ethereum Signed Message:\n${message.length}`), message));
  const recovered = secp256k1.sign(digest, privateKey, { prehash: false, format: "recovered" });
  const signature = concat(recovered.subarray(1), Uint8Array.of(27 + recovered[0]));
  const hex = toHex(signature);
  return {
    header: `Famchain gateway=${origin},reader=${account},expires=${expires},nonce=${nonce},signature=0x${hex}`,
    expires,
  };
}
