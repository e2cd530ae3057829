"""Issue #10, the client's second line: each test performs an insider's attack on a real devnet and store and
sees it refused, judged from the chain (the verified card, the events) and the store.

- the reader resolves a record within its patient's verified card, takes the envelope's context from the
  anchor, checks the bytes against the anchored digest and codec, refuses sections the anchor does not list,
  and takes the first occurrence of an id;
- exactly-once recovery settles a record only by its derived id (which binds its author and its bytes);
- one malformed record cannot stop a patient from sharing the rest;
- consents name a key bundle stored before signing, readers use only bundles announced on chain, and records
  anchored between signing and relaying are released by the patient or the author (or by the author at once
  after a flush);
- consent terms are committed (salted hash), requests carry sealed terms;
- revocation and cancel kill outstanding signatures.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from _cli_support import Cli

from _world import World
from famchain import (
    ALL_SECTIONS,
    AccessDeniedError,
    Action,
    Client,
    ContractRevertError,
    IntegrityError,
    KeyNotReleasedError,
    Purpose,
    RecordId,
    Section,
    parse_record,
)
from famchain.chain.history import anchored_from_event, record_id_of
from famchain.chain.structs import CODEC_RAW, Anchor, RecordKind
from famchain.crypto import envelope as env
from famchain.crypto.envelope import EnvelopeContext, Recipient
from famchain.crypto.keywrap import public_key_from_private
from famchain.devnet import DevnetInfo
from famchain.records.anchoring import anchor_of
from famchain.records.sharing import build_release
from famchain.records.terms import COMMITTED
from famchain.storage.cid import cid_from_digest, digest_and_codec
from famchain.types import Address, Cid

VISIT = {
    "sections": {
        "present_illness": "Chest tightness on exertion.",
        "diagnosis": [{"text": "Stable angina", "code": "I20.8"}],
        "prescriptions": [{"drug": "Nitroglycerin 0.5 mg", "days": 30}],
    }
}
TWO = int(Section.DIAGNOSIS | Section.PRESCRIPTIONS)
BOTH = Action.READ | Action.APPEND


def _expires(world: World) -> int:
    return world.patient.now() + 30 * 86400


def _card(world: World) -> list[tuple[RecordId, str]]:
    return [(r.record_id, r.author) for r in world.chain.records.card(world.patient.address)]


def _append_rights(world: World, who: Client) -> None:
    """The patient lets ``who`` read and append every section (an insider with real rights)."""
    world.patient.consents.grant(who.address, ALL_SECTIONS, actions=BOTH, expires_at=_expires(world))


def _anchor_raw(world: World, who: Client, anchor: Anchor) -> RecordId:
    """Anchor exactly ``anchor`` as ``who`` through the contract layer (what a modified client could send)."""
    patient = world.patient.address
    head = who.chain.records.card(patient).head
    who.sender.transact(who.chain.records.anchor(patient, head, anchor))
    return record_id_of(patient, who.address, anchor.salt, anchor.cidDigest, anchor.cidCodec)


def _events(world: World, name: str) -> list[dict[str, object]]:
    return [e.args for e in world.chain.audit.events(world.patient.address) if e.name == name]


# --- the reader ------------------------------------------------------------------------------------------


def test_copied_bytes_anchored_under_another_author_get_another_id_and_do_not_open(world: World) -> None:
    """An insider anchors the doctor's sealed bytes (same salt, digest, codec) under its own address before the
    doctor does. It gets its own id; the doctor's record still anchors exactly once, under the doctor's id,
    with its bytes; the copy does not open (its anchor names another author than the envelope is bound to)."""
    _append_rights(world, world.specialist)
    entry = world.family_doctor.records.seal(world.patient.address, parse_record(VISIT))
    sealed = world.family_doctor.actor.outbox.sealed_bytes(entry)
    assert world.store.put(sealed) == entry.cid  # the copy the insider found in a store
    copy = _anchor_raw(world, world.specialist, anchor_of(entry))

    report = world.family_doctor.records.flush()

    assert copy != entry.record_id
    assert [e.record_id for e in report.anchored] == [entry.record_id]
    assert report.already == ()
    assert _card(world) == [(copy, world.specialist.address), (entry.record_id, world.family_doctor.address)]
    mine = world.patient.records.read(entry.record_id)
    assert mine.sections == VISIT["sections"]
    assert mine.anchor.author == world.family_doctor.address
    with pytest.raises(IntegrityError, match="context digest"):
        world.patient.records.read(copy)
    card = {r.record_id: r for r in world.patient.records.read_card(world.patient.address)}
    assert card[entry.record_id].sections == VISIT["sections"]
    assert card[copy].sections == {}
    assert card[copy].error is not None


def test_envelope_holding_a_section_its_anchor_does_not_list_is_refused(world: World) -> None:
    """An author anchors a record under a narrower section mask than its envelope holds (so consents and
    emergency rules on the mask would not see the hidden section): the reader refuses it."""
    _append_rights(world, world.specialist)
    entry = world.specialist.records.seal(world.patient.address, parse_record(VISIT))
    world.store.put(world.specialist.actor.outbox.sealed_bytes(entry))
    record = _anchor_raw(world, world.specialist, replace(anchor_of(entry), sections=int(Section.DIAGNOSIS)))
    assert record == entry.record_id  # the mask is not part of the id: only the reader can catch it

    with pytest.raises(IntegrityError, match="which its anchor does not list"):
        world.patient.records.read(record)
    (result,) = world.patient.records.read_card(world.patient.address)
    assert result.sections == {}
    assert "does not list" in str(result.error)


class _SwappingStore:
    """A store (a curious member's gateway) that serves other bytes for one CID."""

    def __init__(self, inner: object, cid: Cid, other: bytes) -> None:
        self.inner, self.cid, self.other = inner, cid, other

    def get(self, cid: str) -> bytes:
        return self.other if str(cid) == str(self.cid) else self.inner.get(cid)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_bytes_that_are_not_the_anchored_digest_are_refused(world: World) -> None:
    first = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).entry
    second = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).entry
    swapping = _SwappingStore(world.store, first.cid, world.store.get(second.cid))
    reader = Client(
        world.patient.w3,
        world.deployment,
        world.patient.account,
        store=swapping,
        home=world.home,  # type: ignore[arg-type]
    )

    with pytest.raises(IntegrityError, match="are not the anchored"):
        reader.records.read(first.record_id)
    assert reader.records.read(second.record_id).sections == VISIT["sections"]


