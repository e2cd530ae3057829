/**
 * @file Browser wallets: EIP-6963 discovery, connecting, the chain check and `eth_signTypedData_v4`.
 *
 * Wallets announce themselves with `eip6963:announceProvider` events (detail `{info, provider}`, info
 * `{uuid, name, icon, rdns}`) in answer to an `eip6963:requestProvider` event; a browser with one legacy
 * wallet only sets `window.ethereum`, which is used when nothing announces itself. Providers speak EIP-1193
 * (`provider.request({method, params})`); their errors carry `code` (4001: the user rejected the request,
 * 4902: the wallet does not know the chain), mapped here to famchain's WalletError classes whose messages
 * are sentences saying what to do next.
 */
import { NoWalletError, UserRejectedError, WalletError, WrongChainError } from "./errors.js";
import { toChecksumAddress } from "./keywrap.js";

/**
 * A discovered wallet.
 * @typedef {object} ProviderDetail
 * @property {{uuid: string, name: string, icon: string, rdns: string}} info
 * @property {{request: (args: {method: string, params?: unknown[]}) => Promise<unknown>, on?: Function, removeListener?: Function}} provider
 */

const LEGACY_INFO = Object.freeze({ uuid: "window.ethereum", name: "Browser wallet", icon: "", rdns: "" });

/**
 * Calls `callback` with each wallet that announces itself (now or later); returns a function that stops.
 * @param {(detail: ProviderDetail) => void} callback
 * @param {EventTarget} [target] - `window` by default.
 * @returns {() => void}
 */
export function watchWallets(callback, target = globalThis) {
  const seen = new Set();
  const onAnnounce = (event) => {
    const detail = event.detail;
    if (!detail?.info?.uuid || typeof detail.provider?.request !== "function" || seen.has(detail.info.uuid)) return;
    seen.add(detail.info.uuid);
    callback(Object.freeze({ info: Object.freeze({ ...detail.info }), provider: detail.provider }));
  };
  target.addEventListener("eip6963:announceProvider", onAnnounce);
  target.dispatchEvent(new Event("eip6963:requestProvider"));
  return () => target.removeEventListener("eip6963:announceProvider", onAnnounce);
}

/**
 * The wallets present: those that announce themselves within `timeout` ms, else `window.ethereum`.
 * @param {{timeout?: number, target?: EventTarget}} [options]
 * @returns {Promise<ProviderDetail[]>} Possibly empty.
 */
export async function discoverWallets({ timeout = 250, target = globalThis } = {}) {
  const found = [];
  const stop = watchWallets((detail) => found.push(detail), target);
  await new Promise((resolve) => setTimeout(resolve, timeout));
  stop();
  if (!found.length && typeof globalThis.ethereum?.request === "function") {
    found.push(Object.freeze({ info: LEGACY_INFO, provider: globalThis.ethereum }));
  }
  return found;
}

/**
 * Turns an EIP-1193 error into a WalletError (4001 -> UserRejectedError).
 * @param {unknown} err
 * @param {string} what - What was asked, for the message ("the connection request", "the signature request").
 * @returns {Error}
 */
export function walletError(err, what) {
  if (err instanceof WalletError) return err;
  const code = typeof err === "object" && err !== null ? err.code : undefined;
  if (code === 4001) return new UserRejectedError(what);
  const reason = typeof err === "object" && err !== null && err.message ? err.message : String(err);
  return new WalletError(`your wallet refused ${what} (${reason}); check the wallet and try again`, code);
}

/** @param {unknown} value @returns {bigint} */
function parseChainId(value) {
  try {
    return BigInt(value);
  } catch {
    throw new WalletError(`the wallet reported a chain id that is not a number: ${JSON.stringify(value)}`);
  }
}

/** One EIP-1193 wallet with the calls the portal makes. */
export class Wallet {
  /** @param {ProviderDetail["provider"]} provider @param {ProviderDetail["info"]} [info] */
  constructor(provider, info = LEGACY_INFO) {
    this.provider = provider;
    this.info = info;
  }

