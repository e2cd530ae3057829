"""Cipher policy: which AEAD seals which section, as a deployment decides (e.g. SM4-GCM for some sections).

The policy is a parameter of :func:`famchain.crypto.envelope.seal`; readers need none, since every sealed
section names its algorithm. A deployment file carries it as a small dict::

    {"default": "aes-256-gcm", "sections": {"diagnosis": "sm4-gcm", "prescriptions": "sm4-gcm"}}

or names one of the :data:`PRESETS` (``famchain deploy --cipher-policy gm``):

- ``aes``: AES-256-GCM for every section (the default when a deployment names no policy).
- ``gm`` (国密, for deployments under GB/T 39786-2021): SM4-GCM for every text section (present illness, past
  and family history, diagnosis, prescriptions, examinations, allergies), AES-256-GCM for attachments (images
  and PDFs, where SM4's software speed would cost seconds per scan; see the README's crypto benchmark).
- ``gm-strict``: SM4-GCM for every section, attachments included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from famchain.crypto._codec import check_section_name
from famchain.crypto.aead import AES_256_GCM, DEFAULT_AEAD, SM4_GCM, get_aead
from famchain.errors import ConfigError, InputError
from famchain.i18n import _


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
            raise ConfigError(_("cipher policy must be a table with 'default' and 'sections'"))
        if unknown := set(data) - {"default", "sections"}:
            raise ConfigError(
                _("cipher policy has unknown keys: {keys}").format(keys=", ".join(sorted(map(str, unknown))))
            )
        default = data.get("default", DEFAULT_AEAD)
        sections = data.get("sections", {})
        if not isinstance(default, str):
            raise ConfigError(_("cipher policy 'default' must be an algorithm name"))
        if not isinstance(sections, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sections.items()
        ):
            raise ConfigError(_("cipher policy 'sections' must map section names to algorithm names"))
        try:
            return cls(dict(sections), default=default)
        except (InputError, ValueError) as exc:
            raise ConfigError(_("cipher policy: {exc}").format(exc=exc)) from None

    def to_dict(self) -> dict[str, object]:
        """The deployment-file form (inverse of :meth:`from_dict`)."""
        return {"default": self.default, "sections": dict(self.overrides)}


_TEXT_SECTIONS = (
    "present_illness",
    "past_history",
    "family_history",
    "diagnosis",
    "prescriptions",
    "examinations",
    "allergies",
)

PRESETS: dict[str, dict[str, object]] = {
    "aes": {"default": AES_256_GCM, "sections": {}},
    "gm": {"default": AES_256_GCM, "sections": dict.fromkeys(_TEXT_SECTIONS, SM4_GCM)},
    "gm-strict": {"default": SM4_GCM, "sections": {}},
}
"""Named policies in the deployment-file form (see the module docstring)."""


def preset(name: str) -> CipherPolicy:
    """A named policy from :data:`PRESETS`.

    Raises:
        ConfigError: no preset has that name.
    """
    try:
        return CipherPolicy.from_dict(PRESETS[name])
    except KeyError:
        raise ConfigError(
            _("unknown cipher policy preset {name!r}: use one of {presets} or a JSON file").format(
                name=name, presets=", ".join(PRESETS)
            )
        ) from None


__all__ = ["PRESETS", "CipherPolicy", "preset"]
