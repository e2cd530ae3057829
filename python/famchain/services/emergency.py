"""``client.emergency``: emergency access (issue #14), typed chain access only for now. A resident chooses the
sections an emergency may open (or opts out); a hospital physician declares an emergency; custodians release
their key shares to the physician as events; the patient (or a guardian, or the family doctor) reviews it.
The share release and the physician's reading build on :mod:`famchain.crypto.emergency` (a later step)."""

from __future__ import annotations

from famchain.chain.structs import Emergency
from famchain.errors import InputError
from famchain.records.sections import ALL_SECTIONS
from famchain.services._base import Service
from famchain.services.results import TxInfo


class EmergencyService(Service):
    """Emergency choices, declarations, approvals and reviews."""

    def sections(self, resident: str | None = None) -> int:
        """The sections an emergency may open for ``resident`` (you by default); 0 means opted out."""
        return self._client.chain.emergency.emergency_sections(resident or self._client.address)

    def choose(self, sections: int) -> TxInfo:
        """As the resident: the sections an emergency may open (0 opts out).

        Raises:
            InputError: bits outside the sections.
        """
        if isinstance(sections, bool) or not isinstance(sections, int) or not 0 <= sections <= ALL_SECTIONS:
            raise InputError(f"emergency sections must be in 0x00..0x{ALL_SECTIONS:02x}")
        return self._send(
            self._client.chain.emergency.set_emergency_sections(sections), "set emergency sections"
        )

    def declare(self, patient: str, reason: int = 1) -> int:
        """As an active hospital physician: declare an emergency for ``patient``; returns its id.

        Raises:
            ContractRevertError: not a hospital physician, opted out, too few custodians, daily limits.
        """
        fc = self._client.chain
        receipt = self._client.sender.transact(fc.emergency.declare(patient, reason), "declare emergency")
        return fc.emergency.declared(receipt)

    def approve(self, emergency_id: int, bundle_digest: bytes, bundle_codec: int) -> TxInfo:
        """As a custodian: announce your share bundle for the emergency's physician."""
        call = self._client.chain.emergency.approve(emergency_id, bundle_digest, bundle_codec)
        return self._send(call, "approve emergency")

    def review(self, emergency_id: int, *, contested: bool) -> TxInfo:
        """As the patient (or an EMERGENCY guardian, or the family doctor in force): accept or contest it."""
        return self._send(self._client.chain.emergency.review(emergency_id, contested), "review emergency")

    def get(self, emergency_id: int) -> Emergency:
        """An emergency as stored."""
        return self._client.chain.emergency.emergency(emergency_id)

    def is_open(self, emergency_id: int) -> bool:
        """True while it has its approvals and has not expired."""
        return self._client.chain.emergency.is_open(emergency_id)

    def count(self) -> int:
        """Emergencies ever declared."""
        return self._client.chain.emergency.emergency_count()
