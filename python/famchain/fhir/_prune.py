"""The part of a resource a record keeps: every clinical element, no identity.

A resource that maps to a section is kept, next to the section's summary fields, as a *fragment*: the same JSON
with what would identify the patient or tie the record to the sending system taken out —

- ``id``, ``meta``, ``implicitRules``, ``contained`` and ``identifier`` of the resource, every ``extension`` and
  every element ``id`` (extensions can carry anything; the record keeps only what FHIR defines);
- the narrative ``text``, unless its status is ``additional`` (then it holds clinical content the structured
  elements lack; famchain's own export never writes one);
- every reference, except a reference to a provider (Practitioner, PractitionerRole, Organization, Location),
  which is kept as its type and display name only (``{"type": "Practitioner", "display": "Dr. David Brown"}``);
  canonical URLs (``instantiatesCanonical``) are kept, as they name protocols, not people. The patient is re-attached on
  export as the famchain account. A report's ``result`` and a panel's ``hasMember`` become links to the items
  those entries became (``item:<section>/<position>``; the export turns them into references between the
  exported resources, and drops a link to an item the reader may not see). Other links between resources
  (encounter, basedOn, reasonReference, ...) are dropped, since each linked resource is an item of its own.
  A backbone element left without a required reference is dropped.
- the bytes of every Attachment: ``data`` becomes ``sha256`` (hex) and the bytes go to the ``attachments``
  section once, whatever the number of resources that carry them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from famchain.fhir._common import ACCOUNT_SYSTEM, PROVIDER_TYPES

_ROOT_DROP: Final = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "implicitRules",
        "contained",
        "identifier",
        "extension",
        "modifierExtension",
    }
)
_ELEMENT_DROP: Final = frozenset({"id", "extension", "modifierExtension"})
_PEOPLE: Final = frozenset({"Patient", "RelatedPerson", "Person", "Group"})

Resolver = Callable[[Mapping[str, Any]], tuple[str | None, str | None]]
"""A reference -> (target resource type, the target's display name), both None when unknown."""

Linker = Callable[[Mapping[str, Any]], str | None]
"""A reference -> ``item:<entry index>`` when it points at another entry of the bundle, else None."""

LINK_FIELDS: Final = frozenset({"result", "hasMember"})
"""References kept as links between items: a report's results and a panel's members (their grouping)."""

AttachmentSink = Callable[[bytes, bytes | None, str], None]
"""Called with the bytes of each attachment met, its declared SHA-1 ``hash`` and where it was
(``content[0].attachment``); raises to refuse them."""


@cache
def _fields(cls: type[BaseModel]) -> dict[str, tuple[str, FieldInfo]]:
    return {(f.alias or name): (name, f) for name, f in cls.model_fields.items()}


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


def has_modifier_extension(node: Any) -> bool:
    """Whether a modifierExtension occurs anywhere: a resource famchain would then misread."""
    if isinstance(node, Mapping):
        return "modifierExtension" in node or any(has_modifier_extension(v) for v in node.values())
    if isinstance(node, list):
        return any(has_modifier_extension(v) for v in node)
    return False


class Pruner:
    """Makes fragments (see the module docstring) of validated resources."""

    def __init__(self, resolve: Resolver, on_attachment: AttachmentSink, link: Linker) -> None:
        self._resolve = resolve
        self._on_attachment = on_attachment
        self._link = link

    def fragment(self, raw: Mapping[str, Any], model: BaseModel) -> dict[str, Any]:
        """The fragment of one resource (raw JSON and its validated model)."""
        out = self._object(raw, model, "", root=True) or {}
        text = raw.get("text")
        if isinstance(text, Mapping) and text.get("status") == "additional" and text.get("div"):
            out["text"] = {"status": "additional", "div": text["div"]}
        return {"resourceType": raw["resourceType"], **out}

    def _reference(self, ref: Any, allowed: frozenset[str]) -> dict[str, Any] | None:
        if not isinstance(ref, Mapping):
            return None
        ident = ref.get("identifier")
        if isinstance(ident, Mapping) and ident.get("system") == ACCOUNT_SYSTEM:
            return None  # famchain's own export: the account is attached again on the next export
        target, name = self._resolve(ref)
        if target is None:
            declared = ref.get("type")
            target = declared if isinstance(declared, str) else None
        if target is not None:
            provider = target in PROVIDER_TYPES
        else:
            provider = bool(allowed) and not (allowed & _PEOPLE) and allowed <= PROVIDER_TYPES | {"Device"}
        if not provider:
            return None
        display = ref.get("display") or name
        # the type keeps the next import (of famchain's own export) deciding the same way
        kept = {"type": target} if target else {}
        if display:
            kept["display"] = str(display)
        return kept or None

    def _object(
        self, raw: Mapping[str, Any], model: BaseModel, where: str, *, root: bool
    ) -> dict[str, Any] | None:
        fields = _fields(type(model))
        drop = _ROOT_DROP | {"text"} if root else _ELEMENT_DROP
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if key.startswith("_") or key in drop or key not in fields:
                continue
            name, field = fields[key]
            extra = _extra(field)
            required = field.is_required() or bool(extra.get("element_required"))
            sub = getattr(model, name, None)
            here = f"{where}.{key}" if where else key
            kept: Any
            if "enum_reference_types" in extra and key in LINK_FIELDS and isinstance(value, list):
                links = [self._link(v) for v in value if isinstance(v, Mapping)]
                kept = [{"reference": link} for link in links if link] or None
            elif "enum_reference_types" in extra and (
                isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
            ):
                kept = value  # a canonical URL (a protocol, a plan definition): names no one
            elif "enum_reference_types" in extra:
                allowed = frozenset(str(t) for t in extra["enum_reference_types"])
                if isinstance(value, list):
                    kept = [r for v in value if (r := self._reference(v, allowed)) is not None] or None
                else:
                    kept = self._reference(value, allowed)
            elif isinstance(value, Mapping) and isinstance(sub, BaseModel):
                kept = self._element(value, sub, here)
            elif isinstance(value, list) and isinstance(sub, list):
                items = []
                for n, (item, item_model) in enumerate(zip(value, sub, strict=False)):
                    if isinstance(item, Mapping) and isinstance(item_model, BaseModel):
                        pruned = self._element(item, item_model, f"{here}[{n}]")
                        if pruned:
                            items.append(pruned)
                    else:
                        items.append(item)
                kept = items or None
            else:
                kept = value
            if kept is None or kept == {}:
                if required and not root:
                    return None
                continue
            out[key] = kept
        return out

    def _element(self, raw: Mapping[str, Any], model: BaseModel, where: str) -> dict[str, Any] | None:
        pruned = self._object(raw, model, where, root=False)
        if pruned is not None and type(model).__name__ == "Attachment" and "data" in pruned:
            data = getattr(model, "data", None)
            if isinstance(data, bytes):
                declared = getattr(model, "hash", None)
                self._on_attachment(data, declared if isinstance(declared, bytes) else None, where)
                del pruned["data"]
                pruned["sha256"] = hashlib.sha256(data).hexdigest()
        return pruned