def test_the_first_occurrence_of_an_id_is_the_record(world: World) -> None:
    """The same author anchors the same content twice (same id), the second time claiming another kind: the
    card holds both events; readers, shares and erasure proofs take the first."""
    entry = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).entry
    again = replace(anchor_of(entry), kind=RecordKind.INPATIENT, sections=int(Section.DIAGNOSIS))
    assert _anchor_raw(world, world.family_doctor, again) == entry.record_id

    card = world.chain.records.card(world.patient.address)
    assert [r.record_id for r in card] == [entry.record_id, entry.record_id]
    found = world.patient.records.find(entry.record_id)
    assert (found.index, found.kind, found.sections) == (0, RecordKind.OUTPATIENT, entry.sections)
    results = world.patient.records.read_card(world.patient.address)
    assert [(r.record_id, r.anchor.index) for r in results] == [(entry.record_id, 0)]
    assert world.patient.records.erasure_proof(entry.record_id).index == 0


def test_an_event_whose_id_is_not_its_fields_is_refused(world: World) -> None:
    """A node that forges a RecordAnchored event (another salt or author under a real id) is caught: the id is
    recomputed from the event's patient, author, salt, digest and codec."""
    world.family_doctor.records.submit(world.patient.address, parse_record(VISIT))
    history = world.chain.history
    (event,) = [e for e in history.patient_events(world.patient.address) if e.name == "RecordAnchored"]
    assert anchored_from_event(event).author == world.family_doctor.address

    for change in ({"salt": os.urandom(32)}, {"author": world.stranger.address}, {"cidCodec": 0x70}):
        forged = replace(event, args={**event.args, **change})
        with pytest.raises(IntegrityError, match="forged event"):
            anchored_from_event(forged)


