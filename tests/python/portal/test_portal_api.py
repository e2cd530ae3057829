"""The portal's JSON API over HTTP: what it answers, the rate limit per resident, and bad input as sentences."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import requests
from _portal import portal_server
from web3 import Web3

from famchain.crypto.typed_data import sign_typed_data
from famchain.devnet import DevnetInfo, dev_account
from famchain.errors import RateLimitedError
from famchain.portal.demo import PortalWorld, build_portal_world
from famchain.portal.ratelimit import RateLimiter
from famchain.storage.access import AccessToken
from famchain.storage.kubo import KuboStore
from famchain.types import Address

pytestmark = pytest.mark.devnet


@dataclass
class Api:
    world: PortalWorld
    url: str

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=30)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=30, **kwargs)

    def signed(self, path: str, key: bytes, reader: str | None = None) -> requests.Response:
        """GET with a gateway access token signed by ``key`` for ``reader`` (default: ``key``'s account)."""
        token = AccessToken.sign(key, self.url)
        if reader is not None:
            token = _resign(replace(token, reader=Address(reader)), key)
        return requests.get(self.url + path, headers={"Authorization": token.header()}, timeout=30)


def _resign(token: AccessToken, key: bytes) -> AccessToken:
    """The token re-signed by ``key`` after its reader was changed (a key signing for another account)."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    signature = Account.from_key(key).sign_message(encode_defunct(text=token.message)).signature
    return replace(token, signature=bytes(signature))


@pytest.fixture(scope="module")
def api(w3: Web3, devnet: DevnetInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    world = build_portal_world(w3, dev_account(), KuboStore(devnet.ipfs_url), tmp_path_factory.mktemp("api"))
    with portal_server(world.relayer, names=world.names, limiter=RateLimiter(2)) as url:
        yield Api(world, url)


def test_the_card_names_authors_and_gives_what_the_browser_needs(api: Api) -> None:
    card = api.get(f"/api/residents/{api.world.patient.address}/card").json()
    assert [r["record"] for r in card["records"]] == [r.record_id.to_0x_hex() for r in api.world.records]
    first = card["records"][0]
    assert first["author"]["name"] == "Dr. Wang Fang"
    assert first["author"]["institution"]["zh"] == "河畔社区卫生服务中心"
    assert first["sections"] == ["present_illness", "past_history", "diagnosis", "prescriptions"]
    sealed = api.signed(f"/ipfs/{first['cid']}", api.world.patient_key).content
    assert sealed == api.world.relayer.store.get(first["cid"])  # type: ignore[union-attr]
    resident = api.get(f"/api/residents/{api.world.patient.address}").json()
    assert resident["keyKind"] == "registered"  # her browser key, not the account key


def test_sealed_bytes_go_to_signed_requests_of_entitled_accounts_only(api: Api) -> None:
    """The portal's /ipfs/ is gated like `famchain ipfs serve --gated`: her browser key signs for her."""
    from eth_account import Account

    cid = api.get(f"/api/residents/{api.world.patient.address}/card").json()["records"][0]["cid"]
    patient = api.world.patient.address

    unsigned = api.get(f"/ipfs/{cid}")
    stranger = api.signed(f"/ipfs/{cid}", bytes(Account.create().key))
    forged = api.signed(f"/ipfs/{cid}", bytes(Account.create().key), reader=patient)
    browser = api.signed(f"/ipfs/{cid}", api.world.derived_key(), reader=patient)

    assert (unsigned.status_code, unsigned.json()["code"]) == (403, "gateway-refused")
    assert unsigned.json()["error"].startswith("unsigned request")
    assert stranger.status_code == 403
    assert "may not read this record" in stranger.json()["error"]
    assert forged.status_code == 403
    assert f"names {patient} but was signed by" in forged.json()["error"]
    assert browser.status_code == 200
    assert browser.content == api.world.relayer.store.get(cid)  # type: ignore[union-attr]


def test_the_rate_limit_answers_429_with_when_to_retry_and_sends_nothing(api: Api) -> None:
    w = api.world
    params = {"resident": w.patient.address, "doctor": w.doctor2.address}
    typed = w.relayer.relay.prepare("refuse-agreement", params).typed_data
    body = {"action": "refuse-agreement", "params": params, "typedData": typed}
    bad = {**body, "signature": "0x" + "00" * 65}
    answers = [api.post("/api/relay", json=bad) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [400, 400]  # refused by the checks, but counted
    assert answers[2].status_code == 429
    assert answers[2].json()["code"] == "rate-limited"
    assert "try again in" in answers[2].json()["error"]
    assert int(answers[2].headers["Retry-After"]) >= 1
    signed = {**body, "signature": "0x" + sign_typed_data(w.patient_key, typed).hex()}
    assert api.post("/api/relay", json=signed).status_code == 429
    assert w.relayer.agreements.pending(w.patient.address, w.doctor2.address) is not None  # nothing was sent


def test_the_token_bucket_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.take("0xabc")
    limiter.take("0xABC")
    with pytest.raises(RateLimitedError) as limited:
        limiter.take("0xabc")
    assert limited.value.retry_after == 30
    limiter.take("0xdef")  # another resident has their own bucket
    now[0] = 30.0
    limiter.take("0xabc")


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "words"),
    [
        ("get", "/api/residents/0x1234", None, 400, "is not an account address"),
        ("post", "/api/typed-data/transfer-all", {"params": {}}, 400, "unknown action"),
        ("post", "/api/typed-data/revoke", {"params": {"patient": "0x12"}}, 400, "not an Ethereum address"),
        ("post", "/api/relay", {"action": "revoke"}, 400, "needs a JSON object with"),
        ("post", "/api/bundles", b"not a bundle", 400, "not a famchain key bundle"),
        (
            "post",
            "/api/amendments",
            {"kind": "famchain.consent"},
            400,
            "not a record-update approval request",
        ),
        ("get", "/ipfs/Qmnot-a-cid", None, 400, "is not a content identifier"),
        ("get", "/api/nothing-here", None, 404, "no such page"),
    ],
)
def test_bad_input_is_a_sentence_with_a_code(
    api: Api, method: str, path: str, payload: Any, status: int, words: str
) -> None:
    if method == "get":
        answer = api.get(path)
    elif isinstance(payload, bytes):
        answer = api.post(path, data=payload)
    else:
        answer = api.post(path, json=payload)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert words in body["error"]
    assert body["code"]
    assert "Traceback" not in answer.text


