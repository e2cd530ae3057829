"""Signed gateway requests: a store gateway serves sealed bytes only to an account that proves who it is.

The reader signs, once per batch, a short-lived access token naming the gateway it is for (EIP-191
``personal_sign``, so a browser wallet can sign it too)::

    famchain gateway access
    gateway: http://gw.hospital.example:8080
    reader: 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4
    expires: 1764633600
    nonce: 8f0c1e5a4b7d29e3a61f0b9c2d4e7a18

and sends it with every block request of the batch in one header::

    Authorization: Famchain gateway=http://gw.hospital.example:8080,reader=0x5B38…,expires=1764633600,
                   nonce=8f0c…,signature=0x…

The gateway (:class:`AccessGate`) checks that the token names one of its own origins (a token for another
gateway is refused), that it has not expired and does not live longer than the gateway accepts, and that the
signature recovers to the named reader; a verified token is remembered until it expires, so a batch of a
thousand blocks costs one signature and one recovery. Then a :class:`Guard` decides whether that account may
have that block now (:class:`famchain.records.gatekeeping.ChainGuard` asks the chain). Anything refused is a
:class:`~famchain.errors.GatewayRefusedError` with a one-line reason (HTTP 403).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol
from urllib.parse import urlsplit

from famchain.errors import GatewayRefusedError, InputError
from famchain.i18n import _
from famchain.storage.cid import CidInfo
from famchain.types import Address

SCHEME: Final = "Famchain"
HEADER: Final = "Authorization"
DEFAULT_LIFETIME: Final = 120
"""Seconds a token the client signs stays valid."""
MAX_LIFETIME: Final = 600
"""The longest a gateway accepts a token to live (a token is a bearer credential until it expires)."""
_FIELDS: Final = ("gateway", "reader", "expires", "nonce", "signature")
_CACHE_LIMIT: Final = 10_000

UNSIGNED: Final = (
    "unsigned request: this gateway serves sealed bytes only to an account the chain lets read them; "
    "sign the request with your account (read through the gateway with your keystore)"
)


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, without a path: what a token is bound to.

    Raises:
        InputError: not an http(s) URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(_("{url!r} is not an http(s) gateway URL").format(url=url))
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _message(gateway: str, reader: str, expires: int, nonce: str) -> str:
    return (
        f"famchain gateway access\ngateway: {gateway}\nreader: {reader}\nexpires: {expires}\nnonce: {nonce}"
    )


@dataclass(frozen=True)
class AccessToken:
    """A reader's signed permission request for one gateway, valid until ``expires`` (unix seconds)."""

    gateway: str
    reader: Address
    expires: int
    nonce: str
    signature: bytes

    @property
    def message(self) -> str:
        """The text the reader signed (EIP-191 ``personal_sign``)."""
        return _message(self.gateway, self.reader, self.expires, self.nonce)

    @classmethod
    def sign(
        cls, private_key: bytes, gateway: str, *, lifetime: int = DEFAULT_LIFETIME, now: float | None = None
    ) -> AccessToken:
        """Sign a token for ``gateway`` valid ``lifetime`` seconds from ``now``."""
        from eth_account import Account
        from eth_account.messages import encode_defunct

        account = Account.from_key(private_key)
        bound = origin(gateway)
        expires = int(time.time() if now is None else now) + int(lifetime)
        nonce = secrets.token_hex(16)
        reader = Address(str(account.address))
        signed = account.sign_message(encode_defunct(text=_message(bound, reader, expires, nonce)))
        return cls(bound, reader, expires, nonce, bytes(signed.signature))

    def header(self) -> str:
        """The ``Authorization`` header value."""
        return (
            f"{SCHEME} gateway={self.gateway},reader={self.reader},expires={self.expires},"
            f"nonce={self.nonce},signature=0x{self.signature.hex()}"
        )

    @classmethod
    def parse(cls, header: str) -> AccessToken:
        """A token from its header value.

        Raises:
            GatewayRefusedError: not a famchain access token, or a field is malformed.
        """
        scheme, _sep, rest = header.strip().partition(" ")
        if scheme != SCHEME:
            raise GatewayRefusedError(
                _("the Authorization header is not a {scheme} access token").format(scheme=SCHEME)
            )
        fields: dict[str, str] = {}
        for item in rest.split(","):
            key, sep, value = item.strip().partition("=")
            if not sep or key not in _FIELDS or key in fields:
                raise GatewayRefusedError(
                    _("malformed access token: fields are gateway, reader, expires, nonce, signature")
                )
            fields[key] = value.strip()
        if set(fields) != set(_FIELDS):
            missing = [f for f in _FIELDS if f not in fields]
            raise GatewayRefusedError(_("malformed access token: no {missing}").format(missing=missing[0]))
        try:
            expires = int(fields["expires"])
            signature = bytes.fromhex(fields["signature"].removeprefix("0x"))
        except ValueError:
            raise GatewayRefusedError(_("malformed access token: bad expires or signature")) from None
        if len(signature) != 65 or len(fields["nonce"]) > 64:
            raise GatewayRefusedError(_("malformed access token: bad signature or nonce length"))
        return cls(fields["gateway"], Address(fields["reader"]), expires, fields["nonce"], signature)

    def signer(self) -> Address:
        """The account the signature recovers to.

        Raises:
            GatewayRefusedError: the signature does not recover.
        """
        from eth_account import Account
        from eth_account.messages import encode_defunct

        try:
            return Address(
                str(Account.recover_message(encode_defunct(text=self.message), signature=self.signature))
            )
        except Exception:
            raise GatewayRefusedError(
                _("the access token's signature does not recover to any account")
            ) from None


