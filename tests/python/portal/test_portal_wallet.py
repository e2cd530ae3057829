"""eip6963.js and keys.js with the test wallet: discovery, connect, chain checks, signing, the derived key.

The test wallet (``_wallet.py``) is what later portal tests drive; these tests also check that it behaves like
a browser wallet: EIP-6963 announcements, EIP-1193 error codes, signatures by the key it holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _wallet import TestWallet
from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import Browser, Page

from famchain.chain.nonces import NonceDomain, keyed_nonce, nonce_key
from famchain.crypto import typed_data
from famchain.crypto.derived_key import derivation_typed_data, derive_encryption_key, key_from_signature
from famchain.crypto.keywrap import address_from_private_key

ACCOUNT_KEY = bytes.fromhex("11" * 32)
OTHER_KEY = bytes.fromhex("22" * 32)
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CONSENT_REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
CHAIN_ID = 31337
pytestmark = pytest.mark.browser
HARNESS = "const w = await import('/js/eip6963.js'); const k = await import('/js/keys.js');"

OpenPage = Callable[..., tuple[Page, TestWallet]]


@pytest.fixture
def found_by(browser: Browser, base_url: str) -> Iterator[Callable[..., Page]]:
    """A page whose wallet is found another way (window.ethereum, or not at all): its own browser context."""
    contexts = []

    def _open(**how: bool) -> Page:
        context = browser.new_context()
        contexts.append(context)
        TestWallet(ACCOUNT_KEY, **how).install(context)
        page = context.new_page()
        page.goto(f"{base_url}/test/blank.html")
        return page

    yield _open
    for context in contexts:
        context.close()


def js(page: Page, body: str, *args: Any) -> Any:
    """Runs ``body`` with eip6963.js as ``w`` and keys.js as ``k``; returns ``{value}`` or ``{error, message, code}``."""
    return page.evaluate(
        f"async (args) => {{ {HARNESS} try {{ return {{value: await (async () => {{ {body} }})()}}; }}"
        " catch (e) { return {error: e.name, message: e.message, code: e.code ?? null}; } }",
        list(args),
    )


def consent(patient: str) -> dict[str, Any]:
    """A v2 Consent: nested ConsentTerms, a bundle digest, a 256-bit keyed nonce (a decimal string in JSON)."""
    grantee = address_from_private_key(OTHER_KEY)
    return typed_data.consent(
        patient=patient,
        grantee=grantee,
        sections=0x05,
        actions=0x01,
        expires_at=2_000_000_000,
        terms=typed_data.ConsentTerms.new(
            recipient="a referral hospital",
            contact="",
            purpose="referral",
            data="past history",
            method="read",
        ),
        bundle_digest=b"\x07" * 32,
        bundle_codec=0x55,
        nonce=keyed_nonce(nonce_key(NonceDomain.CONSENT, grantee), 0),
        deadline=1_900_000_000,
        chain_id=CHAIN_ID,
        verifying_contract=CONSENT_REGISTRY,
    )


# --- discovery --------------------------------------------------------------------------------------------


def test_the_wallet_announces_itself_through_eip6963(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page()
    found = js(page, "return (await w.discoverWallets({timeout: 50})).map((d) => d.info);")["value"]
    assert found == [
        {"uuid": wallet.uuid, "name": wallet.name, "icon": found[0]["icon"], "rdns": wallet.rdns}
    ]
    assert found[0]["icon"].startswith("data:image/")


def test_a_legacy_wallet_is_found_as_window_ethereum(found_by: Callable[..., Page]) -> None:
    page = found_by(announce=False, legacy=True)
    found = js(page, "return (await w.discoverWallets({timeout: 50})).map((d) => d.info.uuid);")
    assert found == {"value": ["window.ethereum"]}


def test_no_wallet_is_a_sentence_saying_what_to_do(found_by: Callable[..., Page]) -> None:
    page = found_by(announce=False, legacy=False)
    result = js(page, "return await w.Wallet.discover({timeout: 50});")
    assert result["error"] == "NoWalletError"
    assert "install or enable" in result["message"]


# --- connect, chain ---------------------------------------------------------------------------------------


def test_connect_returns_the_checksummed_account(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page()
    result = js(page, "const x = await w.Wallet.discover({timeout: 50}); return await x.connect();")
    assert result == {"value": [wallet.address]}
    assert wallet.connected
    assert [r.method for r in wallet.requests] == ["eth_requestAccounts"]


def test_a_rejected_connection_is_user_rejected_4001(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page(reject={"eth_requestAccounts"})
    result = js(page, "const x = await w.Wallet.discover({timeout: 50}); return await x.connect();")
    assert (result["error"], result["code"]) == ("UserRejectedError", 4001)
    assert "nothing was signed or sent" in result["message"]
    assert not wallet.connected


def test_the_chain_check_refuses_a_wallet_on_another_chain(wallet_page: OpenPage) -> None:
    page, _ = wallet_page(chain_id=1)
    result = js(page, "const x = await w.Wallet.discover({timeout: 50}); await x.ensureChain(31337n);")
    assert result["error"] == "WrongChainError"
    assert "chain 1" in result["message"]
    assert "31337" in result["message"]


def test_switching_chain_moves_a_wallet_that_knows_the_chain(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page(chain_id=1, known_chains={CHAIN_ID})
    body = (
        "const x = await w.Wallet.discover({timeout: 50}); const seen = [];"
        "x.on('chainChanged', (id) => seen.push(id)); await x.switchChain(31337);"
        "await new Promise((r) => setTimeout(r, 0)); await x.ensureChain(31337); return seen;"
    )
    assert js(page, body) == {"value": [hex(CHAIN_ID)]}
    assert wallet.chain_id == CHAIN_ID


def test_switching_to_a_chain_the_wallet_does_not_know_is_4902(wallet_page: OpenPage) -> None:
    page, _ = wallet_page(chain_id=1)
    result = js(page, "const x = await w.Wallet.discover({timeout: 50}); await x.switchChain(31337);")
    assert (result["error"], result["code"]) == ("WalletError", 4902)


def test_switching_account_in_the_wallet_tells_the_page(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page()
    js(
        page,
        "const x = await w.Wallet.discover({timeout: 50}); await x.connect();"
        "globalThis.seen = []; x.on('accountsChanged', (a) => globalThis.seen.push(...a));",
    )
    wallet.switch_account(page, OTHER_KEY)
    page.wait_for_function("globalThis.seen.length > 0")
    assert page.evaluate("globalThis.seen") == [address_from_private_key(OTHER_KEY)]
    assert js(page, "return await (await w.Wallet.discover({timeout: 50})).accounts();") == {
        "value": [address_from_private_key(OTHER_KEY)]
    }


# --- signing ----------------------------------------------------------------------------------------------


def test_sign_typed_data_v4_is_signed_by_the_wallets_key(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page()
    data = consent(wallet.address)
    result = js(
        page,
        "const x = await w.Wallet.discover({timeout: 50}); const [a] = await x.connect();"
        "return await x.signTypedData(a, args[0]);",
        data,
    )
    signature = bytes.fromhex(result["value"][2:])
    assert typed_data.recover_typed_data_signer(data, signature) == wallet.address
    method, params = wallet.requests[-1].method, wallet.requests[-1].params
    assert method == "eth_signTypedData_v4"
    assert params[0] == wallet.address
    assert isinstance(params[1], str)  # v4 takes the typed data as a JSON string


def test_a_wallet_signing_with_another_key_gives_another_signer(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page(sign_with=OTHER_KEY)
    data = consent(wallet.address)
    result = js(
        page,
        "const x = await w.Wallet.discover({timeout: 50}); const [a] = await x.connect();"
        "return await x.signTypedData(a, args[0]);",
        data,
    )
    signer = typed_data.recover_typed_data_signer(data, bytes.fromhex(result["value"][2:]))
    assert signer == address_from_private_key(OTHER_KEY) != wallet.address


def test_a_rejected_signature_is_user_rejected_4001(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page(reject={"eth_signTypedData_v4"})
    result = js(
        page,
        "const x = await w.Wallet.discover({timeout: 50}); const [a] = await x.connect();"
        "return await x.signTypedData(a, args[0]);",
        consent(wallet.address),
    )
    assert (result["error"], result["code"]) == ("UserRejectedError", 4001)


def test_typed_data_for_another_chain_is_refused_by_the_wallet(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page(chain_id=5)
    result = js(
        page,
        "const x = await w.Wallet.discover({timeout: 50}); const [a] = await x.connect();"
        "return await x.signTypedData(a, args[0]);",
        consent(wallet.address),
    )
    assert result["error"] == "WalletError"
    assert "must match the active chainId" in result["message"]


def test_personal_sign_is_signed_by_the_wallets_key(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page()
    result = js(
        page,
        "const x = await w.Wallet.discover({timeout: 50}); const [a] = await x.connect();"
        "return await x.provider.request({method: 'personal_sign', params: ['0x68656c6c6f', a]});",
    )
    signer = Account.recover_message(encode_defunct(text="hello"), signature=result["value"])
    assert signer == wallet.address


# --- the derived encryption key ---------------------------------------------------------------------------


def test_the_browser_derives_the_key_python_derives(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page()
    result = js(
        page,
        "const x = await w.Wallet.discover({timeout: 50}); const [a] = await x.connect();"
        "const key = await k.deriveEncryptionKey(x, {chainId: 31337, account: a, registry: args[0]});"
        "return {priv: Array.from(key.privateKey, (b) => b.toString(16).padStart(2, '0')).join(''), pub: key.publicKeyHex};",
        REGISTRY,
    )["value"]
    expected = derive_encryption_key(ACCOUNT_KEY, registry=REGISTRY, chain_id=CHAIN_ID)
    assert result == {"priv": expected.private_key.hex(), "pub": "0x" + expected.public_key.hex()}
    signed = wallet.requests[-1]
    assert signed.method == "eth_signTypedData_v4"
    assert json.loads(signed.params[1]) == derivation_typed_data(
        account=wallet.address, registry=REGISTRY, chain_id=CHAIN_ID
    )


def test_the_derivation_digest_is_the_eip712_digest(wallet_page: OpenPage) -> None:
    page, _ = wallet_page()
    params = {"account": address_from_private_key(ACCOUNT_KEY), "registry": REGISTRY, "chain_id": 2**70 + 3}
    got = js(
        page,
        "const d = k.derivationDigest({chainId: BigInt(args[0]), account: args[1], registry: args[2]});"
        "return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');",
        str(params["chain_id"]),
        params["account"],
        params["registry"],
    )
    assert got == {"value": typed_data.hash_typed_data(derivation_typed_data(**params)).hex()}  # type: ignore[arg-type]


def test_a_signature_from_another_account_derives_nothing(wallet_page: OpenPage) -> None:
    page, _ = wallet_page(sign_with=OTHER_KEY)
    result = js(
        page,
        "const x = await w.Wallet.discover({timeout: 50}); const [a] = await x.connect();"
        "return await k.deriveEncryptionKey(x, {chainId: 31337, account: a, registry: args[0]});",
        REGISTRY,
    )
    assert result["error"] == "WrongAccountError"
    assert address_from_private_key(OTHER_KEY) in result["message"]


def test_the_high_s_twin_derives_the_same_key_in_both(wallet_page: OpenPage) -> None:
    page, _ = wallet_page()
    account = address_from_private_key(ACCOUNT_KEY)
    data = derivation_typed_data(account=account, registry=REGISTRY, chain_id=CHAIN_ID)
    signature = typed_data.sign_typed_data(ACCOUNT_KEY, data)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(signature[32:64], "big")
    twin = signature[:32] + (n - s).to_bytes(32, "big") + bytes([55 - signature[64]])
    body = (
        "return args[0].map((sig) => Array.from(k.keyFromSignature(sig, {chainId: 31337, account: args[1],"
        " registry: args[2]}).privateKey, (b) => b.toString(16).padStart(2, '0')).join(''));"
    )
    got = js(page, body, ["0x" + signature.hex(), "0x" + twin.hex()], account, REGISTRY)
    expected = key_from_signature(
        twin, account=account, registry=REGISTRY, chain_id=CHAIN_ID
    ).private_key.hex()
    assert got == {"value": [expected, expected]}


# --- the tiny page ----------------------------------------------------------------------------------------


def test_the_wallet_page_connects_and_derives_the_key(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page("/test/wallet.html")
    page.click("#connect")
    page.wait_for_function("document.querySelector('#account').textContent !== ''")
    assert page.text_content("#wallet") == wallet.name
    assert page.text_content("#account") == wallet.address
    assert page.text_content("#chain") == str(CHAIN_ID)
    page.click("#derive")
    page.wait_for_function("document.querySelector('#key').textContent !== ''")
    expected = derive_encryption_key(ACCOUNT_KEY, registry=REGISTRY, chain_id=CHAIN_ID)
    assert page.text_content("#key") == "0x" + expected.public_key.hex()
    assert page.text_content("#error") == ""


def test_the_wallet_page_says_what_went_wrong(wallet_page: OpenPage) -> None:
    page, wallet = wallet_page("/test/wallet.html")
    page.click("#connect")
    page.wait_for_function("document.querySelector('#account').textContent !== ''")
    wallet.switch_chain(page, 1)
    page.wait_for_function("document.querySelector('#chain').textContent === '1'")
    page.click("#derive")
    page.wait_for_function("document.querySelector('#error').textContent !== ''")
    assert page.text_content("#error").startswith("WrongChainError: your wallet is on chain 1")  # type: ignore[union-attr]
    wallet.switch_chain(page, CHAIN_ID)
    wallet.reject = {"eth_signTypedData_v4"}
    page.click("#derive")
    page.wait_for_function("document.querySelector('#error').textContent.startsWith('UserRejectedError')")
    assert page.text_content("#key") == ""
