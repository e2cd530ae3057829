"""``client.guardians``: people who act for a resident within a scope and until an expiry (a parent for a
child, a relative for an elderly resident). A guardian signs for the resident where its scope allows; the
contracts name it in every action (``GuardianActed``), and a READ guardian is wrapped into new records."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from famchain.chain.history import address_topic
from famchain.chain.structs import GUARDIAN_ALL, GuardianScope
from famchain.errors import InputError
from famchain.i18n import _
from famchain.services._base import Service
from famchain.services.results import TxInfo

SCOPE_NAMES = {s.name.lower(): s for s in GuardianScope if s.name}


def parse_scope(names: list[str] | str) -> int:
    """A guardian scope mask from names (``consent, read``...; ``all``).

    Raises:
        InputError: an unknown name or nothing selected.
    """
    items = [names] if isinstance(names, str) else names
    mask = 0
    for raw in items:
        for name in (n.strip().lower() for n in raw.split(",")):
            if not name:
                continue
            if name == "all":
                mask |= GUARDIAN_ALL
            elif name in SCOPE_NAMES:
                mask |= SCOPE_NAMES[name]
            else:
                raise InputError(
                    _("unknown guardian scope {name!r}; use {scopes}, all").format(
                        name=name, scopes=", ".join(SCOPE_NAMES)
                    )
                )
    if not mask:
        raise InputError(_("no guardian scope selected"))
    return int(mask)


def scope_names(mask: int) -> list[str]:
    """The names of a scope mask."""
    return [name for name, bit in SCOPE_NAMES.items() if mask & bit]


@dataclass(frozen=True)
class GuardianInfo:
    """A guardian of a resident as the chain holds it now."""

    resident: str
    guardian: str
    scope: int
    expires_at: int
    dependent: bool
    active: bool

    @property
    def scopes(self) -> list[str]:
        """Scope names."""
        return scope_names(self.scope)


class GuardianService(Service):
    """Guardians: appointed and removed by the resident (a guardian may resign)."""

    def appoint(self, guardian: str, scope: int, expires_at: int, *, dependent: bool = False) -> TxInfo:
        """As the resident: appoint ``guardian`` with ``scope`` until ``expires_at``.

        Args:
            guardian: who acts for you.
            scope: a :class:`GuardianScope` mask.
            expires_at: when the guardianship ends (unix seconds).
            dependent: you are a dependent (a minor): you cannot dismiss this guardian before it expires.

        Raises:
            ContractRevertError: not registered, a bad scope or expiry, or over an unexpired dependent
                guardianship.
        """
        call = self._client.chain.residents.appoint_guardian(guardian, scope, expires_at, dependent)
        return self._send(call, "appoint guardian")

    def remove(self, guardian: str, resident: str | None = None) -> TxInfo:
        """End a guardianship: the resident dismisses ``guardian`` (the default), or the guardian resigns
        (pass the ``resident``). Every outstanding signature of the resident for that guardian dies with it."""
        who = resident or self._client.address
        return self._send(self._client.chain.residents.remove_guardian(who, guardian), "remove guardian")

    def scope(self, resident: str, guardian: str) -> int:
        """The guardian's scope now (0 when none or expired)."""
        return self._client.chain.residents.guardian_scope(resident, guardian)

    def list(self, resident: str | None = None) -> list[GuardianInfo]:
        """The guardians a resident (you by default) ever appointed, with their standing now."""
        client = self._client
        who = resident or client.address
        seen: dict[str, None] = {}
        for event in client.history.patient_events(who):
            if event.name == "GuardianAppointed":
                seen[str(event.args["guardian"])] = None
        now = client.now()
        out = []
        for guardian in seen:
            g = client.chain.residents.guardianship(who, guardian)
            out.append(GuardianInfo(who, guardian, g.scope, g.expiresAt, g.dependent, g.active_at(now)))
        return out

    def wards(self, guardian: str | None = None) -> builtins.list[GuardianInfo]:
        """The residents a guardian (you by default) was ever appointed for, with its standing now (a guardian
        acting in the portal picks one of them)."""
        client = self._client
        who = guardian or client.address
        history = client.history
        topics = ["0x" + history.topic("GuardianAppointed").hex(), None, address_topic(who)]
        events = history.events(topics, [client.chain.residents.address])
        now = client.now()
        out = []
        for resident in dict.fromkeys(str(e.args["resident"]) for e in events):
            g = client.chain.residents.guardianship(resident, who)
            out.append(GuardianInfo(resident, who, g.scope, g.expiresAt, g.dependent, g.active_at(now)))
        return out