# --- one malformed record never stops sharing -------------------------------------------------------------


def _malformed_records(world: World) -> tuple[RecordId, RecordId]:
    """An insider with APPEND puts two bad records on the card: one sealed without the patient as a recipient,
    one whose bytes are no envelope at all."""
    insider = world.specialist
    _append_rights(world, insider)
    salt = os.urandom(32)
    context = EnvelopeContext(
        salt,
        Address(world.patient.address),
        Address(insider.address),
        world.patient.chain_id,
        Address(world.patient.chain.records.address),
    )
    plaintexts = parse_record(VISIT).plaintexts()
    sealed = env.seal(plaintexts, [Recipient(public_key_from_private(insider.account_key()))], context)
    digest, codec = digest_and_codec(world.store.put(sealed.to_bytes()))
    unsealed_for_patient = _anchor_raw(world, insider, Anchor(salt, RecordId.zero(), digest, 0x19, codec))
    junk_digest, junk_codec = digest_and_codec(world.store.put(b"not an envelope at all"))
    junk = _anchor_raw(world, insider, Anchor(os.urandom(32), RecordId.zero(), junk_digest, 0x08, junk_codec))
    return unsealed_for_patient, junk


def test_a_malformed_record_cannot_stop_the_patient_from_sharing(world: World) -> None:
    good = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id
    unsealed, junk = _malformed_records(world)

    granted = world.patient.consents.grant(world.insurer.address, TWO, expires_at=_expires(world))

    assert {s.record_id for s in granted.release.skipped} == {unsealed, junk}
    assert world.insurer.records.read(good).sections == {
        k: VISIT["sections"][k] for k in ("diagnosis", "prescriptions")
    }
    (event,) = [e for e in _events(world, "ConsentGranted") if e["grantee"] == world.insurer.address]
    assert any(bytes(event["bundleDigest"]))  # the bundle of the good record went with the grant
    cards = {r.record_id: r for r in world.patient.records.read_card(world.patient.address)}
    assert cards[good].sections == VISIT["sections"]
    assert cards[junk].error is not None


