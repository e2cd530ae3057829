// Entry of python/famchain/portal/static/vendor/noble.js: the parts of @noble/curves, @noble/hashes and
// @noble/ciphers that the portal's browser modules use. Bundled by vendor.mjs (make portal-vendor).
export { secp256k1 } from "@noble/curves/secp256k1.js";
export { sha256 } from "@noble/hashes/sha2.js";
export { keccak_256 } from "@noble/hashes/sha3.js";
export { hmac } from "@noble/hashes/hmac.js";
export { hkdf } from "@noble/hashes/hkdf.js";
export { chacha20poly1305 } from "@noble/ciphers/chacha.js";
export { gcm } from "@noble/ciphers/aes.js";
