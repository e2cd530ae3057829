"""`famchain account`: create, import, list and show V3 keystores.

The password comes from ``--password-file``, else ``$FAMCHAIN_PASSWORD``, else a hidden prompt (confirmed
when it protects a new keystore). New keystores use the default scrypt KDF; under the test-only setting
``FAMCHAIN_INSECURE_TEST_KEYSTORES=1`` they use the light one (marked, and refused everywhere else).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from famchain.cli._context import KeystoreDir, PasswordFile, info, read_password_file, settings
from famchain.cli._context import password as read_password
from famchain.crypto import keystore
from famchain.i18n import N_, _

app = typer.Typer(
    help="Keystores: one key signs your messages and decrypts records sealed for you.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command()
def new(keystore_dir: KeystoreDir = None, password_file: PasswordFile = None) -> None:
    """Create a keystore for a fresh key; prints only its address."""
    config = settings(keystore_dir=keystore_dir, password_file=password_file)
    password = read_password(config, new=True)
    created = keystore.create_keystore(password, config.keystore_dir, kdf=config.kdf)
    typer.echo(created.address)


@app.command("import")
def import_(
    keystore_file: Annotated[
        Path | None,
        typer.Argument(
            help="An existing V3 keystore JSON file to copy in (opened with the password to check it).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    private_key_file: Annotated[
        Path | None,
        typer.Option(
            "--private-key-file",
            help="Read a hex private key from this file instead (omit both to be prompted for it).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    keystore_dir: KeystoreDir = None,
    password_file: PasswordFile = None,
) -> None:
    """Import a keystore file or a hex private key; prints only the address.

    A keystore whose KDF is weaker than the default is re-encrypted with the default KDF (same password).
    """
    if keystore_file is not None and private_key_file is not None:
        raise typer.BadParameter(_("give a keystore file or --private-key-file, not both"))
    config = settings(keystore_dir=keystore_dir, password_file=password_file)
    if keystore_file is not None:
        password = read_password(config, new=False)
        imported = keystore.import_keystore_file(keystore_file, password, config.keystore_dir, kdf=config.kdf)
        if imported.reencrypted:
            info(_("re-encrypted with the default KDF: {kdf}").format(kdf=imported.reencrypted))
        typer.echo(imported.address)
        return
    if private_key_file is not None:
        key_text = read_password_file(private_key_file, "private key file")
    else:
        key_text = str(typer.prompt(_("Private key (hex)"), hide_input=True, err=True))
    key = keystore.parse_private_key(key_text)
    password = read_password(config, new=True)
    created = keystore.create_keystore(password, config.keystore_dir, private_key=key, kdf=config.kdf)
    typer.echo(created.address)


@app.command("list")
def list_(keystore_dir: KeystoreDir = None, as_json: JsonOutput = False) -> None:
    """List the keystores in the directory, with the names your contacts give them (no password needed)."""
    from famchain.cli._output import table
    from famchain.cli.contacts import FILE_NAME, AddressBook

    config = settings(keystore_dir=keystore_dir)
    infos = keystore.list_keystores(config.keystore_dir)
    if as_json:
        typer.echo(json.dumps([i.to_json() for i in infos], indent=2))
        return
    if not infos:
        typer.echo(_("no keystores in {folder}").format(folder=config.keystore_dir), err=True)
        return
    book = AddressBook.load(config.home / FILE_NAME)
    rows = [(found.address, book.name(found.address) or "", str(found.path)) for found in infos]
    table([N_("address"), N_("name"), N_("keystore")], rows)


@app.command()
def show(
    account: Annotated[str, typer.Argument(help="An address in the keystore directory, or a keystore file.")],
    keystore_dir: KeystoreDir = None,
    password_file: PasswordFile = None,
    as_json: JsonOutput = False,
) -> None:
    """Print the address and the encryption public key to register (needs the password)."""
    config = settings(keystore_dir=keystore_dir, password_file=password_file)
    found = keystore.find_keystore(account, config.keystore_dir)
    wallet = keystore.unlock(
        str(found.path),
        read_password(config, new=False),
        config.keystore_dir,
        allow_test_kdf=config.insecure_test_keystores,
    )
    public_key = "0x" + wallet.encryption_public_key.hex()
    if as_json:
        document = {"address": wallet.address, "encryption_public_key": public_key, "path": str(found.path)}
        typer.echo(json.dumps(document, indent=2))
        return
    from famchain.cli._output import fields

    fields(
        [
            (N_("address"), wallet.address),
            (N_("encryption public key"), public_key),
            (N_("keystore"), str(found.path)),
        ]
    )
