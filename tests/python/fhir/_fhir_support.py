"""Test data for the FHIR suites: the published bundles under tests/data/fhir (see its README.md) and the
per-visit bundles cut from them the way a hospital system exports one visit."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "data" / "fhir"

SYNTHEA = (
    "synthea/Johnnie679_Hermiston71_2cd30bd6-3a87-4191-af90-6daa70f58f55.json.gz",
    "synthea/fhiry-cfhir.json.gz",
)
USCORE = ("uscore/Tom_Ratke_10429bc1.json.gz", "uscore/Evelia_Cartwright_e88259f2.json.gz")
INVALID = "synthea/Luna60_McCullough561_6662f0ca-b617-4e02-8f55-7275e9f49aa0.json.gz"
HL7_BUNDLES = (
    "hl7-r4/Bundle-father.json",
    "hl7-r4/Bundle-xds.json",
    "hl7-r4/Bundle-lipids.json",
    "hl7-r4/Bundle-101.json",
)
CONTEXT = frozenset({"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Medication"})


@cache
def _read(name: str) -> str:
    path = DATA / name
    raw = path.read_bytes()
    return (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode()


def load(name: str) -> dict[str, Any]:
    """A fresh copy of a data file's JSON."""
    data: dict[str, Any] = json.loads(_read(name))
    return data


def wrap(*resources: Mapping[str, Any]) -> dict[str, Any]:
    """A collection Bundle of single resources (the HL7 examples of one resource type)."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": copy.deepcopy(dict(r))} for r in resources],
    }


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def visits_of(name: str) -> list[dict[str, Any]]:
    """:func:`visits` of a data file (cut once per session; a fresh copy each call)."""
    data: list[dict[str, Any]] = json.loads(_visits_json(name))
    return data


@cache
def _visits_json(name: str) -> str:
    return json.dumps(visits(load(name)))


def visits(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One bundle per Encounter: the Patient, the Encounter, every resource that names it, and the providers
    and drugs those resources reference (a visit export as an EHR sends it)."""
    entries = list(bundle["entry"])
    by_url = {e["fullUrl"]: e for e in entries if "fullUrl" in e}
    out = []
    for encounter in (e for e in entries if e["resource"]["resourceType"] == "Encounter"):
        url = encounter["fullUrl"]
        chosen = [e for e in entries if e["resource"]["resourceType"] == "Patient"] + [encounter]
        chosen += [
            e
            for e in entries
            if e is not encounter
            and e["resource"]["resourceType"] not in CONTEXT
            and url in set(_references(e["resource"]))
        ]
        for e in list(chosen):
            for ref in _references(e["resource"]):
                target = by_url.get(ref)
                if (
                    target is not None
                    and target not in chosen
                    and target["resource"]["resourceType"] in CONTEXT
                ):
                    chosen.append(target)
        kept = {id(e) for e in chosen}
        visit = [copy.deepcopy(e) for e in entries if id(e) in kept]
        present = {e.get("fullUrl") for e in visit}
        for e in visit:  # a visit export names other visits' resources by logical id, not bundle-internal url
            _relative(e["resource"], present)
        out.append({"resourceType": "Bundle", "type": "collection", "entry": visit})
    return out


def _relative(node: Any, present: set[str | None]) -> None:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and ref.startswith("urn:uuid:") and ref not in present:
            node["reference"] = "Resource/" + ref.removeprefix("urn:uuid:")
        for value in node.values():
            _relative(value, present)
    elif isinstance(node, list):
        for value in node:
            _relative(value, present)


def resources(bundle: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    """The resources of one type in a bundle, in order."""
    return [
        e["resource"] for e in bundle.get("entry", []) if e.get("resource", {}).get("resourceType") == kind
    ]


def attachment_bytes(node: Any) -> list[bytes]:
    """Every inline attachment's bytes in a JSON tree, in order."""
    out: list[bytes] = []
    if isinstance(node, Mapping):
        if isinstance(node.get("data"), str) and ("contentType" in node or "title" in node):
            out.append(base64.b64decode(node["data"]))
        for key, value in node.items():
            if key != "data":
                out.extend(attachment_bytes(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(attachment_bytes(value))
    return out
