"""Command modules loaded on first use: ``famchain --help`` imports none of them (nor web3)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click
import typer
import typer.main


@dataclass(frozen=True)
class LazyCommand:
    """Where a top-level command lives and the one line ``famchain --help`` shows for it."""

    module: str
    attribute: str
    help: str


COMMANDS: dict[str, LazyCommand] = {
    "account": LazyCommand(
        "famchain.cli.account",
        "app",
        "Keystores: one key signs your messages and decrypts records sealed for you.",
    ),
    "agreement": LazyCommand(
        "famchain.cli.resident", "agreement_app", "Family-doctor agreements (家庭医生签约)."
    ),
    "audit": LazyCommand(
        "famchain.cli.audit", "app", "The ordered history of a patient's card, from chain events."
    ),
    "bench": LazyCommand(
        "famchain.cli.bench", "app", "Measure gas, throughput, a card read, scale and startup."
    ),
    "consent": LazyCommand(
        "famchain.cli.consent", "app", "Consent: who may read or append which sections, why, until when."
    ),
    "consortium": LazyCommand(
        "famchain.cli.consortium", "consortium_app", "Consortium membership: proposals and votes of members."
    ),
    "contacts": LazyCommand(
        "famchain.cli.contacts",
        "app",
        "Your address book: names shown instead of addresses (kept on this machine only).",
    ),
    "demo": LazyCommand(
        "famchain.cli.demo", "app", "The whole flow on a throwaway devnet, checked step by step."
    ),
    "deploy": LazyCommand(
        "famchain.cli.devnet", "deploy_app", "Deploy the contracts and bootstrap the founders."
    ),
    "devnet": LazyCommand(
        "famchain.cli.devnet", "app", "A throwaway local chain (anvil) and IPFS store on loopback."
    ),
    "doctor": LazyCommand("famchain.cli.doctor", "app", "Check the chain, deployment, store and keystore."),
    "emergency": LazyCommand(
        "famchain.cli.emergency",
        "app",
        "Emergency access (break-glass): opt in or out, declare, approve, read, review.",
    ),
    "guardian": LazyCommand(
        "famchain.cli.guardian", "app", "Guardians: who may act for a resident, in what, until when."
    ),
    "institution": LazyCommand(
        "famchain.cli.consortium", "institution_app", "An institution's practitioners (its admin key)."
    ),
    "ipfs": LazyCommand(
        "famchain.cli.ipfs",
        "app",
        "Content storage: Kubo-identical CIDs, pins, CAR files, a trustless gateway.",
    ),
    "outbox": LazyCommand(
        "famchain.cli.record", "outbox_app", "Records sealed locally and waiting to be stored or anchored."
    ),
    "portal": LazyCommand(
        "famchain.cli.portal", "app", "The patients' portal: a web page residents use with their wallet."
    ),
    "privacy": LazyCommand(
        "famchain.cli.privacy", "app", "What the consortium itself can learn about a resident."
    ),
    "record": LazyCommand(
        "famchain.cli.record", "record_app", "Medical records on a patient's visit card (就诊卡)."
    ),
    "resident": LazyCommand(
        "famchain.cli.resident", "resident_app", "Residents: registration and basic information (基本信息)."
    ),
}


def load(name: str) -> click.Command:
    """Import a top-level command's module and build its click command."""
    spec = COMMANDS[name]
    app: typer.Typer = getattr(importlib.import_module(spec.module), spec.attribute)
    app._add_completion = False  # the root has no completion options: neither do its sub-commands
    command = typer.main.get_command(app)
    command.name = name
    return command


def placeholder(name: str) -> click.Command:
    """A stand-in that only carries the help line, in the current language (for listing commands without
    importing them; made while the root's help is drawn)."""
    from famchain.i18n import _

    line = _(COMMANDS[name].help)
    return click.Command(name, help=line, short_help=line)
