"""envelope.js and bundle.js in headless Chromium against famchain's Python reader and its vectors.

Every vector envelope opens in the browser byte for byte; tampered envelopes and bundles are refused with the
same error classes as Python's; bundles made in the browser open in Python and the other way round.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import pytest
from _vectors import (
    BUNDLES,
    ENVELOPES,
    KEYS,
    as_opens,
    context,
    js_context,
    private_key,
    public_key,
    sealed,
)
from playwright.sync_api import Browser, Page

from famchain.crypto import envelope as env
from famchain.crypto._random import system_entropy
from famchain.crypto.aead import SM4_GCM, get_aead
from famchain.crypto.bundle import KeyBundle, _seal_bundle, open_bundle
from famchain.crypto.envelope import (
    EnvelopeContext,
    Recipient,
    SealedEnvelope,
    is_recipient,
    open_all,
    release_keys,
    seal,
)
from famchain.crypto.keywrap import EphemeralKey
from famchain.crypto.policy import CipherPolicy
from famchain.errors import FamchainError, KeyCommitmentError
from famchain.storage.cid import make_cid
from famchain.types import Address

pytestmark = pytest.mark.browser
HARNESS = "const h = await import('/test/harness.js');"
SM4_UNAVAILABLE = "sealed with SM4-GCM, which this browser reader cannot open; use the famchain CLI"


def js(page: Page, body: str, *args: Any) -> Any:
    """Runs ``body`` as an async function of ``args`` with the test harness imported as ``h``."""
    return page.evaluate(f"async (args) => {{ {HARNESS} {body} }}", list(args))


def js_opens(
    page: Page, envelope: bytes | str, key: bytes, ctx: EnvelopeContext, bundles: Sequence[str] = ()
) -> Any:
    data = envelope if isinstance(envelope, str) else envelope.hex()
    return js(
        page,
        "return h.opens(args[0], args[1], args[2], args[3]);",
        data,
        key.hex(),
        js_context(ctx),
        list(bundles),
    )


def python_outcome(data: bytes, key: bytes, ctx: EnvelopeContext) -> str:
    try:
        open_all(SealedEnvelope.from_bytes(data), key, ctx)
    except FamchainError as exc:
        return type(exc).__name__
    return "opened"


# --- the vectors ------------------------------------------------------------------------------------------

READERS = [(name, reader) for name, v in ENVELOPES.items() for reader in v["readers"]]


@pytest.mark.parametrize(("name", "reader"), READERS, ids=[f"{n}-{r}" for n, r in READERS])
def test_every_vector_opens_in_the_browser_byte_for_byte(page: Page, name: str, reader: str) -> None:
    vector = ENVELOPES[name]
    result = js_opens(page, vector["envelope"], private_key(reader), context(name))
    assert result == {"value": vector["readers"][reader]["opens"]}


@pytest.mark.parametrize("name", ["release-to-insurer"])
def test_bundle_vectors_open_their_envelopes_in_the_browser(page: Page, name: str) -> None:
    vector = BUNDLES[name]
    grantee = private_key(vector["grantee"])
    for envelope_name, expected in vector["opens"].items():
        got = js_opens(
            page, ENVELOPES[envelope_name]["envelope"], grantee, context(envelope_name), [vector["bundle"]]
        )
        assert got == {"value": expected}


@pytest.mark.parametrize("name", list(BUNDLES))
def test_every_vector_bundle_body_decodes_and_reencodes_in_the_browser(page: Page, name: str) -> None:
    vector = BUNDLES[name]
    body = js(
        page,
        "const opened = await h.bundle.openBundle(args[0], args[1]); return h.hex(h.bundle.encodeBody(opened.entries));",
        vector["bundle"],
        KEYS[vector["grantee"]]["private_key"],
    )
    assert body == vector["body"]


def test_release_in_the_browser_replaying_the_vector_draws_reproduces_the_bundle(page: Page) -> None:
    vector = BUNDLES["release-to-insurer"]
    grants = [
        {
            "envelope": ENVELOPES[g["envelope"]]["envelope"],
            "context": js_context(context(g["envelope"])),
            "sections": g["sections"],
        }
        for g in vector["grants"]
    ]
    made = js(
        page,
        "const b = await h.bundle.releaseKeys(args[0], args[1], args[2], {entropy: h.replay(args[3])});"
        "return {bytes: h.hex(b.bytes), digest: h.hex(b.digest), cid: b.cid, sections: b.sections};",
        KEYS[vector["releaser"]]["private_key"],
        KEYS[vector["grantee"]]["public_key"],
        grants,
        vector["draws"],
    )
    assert made["bytes"] == vector["bundle"]
    bundle = KeyBundle.from_bytes(bytes.fromhex(made["bytes"]))
    assert made["digest"] == bundle.digest.hex()
    assert made["cid"] == make_cid(bundle.to_bytes())
    assert made["sections"] == ["diagnosis", "past_history", "prescriptions"]


@pytest.mark.parametrize("name", list(ENVELOPES))
def test_is_recipient_agrees_with_python_for_every_key(page: Page, name: str) -> None:
    ctx = context(name)
    envelope = sealed(name)
    answers = js(
        page,
        "return args[2].map((k) => h.envelope.isRecipient(args[0], k, args[1]));",
        ENVELOPES[name]["envelope"],
        js_context(ctx),
        [k["private_key"] for k in KEYS.values()],
    )
    assert answers == [is_recipient(envelope, bytes.fromhex(k["private_key"]), ctx) for k in KEYS.values()]
    assert answers.count(True) == len(ENVELOPES[name]["readers"])


@pytest.mark.parametrize("algorithm", ["aes-256-gcm", "chacha20-poly1305", SM4_GCM])
def test_each_aead_seals_and_opens_as_pythons_does(page: Page, algorithm: str) -> None:
    aead = get_aead(algorithm)
    key, nonce, aad, plaintext = os.urandom(32), os.urandom(12), b"aad", os.urandom(1000)
    body = (
        "const a = await import('/js/aead.js');"
        "const [id, k, n, p, d, c] = args.map((x) => typeof x === 'string' ? h.unhex(x) : x);"
        "const sealed = h.hex(await a.aeadEncrypt(id, k, n, p, d));"
        "const opened = h.hex(await a.aeadDecrypt(id, k, n, c, d, 'x'));"
        "const bad = c.slice(); bad[0] ^= 1;"
        "const refused = await h.outcome(() => a.aeadDecrypt(id, k, n, bad, d, 'x'));"
        "return {sealed, opened, refused: refused.error};"
    )
    python = aead.encrypt(key, nonce, plaintext, aad)
    got = js(page, body, aead.ident, key.hex(), nonce.hex(), plaintext.hex(), aad.hex(), python.hex())
    assert got == {"sealed": python.hex(), "opened": plaintext.hex(), "refused": "AuthenticationError"}


# --- tampering --------------------------------------------------------------------------------------------


def _probe_positions(envelope: SealedEnvelope) -> list[int]:
    """Every header byte except the inside of ciphertexts, and the edges of every entry, tag and the MAC."""
    data = envelope.to_bytes()
    prefix = len(envelope.prefix())
    inside: set[int] = set()
    at = 5 + 32 + 64 + 1
    for section in envelope.sections:
        at += 1 + len(section.name) + 1 + 32 + 12 + 4
        inside.update(range(at + 2, at + len(section.ciphertext) - 2))
        at += len(section.ciphertext)
    positions = {i for i in range(prefix) if i not in inside}
    at = prefix
    for entry in (*envelope.recipients, *envelope.custodians):
        end = at + 16 + len(entry.wrapped)
        positions |= {at, at + 15, at + 16, end - 1}
        at = end
    positions |= {len(data) - 32, len(data) - 1}
    return sorted(positions)


PROBES = [("minimal", "patient"), ("policy", "insurer"), ("emergency", "family_doctor")]


@pytest.mark.parametrize(("name", "reader"), PROBES, ids=[f"{n}-{r}" for n, r in PROBES])
def test_tampered_envelopes_are_refused_like_python_refuses_them(page: Page, name: str, reader: str) -> None:
    envelope = sealed(name)
    data, key, ctx = envelope.to_bytes(), private_key(reader), context(name)
    positions = _probe_positions(envelope)
    browser = js(
        page,
        "return h.tamperedOutcomes(args[0], args[1], args[2], args[3]);",
        data.hex(),
        key.hex(),
        js_context(ctx),
        positions,
    )
    python = [
        python_outcome(bytes(data[:i]) + bytes([data[i] ^ 1]) + data[i + 1 :], key, ctx) for i in positions
    ]
    assert "opened" not in python
    mismatches = [(i, b, p) for i, b, p in zip(positions, browser, python, strict=True) if b != p]
    assert not mismatches, mismatches[:10]
    assert {"MalformedError", "AuthenticationError", "ContextMismatchError"} <= set(python)


@pytest.mark.parametrize(("name", "reader"), READERS, ids=[f"{n}-{r}" for n, r in READERS])
def test_a_reader_whose_own_tag_is_altered_is_refused_like_python(page: Page, name: str, reader: str) -> None:
    vector, envelope = ENVELOPES[name], sealed(name)
    data, key, ctx = envelope.to_bytes(), private_key(reader), context(name)
    start = data.index(bytes.fromhex(vector["readers"][reader]["tag"]))
    positions = list(range(start, start + 16))
    browser = js(
        page,
        "return h.tamperedOutcomes(args[0], args[1], args[2], args[3], 0x80);",
        data.hex(),
        key.hex(),
        js_context(ctx),
        positions,
    )
    python = [
        python_outcome(bytes(data[:i]) + bytes([data[i] ^ 0x80]) + data[i + 1 :], key, ctx) for i in positions
    ]
    assert browser == python
    assert set(python) <= {"NotARecipientError", "MalformedError"}


def test_a_tampered_bundle_opens_nothing_in_either_reader(page: Page) -> None:
    vector = BUNDLES["release-to-insurer"]
    data = bytes.fromhex(vector["bundle"])
    insurer, ctx = private_key("insurer"), context("minimal")
    positions = [*range(0, 70), *range(70, len(data), 97), len(data) - 1]
    tampered = [(bytes(data[:i]) + bytes([data[i] ^ 1]) + data[i + 1 :]).hex() for i in positions]
    browser = js(
        page,
        "const out = []; for (const b of args[3]) out.push((await h.opens(args[0], args[1], args[2], [b])).error);"
        "return out;",
        ENVELOPES["minimal"]["envelope"],
        insurer.hex(),
        js_context(ctx),
        tampered,
    )
    python = []
    for bundle_hex in tampered:
        try:
            open_all(
                sealed("minimal"), insurer, ctx, bundles=[KeyBundle.from_bytes(bytes.fromhex(bundle_hex))]
            )
        except FamchainError as exc:
            python.append(type(exc).__name__)
        else:
            python.append(None)
    assert browser == python
    # The insurer has no entry of its own in "minimal": an altered bundle leaves it with nothing.
    assert set(python) == {"MalformedError", "NotARecipientError"}


@pytest.mark.parametrize(
    "change",
    [{"chain_id": 1}, {"registry": "0x" + "ab" * 20}, {"salt": b"\x07" * 32}, {"author": "0x" + "cd" * 20}],
    ids=["chain", "registry", "salt", "author"],
)
def test_another_context_is_a_context_mismatch(page: Page, change: dict[str, Any]) -> None:
    other = dataclasses.replace(context("minimal"), **change)
    result = js_opens(page, ENVELOPES["minimal"]["envelope"], private_key("patient"), other)
    assert result["error"] == "ContextMismatchError"


def test_a_stranger_is_not_a_recipient_and_named_by_address(page: Page) -> None:
    result = js_opens(page, ENVELOPES["policy"]["envelope"], private_key("physician"), context("policy"))
    assert result["error"] == "NotARecipientError"
    assert KEYS["physician"]["address"] in result["message"]


def test_open_section_refuses_unknown_and_withheld_sections(page: Page) -> None:
    body = (
        "return [await h.outcome(() => h.envelope.openSection(args[0], 'allergies', args[1], args[2])),"
        " await h.outcome(() => h.envelope.openSection(args[0], 'past_history', args[1], args[2])),"
        " await h.outcome(async () => h.hex(await h.envelope.openSection(args[0], 'diagnosis', args[1], args[2])))];"
    )
    unknown, withheld, opened = js(
        page,
        body,
        ENVELOPES["policy"]["envelope"],
        KEYS["insurer"]["private_key"],
        js_context(context("policy")),
    )
    assert unknown["error"] == "UnknownSectionError"
    assert withheld["error"] == "NotARecipientError"
    assert opened == {"value": ENVELOPES["policy"]["readers"]["insurer"]["opens"]["diagnosis"]}


# --- key commitment: a dishonest sealer or releaser --------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["aes-256-gcm", "chacha20-poly1305", SM4_GCM])
def test_a_reader_handed_another_key_than_the_committed_one_is_refused(page: Page, algorithm: str) -> None:
    ctx = context("minimal")
    key = os.urandom(32)
    section = env._encrypt_section(
        ctx.to_bytes(), "diagnosis", get_aead(algorithm), key, os.urandom(12), b"J06.9"
    )
    grants = [
        (public_key("patient"), {"diagnosis": key}),
        (public_key("family_doctor"), {"diagnosis": os.urandom(32)}),
    ]
    dishonest = env._assemble(
        ctx, (section,), os.urandom(32), EphemeralKey(system_entropy), grants, None, [], system_entropy
    )
    assert js_opens(page, dishonest.to_bytes(), private_key("patient"), ctx) == {
        "value": {"diagnosis": b"J06.9".hex()}
    }
    refused = js_opens(page, dishonest.to_bytes(), private_key("family_doctor"), ctx)
    assert (
        refused["error"]
        == python_outcome(dishonest.to_bytes(), private_key("family_doctor"), ctx)
        == "KeyCommitmentError"
    )
    assert "diagnosis" in refused["message"]


@pytest.mark.parametrize("lie", ["section key", "mac key"])
def test_a_lying_releaser_is_caught_by_the_key_commitment(page: Page, lie: str) -> None:
    envelope, ctx = sealed("minimal"), context("minimal")
    honest = open_bundle(
        KeyBundle.from_bytes(bytes.fromhex(BUNDLES["release-to-insurer"]["bundle"])), private_key("insurer")
    )
    entry = honest.entries_for(ctx.digest, envelope.digest)[0]
    if lie == "section key":
        entry = dataclasses.replace(entry, keys=(("diagnosis", os.urandom(32)),))
    else:
        entry = dataclasses.replace(entry, mac_key=os.urandom(32))
    lying = _seal_bundle([entry], public_key("insurer"), system_entropy)
    refused = js_opens(page, envelope.to_bytes(), private_key("insurer"), ctx, [lying.to_bytes().hex()])
    with pytest.raises(KeyCommitmentError):
        open_all(envelope, private_key("insurer"), ctx, bundles=[lying])
    assert refused["error"] == "KeyCommitmentError"


# --- bundles both ways, fresh envelopes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def record() -> tuple[SealedEnvelope, EnvelopeContext]:
    """A fresh record in all three codecs with an attachment past the 256 KiB chunk size."""
    ctx = EnvelopeContext(
        os.urandom(32),
        Address(KEYS["patient"]["address"]),
        Address(KEYS["family_doctor"]["address"]),
        2**64 + 5,  # a chain id past JavaScript's safe integers
        Address("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
    )
    plaintexts = {
        "diagnosis": "急性上呼吸道感染 J06.9".encode(),
        "prescriptions": b"paracetamol 500 mg prn",
        "past_history": b"",
        "attachments": os.urandom(300_000),
    }
    policy = CipherPolicy({"diagnosis": SM4_GCM, "past_history": "chacha20-poly1305"})
    envelope = seal(
        plaintexts,
        [public_key("patient"), Recipient(public_key("family_doctor"), frozenset({"diagnosis"}))],
        ctx,
        policy=policy,
    )
    return envelope, ctx


def test_a_fresh_python_record_opens_in_the_browser(
    page: Page, record: tuple[SealedEnvelope, EnvelopeContext]
) -> None:
    envelope, ctx = record
    for reader in ("patient", "family_doctor"):
        expected = as_opens(open_all(envelope, private_key(reader), ctx))
        assert js_opens(page, envelope.to_bytes(), private_key(reader), ctx) == {"value": expected}


def test_a_bundle_made_in_the_browser_opens_in_python(
    page: Page, record: tuple[SealedEnvelope, EnvelopeContext]
) -> None:
    envelope, ctx = record
    minimal = sealed("minimal")
    grants = [
        {
            "envelope": envelope.to_bytes().hex(),
            "context": js_context(ctx),
            "sections": ["diagnosis", "attachments", "allergies"],
        },
        {"envelope": minimal.to_bytes().hex(), "context": js_context(context("minimal")), "sections": None},
    ]
    made = js(
        page,
        "const b = await h.bundle.releaseKeys(args[0], args[1], args[2]); return {bytes: h.hex(b.bytes), cid: b.cid};",
        KEYS["patient"]["private_key"],
        "04" + KEYS["insurer"]["public_key"],
        grants,
    )
    bundle = KeyBundle.from_bytes(bytes.fromhex(made["bytes"]))
    assert made["cid"] == make_cid(bundle.to_bytes())
    opened = open_bundle(bundle, private_key("insurer"))
    assert sorted(e.sections for e in opened.entries) == [("attachments", "diagnosis"), ("diagnosis",)]
    result = open_all(envelope, private_key("insurer"), ctx, bundles=[bundle])
    assert {n for n, v in result.items() if isinstance(v, bytes)} == {"attachments", "diagnosis"}
    assert result["diagnosis"] == "急性上呼吸道感染 J06.9".encode()
    assert open_all(minimal, private_key("insurer"), context("minimal"), bundles=[bundle]) == {
        "diagnosis": b"J06.9"
    }


def test_a_bundle_made_in_python_opens_in_the_browser(
    page: Page, record: tuple[SealedEnvelope, EnvelopeContext]
) -> None:
    envelope, ctx = record
    bundle = release_keys(
        private_key("patient"), public_key("insurer"), [(envelope, ctx, ["prescriptions", "past_history"])]
    )
    expected = as_opens(open_all(envelope, private_key("insurer"), ctx, bundles=[bundle]))
    assert {n for n, v in expected.items() if v is not None} == {"prescriptions", "past_history"}
    assert js_opens(page, envelope.to_bytes(), private_key("insurer"), ctx, [bundle.to_bytes().hex()]) == {
        "value": expected
    }


def test_releasing_what_the_releaser_does_not_hold_is_refused(
    page: Page, record: tuple[SealedEnvelope, EnvelopeContext]
) -> None:
    envelope, ctx = record
    body = "return h.outcome(() => h.bundle.releaseKeys(args[0], args[1], [{envelope: args[2], context: args[3], sections: args[4]}]));"
    args = [
        KEYS["family_doctor"]["private_key"],
        KEYS["insurer"]["public_key"],
        envelope.to_bytes().hex(),
        js_context(ctx),
    ]
    assert js(page, body, *args, ["attachments"])["error"] == "NotARecipientError"
    assert js(page, body, *args, ["allergies"])["error"] == "InputError"  # nothing to release
    assert js(page, body, *args, ["Bad-Name"])["error"] == "InputError"
    stranger = [KEYS["physician"]["private_key"], *args[1:]]
    assert js(page, body, *stranger, None)["error"] == "NotARecipientError"


# --- what this browser reader cannot do ------------------------------------------------------------------


def test_without_the_sm4_module_sm4_sections_say_so_and_the_others_open(
    browser: Browser, base_url: str
) -> None:
    context_ = browser.new_context()
    try:
        context_.route("**/vendor/sm-crypto-v2.js", lambda route: route.abort())
        page = context_.new_page()
        page.goto(f"{base_url}/test/blank.html")
        vector = ENVELOPES["policy"]
        result = js_opens(page, vector["envelope"], private_key("patient"), context("policy"))["value"]
        expected = vector["readers"]["patient"]["opens"]
        for section in vector["sections"]:
            name = section["name"]
            if section["aead"] == SM4_GCM:
                assert result[name].startswith(f"unavailable: {SM4_UNAVAILABLE}")
            else:
                assert result[name] == expected[name]
        single = js(
            page,
            "return h.outcome(() => h.envelope.openSection(args[0], 'diagnosis', args[1], args[2]));",
            vector["envelope"],
            KEYS["patient"]["private_key"],
            js_context(context("policy")),
        )
        assert single["error"] == "AlgorithmUnavailableError"
        assert single["message"].startswith(SM4_UNAVAILABLE)
    finally:
        context_.close()


def test_without_webcrypto_aes_gcm_falls_back_to_noble(browser: Browser, base_url: str) -> None:
    """A portal served over plain http has no crypto.subtle: the vectors still open, bundles still work."""
    context_ = browser.new_context()
    try:
        context_.add_init_script("Object.defineProperty(globalThis.crypto, 'subtle', {value: undefined});")
        page = context_.new_page()
        page.goto(f"{base_url}/test/blank.html")
        assert page.evaluate("() => typeof crypto.subtle") == "undefined"
        for name, reader in READERS:
            got = js_opens(page, ENVELOPES[name]["envelope"], private_key(reader), context(name))
            assert got == {"value": ENVELOPES[name]["readers"][reader]["opens"]}
        made = js(
            page,
            "const b = await h.bundle.releaseKeys(args[0], args[1], [{envelope: args[2], context: args[3]}]);"
            "return h.hex(b.bytes);",
            KEYS["patient"]["private_key"],
            KEYS["insurer"]["public_key"],
            ENVELOPES["minimal"]["envelope"],
            js_context(context("minimal")),
        )
        bundle = KeyBundle.from_bytes(bytes.fromhex(made))
        assert open_all(sealed("minimal"), private_key("insurer"), context("minimal"), bundles=[bundle]) == {
            "diagnosis": b"J06.9"
        }
    finally:
        context_.close()
