"""Cipher policy: which AEAD seals which section, as a deployment decides (e.g. SM4-GCM for some sections).

The policy is a parameter of :func:`famchain.crypto.envelope.seal`; readers need none, since every sealed
section names its algorithm. A deployment file carries it as a small dict::

    {"default": "aes-256-gcm", "sections": {"diagnosis": "sm4-gcm", "prescriptions": "sm4-gcm"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from famchain.crypto._codec import check_section_name
from famchain.crypto.aead import DEFAULT_AEAD, get_aead
from famchain.errors import ConfigError, InputError


@dataclass(frozen=True, init=False)
class CipherPolicy:
    """Maps section names to AEAD registry names, with a default for the others.

    Attributes:
        default: The algorithm for sections not named in ``overrides``.
        overrides: ``(section, algorithm)`` pairs, sorted by section.
    """

    default: str
    overrides: tuple[tuple[str, str], ...]

    def __init__(self, sections: Mapping[str, str] | None = None, *, default: str = DEFAULT_AEAD) -> None:
        """Builds and checks a policy.

        Args:
            sections: Section name -> algorithm name.
            default: The algorithm for every other section.

        Raises:
            InputError: A section name is not a valid section name.
            UnsupportedAlgorithmError: An algorithm name is not registered.
        """
        get_aead(default)
        pairs = []
        for name, algorithm in (sections or {}).items():
            check_section_name(name)
            get_aead(algorithm)
            pairs.append((name, algorithm))
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "overrides", tuple(sorted(pairs)))

    def algorithm_for(self, section: str) -> str:
        """The algorithm that seals ``section``."""
        return dict(self.overrides).get(section, self.default)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CipherPolicy:
        """Parses the deployment-file form ``{"default": name, "sections": {section: name}}``.

        Both keys are optional; no other key is allowed.

        Raises:
            ConfigError: The shape is wrong, a section name is invalid or an algorithm is not registered.
        """
        if not isinstance(data, Mapping):
            raise ConfigError("cipher policy must be a table with 'default' and 'sections'")
        if unknown := set(data) - {"default", "sections"}:
            raise ConfigError(f"cipher policy has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        default = data.get("default", DEFAULT_AEAD)
        sections = data.get("sections", {})
        if not isinstance(default, str):
            raise ConfigError("cipher policy 'default' must be an algorithm name")
        if not isinstance(sections, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sections.items()
        ):
            raise ConfigError("cipher policy 'sections' must map section names to algorithm names")
        try:
            return cls(dict(sections), default=default)
        except (InputError, ValueError) as exc:
            raise ConfigError(f"cipher policy: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        """The deployment-file form (inverse of :meth:`from_dict`)."""
        return {"default": self.default, "sections": dict(self.overrides)}


__all__ = ["CipherPolicy"]
