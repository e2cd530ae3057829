"""`famchain contacts`: a local address book, so people are shown by name instead of by address.

The names live in ``<home>/contacts.json`` (mode 0600; home is ``$FAMCHAIN_HOME`` or ``~/.famchain``) and never
leave the machine: nothing here touches the chain. Addresses of the user's own keystores are named too (``my
key``) unless the book names them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from famchain.cli._context import Json, KeystoreDir, address_arg, emit, settings
from famchain.errors import ConfigError, InputError
from famchain.i18n import N_, _

FILE_NAME = "contacts.json"
MAX_NAME = 100

app = typer.Typer(
    help="Your address book: names shown instead of addresses (kept on this machine only).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Home = Annotated[
    Path | None,
    typer.Option("--home", envvar="FAMCHAIN_HOME", help="famchain's folder [default: ~/.famchain]."),
]


_LOADED: dict[str, Any] = {}


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _key(address: str) -> str:
    return address.strip().lower()


def checked_name(name: str) -> str:
    """A contact's name: one line of at most 100 characters, surrounding spaces dropped.

    Raises:
        InputError: empty, too long, or holding control characters.
    """
    text = name.strip()
    if not text:
        raise InputError(_("a contact needs a name"))
    if len(text) > MAX_NAME or any(ord(c) < 32 for c in text):
        raise InputError(_("a contact's name is one line of at most {n} characters").format(n=MAX_NAME))
    return text


@dataclass
class AddressBook:
    """The user's names for addresses, and the addresses of their own keystores."""

    path: Path
    contacts: dict[str, str] = field(default_factory=dict)
    """Checksummed address -> name, as saved."""
    own: frozenset[str] = frozenset()
    """Lower-case addresses of the user's keystores."""

    @classmethod
    def load(cls, path: Path, keystore_dir: Path | None = None) -> AddressBook:
        """The book saved at ``path`` (empty when there is none yet) and the keystores in ``keystore_dir``.

        Raises:
            ConfigError: the file exists but is not an address book.
        """
        contacts: dict[str, str] = {}
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {"contacts": []}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(
                _("{path} is not a readable address book ({why})").format(path=path, why=exc)
            ) from None
        entries = data.get("contacts") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("address"), str) and isinstance(e.get("name"), str)
            for e in entries
        ):
            raise ConfigError(_("{path} is not an address book").format(path=path))
        for entry in entries:
            contacts[entry["address"]] = entry["name"]
        own: frozenset[str] = frozenset()
        if keystore_dir is not None and keystore_dir.is_dir():
            from famchain.crypto.keystore import list_keystores

            own = frozenset(_key(k.address) for k in list_keystores(keystore_dir))
        return cls(path, contacts, own)

    @classmethod
    def of_user(cls) -> AddressBook:
        """The book of this invocation's settings (``$FAMCHAIN_HOME``, ``$FAMCHAIN_KEYSTORE_DIR``), read again
        only when the file or the keystore folder changed (a command naming many addresses reads it once)."""
        config = settings()
        path, keys = config.home / FILE_NAME, config.keystore_dir
        stamp = (str(path), _mtime(path), str(keys), _mtime(keys))
        if _LOADED.get("stamp") != stamp:
            _LOADED.update(stamp=stamp, book=cls.load(path, keys))
        book: AddressBook = _LOADED["book"]
        return book

    def name(self, address: str) -> str | None:
        """What to call ``address``: its contact name, else ``my key`` for a keystore of the user's."""
        wanted = _key(address)
        for known, name in self.contacts.items():
            if _key(known) == wanted:
                return name
        return _("my key") if wanted in self.own else None

    def add(self, address: str, name: str) -> None:
        """Name ``address`` (a checksummed address), replacing the name it had."""
        self.remove_address(address)
        self.contacts[address] = checked_name(name)

    def remove_address(self, address: str) -> str | None:
        """Forget ``address``; its name, or None when the book had none."""
        for known in list(self.contacts):
            if _key(known) == _key(address):
                return self.contacts.pop(known)
        return None

    def find(self, who: str) -> str:
        """The address of a contact given by address or by exact name.

        Raises:
            InputError: no such contact, or the name belongs to several.
        """
        if who.strip().lower().startswith("0x"):
            for known in self.contacts:
                if _key(known) == _key(who):
                    return known
        matches = [a for a, n in self.contacts.items() if n == who.strip()]
        if len(matches) > 1:
            raise InputError(
                _("{who!r} names {n} contacts; remove one by its address").format(who=who, n=len(matches))
            )
        if not matches:
            raise InputError(_("no contact {who!r} (see `famchain contacts list`)").format(who=who))
        return matches[0]

    def save(self) -> None:
        """Write the book (0600, in a 0700 folder when famchain creates it)."""
        from famchain._files import private_dir, write_private

        private_dir(self.path.parent)
        entries = [{"address": a, "name": n} for a, n in sorted(self.contacts.items(), key=lambda x: x[1])]
        text = json.dumps({"contacts": entries}, indent=2, ensure_ascii=False) + "\n"
        write_private(self.path, text.encode())
        _LOADED.clear()  # a write within the file system's timestamp tick would not change its mtime

    def to_json(self) -> list[dict[str, str]]:
        """``[{"address": ..., "name": ...}]`` sorted by name, for ``--json``."""
        return [{"address": a, "name": n} for a, n in sorted(self.contacts.items(), key=lambda x: x[1])]


def _book(home: Path | None, keystore_dir: Path | None = None) -> AddressBook:
    config = settings()
    folder = config.home if home is None else home.expanduser()
    return AddressBook.load(folder / FILE_NAME, (keystore_dir or config.keystore_dir).expanduser())


@app.command("add")
def add(
    address: Annotated[str, typer.Argument(help="The address to name.")],
    name: Annotated[str, typer.Argument(help='The name to show for it, e.g. "Dr Li, Example Hospital".')],
    home: Home = None,
) -> None:
    """Name an address (replaces the name it had)."""
    checked = address_arg(address, _("address"))
    book = _book(home)
    book.add(checked, name)
    book.save()
    typer.echo(_("{address} is now shown as {name}").format(address=checked, name=book.contacts[checked]))


@app.command("remove")
def remove(
    who: Annotated[str, typer.Argument(help="The contact: its address or its name.")],
    home: Home = None,
) -> None:
    """Forget a contact."""
    book = _book(home)
    address = book.find(who)
    name = book.remove_address(address)
    book.save()
    typer.echo(_("forgot {name} ({address})").format(name=name, address=address))


@app.command("list")
def list_(home: Home = None, keystore_dir: KeystoreDir = None, as_json: Json = False) -> None:
    """The named addresses, by name."""
    from famchain.cli._output import table

    book = _book(home, keystore_dir)
    if as_json:
        emit({"contacts": book.to_json()}, True)
        return
    if not book.contacts:
        typer.echo(_("no contacts yet: `famchain contacts add ADDRESS NAME`"), err=True)
        return
    rows = [(n, a) for a, n in sorted(book.contacts.items(), key=lambda x: x[1])]
    table([N_("name"), N_("address")], rows)
