/**
 * @file Content identifiers exactly as famchain (and Kubo's `ipfs add --cid-version=1`) compute them.
 *
 * famchain names a stored object by a CIDv1 (multibase base32 `b…`, lower case, no padding) with a sha2-256
 * multihash, codec `raw` (0x55) or `dag-pb` (0x70); CIDv0 (`Qm…`) is accepted on input. On chain a CID
 * travels as its 32-byte digest plus the codec (famchain/storage/cid.py).
 *
 * A file is stored as a UnixFS DAG built like Kubo's default importer (famchain/storage/unixfs.py): fixed
 * 256 KiB chunks stored as raw leaves; a file of one chunk is that raw block (the empty file is the empty
 * raw block); a longer file is a balanced tree of dag-pb nodes with at most 174 links each, where every
 * full tree of depth d becomes the first child of a new root of depth d + 1. A dag-pb node is
 * `PBNode{Links..., Data}` with each `PBLink{Hash, Name="", Tsize}` and `Data` a UnixFS message
 * `{Type=File, filesize, blocksizes...}` (fields in the order Go's encoders write them).
 *
 * So the browser can check bytes fetched from a gateway against the digest anchored on chain
 * (`verifyContent`) and name a bundle it created before uploading it (`rawCid` / `fileCid`).
 */
import { sha256 } from "../vendor/noble.js";
import { asBytes, concat, equal } from "./_bytes.js";
import { BlockIntegrityError, InputError } from "./errors.js";

export const RAW = 0x55;
export const DAG_PB = 0x70;
export const SHA2_256 = 0x12;
export const DIGEST_SIZE = 32;
/** Kubo's default chunk size (`size-262144`). */
export const CHUNK_SIZE = 262144;
/** Kubo's default maximum links per UnixFS file node. */
export const MAX_LINKS = 174;
const UNIXFS_FILE = 2;
const B32 = "abcdefghijklmnopqrstuvwxyz234567";
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/**
 * A decoded CID.
 * @typedef {object} CidInfo
 * @property {number} version - 0 or 1.
 * @property {number} codec - RAW or DAG_PB.
 * @property {Uint8Array} digest - The 32-byte sha2-256 digest.
 */

// --- varints and multibase -------------------------------------------------------------------------------

