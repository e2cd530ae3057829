"""Mutated real visit bundles: the importer either maps them or refuses them with one line, never a traceback;
whatever it maps exports to valid FHIR."""

from __future__ import annotations

import copy
from typing import Any

from _fhir_support import SYNTHEA, USCORE, visits_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famchain import fhir
from famchain.errors import InputError

BASES = [visits_of(USCORE[0])[10], visits_of(USCORE[1])[5], visits_of(SYNTHEA[1])[3]]
ODD: list[Any] = [None, "", "x", 0, -1, 1.5, True, [], {}, [{}], {"reference": "urn:uuid:nope"}, "2024-13-45"]


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here] if here else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*here, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            out += _paths(value, (*here, n))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    bundle = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(bundle)
        path = draw(st.sampled_from(paths))
        parent: Any = bundle
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(st.sampled_from(ODD))
    return bundle


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_bundle_maps_or_refuses_in_one_line(bundle: dict[str, Any]) -> None:
    message = None
    try:
        result = fhir.import_bundle(bundle)
    except InputError as exc:
        message = str(exc)
    if message is not None:
        assert "\n" not in message
        return
    fhir.bundle_from_sections(result.content.sections, patient="0x" + "ab" * 20)
