"""Wallet interoperability with ethers.js v6 (npm, pinned): what a browser wallet's ``eth_signTypedData_v4`` produces
for famchain's typed data is byte for byte famchain's signature, and the contracts accept it; keystores move both
ways between famchain and ethers.

The Node scripts are tests/wallet/sign.mjs and tests/wallet/keystore.mjs. Node is required: without it these
tests fail, they do not skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _cli_support import PASSWORD, Cli
from eth_account import Account

from _world import World
from famchain.chain.nonces import NonceDomain, keyed_nonce, nonce_key
from famchain.crypto import keystore, typed_data
from famchain.crypto.keywrap import public_key_from_private
from famchain.crypto.typed_data import ConsentTerms
from famchain.errors import ContractRevertError
from famchain.records.sections import ALL_SECTIONS, Action
from famchain.records.sharing import consent_document
from famchain.services.agreements import SignedAcceptance
from famchain.services.residents import SignedRegistration
from famchain.storage.cid import cid_from_digest

REPO = Path(__file__).resolve().parents[3]
WALLET = REPO / "tests" / "wallet"
VISIT = {
    "version": 1,
    "sections": {
        "present_illness": "Cough and low fever for three days.",
        "diagnosis": [{"text": "Acute upper respiratory infection", "code": "J06.9", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Paracetamol 500 mg", "days": 3}],
    },
}


def _node(script: str, *args: str, stdin: str = "", **env: str) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (Node.js 20) is required for the wallet interop tests: run `make install`")
    result = subprocess.run(
        [node, str(WALLET / script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{script} {' '.join(args)}: {result.stderr}"
    return result.stdout


def ethers_sign(private_key: bytes, messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """ethers' ``Wallet.signTypedData`` of each typed-data JSON, as a wallet would sign it."""
    out = _node("sign.mjs", stdin=json.dumps(messages), PRIVATE_KEY="0x" + private_key.hex())
    signed: list[dict[str, str]] = json.loads(out)
    return signed


