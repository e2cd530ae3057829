"""docs/protocol.md's "ABI (generated from the build)" section lists exactly the packaged contracts' ABI: every
constructor, function, event and error with the implementation's parameter names, so an interface change cannot
land without the specification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from famchain.chain import artifacts

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
SECTION = "## ABI (generated from the build)"
KINDS = (("constructor", "constructors"), ("function", "functions"), ("event", "events"), ("error", "errors"))


def _type(param: dict[str, Any]) -> str:
    internal = str(param.get("internalType", param["type"]))
    for prefix in ("struct ", "enum ", "contract "):
        internal = internal.removeprefix(prefix)
    return internal


def _params(params: list[dict[str, Any]], *, event: bool = False) -> str:
    out = []
    for p in params:
        text = _type(p) + (" indexed" if event and p.get("indexed") else "")
        out.append(f"{text} {p['name']}" if p.get("name") else text)
    return ", ".join(out)


def _item(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind == "constructor":
        return f"- `constructor({_params(item['inputs'])})`"
    text = f"- `{item['name']}({_params(item['inputs'], event=kind == 'event')})`"
    if kind == "function":
        if item["stateMutability"] in ("view", "pure"):
            text += f" {item['stateMutability']}"
        if item["outputs"]:
            text += f" -> ({_params(item['outputs'])})"
    return text


def render() -> list[str]:
    """The section's lines below its introduction, from the packaged artifacts."""
    lines = []
    for name in artifacts.DEPLOYABLE:
        abi = artifacts.load(name).abi
        lines.append(f"### {name}")
        for kind, title in KINDS:
            items = sorted(
                (i for i in abi if i["type"] == kind), key=lambda i: (i.get("name", ""), _params(i["inputs"]))
            )
            lines.append(f"#### {title} ({len(items)})")
            lines.extend(_item(i) for i in items)
    return lines


def test_protocol_md_lists_exactly_the_packaged_abi() -> None:
    text = PROTOCOL.read_text()
    assert SECTION in text
    documented = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    listed = [line for line in documented.splitlines() if line.startswith(("### ", "#### ", "- `"))]
    assert listed == render(), "docs/protocol.md's ABI section is stale: regenerate it from the artifacts"
