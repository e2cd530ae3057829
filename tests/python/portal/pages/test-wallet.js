// The test wallet's page side (installed by tests/python/portal/_wallet.py as an init script, so it runs
// before any page script). It is an EIP-1193 provider whose every request is answered by the Python test
// through an exposed binding; it announces itself with EIP-6963 and, when asked, as window.ethereum.
// Python prepends `globalThis.__famchainTestWalletConfig = {...}` (binding, info, announce, legacy).
(() => {
  const config = globalThis.__famchainTestWalletConfig;
  const listeners = new Map();

  const emit = (event, value) => {
    for (const handler of [...(listeners.get(event) ?? [])]) {
      try {
        handler(value);
      } catch (err) {
        console.error(err);
      }
    }
  };

  const provider = Object.freeze({
    isFamchainTestWallet: true,
    async request(args) {
      if (!args || typeof args.method !== "string") {
        throw Object.assign(new Error("request needs {method, params}"), { code: -32600 });
      }
      const params = args.params === undefined ? [] : args.params;
      const reply = await globalThis[config.binding](args.method, JSON.stringify(params));
      for (const [event, value] of reply.events ?? []) queueMicrotask(() => emit(event, value));
      if (reply.error) {
        throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
      }
      return reply.result;
    },
    on(event, handler) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(handler);
      return provider;
    },
    removeListener(event, handler) {
      listeners.get(event)?.delete(handler);
      return provider;
    },
    /** For tests: emit an EIP-1193 event (accountsChanged, chainChanged) as a wallet would. */
    emit,
  });

  const detail = Object.freeze({ info: Object.freeze({ ...config.info }), provider });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  if (config.announce) {
    window.addEventListener("eip6963:requestProvider", announce);
    announce();
  }
  if (config.legacy) window.ethereum = provider;
  globalThis.__famchainTestWalletProvider = provider;
})();
