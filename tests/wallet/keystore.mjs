// Open and make V3 keystores with ethers v6 (the JSON keystore format of geth, MetaMask exports and famchain).
//
//   PASSWORD=… node tests/wallet/keystore.mjs decrypt KEYSTORE.json
//       -> {"address", "privateKey"} via Wallet.fromEncryptedJson
//   PASSWORD=… PRIVATE_KEY=0x… node tests/wallet/keystore.mjs encrypt [--light]
//       -> the keystore JSON from wallet.encrypt (ethers' default scrypt), or with --light a small scrypt N
//          (2^12) through encryptKeystoreJson, for fast tests
import { readFileSync } from "node:fs";
import { Wallet, encryptKeystoreJson } from "ethers";

function die(message) {
  process.stderr.write(`keystore.mjs: ${message}\n`);
  process.exit(2);
}

const password = process.env.PASSWORD ?? die("set PASSWORD");
const [command, arg] = process.argv.slice(2);

if (command === "decrypt") {
  const json = readFileSync(arg ?? die("decrypt needs a keystore file"), "utf8");
  const wallet = await Wallet.fromEncryptedJson(json, password);
  process.stdout.write(JSON.stringify({ address: wallet.address, privateKey: wallet.privateKey }) + "\n");
} else if (command === "encrypt") {
  const wallet = new Wallet(process.env.PRIVATE_KEY ?? die("set PRIVATE_KEY"));
  const json =
    arg === "--light"
      ? await encryptKeystoreJson(
          { address: wallet.address, privateKey: wallet.privateKey },
          password,
          { scrypt: { N: 1 << 12 } },
        )
      : await wallet.encrypt(password);
  process.stdout.write(json + "\n");
} else {
  die("usage: keystore.mjs decrypt FILE | encrypt [--light]");
}
