"""Every section codec is bound the same way (issue #16): the context, the section's name and place, the key
commitment and the MAC hold for SM4-GCM exactly as for AES-256-GCM and ChaCha20-Poly1305 (the key commitment per
codec: ``test_crypto_commitment.py``), and the deployment presets mix them in one envelope that every reader (own entry or key bundle) opens."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from _crypto_support import SECTIONS

from famchain.crypto import envelope as env
from famchain.crypto.aead import AES_256_GCM, CHACHA20_POLY1305, SM4_GCM
from famchain.crypto.envelope import EnvelopeContext, Recipient, SealedEnvelope, open_all, release_keys, seal
from famchain.crypto.policy import PRESETS, CipherPolicy, preset
from famchain.crypto.wallet import Wallet
from famchain.errors import AuthenticationError, ConfigError, IntegrityError

CODECS = [AES_256_GCM, CHACHA20_POLY1305, SM4_GCM]


def _sealed(codec: str, patient: Wallet, context: EnvelopeContext) -> SealedEnvelope:
    return seal(SECTIONS, [patient.encryption_public_key], context, policy=CipherPolicy(default=codec))


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("field", ["author", "patient", "salt", "chain_id", "registry"])
def test_an_envelope_copied_under_another_context_fails_for_every_codec(
    codec: str, field: str, patient: Wallet, stranger: Wallet, context: EnvelopeContext
) -> None:
    """The copier rewrites the context digest, so the envelope claims to be another record: the key commitments
    and the MAC (both over the context) refuse it before any codec runs."""
    values: dict[str, Any] = {
        "author": stranger.address,
        "patient": stranger.address,
        "salt": os.urandom(32),
        "chain_id": context.chain_id + 1,
        "registry": stranger.address,
    }
    sealed = _sealed(codec, patient, context)
    other = dataclasses.replace(context, **{field: values[field]})
    moved = SealedEnvelope.from_bytes(sealed.to_bytes().replace(context.digest, other.digest))
    with pytest.raises(AuthenticationError):
        open_all(moved, patient.private_key, other)


@pytest.mark.parametrize("codec", CODECS)
def test_a_section_renamed_or_swapped_fails_for_every_codec(
    codec: str, patient: Wallet, context: EnvelopeContext
) -> None:
    sealed = _sealed(codec, patient, context)
    a, b = sealed.sections[3], sealed.sections[4]  # the last two sections by name
    swapped = (*sealed.sections[:3], dataclasses.replace(a, nonce=b.nonce, ciphertext=b.ciphertext), b)
    with pytest.raises(IntegrityError):
        open_all(dataclasses.replace(sealed, sections=swapped), patient.private_key, context)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_mixes_codecs_in_one_envelope_that_every_reader_opens(
    name: str, patient: Wallet, family_doctor: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    policy = preset(name)
    plaintexts = {**SECTIONS, "attachments": os.urandom(5000)}
    sealed = seal(
        plaintexts,
        [patient.encryption_public_key, Recipient(family_doctor.encryption_public_key)],
        context,
        policy=policy,
    )
    parsed = SealedEnvelope.from_bytes(sealed.to_bytes())
    assert {s: parsed.section(s).aead.name for s in plaintexts} == {
        s: policy.algorithm_for(s) for s in plaintexts
    }
    assert open_all(parsed, patient.private_key, context) == plaintexts
    assert open_all(parsed, family_doctor.private_key, context) == plaintexts
    # a grantee gets diagnosis (SM4 under gm) and attachments (AES under gm) from a key bundle
    bundle = release_keys(
        family_doctor.private_key,
        insurer.encryption_public_key,
        [(parsed, context, ["diagnosis", "attachments"])],
    )
    opened = open_all(parsed, insurer.private_key, context, bundles=[bundle])
    assert opened["diagnosis"] == plaintexts["diagnosis"]
    assert opened["attachments"] == plaintexts["attachments"]
    assert isinstance(opened["prescriptions"], env.Withheld)


def test_the_gm_preset_seals_text_with_sm4_and_attachments_with_aes() -> None:
    gm = preset("gm")
    assert gm.algorithm_for("diagnosis") == SM4_GCM
    assert gm.algorithm_for("prescriptions") == SM4_GCM
    assert gm.algorithm_for("allergies") == SM4_GCM
    assert gm.algorithm_for("attachments") == AES_256_GCM
    assert preset("gm-strict").algorithm_for("attachments") == SM4_GCM
    assert preset("aes").algorithm_for("diagnosis") == AES_256_GCM


def test_an_unknown_preset_is_refused_with_the_names() -> None:
    with pytest.raises(ConfigError, match="use one of aes, gm, gm-strict"):
        preset("sm2")
