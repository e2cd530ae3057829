"""Names for addresses: what the portal shows instead of bare addresses.

Nothing on chain names a person (privacy by design), so the institution that runs the portal gives a directory
file of the practitioners and institutions it knows (``famchain portal --names FILE``)::

    {"0xAbc…": "Dr. Wang Fang", "0xDef…": {"name": "Dr. Li", "zh": "李医生"}}

An address the directory does not know is described from the chain: a practitioner by its institution's kind
("a practitioner at a hospital"), an institution by its kind, anything else by its short form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from famchain.chain.structs import InstitutionKind
from famchain.client import Client
from famchain.errors import ConfigError
from famchain.i18n import _

KIND_NAMES: dict[InstitutionKind, tuple[str, str]] = {
    InstitutionKind.PRIMARY_CARE: ("primary-care centre", "基层医疗卫生机构"),
    InstitutionKind.HOSPITAL: ("hospital", "医院"),
    InstitutionKind.INSURER: ("insurer", "保险机构"),
    InstitutionKind.RESEARCH: ("research centre", "科研机构"),
    InstitutionKind.REGULATOR: ("regulator", "监管机构"),
}


def short(address: str) -> str:
    """``0x1234…abcd``."""
    return f"{address[:6]}…{address[-4:]}"


@dataclass
class Directory:
    """Address -> display names (English and Chinese), from the institution's file."""

    names: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> Directory:
        """The directory file (None: an empty directory).

        Raises:
            ConfigError: unreadable, not JSON, or not an object of address -> name.
        """
        if path is None:
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(
                _("names file {path}: cannot read ({strerror})").format(path=path, strerror=exc.strerror)
            ) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(
                _("names file {path}: not JSON ({msg})").format(path=path, msg=exc.msg)
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(_("names file {path}: expected an object of address -> name").format(path=path))
        names: dict[str, dict[str, str]] = {}
        for address, value in data.items():
            if not is_address(address):
                raise ConfigError(
                    _("names file {path}: {address!r} is not an address").format(path=path, address=address)
                )
            entry = {"name": value} if isinstance(value, str) else value
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ConfigError(
                    _("names file {path}: {address} needs a name").format(path=path, address=address)
                )
            names[to_checksum_address(address)] = {k: str(v) for k, v in entry.items()}
        return cls(names)

    def describe(self, client: Client, address: str) -> dict[str, Any]:
        """Who ``address`` is, for the page: ``{address, name, zh, role, institution?}`` (names may be None)."""
        address = to_checksum_address(address)
        known = self.names.get(address, {})
        out: dict[str, Any] = {"address": address, "name": known.get("name"), "zh": known.get("zh")}
        status = client.chain.practitioner(address)
        if int(status.institution, 16):
            institution = to_checksum_address(status.institution)
            kind = KIND_NAMES.get(status.kind, ("institution", "机构"))
            inst = self.names.get(institution, {})
            out["role"] = "practitioner"
            out["active"] = bool(status.active)
            out["institution"] = {
                "address": institution,
                "name": inst.get("name") or f"{kind[0]} {short(institution)}",
                "zh": inst.get("zh") or f"{kind[1]} {short(institution)}",
                "kind": kind[0],
            }
            out["name"] = out["name"] or f"practitioner {short(address)}"
            out["zh"] = out["zh"] or f"医务人员 {short(address)}"
            return out
        member = client.chain.member(address)
        if member.kind in KIND_NAMES:
            kind = KIND_NAMES[member.kind]
            out["role"] = "institution"
            out["name"] = out["name"] or f"{kind[0]} {short(address)}"
            out["zh"] = out["zh"] or f"{kind[1]} {short(address)}"
            return out
        out["role"] = "resident" if client.residents.is_registered(address) else "account"
        out["name"] = out["name"] or short(address)
        out["zh"] = out["zh"] or short(address)
        return out