def test_a_doctor_posts_an_amendment_and_the_inbox_shows_what_changes(api: Api) -> None:
    inbox = api.get(f"/api/residents/{api.world.patient.address}/inbox").json()
    (amendment,) = inbox["amendments"]
    assert amendment["record"] == api.world.amendment["record"]
    assert amendment["kept"] == ["diagnosis", "past_history", "prescriptions", "present_illness"]
    assert amendment["author"]["name"] == "Dr. Wang Fang"
    again = api.post("/api/amendments", json=api.world.amendment)
    assert again.status_code == 200
    tampered = {**api.world.amendment, "record": "0x" + "ab" * 32}
    refused = api.post("/api/amendments", json=tampered)
    assert refused.status_code == 400
    assert "record id is not the one its fields give" in refused.json()["error"]


@pytest.mark.parametrize(
    ("args", "words"),
    [(["--port", "70000"], "--port must be 0..65535"), (["--rate", "-1"], "--rate must be 0 or more")],
)
def test_the_portal_command_refuses_bad_options_in_one_line(args: list[str], words: str) -> None:
    import typer
    from click.testing import CliRunner

    from famchain.cli import app

    result = CliRunner(mix_stderr=False).invoke(typer.main.get_command(app), ["portal", *args])
    assert result.exit_code != 0
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
