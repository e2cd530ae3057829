"""The portal in headless Chromium against a devnet, driven as a patient (and her guardian) would.

A test wallet holding the resident's real key is injected into the page; every action is one
``eth_signTypedData_v4`` signature the portal relays. Outcomes are judged on chain (and by the grantee's own
library client), never from the page's own report; every bad input shows a sentence on the page and changes
nothing on chain. Each screen is saved as a screenshot under ``test-output/portal/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from _portal import Switch, portal_server, screenshot
from _wallet import TestWallet
from playwright.sync_api import Browser, Page, Route, expect
from web3 import Web3

from famchain import ALL_SECTIONS, Client
from famchain.chain.structs import GuardianScope
from famchain.devnet import DevnetInfo, dev_account
from famchain.portal.amendments import AmendmentBox, default_folder
from famchain.portal.demo import AMENDED, VISITS, PortalWorld, build_portal_world
from famchain.portal.ratelimit import RateLimiter
from famchain.records.model import parse_record
from famchain.records.sections import Section
from famchain.services.consents import TermsOptions
from famchain.storage.kubo import KuboStore

pytestmark = [pytest.mark.browser, pytest.mark.devnet]
DAY = 86_400
OTHER_KEY = bytes.fromhex("22" * 32)


@dataclass
class Portal:
    world: PortalWorld
    url: str
    rpc: Switch
    store: Switch

    @property
    def chain(self) -> Client:
        """A client with no account on the real endpoints: the judge of what happened."""
        return self.world.patient.with_account(None)


@pytest.fixture(scope="module")
def portal(w3: Web3, devnet: DevnetInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    home = tmp_path_factory.mktemp("portal-home")
    world = build_portal_world(w3, dev_account(), KuboStore(devnet.ipfs_url), home)
    rpc, store = Switch(devnet.rpc_url), Switch(devnet.ipfs_url)
    client = Client(
        rpc.url, world.relayer.deployment, world.relayer.account, store=KuboStore(store.url), home=home
    )
    with portal_server(client, names=world.names, limiter=RateLimiter(1000)) as url:
        yield Portal(world, url, rpc, store)
    rpc.close()
    store.close()


@pytest.fixture(scope="module")
def session(browser: Browser, portal: Portal) -> Iterator[tuple[Page, TestWallet]]:
    context = browser.new_context(viewport={"width": 390, "height": 900}, locale="en-GB")
    wallet = TestWallet(portal.world.patient_key, chain_id=portal.world.patient.chain_id)
    wallet.install(context)
    page = context.new_page()
    yield page, wallet
    context.close()


Open = Callable[..., Page]


@pytest.fixture
def open_portal(session: tuple[Page, TestWallet], portal: Portal) -> Iterator[Open]:
    """Opens the portal afresh (English unless told), connects the wallet (reset, then changed by keywords)."""
    page, wallet = session

    def _open(screen: str = "card", *, lang: str = "en", connect: bool = True, **changes: Any) -> Page:
        page.unroute_all(behavior="ignoreErrors")
        wallet.reset(**changes)
        page.goto(f"{portal.url}/#{screen}")
        page.evaluate("(lang) => localStorage.setItem('famchain.lang', lang)", lang)
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        if connect:
            page.click("#connect")
            page.wait_for_selector(f"main[data-screen='{screen}']")
        return page

    yield _open
    page.unroute_all(behavior="ignoreErrors")
    portal.rpc.on()
    portal.store.on()


def go(page: Page, screen: str) -> None:
    page.evaluate(
        "(s) => { document.getElementById('main').dataset.screen = ''; location.hash = '#' + s; }", screen
    )
    page.wait_for_selector(f"main[data-screen='{screen}']")


def done(page: Page, sentence: str) -> None:
    expect(page.locator("#message.ok")).to_have_text(sentence, timeout=20_000)


def refused(page: Page, words: str) -> str:
    box = page.locator("#message:not(.ok)")
    expect(box).to_contain_text(words, timeout=20_000)
    return box.inner_text()


def _ensure_request(portal: Portal) -> None:
    portal.world.specialist.consents.request(
        portal.world.patient.address,
        Section.DIAGNOSIS | Section.PRESCRIPTIONS | Section.ALLERGIES,
        duration=30 * DAY,
        terms=TermsOptions(purpose="referral", recipient="Dr. Chen Li, cardiology"),
    )


def _ensure_grant(portal: Portal) -> str:
    """A consent in force from the patient to the second doctor (granted by the patient's own transaction)."""
    w = portal.world
    grantee = w.doctor2.address
    if not portal.chain.consents.grant_of(w.patient.address, grantee).sections:
        w.patient.consents.grant(grantee, Section.DIAGNOSIS, expires_at=w.patient.now() + 30 * DAY)
    return grantee


def _grant_state(portal: Portal, grantee: str) -> tuple[Any, int]:
    from famchain.chain.nonces import NonceDomain

    patient = portal.world.patient.address
    fc = portal.chain.chain
    return fc.consents.grant_of(patient, grantee), fc.consents.nonce(patient, NonceDomain.CONSENT, grantee)


# --- journeys ------------------------------------------------------------------------------------------------


def test_the_patient_connects_sees_her_card_and_reads_it_in_the_browser(
    open_portal: Open, portal: Portal
) -> None:
    page = open_portal(connect=False)
    screenshot(page, "01-connect")
    page.click("#connect")
    page.wait_for_selector("main[data-screen='card']")
    records = page.locator("section.record")
    expect(records).to_have_count(len(portal.world.records))
    expect(page.locator("#family-doctor")).to_contain_text("Dr. Wang Fang")
    expect(records.first).to_contain_text("by Dr. Wang Fang, Riverside Community Health Centre")
    screenshot(page, "02-card")
    page.click("#open-records")
    first = page.locator(f"section.record[data-record='{portal.world.records[0].record_id.to_0x_hex()}']")
    expect(first.locator("[data-section='present_illness'] pre")).to_have_text(VISITS[0]["present_illness"])
    expect(first.locator("[data-section='diagnosis'] pre")).to_contain_text("Essential hypertension")
    screenshot(page, "03-card-opened")


def test_the_inbox_says_who_asks_for_what_and_why(open_portal: Open, portal: Portal) -> None:
    _ensure_request(portal)
    portal.world.doctor2.agreements.propose(portal.world.patient.address, ALL_SECTIONS, 3, 365 * DAY)
    page = open_portal("inbox")
    request = page.locator(f"section.request[data-grantee='{portal.world.specialist.address}']")
    expect(request).to_contain_text("Dr. Chen Li (City No. 1 Hospital) asks to see your records")
    expect(page.locator(f"section.proposal[data-doctor='{portal.world.doctor2.address}']")).to_contain_text(
        "Dr. Zhao Lei (Riverside Community Health Centre) proposes to be your family doctor"
    )
    expect(page.locator("section.amendment").first).to_contain_text(
        "Dr. Wang Fang wants to amend your record"
    )
    expect(request).to_contain_text("Purpose sealed for you")
    page.click("#unlock")  # one signature derives her browser key; the sealed request terms open here
    expect(request).to_contain_text("Purpose: referral")
    screenshot(page, "04-inbox")


def test_granting_a_request_releases_the_keys_and_the_specialist_reads(
    open_portal: Open, portal: Portal
) -> None:
    w = portal.world
    _ensure_request(portal)
    page = open_portal("inbox")
    request = page.locator(f"section.request[data-grantee='{w.specialist.address}']")
    request.locator("button[data-action='grant']").click()
    done(page, "Consent granted; the keys to your existing records went with it.")
    screenshot(page, "05-granted")
    grant = portal.chain.consents.grant_of(w.patient.address, w.specialist.address)
    assert grant.sections == Section.DIAGNOSIS | Section.PRESCRIPTIONS | Section.ALLERGIES
    events = [e for e in portal.chain.audit.events(w.patient.address) if e.name == "ConsentGranted"]
    assert any(
        bytes(e.args["bundleDigest"]) != b"\x00" * 32 for e in events
    )  # the bundle built in the browser
    read = w.specialist.records.read(w.records[0].record_id)
    assert "Essential hypertension" in json.dumps(read.sections["diagnosis"], ensure_ascii=False)
    assert "present_illness" in read.withheld


def test_approving_an_amendment_lets_the_doctor_anchor_it(open_portal: Open, portal: Portal) -> None:
    w = portal.world
    prepared = w.doctor.records.prepare_update(w.records[1].record_id, parse_record({"sections": AMENDED}))
    AmendmentBox(w.relayer, default_folder(w.relayer)).post(prepared.request)
    new = prepared.entry.record_id
    page = open_portal("inbox")
    card = page.locator(f"section.amendment[data-record='{new.to_0x_hex()}']")
    expect(card).to_contain_text("added")
    card.locator("button[data-action='approve-update']").click()
    done(page, "Amendment approved; the doctor can now add it to your card.")
    assert portal.chain.chain.records.approval_of(w.patient.address, new, w.records[1].record_id).deadline
    report = w.doctor.records.flush()
    assert new in [e.record_id for e in report.anchored]
    assert portal.chain.records.find(new).previous == w.records[1].record_id
    go(page, "card")
    expect(page.locator(f"section.record[data-record='{new.to_0x_hex()}']")).to_contain_text(
        "amends the record"
    )


def test_refusing_a_proposal(open_portal: Open, portal: Portal) -> None:
    w = portal.world
    w.doctor2.agreements.propose(w.patient.address, ALL_SECTIONS, 3, 365 * DAY)
    page = open_portal("inbox")
    page.locator(
        f"section.proposal[data-doctor='{w.doctor2.address}'] button[data-action='refuse-agreement']"
    ).click()
    done(page, "You refused the proposal.")
    assert portal.chain.agreements.pending(w.patient.address, w.doctor2.address) is None


def test_revoking_a_consent(open_portal: Open, portal: Portal) -> None:
    grantee = _ensure_grant(portal)
    page = open_portal("consents")
    screenshot(page, "06-consents")
    page.locator(f"section.consent[data-grantee='{grantee}'] button[data-action='revoke']").click()
    done(page, "Consent revoked: no new record will be opened to them.")
    assert not portal.chain.consents.grant_of(portal.world.patient.address, grantee).sections


def test_a_guardian_appointed_on_the_page_acts_within_its_scope_only(
    open_portal: Open, portal: Portal
) -> None:
    w = portal.world
    helper = w.helper.address
    page = open_portal("guardians")
    page.fill("#guardian-address", helper)
    page.check("input[data-scope='consent']")
    page.fill("#guardian-days", "90")
    screenshot(page, "07-guardians")
    page.click("button[data-action='appoint-guardian']")
    done(page, "Guardian appointed.")
    assert portal.chain.guardians.scope(w.patient.address, helper) == GuardianScope.CONSENT
    grantee = _ensure_grant(portal)
    # The son connects his own wallet and acts for his mother.
    page = open_portal("consents", private_key=w.helper.account_key())
    page.select_option("#acting-for", w.patient.address)
    page.wait_for_selector(f"section.consent[data-grantee='{grantee}']")
    screenshot(page, "08-acting-for")
    page.locator(f"section.consent[data-grantee='{grantee}'] button[data-action='revoke']").click()
    done(page, "Consent revoked: no new record will be opened to them.")
    assert not portal.chain.consents.grant_of(w.patient.address, grantee).sections
    # Outside his scope: ending her agreement is refused, and it stays in force.
    go(page, "card")
    page.click("button[data-action='terminate-agreement']")
    refused(page, "neither")
    assert portal.chain.agreements.active(w.patient.address) is not None
    go(page, "audit")
    line = page.locator("li[data-event='ConsentRevoked']").first
    expect(line.locator(".by-guardian")).to_have_text("by guardian Zhang Wei (son) for resident Zhang Min")
    screenshot(page, "09-audit")


def test_removing_a_guardian(open_portal: Open, portal: Portal) -> None:
    w = portal.world
    w.patient.guardians.appoint(w.helper.address, GuardianScope.READ, w.patient.now() + 30 * DAY)
    page = open_portal("guardians")
    page.locator(
        f"section.guardian[data-guardian='{w.helper.address}'] button[data-action='remove-guardian']"
    ).click()
    done(page, "Guardian removed.")
    assert portal.chain.guardians.scope(w.patient.address, w.helper.address) == 0


def test_chinese_first_for_a_chinese_browser_and_phone_width(
    browser: Browser, portal: Portal, open_portal: Open
) -> None:
    _ensure_request(portal)
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    TestWallet(portal.world.patient_key, chain_id=portal.world.patient.chain_id).install(context)
    page = context.new_page()
    try:
        page.goto(f"{portal.url}/#inbox")
        page.wait_for_selector("body[data-ready='1']")
        expect(page.locator("#connect")).to_have_text("连接钱包")
        page.click("#connect")
        page.wait_for_selector("main[data-screen='inbox']")
        expect(page.locator("nav a[href='#card']")).to_have_text("就诊卡")
        expect(page.locator("section.request").first).to_contain_text("陈立医生")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(page, "10-inbox-zh-375")
        page.click("#lang")
        expect(page.locator("nav a[href='#card']")).to_have_text("Visit card")
    finally:
        context.close()


def test_every_message_has_both_languages(open_portal: Open) -> None:
    page = open_portal(connect=False)
    missing = page.evaluate(
        "async () => { const m = (await import('/app/i18n.js')).MESSAGES;"
        " const en = Object.keys(m.en), zh = Object.keys(m.zh);"
        " return [en.filter((k) => !zh.includes(k)), zh.filter((k) => !en.includes(k))]; }"
    )
    assert missing == [[], []]


# --- bad input: a sentence on the page, nothing on chain ---------------------------------------------------


def _rewrite_typed_data(page: Page, change: Callable[[dict[str, Any]], None]) -> None:
    def handle(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        change(body["typedData"]["message"])
        route.fulfill(response=response, json=body)

    page.route("**/api/typed-data/**", handle)


@pytest.mark.parametrize("attack", ["wrong-account", "expired", "tampered", "replayed"])
def test_a_bad_signature_shows_a_sentence_and_changes_nothing(
    open_portal: Open, portal: Portal, attack: str
) -> None:
    grantee = _ensure_grant(portal)
    page = open_portal("consents", sign_with=OTHER_KEY if attack == "wrong-account" else None)
    if attack == "expired":
        now = portal.chain.now()
        _rewrite_typed_data(page, lambda m: m.update(deadline=now - 60))
    elif attack == "tampered":
        _rewrite_typed_data(page, lambda m: m.update(grantee=portal.world.specialist.address))
    elif attack == "replayed":
        captured: list[bytes] = []
        page.route(
            "**/api/relay", lambda route: (captured.append(route.request.post_data_buffer), route.continue_())
        )
        page.locator(f"section.consent[data-grantee='{grantee}'] button[data-action='revoke']").click()
        done(page, "Consent revoked: no new record will be opened to them.")
        page.unroute("**/api/relay")
        grantee = _ensure_grant(portal)
        go(page, "inbox")
        go(page, "consents")
        page.route("**/api/relay", lambda route: route.continue_(post_data=captured[0]))
    before = _grant_state(portal, grantee)
    block = portal.chain.chain.block_number()
    page.locator(f"section.consent[data-grantee='{grantee}'] button[data-action='revoke']").click()
    words = {
        "wrong-account": "select account",
        "expired": "expired",
        "tampered": "is not the revoke this portal prepared",
        "replayed": "already used",
    }[attack]
    refused(page, words)
    screenshot(page, f"11-refused-{attack}")
    assert _grant_state(portal, grantee) == before
    assert portal.chain.chain.block_number() == block


def test_a_wallet_on_another_chain_is_told_to_switch_and_signs_nothing(
    open_portal: Open, portal: Portal, session: tuple[Page, TestWallet]
) -> None:
    grantee = _ensure_grant(portal)
    page = open_portal("consents")
    wallet = session[1]
    before = _grant_state(portal, grantee)
    wallet.switch_chain(page, 1)
    page.locator(f"section.consent[data-grantee='{grantee}'] button[data-action='revoke']").click()
    refused(page, f"this portal (chain {portal.world.patient.chain_id})")
    screenshot(page, "12-wrong-chain")
    assert "eth_signTypedData_v4" not in [r.method for r in wallet.requests]
    assert _grant_state(portal, grantee) == before
    wallet.known_chains = {portal.world.patient.chain_id}
    page.click("#switch-chain")
    expect(page.locator("#message")).to_be_hidden()
    assert wallet.chain_id == portal.world.patient.chain_id


def test_the_chain_or_the_store_down_shows_a_sentence_and_changes_nothing(
    open_portal: Open, portal: Portal
) -> None:
    grantee = _ensure_grant(portal)
    page = open_portal("consents")
    before = _grant_state(portal, grantee)
    portal.rpc.off()
    page.locator(f"section.consent[data-grantee='{grantee}'] button[data-action='revoke']").click()
    refused(page, "cannot reach the blockchain")
    screenshot(page, "13-chain-down")
    portal.rpc.on()
    assert _grant_state(portal, grantee) == before
    # The store down while granting: the browser cannot fetch the records to build the key bundle.
    _ensure_request(portal)
    go(page, "inbox")
    portal.store.off()
    page.locator(
        f"section.request[data-grantee='{portal.world.specialist.address}'] button[data-action='grant']"
    ).click()
    refused(page, "cannot reach the record store")
    portal.store.on()
    request = portal.chain.consents.request_of(portal.world.patient.address, portal.world.specialist.address)
    assert request.is_open  # nothing granted