  /**
   * The first wallet found (see `discoverWallets`).
   * @param {{timeout?: number, rdns?: string}} [options] - `rdns` picks a wallet by its reverse-DNS id.
   * @returns {Promise<Wallet>}
   * @throws {NoWalletError}
   */
  static async discover({ timeout, rdns } = {}) {
    const found = await discoverWallets({ timeout });
    const chosen = rdns ? found.find((d) => d.info.rdns === rdns) : found[0];
    if (!chosen) throw new NoWalletError();
    return new Wallet(chosen.provider, chosen.info);
  }

  async #request(method, params, what) {
    try {
      return await this.provider.request(params === undefined ? { method } : { method, params });
    } catch (err) {
      throw walletError(err, what);
    }
  }

  /**
   * Asks the wallet to connect (`eth_requestAccounts`).
   * @returns {Promise<string[]>} Checksummed accounts, the selected one first.
   * @throws {UserRejectedError|WalletError}
   */
  async connect() {
    const accounts = await this.#request("eth_requestAccounts", undefined, "the connection request");
    if (!Array.isArray(accounts) || !accounts.length) {
      throw new WalletError("the wallet connected no account: unlock it, pick an account and try again");
    }
    return accounts.map((a) => toChecksumAddress(a));
  }

  /** The accounts already connected (`eth_accounts`, no prompt). @returns {Promise<string[]>} */
  async accounts() {
    const accounts = await this.#request("eth_accounts", undefined, "the account query");
    return Array.isArray(accounts) ? accounts.map((a) => toChecksumAddress(a)) : [];
  }

  /** The wallet's chain id (`eth_chainId`). @returns {Promise<bigint>} */
  async chainId() {
    return parseChainId(await this.#request("eth_chainId", undefined, "the chain query"));
  }

  /**
   * Checks the wallet is on the portal's chain.
   * @param {bigint|number|string} expected
   * @throws {WrongChainError}
   */
  async ensureChain(expected) {
    const found = await this.chainId();
    if (found !== BigInt(expected)) throw new WrongChainError(BigInt(expected), found);
  }

  /**
   * Asks the wallet to switch to a chain (`wallet_switchEthereumChain`).
   * @param {bigint|number|string} chainId
   * @throws {UserRejectedError|WalletError} (4902: the wallet does not know the chain.)
   */
  async switchChain(chainId) {
    const hex = `0x${BigInt(chainId).toString(16)}`;
    await this.#request("wallet_switchEthereumChain", [{ chainId: hex }], `switching to chain ${BigInt(chainId)}`);
  }

  /**
   * Signs EIP-712 typed data (`eth_signTypedData_v4`); the wallet shows it to the user.
   * @param {string} account - The signing account.
   * @param {object} typedData - Full typed data: types (with EIP712Domain), primaryType, domain, message.
   * @returns {Promise<string>} The 65-byte signature as 0x hex.
   * @throws {UserRejectedError|WalletError}
   */
  async signTypedData(account, typedData) {
    const payload = JSON.stringify(typedData, (_, v) => (typeof v === "bigint" ? v.toString() : v));
    const signature = await this.#request("eth_signTypedData_v4", [toChecksumAddress(account), payload], "the signature request");
    if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
      throw new WalletError("the wallet returned something that is not a 65-byte signature; try again or use another wallet");
    }
    return signature;
  }

  /**
   * Subscribes to `accountsChanged` / `chainChanged`; returns a function that unsubscribes.
   * @param {"accountsChanged"|"chainChanged"} event
   * @param {(value: unknown) => void} handler
   * @returns {() => void}
   */
  on(event, handler) {
    if (typeof this.provider.on !== "function") return () => {};
    this.provider.on(event, handler);
    return () => this.provider.removeListener?.(event, handler);
  }
}
