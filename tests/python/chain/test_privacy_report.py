"""The curious member after the demo: what the RPC endpoint and the stores tell about the resident.

The demo runs once on the devnet; its store is then served behind a gated gateway (the chain's guard). The
privacy report is run as a stranger and as a member institution, and the stores are scanned independently:
no party's address or public key in any stored envelope or bundle, every section ciphertext a padded size
class. A test fails if any closed leak reappears.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from famchain.chain.history import History
from famchain.crypto.bundle import KeyBundle
from famchain.crypto.envelope import SealedEnvelope
from famchain.crypto.padding import is_size_class
from famchain.demo import Demo
from famchain.devnet import DevnetInfo
from famchain.records.gatekeeping import ChainGuard
from famchain.records.privacy import (
    LEAKS,
    TAG,
    PrivacyReport,
    StoredObject,
    inspect_bytes,
    party_needles,
    privacy_report,
)
from famchain.storage.access import AccessGate, AccessSigner
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.gateway import GatewayServer

BY_DESIGN = {
    "registration",
    "family-doctor",
    "visit-metadata",
    "consent-metadata",
    "key-releases",
    "emergency-metadata",
}
"""What the chain must show for the contracts to decide (docs/protocol.md): the report lists it."""


@pytest.fixture(scope="module")
def demo(devnet: DevnetInfo, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    played = Demo(devnet.rpc_url, devnet.ipfs_url, tmp_path_factory.mktemp("demo-home"), lambda _step: None)
    assert all(step.ok for step in played.run())
    return played


@pytest.fixture(scope="module")
def gated(demo: Demo, devnet: DevnetInfo) -> Iterator[GatewayServer]:
    assert demo.deployer is not None
    store = EmbeddedStore(Path(devnet.state_dir) / "ipfs")
    guard = ChainGuard(demo.deployer.chain, store=store, recheck_seconds=0)
    with GatewayServer(store, rpc=False, gate=AccessGate(guard)) as server:
        yield server


def _report(demo: Demo, gateways: list[str], signer: AccessSigner | None) -> PrivacyReport:
    assert demo.deployer is not None
    return privacy_report(demo.deployer.chain, demo.addr("resident"), gateways, signer=signer)


def test_a_stranger_learns_the_chain_metadata_and_nothing_from_the_gated_store(
    demo: Demo, gated: GatewayServer
) -> None:
    found = _report(demo, [gated.url], AccessSigner(bytes(Account.create().key)))

    assert found.leaks == []
    assert found.items >= BY_DESIGN
    assert not {"ciphertext-served-to-member", "section-size-class"} & found.items


def test_a_member_replicates_ciphertext_that_names_nobody_and_shows_only_size_classes(
    demo: Demo, gated: GatewayServer
) -> None:
    found = _report(demo, [gated.url], AccessSigner(bytes(demo.keys["research"].key)))

    assert found.leaks == []
    assert {"ciphertext-served-to-member", "section-size-class", "recipient-count-bucket"} <= found.items


def test_the_ungated_store_of_before_is_reported_as_a_leak(demo: Demo, devnet: DevnetInfo) -> None:
    """Guards the report itself: the devnet's ungated gateway serves anyone, and the report says so."""
    found = _report(demo, [devnet.ipfs_url], None)

    assert {f.item for f in found.leaks} == {"ciphertext-served-unsigned"}


def _stored(demo: Demo) -> list[StoredObject]:
    """Every object the resident's events name (the same walk the report makes, rebuilt here from events)."""
    from famchain.storage.cid import RAW, cid_from_digest

    assert demo.deployer is not None
    out = []
    for e in History(demo.deployer.chain).patient_events(demo.addr("resident")):
        a = e.args
        if e.name == "RecordAnchored":
            out.append(StoredObject("record", cid_from_digest(bytes(a["cidDigest"]), int(a["cidCodec"])), e))
        elif "bundleDigest" in a and any(bytes(a["bundleDigest"])):
            out.append(
                StoredObject("bundle", cid_from_digest(bytes(a["bundleDigest"]), int(a["bundleCodec"])), e)
            )
        elif e.name == "ResidentRegistered":
            out.append(StoredObject("profile", cid_from_digest(bytes(a["profile"]), RAW), e))
    return out


def test_no_address_or_public_key_of_any_party_is_in_a_stored_envelope_or_bundle(
    demo: Demo, devnet: DevnetInfo
) -> None:
    assert demo.deployer is not None
    store = EmbeddedStore(Path(devnet.state_dir) / "ipfs")
    fc = demo.deployer.chain
    needles = {}
    for name, account in demo.keys.items():
        needles[bytes.fromhex(account.address[2:])] = f"address of {name}"
        needles[account.address[2:].lower().encode()] = f"address of {name} as hex"
        key = fc.encryption_key(account.address) or fc.member_key(account.address)
        if key:
            needles[bytes(key)[-64:][:32]] = f"public key of {name}"
            needles[bytes(key)[-64:][:32].hex().encode()] = f"public key of {name} as hex"
    objects = _stored(demo)
    kinds = {o.kind for o in objects}
    assert {"record", "bundle", "profile"} <= kinds

    found = []
    for obj in objects:
        data = store.get(obj.cid)
        found += [f"{what} in {obj.kind} {obj.cid}" for needle, what in needles.items() if needle in data]
        if obj.kind == "bundle":
            KeyBundle.from_bytes(data)

    assert found == []


def test_every_section_ciphertext_of_the_demo_is_a_documented_size_class(
    demo: Demo, devnet: DevnetInfo
) -> None:
    store = EmbeddedStore(Path(devnet.state_dir) / "ipfs")
    sizes = {}
    for obj in _stored(demo):
        if obj.kind == "record":
            for section in SealedEnvelope.from_bytes(store.get(obj.cid)).sections:
                sizes[f"{obj.cid}/{section.name}"] = len(section.ciphertext) - TAG

    assert len(sizes) >= 10
    assert {where: size for where, size in sizes.items() if not is_size_class(size)} == {}


def test_the_report_flags_a_party_named_in_stored_bytes_and_an_unpadded_section(
    demo: Demo, devnet: DevnetInfo
) -> None:
    """Guards the store scan: a record's bytes with a party's address spliced in are reported (a named party,
    and bytes that no longer parse as a padded envelope); the genuine bytes are not."""
    assert demo.deployer is not None
    store = EmbeddedStore(Path(devnet.state_dir) / "ipfs")
    record = next(o for o in _stored(demo) if o.kind == "record")
    genuine = store.get(record.cid)
    needles = party_needles(demo.deployer.chain, [demo.addr("doctor")])
    clean, tampered = PrivacyReport("x", None), PrivacyReport("x", None)

    inspect_bytes(clean, "store", record, genuine, needles)
    inspect_bytes(tampered, "store", record, genuine + bytes.fromhex(demo.addr("doctor")[2:]), needles)

    assert clean.leaks == []
    assert {f.item for f in tampered.leaks} == {"recipient-named-in-store", "exact-section-length"}
    assert set(LEAKS) >= {f.item for f in tampered.leaks}


def test_the_resident_asking_about_herself_is_served_as_entitled_not_as_a_stranger(
    demo: Demo, gated: GatewayServer
) -> None:
    found = _report(demo, [gated.url], AccessSigner(bytes(demo.keys["resident"].key)))

    assert found.leaks == []
    assert "ciphertext-served-to-entitled" in found.items