class Guard(Protocol):
    """Decides whether an account may have a block now."""

    def check(self, reader: Address, cid: CidInfo) -> None:
        """Return if ``reader`` may have ``cid``; raise :class:`~famchain.errors.GatewayRefusedError` (with the
        reason) if not."""
        ...


class AccessGate:
    """The gateway's side: verify a request's token, then ask the guard.

    Args:
        guard: who may have which block (the chain's answer).
        origins: the URLs clients reach this gateway at (a token must name one of them).
        max_lifetime: the longest a token may still be valid for.
        clock: unix time (tests move it).
        delegate: ``(reader, signer) -> bool``: whether ``signer`` may sign for ``reader`` (a resident's registered
            encryption key, which a browser derives without a wallet prompt: whoever holds it can open the
            resident's records anyway). None: the signer must be the reader.
    """

    def __init__(
        self,
        guard: Guard,
        origins: Iterable[str] = (),
        *,
        max_lifetime: int = MAX_LIFETIME,
        clock: Callable[[], float] = time.time,
        delegate: Callable[[Address, Address], bool] | None = None,
    ) -> None:
        self.guard = guard
        self.delegate = delegate
        self.origins = {origin(o) for o in origins}
        self.max_lifetime = max_lifetime
        self.clock = clock
        self._verified: dict[str, tuple[Address, int]] = {}
        self._lock = threading.Lock()

    def add_origin(self, url: str) -> None:
        """Accept tokens signed for ``url`` too."""
        self.origins.add(origin(url))

    def reader(self, header: str | None) -> Address:
        """The account a request's ``Authorization`` header proves.

        Raises:
            GatewayRefusedError: unsigned, malformed, for another gateway, expired, too long-lived, or a
                signature that is not the named reader's.
        """
        if not header:
            raise GatewayRefusedError(UNSIGNED)
        now = int(self.clock())
        with self._lock:
            known = self._verified.get(header)
        if known is not None and known[1] > now:
            return known[0]
        token = AccessToken.parse(header)
        if token.gateway not in self.origins:
            raise GatewayRefusedError(
                _("the access token was signed for {gateway}, not for this gateway ({origins})").format(
                    gateway=token.gateway,
                    origins=", ".join(sorted(self.origins)) or "no public URL configured",
                )
            )
        if token.expires <= now:
            raise GatewayRefusedError(
                _("the access token expired {seconds} s ago: sign a new one").format(
                    seconds=now - token.expires
                )
            )
        if token.expires - now > self.max_lifetime:
            raise GatewayRefusedError(
                _(
                    "the access token is valid for {seconds} s; this gateway accepts at most {max_lifetime} s"
                ).format(seconds=token.expires - now, max_lifetime=self.max_lifetime)
            )
        signer = token.signer()
        if signer.lower() != token.reader.lower():
            if self.delegate is None or not self.delegate(token.reader, signer):
                raise GatewayRefusedError(
                    _("the access token names {reader} but was signed by {signer}").format(
                        reader=token.reader, signer=signer
                    )
                )
            signer = token.reader
        with self._lock:
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified = {h: v for h, v in self._verified.items() if v[1] > now}
            if len(self._verified) < _CACHE_LIMIT:
                self._verified[header] = (signer, token.expires)
        return signer

    def admit(self, header: str | None, cid: CidInfo) -> Address:
        """The reader, if it may have ``cid`` now.

        Raises:
            GatewayRefusedError: see :meth:`reader`, or the guard refuses.
        """
        reader = self.reader(header)
        self.guard.check(reader, cid)
        return reader


class AccessSigner:
    """The client's side: one token per gateway, re-signed shortly before it expires.

    Args:
        private_key: the reader's account key.
        lifetime: seconds each token is valid.
        clock: unix time.
    """

    def __init__(
        self, private_key: bytes, *, lifetime: int = DEFAULT_LIFETIME, clock: Callable[[], float] = time.time
    ) -> None:
        from eth_account import Account

        self._key = private_key
        self.address = Address(str(Account.from_key(private_key).address))
        """The reader's account."""
        self.lifetime = lifetime
        self.clock = clock
        self._tokens: dict[str, AccessToken] = {}
        self._lock = threading.Lock()
        self.signed = 0
        """How many tokens this signer has signed (a batch should need one)."""

    def header(self, gateway: str) -> str:
        """The ``Authorization`` value for a request to ``gateway``."""
        bound = origin(gateway)
        now = self.clock()
        with self._lock:
            token = self._tokens.get(bound)
            if token is None or token.expires - now < self.lifetime / 4:
                token = AccessToken.sign(self._key, bound, lifetime=self.lifetime, now=now)
                self._tokens[bound] = token
                self.signed += 1
        return token.header()


__all__ = [
    "DEFAULT_LIFETIME",
    "HEADER",
    "MAX_LIFETIME",
    "SCHEME",
    "AccessGate",
    "AccessSigner",
    "AccessToken",
    "Guard",
    "origin",
]