/** Unsigned LEB128 varint (multiformats / protobuf). @param {number} value @returns {Uint8Array} */
export function encodeVarint(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
  const out = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function decodeVarint(buf, pos, what) {
  let value = 0;
  let scale = 1;
  const start = pos;
  for (;;) {
    if (pos >= buf.length) throw new InputError(`truncated ${what} at byte ${start}`);
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (!(byte & 0x80)) {
      if (byte === 0 && pos - start > 1) throw new InputError(`non-minimal ${what} encoding at byte ${start}`);
      return [value, pos];
    }
    scale *= 128;
    if (pos - start >= 9) throw new InputError(`${what} at byte ${start} is longer than 9 bytes`);
  }
}

function base32(bytes) {
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

function unbase32(text) {
  if (!text || ![...text].every((c) => B32.includes(c))) {
    throw new InputError("CID base32 body must be non-empty lower-case RFC 4648 base32 (a-z, 2-7)");
  }
  if ([1, 3, 6].includes(text.length % 8)) {
    throw new InputError(`CID base32 body has an impossible length (${text.length} characters)`);
  }
  const out = [];
  let bits = 0;
  let acc = 0;
  for (const c of text) {
    acc = (acc << 5) | B32.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  const bytes = Uint8Array.from(out);
  if (base32(bytes) !== text) throw new InputError("CID base32 body is not canonically encoded");
  return bytes;
}

function unbase58(text) {
  let num = 0n;
  for (const c of text) {
    const i = B58.indexOf(c);
    if (i < 0) throw new InputError(`invalid base58btc character '${c}'`);
    num = num * 58n + BigInt(i);
  }
  const body = [];
  while (num > 0n) {
    body.unshift(Number(num & 0xffn));
    num >>= 8n;
  }
  const zeros = text.length - text.replace(/^1+/, "").length;
  return Uint8Array.from([...new Array(zeros).fill(0), ...body]);
}

// --- CIDs ------------------------------------------------------------------------------------------------

function checkCodec(codec) {
  if (codec !== RAW && codec !== DAG_PB) {
    throw new InputError(`unsupported CID codec 0x${codec.toString(16)}: only raw (0x55) and dag-pb (0x70) are accepted`);
  }
}

/** The binary CIDv1 (as dag-pb links carry it). @param {CidInfo} info @returns {Uint8Array} */
export function cidBytes(info) {
  const multihash = concat(Uint8Array.of(SHA2_256, DIGEST_SIZE), info.digest);
  return info.version === 0 ? multihash : concat(encodeVarint(1), encodeVarint(info.codec), multihash);
}

/**
 * The canonical CIDv1 string of a digest and codec (what the chain stores).
 * @param {Uint8Array|string} digest - 32 bytes or hex.
 * @param {number} codec - RAW or DAG_PB.
 * @returns {string} `b…`
 */
export function cidFromDigest(digest, codec) {
  const d = asBytes(digest, "digest");
  if (d.length !== DIGEST_SIZE) throw new InputError(`a sha2-256 digest is ${DIGEST_SIZE} bytes`);
  checkCodec(codec);
  return `b${base32(cidBytes({ version: 1, codec, digest: d }))}`;
}

/**
 * Parses a CID strictly: CIDv1 base32 or CIDv0 base58btc, sha2-256 only, raw or dag-pb only.
 * @param {string} text
 * @returns {CidInfo} A CIDv0 comes back as version 0 (codec dag-pb).
 * @throws {InputError}
 */
export function parseCid(text) {
  if (typeof text !== "string" || !text) throw new InputError("a CID must be a non-empty string");
  const shown = text.length <= 80 ? text : `${text.slice(0, 77)}...`;
  try {
    if (text.length === 46 && text.startsWith("Qm")) {
      const raw = unbase58(text);
      if (raw.length !== 34 || raw[0] !== SHA2_256 || raw[1] !== DIGEST_SIZE) {
        throw new InputError("a CIDv0 must be a base58btc sha2-256 multihash");
      }
      return { version: 0, codec: DAG_PB, digest: raw.subarray(2) };
    }
    if (text[0] !== "b") throw new InputError("expected a CIDv1 in base32 ('b...') or a CIDv0 ('Qm...')");
    const raw = unbase32(text.slice(1));
    let pos = 0;
    let version;
    let codec;
    let code;
    let size;
    [version, pos] = decodeVarint(raw, pos, "CID version");
    if (version !== 1) throw new InputError(`unsupported CID version ${version}`);
    [codec, pos] = decodeVarint(raw, pos, "CID codec");
    checkCodec(codec);
    [code, pos] = decodeVarint(raw, pos, "multihash code");
    [size, pos] = decodeVarint(raw, pos, "multihash length");
    if (code !== SHA2_256) throw new InputError(`unsupported multihash function 0x${code.toString(16)}: only sha2-256 (0x12) is accepted`);
    if (size !== DIGEST_SIZE) throw new InputError(`sha2-256 multihash must carry ${DIGEST_SIZE} bytes, not ${size}`);
    if (raw.length < pos + size) throw new InputError("truncated multihash digest in CID");
    if (raw.length > pos + size) throw new InputError(`${raw.length - pos - size} trailing bytes after the CID`);
    return { version: 1, codec, digest: raw.subarray(pos) };
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`invalid CID '${shown}': ${err.message}`);
    throw err;
  }
}

/** The canonical CIDv1 string of any CID (a CIDv0 becomes its dag-pb CIDv1). */
export function normalizeCid(text) {
  const info = parseCid(text);
  return cidFromDigest(info.digest, info.codec);
}

/** The CIDv1 of one raw block (a key bundle, or a file of at most one chunk). @returns {string} */
export function rawCid(bytes) {
  return cidFromDigest(sha256(asBytes(bytes, "block")), RAW);
}

// --- UnixFS file DAG -------------------------------------------------------------------------------------

function fieldBytes(number, payload) {
  return concat(encodeVarint((number << 3) | 2), encodeVarint(payload.length), payload);
}

function fieldVarint(number, value) {
  return concat(encodeVarint(number << 3), encodeVarint(value));
}

/** UnixFS `Data` of type File (no inline data: leaves are raw). */
export function encodeUnixfsFile(filesize, blocksizes) {
  return concat(fieldVarint(1, UNIXFS_FILE), fieldVarint(3, filesize), ...blocksizes.map((s) => fieldVarint(4, s)));
}

/** dag-pb `PBNode`: links (hash, empty name, Tsize) first, then data. */
export function encodePbNode(links, data) {
  const parts = links.map(({ cid, tsize }) => fieldBytes(2, concat(fieldBytes(1, cid), fieldBytes(2, new Uint8Array(0)), fieldVarint(3, tsize))));
  return concat(...parts, fieldBytes(1, data));
}

/**
 * Builds the balanced UnixFS DAG of a file with raw leaves (Kubo's `--cid-version=1` defaults).
 * @param {Uint8Array} bytes - The whole file.
 * @param {{chunkSize?: number, maxLinks?: number, onBlock?: (cid: string, block: Uint8Array) => void}} [options]
 *   Other chunk sizes and fan-outs exist for tests of deep trees; `onBlock` receives every block, children
 *   before parents.
 * @returns {{cid: string, codec: number, digest: Uint8Array, size: number, blocks: number}}
 */
export function buildFile(bytes, { chunkSize = CHUNK_SIZE, maxLinks = MAX_LINKS, onBlock } = {}) {
  const data = asBytes(bytes, "file");
  if (!(chunkSize >= 1) || !(maxLinks >= 2)) throw new InputError("chunkSize must be >= 1 and maxLinks >= 2");
  let blocks = 0;
  const emit = (block, codec) => {
    const digest = sha256(block);
    blocks += 1;
    if (onBlock) onBlock(cidFromDigest(digest, codec), block);
    return { digest, codec };
  };
  let offset = 0;
  const done = () => offset >= data.length;
  const leaf = () => {
    const chunk = data.subarray(offset, Math.min(offset + chunkSize, data.length));
    offset += chunk.length;
    const { digest } = emit(chunk, RAW);
    return { cid: cidBytes({ version: 1, codec: RAW, digest }), digest, codec: RAW, tsize: chunk.length, filesize: chunk.length };
  };
  const commitNode = (children) => {
    const filesize = children.reduce((n, c) => n + c.filesize, 0);
    const node = encodePbNode(children, encodeUnixfsFile(filesize, children.map((c) => c.filesize)));
    const { digest } = emit(node, DAG_PB);
    const tsize = node.length + children.reduce((n, c) => n + c.tsize, 0);
    return { cid: cidBytes({ version: 1, codec: DAG_PB, digest }), digest, codec: DAG_PB, tsize, filesize };
  };
  // boxo balanced.fillNodeRec: add children until the node is full or the input ends.
  const fill = (children, depth) => {
    while (children.length < maxLinks && !done()) children.push(depth === 1 ? leaf() : fill([], depth - 1));
    return commitNode(children);
  };
  let root;
  if (done()) {
    root = { ...emit(data.subarray(0, 0), RAW), filesize: 0 };
  } else {
    root = leaf();
    for (let depth = 1; !done(); depth++) root = fill([root], depth);
  }
  return { cid: cidFromDigest(root.digest, root.codec), codec: root.codec, digest: root.digest, size: data.length, blocks };
}

/** The root CID famchain's store gives a file. @returns {string} */
export function fileCid(bytes, options = {}) {
  return buildFile(bytes, options).cid;
}

/**
 * Checks fetched file bytes against the CID (or the digest and codec anchored on chain) they were fetched by.
 * @param {Uint8Array} bytes - The whole file as the gateway served it.
 * @param {string|{digest: Uint8Array|string, codec: number}} expected
 * @returns {string} The canonical CID.
 * @throws {BlockIntegrityError} The bytes are not the content the CID names.
 */
export function verifyContent(bytes, expected) {
  const info = typeof expected === "string" ? parseCid(expected) : { codec: expected.codec, digest: asBytes(expected.digest, "digest") };
  const cid = cidFromDigest(info.digest, info.codec);
  const data = asBytes(bytes, "content");
  // A raw CID names one block; a dag-pb CID names the UnixFS file DAG built from the bytes.
  const got = info.codec === RAW ? sha256(data) : buildFile(data).digest;
  if (!equal(got, info.digest)) throw new BlockIntegrityError(cid, "the gateway");
  return cid;
}