def test_the_cli_names_the_records_a_release_skipped(
    world: World, devnet: DevnetInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAMCHAIN_INSECURE_TEST_KEYSTORES", "1")
    deployment = tmp_path / "deployment.json"
    world.deployment.save(deployment)
    cli = Cli(devnet.rpc_url, devnet.ipfs_url, deployment, tmp_path / "keys", world.home)
    world.family_doctor.records.submit(world.patient.address, parse_record(VISIT))
    unsealed, junk = _malformed_records(world)

    out = cli.tx(world.patient, "consent", "grant", world.insurer.address, "--sections", "diagnosis").stdout

    assert f"skipped record {unsealed}: " in out
    assert f"skipped record {junk}: " in out
    assert world.chain.consents.grant_of(world.patient.address, world.insurer.address).sections == int(
        Section.DIAGNOSIS
    )


# --- consents v2: the bundle named in the consent, released only on chain ---------------------------------


def test_a_signed_consent_names_a_bundle_stored_before_signing_and_carries_no_key(world: World) -> None:
    record = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id

    signed = world.patient.consents.sign(world.insurer.address, TWO, expires_at=_expires(world))

    assert set(signed.document) == {"kind", "typed_data", "signature"}
    message = signed.document["typed_data"]["message"]
    assert signed.release.bundle_cid is not None
    assert world.store.has(signed.release.bundle_cid)
    digest, codec = signed.release.digest_and_codec
    assert (message["bundleDigest"], message["bundleCodec"]) == ("0x" + digest.hex(), codec)
    world.outsider.consents.relay(signed.document)
    (event,) = _events(world, "ConsentGranted")
    assert (bytes(event["bundleDigest"]), event["bundleCodec"]) == (digest, codec)  # announced by the grant
    assert not [e for e in _events(world, "KeysReleased") if e["grantee"] == world.insurer.address]
    assert set(world.insurer.records.read(record).sections) == {"diagnosis", "prescriptions"}


def test_records_anchored_between_signing_and_relaying_are_released_by_the_patient_or_the_author(
    world: World,
) -> None:
    before = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id
    signed = world.patient.consents.sign(world.insurer.address, TWO, expires_at=_expires(world))
    gap = [
        world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id
        for _ in range(2)
    ]
    world.outsider.consents.relay(signed.document)
    insurer = world.insurer

    assert set(insurer.records.read(before).sections) == {"diagnosis", "prescriptions"}
    with pytest.raises(KeyNotReleasedError) as info:
        insurer.records.read(gap[0])
    text = str(info.value)
    assert f"`famchain consent sync {insurer.address}`" in text
    assert f"`famchain record share {gap[0]} --to {insurer.address}`" in text
    assert world.patient.address in text
    assert world.family_doctor.address in text

    # A bundle stored but never announced on chain is not used: keys reach a reader only through an event.
    patient = world.patient
    hidden = build_release(
        patient.actor, patient.address, insurer.address, TWO, records=[patient.records.find(gap[0])]
    )
    assert hidden.bundle_cid is not None
    assert world.store.has(hidden.bundle_cid)
    with pytest.raises(KeyNotReleasedError):
        insurer.records.read(gap[0])

    # The author releases one record (as releaser on the audit trail); the patient syncs the rest.
    world.family_doctor.records.share(gap[0], insurer.address)
    assert set(insurer.records.read(gap[0]).sections) == {"diagnosis", "prescriptions"}
    patient.consents.sync(insurer.address)
    assert set(insurer.records.read(gap[1]).sections) == {"diagnosis", "prescriptions"}
    releasers = [
        (e["releaser"], e["grantee"])
        for e in _events(world, "KeysReleased")
        if e["grantee"] == insurer.address
    ]
    assert releasers == [(world.family_doctor.address, insurer.address), (patient.address, insurer.address)]


def test_an_author_releases_a_record_to_a_grantee_that_came_between_sealing_and_anchoring(
    world: World,
) -> None:
    entry = world.family_doctor.records.seal(world.patient.address, parse_record(VISIT))
    world.patient.consents.grant(world.insurer.address, TWO, expires_at=_expires(world))
    assert world.insurer.address not in world.family_doctor.actor.outbox.get(entry.record_id).recipients  # type: ignore[union-attr]

    report = world.family_doctor.records.flush()

    (late,) = report.late_releases
    assert (late.record_ids, late.grantee, late.error) == ((entry.record_id,), world.insurer.address, None)
    released = [e for e in _events(world, "KeysReleased") if e["grantee"] == world.insurer.address]
    assert [e["releaser"] for e in released] == [world.family_doctor.address]
    assert set(world.insurer.records.read(entry.record_id).sections) == {"diagnosis", "prescriptions"}


# --- consent terms: committed, opened by the parties only ---------------------------------------------------


def test_consent_terms_are_committed_with_a_salt_and_opened_only_by_their_holders(world: World) -> None:
    first = world.patient.consents.grant(
        world.insurer.address, TWO, purpose=Purpose.INSURANCE_CLAIM, expires_at=_expires(world)
    )
    second = world.patient.consents.grant(
        world.insurer.address, TWO, purpose=Purpose.INSURANCE_CLAIM, expires_at=_expires(world)
    )

    hashes = [bytes(e["terms"]) for e in _events(world, "ConsentGranted")]
    assert hashes == [first.terms.hash_struct(), second.terms.hash_struct()]
    assert hashes[0] != hashes[1]  # a fresh salt each time: equal purposes give unrelated hashes
    (mine,) = world.patient.consents.list()
    assert mine.purpose == "insurance-claim"
    assert mine.terms is not None
    assert mine.terms.recipient.startswith(f"practitioner {world.insurer.address}")
    (theirs,) = world.family_doctor.consents.list(world.patient.address)
    assert theirs.purpose == COMMITTED
    book = world.patient.consents.book
    assert book is not None
    for path in book.root.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_request_carries_sealed_terms_the_patient_opens_and_a_grant_reuses(world: World) -> None:
    world.insurer.consents.request(
        world.patient.address,
        TWO,
        duration=10 * 86400,
        purpose="claim 2024-117 for a hospital stay",
    )
    request = world.chain.consents.request_of(world.patient.address, world.insurer.address)
    stored = world.store.get(_raw_cid(request.terms))
    assert b"claim 2024-117" not in stored  # sealed: the store sees no purpose

    (row,) = world.patient.consents.list()
    assert row.request_terms is not None
    assert row.request_terms["purpose"] == "claim 2024-117 for a hospital stay"
    assert (row.request.sections, row.request.duration) == (TWO, 10 * 86400)  # type: ignore[union-attr]
    assert world.stranger.consents.request_terms(world.patient.address, world.insurer.address) is None

    granted = world.patient.consents.grant(world.insurer.address, TWO, expires_at=_expires(world))

    assert granted.terms.purpose == "claim 2024-117 for a hospital stay"
    assert granted.terms.recipient == row.request_terms["recipient"]
    assert world.chain.consents.request_of(world.patient.address, world.insurer.address).is_open is False


def _raw_cid(digest: bytes) -> str:
    return cid_from_digest(digest, CODEC_RAW)


# --- revocation and cancel kill outstanding signatures ----------------------------------------------------


def test_a_cancelled_consent_signature_cannot_be_relayed(world: World) -> None:
    signed = world.patient.consents.sign(world.insurer.address, TWO, expires_at=_expires(world))

    world.patient.consents.cancel(world.insurer.address)

    with pytest.raises(ContractRevertError) as info:
        world.outsider.consents.relay(signed.document)
    assert info.value.error_name == "InvalidAccountNonce"
    assert world.chain.consents.grant_of(world.patient.address, world.insurer.address).sections == 0
    assert [e["owner"] for e in _events(world, "NonceCancelled")] == [world.patient.address]


def test_a_revocation_kills_the_consent_signatures_made_before_it(world: World) -> None:
    wider = world.patient.consents.sign(world.insurer.address, ALL_SECTIONS, expires_at=_expires(world))
    world.patient.consents.grant(world.insurer.address, TWO, expires_at=_expires(world))

    world.patient.consents.revoke(world.insurer.address)

    with pytest.raises(ContractRevertError) as info:
        world.outsider.consents.relay(wider.document)
    assert info.value.error_name == "InvalidAccountNonce"
    assert world.chain.consents.grant_of(world.patient.address, world.insurer.address).sections == 0


def test_signatures_for_unrelated_grantees_do_not_kill_each_other(world: World) -> None:
    to_insurer = world.patient.consents.sign(world.insurer.address, TWO, expires_at=_expires(world))
    to_specialist = world.patient.consents.sign(world.specialist.address, TWO, expires_at=_expires(world))

    world.outsider.consents.relay(to_specialist.document)  # the later one first
    world.outsider.consents.relay(to_insurer.document)

    for grantee in (world.insurer, world.specialist):
        assert world.chain.consents.grant_of(world.patient.address, grantee.address).sections == TWO


def test_reading_refuses_a_revoked_grantee_even_with_the_keys(world: World) -> None:
    record = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id
    world.patient.consents.grant(world.insurer.address, TWO, expires_at=_expires(world))
    assert world.insurer.records.read(record).sections
    world.patient.consents.revoke(world.insurer.address)
    with pytest.raises(AccessDeniedError, match="revoked or has expired"):
        world.insurer.records.read(record)


def test_a_termination_kills_the_agreement_signatures_made_before_it(world: World) -> None:
    """A doctor holding the resident's earlier acceptance signature cannot bring a terminated agreement back."""
    held = world.patient.agreements.sign_acceptance(
        world.family_doctor.address, ALL_SECTIONS, BOTH, 365 * 86400
    )

    world.patient.agreements.terminate()

    with pytest.raises(ContractRevertError) as info:
        world.family_doctor.agreements.accept_signed(held)
    assert info.value.error_name == "InvalidAccountNonce"
    assert world.chain.agreements.active(world.patient.address) is None
