"""Where the contracts of one deployment live: ``deployments/<chainId>.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, is_checksum_address, to_checksum_address

from famchain.chain.artifacts import DEPLOYABLE
from famchain.errors import ConfigError
from famchain.i18n import N_, _


@dataclass(frozen=True)
class Deployment:
    """Addresses of the five contracts on one chain, the block to start reading events from, and the
    deployment's settings that every client follows (the section cipher policy).

    Attributes:
        cipher_policy: which AEAD seals which section (``CipherPolicy.to_dict()``); None: AES-256-GCM.
    """

    chain_id: int
    addresses: dict[str, str]
    start_block: int
    founders: list[dict[str, Any]] = field(default_factory=list)
    cipher_policy: dict[str, Any] | None = None

    def address(self, name: str) -> str:
        """Address of a deployed contract by name."""
        return self.addresses[name]

    def save(self, path: Path) -> None:
        """Write the deployment file (atomically)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read a deployment file.

        Raises:
            ConfigError: missing file or malformed content.
        """
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(
                _(
                    "no deployment file {path}: run `famchain deploy` or pass --deployment / FAMCHAIN_DEPLOYMENT"
                ).format(path=path)
            ) from None
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(
                _("cannot read deployment file {path}: {error}").format(path=path, error=exc)
            ) from None
        try:
            addresses = {name: str(to_checksum_address(data["addresses"][name])) for name in DEPLOYABLE}
            policy = data.get("cipher_policy")
            if policy is not None and not isinstance(policy, dict):
                raise TypeError("cipher_policy")
            return cls(
                int(data["chain_id"]),
                addresses,
                int(data["start_block"]),
                list(data.get("founders", [])),
                policy,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                _("deployment file {path} is malformed: missing or bad {field}").format(path=path, field=exc)
            ) from None


def default_path(chain_id: int, directory: Path) -> Path:
    """``<directory>/<chainId>.json``: where ``famchain deploy`` writes a deployment by default."""
    return directory / f"{chain_id}.json"


ADDRESS_ROLES = frozenset(
    (
        N_("address"),
        N_("counterparty"),
        N_("founder"),
        N_("grantee"),
        N_("guardian"),
        N_("institution"),
        N_("patient"),
        N_("physician"),
        N_("practitioner"),
        N_("requester"),
        N_("resident"),
        N_("subject"),
    )
)
"""The roles an address typed on the command line is named by in an error (translated there)."""


def checked_address(value: str, what: str = "address") -> str:
    """Checksummed form of an address typed by a user.

    Raises:
        InputError: not a 20-byte hex address.
    """
    from famchain.errors import InputError
    from famchain.i18n import _

    shown = _(what) if what in ADDRESS_ROLES else what
    if not isinstance(value, str) or not is_address(value.strip()):
        raise InputError(
            _("{what} {value} is not an Ethereum address (0x followed by 40 hex digits)").format(
                what=shown, value=repr(value)
            )
        )
    text = value.strip()
    digits = text.removeprefix("0x").removeprefix("0X")
    # eth_utils >= 5 accepts any case; mixed case is an EIP-55 checksum and a wrong one is a typo.
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(text):
        raise InputError(
            _("{what} {value} has a wrong EIP-55 checksum (a typo?); check the address").format(
                what=shown, value=repr(value)
            )
        )
    return to_checksum_address(text)
