// Sign eth_signTypedData_v4 JSON the way a browser wallet does, with ethers v6.
//
//   PRIVATE_KEY=0x… node tests/wallet/sign.mjs < typed-data.json
//
// stdin: one typed-data object (types incl. EIP712Domain, primaryType, domain, message) or an array of them.
// stdout: for each, {"signature", "digest", "signer"}: the 65-byte r‖s‖v signature from
// Wallet.signTypedData(domain, types without EIP712Domain, message), the EIP-712 digest from
// TypedDataEncoder.hash, and the address recovered with verifyTypedData. An array in gives an array out.
import { readFileSync } from "node:fs";
import { TypedDataEncoder, Wallet, verifyTypedData } from "ethers";

function die(message) {
  process.stderr.write(`sign.mjs: ${message}\n`);
  process.exit(2);
}

function checkIntegers(value, path) {
  // JSON.parse turns integers above 2^53 into rounded doubles: refuse them instead of signing another value.
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    die(`${path} = ${value} is not a safe JSON integer; pass it as a decimal string`);
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) checkIntegers(v, `${path}.${k}`);
  }
}

async function sign(wallet, data) {
  checkIntegers(data, "$");
  const { EIP712Domain, ...types } = data.types ?? die("no types");
  if (!EIP712Domain) die("types has no EIP712Domain (not eth_signTypedData_v4 JSON)");
  // ethers infers the primary type; a mismatch with primaryType would sign something else.
  const primary = TypedDataEncoder.getPrimaryType(types);
  if (primary !== data.primaryType) die(`primaryType ${data.primaryType} but the types' root is ${primary}`);
  const signature = await wallet.signTypedData(data.domain, types, data.message);
  return {
    signature,
    digest: TypedDataEncoder.hash(data.domain, types, data.message),
    signer: verifyTypedData(data.domain, types, data.message, signature),
  };
}

const key = process.env.PRIVATE_KEY ?? die("set PRIVATE_KEY");
const wallet = new Wallet(key);
const input = JSON.parse(readFileSync(0, "utf8"));
const out = Array.isArray(input)
  ? await Promise.all(input.map((d) => sign(wallet, d)))
  : await sign(wallet, input);
process.stdout.write(JSON.stringify(out) + "\n");