def _sig(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _nonce(domain: NonceDomain, subject: str | bytes | int = 0, sequence: int = 0) -> int:
    return keyed_nonce(nonce_key(domain, subject), sequence)


TERMS = ConsentTerms.new(
    recipient="claims officer, Ping An insurance",
    contact="claims@example.org",
    purpose="insurance-claim",
    data="diagnosis, prescriptions",
    method="read through famchain",
    recordsFrom=1_700_000_000,
    recordsUntil=0,
)


def _every_message(world: World) -> dict[str, dict[str, Any]]:
    """One of every v2 message type, as famchain builds it (keyed nonces: 256-bit numbers, as JSON strings)."""
    fc, patient = world.chain.chain, world.patient
    now = fc.latest_timestamp()
    common = {"chain_id": fc.chain_id, "deadline": now + 3600}
    doctor, insurer, specialist = world.family_doctor.address, world.insurer.address, world.specialist.address
    previous = b"\x22" * 32
    return {
        "Cancel": typed_data.cancel(
            owner=patient.address,
            key_nonce=_nonce(NonceDomain.CONSENT, insurer, 3),
            contract="ConsentRegistry",
            verifying_contract=fc.consents.address,
            **common,
        ),
        "Enrollment": typed_data.enrollment(
            practitioner=patient.address,
            institution=world.hospital.address,
            nonce=_nonce(NonceDomain.ENROLLMENT, world.hospital.address),
            verifying_contract=fc.consortium.address,
            **common,
        ),
        "Registration": typed_data.registration(
            resident=patient.address,
            encryption_key=public_key_from_private(patient.account_key()),
            profile=bytes(range(32)),
            nonce=_nonce(NonceDomain.REGISTRATION, 0, 7),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "Profile": typed_data.profile(
            resident=patient.address,
            profile=b"\x09" * 32,
            nonce=_nonce(NonceDomain.PROFILE),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "EncryptionKey": typed_data.encryption_key(
            resident=patient.address,
            encryption_key=public_key_from_private(b"\x07" * 32),
            nonce=_nonce(NonceDomain.PROFILE, 0, 1),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "Agreement": typed_data.agreement(
            resident=patient.address,
            doctor=doctor,
            sections=ALL_SECTIONS,
            actions=Action.READ | Action.APPEND,
            term=365 * 86400,
            nonce=_nonce(NonceDomain.AGREEMENT, doctor, 1),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "AgreementWithdrawal": typed_data.agreement_withdrawal(
            resident=patient.address,
            doctor=doctor,
            nonce=_nonce(NonceDomain.AGREEMENT, doctor, 2),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "Termination": typed_data.termination(
            resident=patient.address,
            doctor=doctor,
            nonce=_nonce(NonceDomain.AGREEMENT, doctor, 3),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "Guardian": typed_data.guardian(
            resident=patient.address,
            guardian=world.outsider.address,
            scope=0x11,
            expires_at=now + 86400,
            dependent=True,
            nonce=_nonce(NonceDomain.GUARDIAN, world.outsider.address),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "GuardianRemoval": typed_data.guardian_removal(
            resident=patient.address,
            guardian=world.outsider.address,
            nonce=_nonce(NonceDomain.GUARDIAN, world.outsider.address, 1),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "DeletionRequest": typed_data.deletion_request(
            resident=patient.address,
            record_id=b"\x33" * 32,
            nonce=_nonce(NonceDomain.DELETION, b"\x33" * 32),
            verifying_contract=fc.residents.address,
            **common,
        ),
        "Consent": typed_data.consent(
            patient=patient.address,
            grantee=insurer,
            sections=0x18,
            actions=int(Action.READ),
            expires_at=now + 30 * 86400,
            terms=TERMS,
            bundle_digest=b"\x44" * 32,
            bundle_codec=0x55,
            nonce=_nonce(NonceDomain.CONSENT, insurer),
            verifying_contract=fc.consents.address,
            **common,
        ),
        "Revocation": typed_data.revocation(
            patient=patient.address,
            grantee=insurer,
            nonce=_nonce(NonceDomain.CONSENT, insurer, 1),
            verifying_contract=fc.consents.address,
            **common,
        ),
        "Refusal": typed_data.refusal(
            patient=patient.address,
            grantee=specialist,
            nonce=_nonce(NonceDomain.CONSENT, specialist),
            verifying_contract=fc.consents.address,
            **common,
        ),
        "RecordUpdate": typed_data.record_update(
            patient=patient.address,
            author=doctor,
            previous=previous,
            salt=b"\x11" * 32,
            cid_digest=b"\x33" * 32,
            cid_codec=0x70,
            sections=0x29,
            kind=1,
            nonce=_nonce(NonceDomain.UPDATE, previous, 2),
            verifying_contract=fc.records.address,
            **common,
        ),
        "UpdateRefusal": typed_data.update_refusal(
            patient=patient.address,
            previous=previous,
            record_id=b"\x55" * 32,
            nonce=_nonce(NonceDomain.UPDATE, previous, 3),
            verifying_contract=fc.records.address,
            **common,
        ),
        "KeyRelease": typed_data.key_release(
            patient=patient.address,
            grantee=specialist,
            bundle_digest=b"\x44" * 32,
            bundle_codec=0x70,
            sections=ALL_SECTIONS,
            nonce=_nonce(NonceDomain.KEY_RELEASE, specialist, 3),
            verifying_contract=fc.records.address,
            **common,
        ),
        "EmergencyChoice": typed_data.emergency_choice(
            resident=patient.address,
            sections=0,
            nonce=_nonce(NonceDomain.EMERGENCY),
            verifying_contract=fc.emergency.address,
            **common,
        ),
        "EmergencyReview": typed_data.emergency_review(
            patient=patient.address,
            emergency_id=1,
            contested=True,
            nonce=_nonce(NonceDomain.EMERGENCY, 0, 1),
            verifying_contract=fc.emergency.address,
            **common,
        ),
    }


def test_ethers_signs_every_message_type_exactly_as_famchain(world: World) -> None:
    messages = _every_message(world)
    assert sorted(messages) == sorted(typed_data.TYPE_STRINGS)

    signed = ethers_sign(world.patient.account_key(), list(messages.values()))

    for (name, data), wallet in zip(messages.items(), signed, strict=True):
        ours = typed_data.sign_typed_data(world.patient.account_key(), data)
        assert _sig(wallet["signature"]) == ours, name
        assert _sig(wallet["digest"]) == typed_data.hash_typed_data(data), name
        assert wallet["signer"] == world.patient.address, name
        assert typed_data.recover_typed_data_signer(data, _sig(wallet["signature"])) == world.patient.address


def test_ethers_signed_consent_is_accepted_by_grant_with_sig(world: World) -> None:
    data = _every_message(world)["Consent"]
    (wallet,) = ethers_sign(world.patient.account_key(), [data])
    m = data["message"]

    tampered = {**data, "message": {**m, "sections": ALL_SECTIONS}}  # the relayer asks for more
    with pytest.raises(ContractRevertError) as refused:
        world.outsider.consents.relay(consent_document(tampered, _sig(wallet["signature"])))
    assert refused.value.error_name == "SignedMessagesInvalidSigner"

    world.outsider.consents.relay(consent_document(data, _sig(wallet["signature"])))
    grant = world.chain.consents.grant_of(world.patient.address, world.insurer.address)
    assert (grant.sections, grant.actions, grant.expiresAt) == (m["sections"], m["actions"], m["expiresAt"])
    (event,) = [e for e in world.chain.audit.events(world.patient.address) if e.name == "ConsentGranted"]
    assert bytes(event.args["terms"]) == TERMS.hash_struct()
    assert bytes(event.args["bundleDigest"]) == b"\x44" * 32


def test_ethers_signed_registration_and_agreement_are_accepted(world: World) -> None:
    fc, resident = world.chain.chain, world.client()
    key = public_key_from_private(resident.account_key())
    deadline = fc.latest_timestamp() + 3600
    registration_nonce = fc.residents.nonce(resident.address, NonceDomain.REGISTRATION)
    agreement_nonce = fc.residents.nonce(resident.address, NonceDomain.AGREEMENT, world.family_doctor.address)
    registration = typed_data.registration(
        resident=resident.address,
        encryption_key=key,
        profile=b"\x05" * 32,
        nonce=registration_nonce,
        deadline=deadline,
        chain_id=fc.chain_id,
        verifying_contract=fc.residents.address,
    )
    agreement = typed_data.agreement(
        resident=resident.address,
        doctor=world.family_doctor.address,
        sections=ALL_SECTIONS,
        actions=Action.READ | Action.APPEND,
        term=30 * 86400,
        nonce=agreement_nonce,
        deadline=deadline,
        chain_id=fc.chain_id,
        verifying_contract=fc.residents.address,
    )
    reg_sig, agr_sig = (
        _sig(s["signature"]) for s in ethers_sign(resident.account_key(), [registration, agreement])
    )

    # The resident holds no ether: an institution and the doctor relay the wallet's signatures.
    assert fc.w3.eth.get_balance(resident.address) == 0
    world.consortium.residents.relay_registration(
        SignedRegistration(resident.address, key, b"\x05" * 32, registration_nonce, deadline, reg_sig)
    )
    world.family_doctor.agreements.accept_signed(
        SignedAcceptance(
            resident.address,
            world.family_doctor.address,
            ALL_SECTIONS,
            Action.READ | Action.APPEND,
            30 * 86400,
            agreement_nonce,
            deadline,
            agr_sig,
        )
    )
    assert world.chain.residents.is_registered(resident.address)
    doctor = world.chain.agreements.active(resident.address)
    assert doctor is not None
    assert (doctor.doctor, doctor.sections) == (world.family_doctor.address, ALL_SECTIONS)


def test_ethers_signed_enrollment_and_cancel_are_accepted(world: World) -> None:
    """A practitioner's wallet signs its enrollment (the institution submits it); a patient's wallet signs a
    Cancel that a relayer submits, and the consent signature it names can no longer be relayed."""
    fc = world.chain.chain
    newcomer = world.client()
    deadline = fc.latest_timestamp() + 3600
    nonce = fc.consortium.nonce(newcomer.address, NonceDomain.ENROLLMENT, world.hospital.address)
    enrollment = typed_data.enrollment(
        practitioner=newcomer.address,
        institution=world.hospital.address,
        nonce=nonce,
        deadline=deadline,
        chain_id=fc.chain_id,
        verifying_contract=fc.consortium.address,
    )
    (signed,) = ethers_sign(newcomer.account_key(), [enrollment])
    key = public_key_from_private(newcomer.account_key())
    world.hospital.sender.transact(
        fc.consortium.register_practitioner(newcomer.address, key, nonce, deadline, _sig(signed["signature"]))
    )
    assert fc.consortium.practitioner(newcomer.address).active

    consent = world.patient.consents.sign(
        world.insurer.address, 0x08, expires_at=fc.latest_timestamp() + 86400
    )
    key_nonce = int(consent.document["typed_data"]["message"]["nonce"])
    cancel = typed_data.cancel(
        owner=world.patient.address,
        key_nonce=key_nonce,
        deadline=deadline,
        contract="ConsentRegistry",
        chain_id=fc.chain_id,
        verifying_contract=fc.consents.address,
    )
    (cancelled,) = ethers_sign(world.patient.account_key(), [cancel])
    world.outsider.sender.transact(
        fc.consents.cancel_nonce_with_sig(
            world.patient.address, key_nonce, deadline, _sig(cancelled["signature"])
        )
    )
    with pytest.raises(ContractRevertError) as refused:
        world.outsider.consents.relay(consent.document)
    assert refused.value.error_name == "InvalidAccountNonce"


def test_wallet_signs_the_printed_typed_data_and_famchain_relays_it(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    visit = tmp_path / "visit.json"
    visit.write_text(json.dumps(VISIT))
    cli.tx(world.family_doctor, "record", "submit", "--patient", world.patient.address, "--file", str(visit))
    signed = tmp_path / "consent.json"
    out = cli.ok(
        world.patient,
        "consent",
        "sign",
        world.insurer.address,
        "--sections",
        "diagnosis,prescriptions",
        "--purpose",
        "insurance-claim",
        "--days",
        "30",
        "-o",
        str(signed),
        "--print-typed-data",
    )
    assert out.stderr.startswith("signed consent for")
    wallet_json = json.loads(out.stdout)  # stdout holds the typed data alone
    doc = json.loads(signed.read_text())
    assert wallet_json == doc["typed_data"]
    # The file holds the signed message (terms and the bundle's digest) and the signature: no key material.
    assert set(doc) == {"kind", "typed_data", "signature"}
    bundle = cid_from_digest(
        bytes.fromhex(wallet_json["message"]["bundleDigest"][2:]), int(wallet_json["message"]["bundleCodec"])
    )
    assert world.store.has(bundle)  # stored and pinned before the patient signed
    assert wallet_json["message"]["terms"]["purpose"] == "insurance-claim"

    # A wallet signs the consent (the nested ConsentTerms, a 256-bit keyed nonce): the very signature famchain made.
    (consent_sig,) = ethers_sign(world.patient.account_key(), [wallet_json])
    assert consent_sig["signature"] == doc["signature"]

    # Relay the wallet-signed document: the insurer can then read exactly the consented sections.
    doc["signature"] = consent_sig["signature"]
    signed.write_text(json.dumps(doc))
    cli.tx(world.insurer, "consent", "submit", str(signed))
    record = cli.json(world.patient, "record", "list", "--patient", world.patient.address)["records"][0][
        "record"
    ]
    read = cli.json(world.insurer, "record", "read", record)
    text = json.dumps(read, ensure_ascii=False)
    assert "J06.9" in text
    assert "Paracetamol" in text
    assert "Cough and low fever" not in text


@pytest.mark.parametrize("light", [True, False], ids=["light-kdf", "default-kdf"])
def test_famchain_keystore_opens_in_ethers(tmp_path: Path, light: bool) -> None:
    account = Account.create()
    kdf = keystore.KdfParams.light() if light else keystore.KdfParams.default()
    info = keystore.create_keystore(PASSWORD, tmp_path, private_key=bytes(account.key), kdf=kdf)
    document = json.loads(info.path.read_text())
    assert document["crypto"]["kdf"] == ("pbkdf2" if light else "scrypt")
    assert keystore.is_test_only(document) is light

    opened = json.loads(_node("keystore.mjs", "decrypt", str(info.path), PASSWORD=PASSWORD))

    assert opened == {"address": account.address, "privateKey": "0x" + bytes(account.key).hex()}


@pytest.mark.parametrize("light", [True, False], ids=["light-scrypt", "ethers-default-scrypt"])
def test_ethers_keystore_imports_with_famchain_account_import(cli: Cli, tmp_path: Path, light: bool) -> None:
    account = Account.create()
    args = ["encrypt", "--light"] if light else ["encrypt"]
    document = _node("keystore.mjs", *args, PASSWORD=PASSWORD, PRIVATE_KEY="0x" + bytes(account.key).hex())
    source = tmp_path / "ethers-keystore.json"
    source.write_text(document)
    # ethers writes the "Crypto" spelling (as MyEtherWallet did); geth and famchain write "crypto".
    assert json.loads(document)["Crypto"]["kdf"] == "scrypt"

    folder = tmp_path / "imported"
    result = cli.invoke(None, "account", "import", str(source), "--keystore-dir", str(folder))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.strip() == account.address
    assert keystore.unlock(account.address, PASSWORD, folder).private_key == bytes(account.key)
    (imported,) = folder.iterdir()
    back = json.loads(_node("keystore.mjs", "decrypt", str(imported), PASSWORD=PASSWORD))
    assert back["address"] == account.address

    other = str(tmp_path / "other")
    wrong = cli.invoke(
        None, "account", "import", str(source), "--keystore-dir", other, FAMCHAIN_PASSWORD="not it"
    )
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith("error: wrong password")
