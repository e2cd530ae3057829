// Hardhat 2 network for tests/python/chain/test_hardhat.py: a second, independent EVM implementation (EDR) next
// to anvil. `hardhat node --config tests/hardhat/hardhat.config.js` serves it; nothing here is compiled.
// The accounts are the public test mnemonic's (account 0 is famchain's devnet funder, as on anvil), for tests only.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "prague",
      accounts: {
        mnemonic: "test test test test test test test test test test test junk",
        count: 4,
        accountsBalance: "10000000000000000000000000",
      },
    },
  },
};
