// Helpers the portal tests call through page.evaluate: hex in, hex (or an error's class name) out.
import * as bundle from "/js/bundle.js";
import * as cid from "/js/cid.js";
import * as envelope from "/js/envelope.js";
import * as keys from "/js/keys.js";

export { bundle, cid, envelope, keys };

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text) {
  const body = text.startsWith("0x") ? text.slice(2) : text;
  return Uint8Array.from(body.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Runs `fn`; returns `{value}` or `{error: <class name>, message}`. */
export async function outcome(fn) {
  try {
    return { value: await fn() };
  } catch (err) {
    return { error: err?.name ?? String(err), message: err?.message ?? String(err) };
  }
}

/** openEnvelope as {name: plaintext hex | null (withheld) | "unavailable: <message>"}, or the error. */
export async function opens(envelopeHex, privateKeyHex, context, bundles = []) {
  return outcome(async () => {
    const opened = await envelope.openEnvelope(envelopeHex, privateKeyHex, context, { bundles });
    return Object.fromEntries(
      Object.entries(opened).map(([name, s]) => [
        name,
        s.status === "opened" ? hex(s.plaintext) : s.status === "withheld" ? null : `unavailable: ${s.error.message}`,
      ]),
    );
  });
}

/** The error class name of each tampered copy (one byte XOR-ed with `mask` at each position), or "opened". */
export async function tamperedOutcomes(envelopeHex, privateKeyHex, context, positions, mask = 0x01) {
  const original = unhex(envelopeHex);
  const out = [];
  for (const at of positions) {
    const copy = original.slice();
    copy[at] ^= mask;
    const result = await outcome(() => envelope.openEnvelope(copy, privateKeyHex, context));
    out.push(result.error ?? "opened");
  }
  return out;
}

/** Replays recorded random draws (famchain.crypto.vectors' `draws`), checking each draw's label and size. */
export function replay(draws) {
  let next = 0;
  return (size, what) => {
    const draw = draws[next++];
    if (!draw || draw.what !== what || draw.hex.length !== 2 * size) {
      throw new Error(`draw ${next - 1}: reader asks ${what} (${size}), vector has ${draw?.what}`);
    }
    return unhex(draw.hex);
  };
}

/** Deterministic test bytes, the same as the Python tests' `pattern(n)`. */
export function pattern(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >>> 8) * 13 + (i >>> 16) * 31) & 0xff;
  return out;
}
