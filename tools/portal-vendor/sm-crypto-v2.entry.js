// Entry of python/famchain/portal/static/vendor/sm-crypto-v2.js: SM4 (with its GCM mode) from sm-crypto-v2,
// loaded by the portal only when an envelope holds an SM4-GCM section. Bundled by vendor.mjs.
export { sm4 } from "sm-crypto-v2";
