"""Cipher policy: per-section AEAD choice parsed from the deployment file's dict."""

from __future__ import annotations

from typing import Any

import pytest

from famchain.crypto.aead import AES_256_GCM, SM4_GCM
from famchain.crypto.policy import CipherPolicy
from famchain.errors import ConfigError, InputError, UnsupportedAlgorithmError


def test_policy_maps_sections_with_a_default() -> None:
    policy = CipherPolicy({"diagnosis": SM4_GCM, "prescriptions": SM4_GCM}, default=AES_256_GCM)
    assert policy.algorithm_for("diagnosis") == SM4_GCM
    assert policy.algorithm_for("past_history") == AES_256_GCM
    assert CipherPolicy().algorithm_for("anything") == AES_256_GCM


def test_policy_dict_roundtrip() -> None:
    data = {"default": "chacha20-poly1305", "sections": {"diagnosis": "sm4-gcm"}}
    policy = CipherPolicy.from_dict(data)
    assert policy.to_dict() == data
    assert CipherPolicy.from_dict(policy.to_dict()) == policy
    assert CipherPolicy.from_dict({}) == CipherPolicy()


@pytest.mark.parametrize(
    "data",
    [
        {"default": "aes-128-cbc"},
        {"sections": {"diagnosis": "des"}},
        {"sections": {"Bad Name": "sm4-gcm"}},
        {"sections": ["diagnosis"]},
        {"sections": {"diagnosis": 3}},
        {"default": 1},
        {"cipher": "sm4-gcm"},
        ["not", "a", "table"],
    ],
)
def test_policy_from_dict_rejects_bad_files(data: Any) -> None:
    with pytest.raises(ConfigError):
        CipherPolicy.from_dict(data)


def test_policy_constructor_errors() -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        CipherPolicy(default="AES-256-GCM")  # names are lowercase
    with pytest.raises(InputError):
        CipherPolicy({"Diagnosis": SM4_GCM})
