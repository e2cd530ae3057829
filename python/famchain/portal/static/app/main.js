/**
 * @file The patients' portal page: connect a wallet, see the visit card, inbox, consents, guardians and
 * audit trail, and act by signing one EIP-712 message per action that the portal relays.
 *
 * Records open here, in the browser, with the resident's encryption key derived from one wallet signature
 * (js/keys.js); granting a request builds the key bundle of the existing records here too (js/bundle.js), so
 * the portal never sees a key or a plaintext.
 */
import { releaseKeys } from "../js/bundle.js";
import { verifyContent } from "../js/cid.js";
import { Wallet } from "../js/eip6963.js";
import { openEnvelope } from "../js/envelope.js";
import { WalletError, WrongChainError } from "../js/errors.js";
import { accessToken, deriveEncryptionKey } from "../js/keys.js";
import { api, setAccess } from "./api.js";
import { date, initialLanguage, language, setLanguage, t } from "./i18n.js";

const DAY = 86400;
const state = {
  config: null,
  wallet: null,
  account: null,
  subject: null,
  me: null,
  resident: null,
  key: null,
  opened: new Map(),
  requestTerms: new Map(),
};
globalThis.__famchainPortal = state; // for tests and for a curious user's console: nothing secret leaves it

// --- small DOM helpers ---------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const main = () => document.getElementById("main");

function short(address) {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

function addr(address) {
  return el(
    "span",
    { class: "addr", title: address },
    short(address),
    el("button", { class: "link copy", type: "button", "aria-label": "copy", onclick: () => navigator.clipboard?.writeText(address) }, "⧉"),
  );
}

/** A person or institution's display name in the current language. */
function nameOf(who) {
  if (!who) return "";
  return (language() === "zh" ? who.zh : who.name) ?? short(who.address);
}

function institutionOf(who) {
  return who?.institution ? nameOf(who.institution) : "";
}

function sectionLabel(name) {
  const found = state.config.sections.find((s) => s.name === name);
  return found ? found[language()] : name;
}

function sectionTags(names, cls = "") {
  return el("div", { class: "tags" }, names.map((n) => el("span", { class: `tag ${cls}` }, sectionLabel(n))));
}

function maskOf(names) {
  return names.reduce((m, n) => m | (state.config.sections.find((s) => s.name === n)?.bit ?? 0), 0);
}

function scopeWords(names) {
  return names.map((n) => t(`scope.${n}`)).join(language() === "zh" ? "、" : ", ");
}

function purposeLabel(purpose) {
  const found = state.config.purposes.find((p) => p.name === purpose);
  return found && language() === "zh" ? found.zh : purpose;
}

function say(text, ok = false) {
  const box = document.getElementById("message");
  box.textContent = text;
  box.className = ok ? "ok" : "";
  box.hidden = !text;
}

function explain(err) {
  if (err instanceof WrongChainError) return t("err.WrongChainError", { expected: err.expected });
  if (err?.name && t(`err.${err.name}`) !== `err.${err.name}`) return t(`err.${err.name}`);
  return err?.message ?? String(err);
}

async function guarded(button, fn) {
  if (button) button.disabled = true;
  say("");
  try {
    await fn();
  } catch (err) {
    say(explain(err));
    if (err instanceof WrongChainError) showSwitch();
  } finally {
    if (button) button.disabled = false;
  }
}

function showSwitch() {
  const chain = state.config.chainId;
  document.getElementById("message").append(
    " ",
    el("button", { type: "button", class: "secondary", id: "switch-chain", onclick: (e) => guarded(e.target, async () => { await state.wallet.switchChain(chain); say(""); await route(); }) }, t("connect.switch", { chain })),
  );
}

// --- acting: one signature per action -------------------------------------------------------------------

/** Prepare the typed data, ask the wallet to sign it, have the portal relay it; then redraw. */
async function act(action, params) {
  await state.wallet.ensureChain(state.config.chainId);
  const prepared = await api.typedData(action, params);
  say(t("action.signing"), true);
  const signature = await state.wallet.signTypedData(state.account, prepared.typedData);
  const outcome = await api.relay(action, params, prepared.typedData, signature);
  await reload();
  say(t(`done.${action}`), true);
  return outcome;
}

function actionButton(label, action, params, cls = "") {
  return el("button", { type: "button", class: cls, "data-action": action, onclick: (e) => guarded(e.target, () => act(action, typeof params === "function" ? params() : params)) }, label);
}

// --- the browser key ------------------------------------------------------------------------------------

async function deriveKey() {
  await state.wallet.ensureChain(state.config.chainId);
  const key = await deriveEncryptionKey(state.wallet, {
    chainId: state.config.chainId,
    account: state.account,
    registry: state.config.contracts.ResidentRegistry,
  });
  state.key = { ...key, registered: key.publicKeyHex.toLowerCase() === (state.me?.encryptionKey ?? "").toLowerCase() };
  // The sealed bytes are served to signed requests only; the registered browser key signs for the resident.
  let token = null;
  const account = state.account;
  setAccess(() => {
    if (!token || token.expires - Date.now() / 1000 < 30) {
      token = accessToken({ gateway: location.origin, reader: account, privateKey: key.privateKey });
    }
    return token.header;
  });
  return state.key;
}

function keyPanel() {
  if (state.subject !== state.account || !state.me?.registered) return null;
  const parts = [el("h3", {}, t("key.title"))];
  if (state.key?.registered) parts.push(el("p", { class: "muted" }, t("key.ready")));
  else if (state.key) {
    parts.push(el("p", {}, t(state.me.keyKind === "account" ? "key.account" : "key.mismatch")));
    parts.push(actionButton(t("key.register"), "set-encryption-key", () => ({ resident: state.account, encryptionKey: state.key.publicKeyHex }), ""));
  } else if (state.me.keyKind === "account") {
    parts.push(el("p", {}, t("key.account")));
    parts.push(el("button", { type: "button", id: "derive-key", onclick: (e) => guarded(e.target, async () => { await deriveKey(); await route(); }) }, t("key.register")));
  }
  return parts.length > 1 ? el("section", { class: "card", id: "key-panel" }, parts) : null;
}

// --- opening records in the browser ---------------------------------------------------------------------

function contextOf(record, card) {
  return { salt: record.salt, patient: card.patient, author: record.author.address, chainId: card.chainId, registry: card.registry };
}

async function fetchEnvelope(cid) {
  const bytes = await api.block(cid);
  verifyContent(bytes, cid);
  return bytes;
}

function showText(plaintext) {
  const text = new TextDecoder().decode(plaintext);
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof value === "string") return value;
  const entries = Array.isArray(value) ? value : [value];
  return entries
    .map((e) => (typeof e === "object" && e !== null ? Object.entries(e).filter(([k]) => k !== "data").map(([k, v]) => `${k}: ${v}`).join("; ") : String(e)))
    .join("\n");
}

async function openCard(card) {
  for (const record of card.records) {
    if (record.erased || state.opened.has(record.record)) continue;
    if (state.key.publicKeyHex.toLowerCase() !== (state.me?.encryptionKey ?? "").toLowerCase()) {
      // The chain holds another key: the record is sealed to it, and the portal serves this key nothing.
      state.opened.set(record.record, { __error: t("card.oldKey") });
      continue;
    }
    try {
      const sections = await openEnvelope(await fetchEnvelope(record.cid), state.key.privateKey, contextOf(record, card));
      state.opened.set(record.record, sections);
    } catch (err) {
      state.opened.set(record.record, err?.name === "NotARecipientError" ? { __error: t("card.oldKey") } : { __error: explain(err) });
    }
  }
}

function openedView(record) {
  const sections = state.opened.get(record.record);
  if (!sections) return null;
  if (sections.__error) return el("p", { class: "muted" }, sections.__error);
  return Object.values(sections).map((s) =>
    el(
      "div",
      { class: "opened", "data-section": s.name },
      el("strong", {}, sectionLabel(s.name)),
      s.status === "opened"
        ? el("pre", { class: "section" }, showText(s.plaintext))
        : el("p", { class: "muted" }, s.status === "withheld" ? t("card.withheld") : t("card.unavailable", { algorithm: s.algorithm })),
    ),
  );
}

// --- screens --------------------------------------------------------------------------------------------

async function cardScreen() {
  const [card, resident] = [await api.card(state.subject), state.resident];
  const byId = new Map(card.records.map((r) => [r.record, r]));
  const doctor = resident.familyDoctor;
  const canOpen = state.subject === state.account;
  const openButton = canOpen
    ? el("button", { type: "button", id: "open-records", onclick: (e) => guarded(e.target, async () => {
        if (!state.key) await deriveKey();
        e.target.textContent = t("card.opening");
        await openCard(card);
        await route();
      }) }, t("card.open"))
    : null;
  return [
    el("h2", {}, t("card.title")),
    keyPanel(),
    el(
      "section",
      { class: "card", id: "family-doctor" },
      doctor
        ? [
            el("p", {}, t("card.doctor", { name: `${nameOf(doctor.who)} (${institutionOf(doctor.who)})`, date: date(doctor.endsAt) })),
            el("div", { class: "actions" }, actionButton(t("card.terminate"), "terminate-agreement", { resident: state.subject }, "danger")),
          ]
        : el("p", { class: "muted" }, t("card.noDoctor")),
    ),
    card.records.length ? el("div", { class: "actions" }, openButton) : el("p", { class: "muted" }, t("card.empty")),
    card.records
      .slice()
      .reverse()
      .map((r) =>
        el(
          "section",
          { class: "card record", "data-record": r.record },
          el("h3", {}, date(r.anchoredAt)),
          el("p", { class: "muted" }, t("card.by", { author: nameOf(r.author), institution: institutionOf(r.author) || "—" })),
          r.previous ? el("p", { class: "muted" }, t("card.updates", { date: byId.has(r.previous) ? date(byId.get(r.previous).anchoredAt) : short(r.previous) })) : null,
          r.newer.length ? el("p", { class: "muted" }, t("card.newer")) : null,
          r.erased ? el("p", { class: "muted" }, t("card.erased")) : null,
          sectionTags(r.sections),
          openedView(r),
        ),
      ),
  ];
}

async function openRequestTerms(request) {
  const key = request.terms.cid;
  if (state.requestTerms.has(key) || !state.key?.registered) return state.requestTerms.get(key) ?? null;
  try {
    const sections = await openEnvelope(await fetchEnvelope(request.terms.cid), state.key.privateKey, request.terms.context);
    const doc = JSON.parse(new TextDecoder().decode(sections.terms.plaintext));
    state.requestTerms.set(key, doc.terms);
  } catch {
    state.requestTerms.set(key, null);
  }
  return state.requestTerms.get(key);
}

/** The key bundle of the existing records a request covers, built here and stored through the portal. */
async function bundleFor(request, terms) {
  if (!request.actions.includes("read") || !state.key?.registered || state.subject !== state.account) return null;
  const card = await api.card(state.subject);
  const grants = [];
  for (const record of card.records) {
    const wanted = record.sections.filter((s) => request.sections.includes(s));
    if (!wanted.length || record.erased) continue;
    if (terms && ((terms.recordsFrom && record.anchoredAt < terms.recordsFrom) || (terms.recordsUntil && record.anchoredAt > terms.recordsUntil))) continue;
    const envelope = await fetchEnvelope(record.cid);
    grants.push({ envelope, context: contextOf(record, card), sections: wanted });
  }
  if (!grants.length || !request.encryptionKey) return null;
  let bundle;
  try {
    bundle = await releaseKeys(state.key.privateKey, request.encryptionKey, grants);
  } catch (err) {
    if (err?.name === "NotARecipientError") {
      say(t("err.nothingToGrant"));
      return null;
    }
    throw err;
  }
  const stored = await api.storeBundle(bundle.bytes);
  if (stored.cid !== bundle.cid) throw new Error(`the portal stored the key bundle as ${stored.cid}, not ${bundle.cid}`);
  return stored;
}

async function grant(request) {
  if (!state.key && state.subject === state.account && state.me.keyKind !== "account") await deriveKey();
  const terms = (await openRequestTerms(request)) ?? {
    recipient: `${nameOf(request.grantee)}, ${institutionOf(request.grantee)}`,
    contact: "",
    purpose: "treatment",
    data: request.sections.join(", "),
    method: request.actions.join(", "),
    recordsFrom: 0,
    recordsUntil: 0,
  };
  const bundle = await bundleFor(request, terms);
  const inbox = await api.inbox(state.subject);
  return act("grant", {
    patient: state.subject,
    grantee: request.grantee.address,
    sections: maskOf(request.sections),
    actions: (request.actions.includes("read") ? 1 : 0) | (request.actions.includes("append") ? 2 : 0),
    expiresAt: inbox.now + request.duration,
    terms,
    bundleDigest: bundle ? bundle.digest : null,
    bundleCodec: bundle ? bundle.codec : 0,
  });
}

async function inboxScreen() {
  const inbox = await api.inbox(state.subject);
  for (const r of inbox.requests) await openRequestTerms(r);
  const items = [];
  for (const p of inbox.proposals) {
    items.push(
      el(
        "section",
        { class: "card proposal", "data-doctor": p.doctor.address },
        el("h3", {}, t("inbox.proposal", { doctor: nameOf(p.doctor), institution: institutionOf(p.doctor) })),
        el("p", { class: "muted" }, t("inbox.term", { days: Math.round(p.term / DAY), date: date(p.expiresAt) })),
        sectionTags(p.sections),
        el(
          "div",
          { class: "actions" },
          actionButton(t("action.accept"), "accept-agreement", { resident: state.subject, doctor: p.doctor.address }),
          actionButton(t("action.refuse"), "refuse-agreement", { resident: state.subject, doctor: p.doctor.address }, "secondary"),
        ),
      ),
    );
  }
  for (const r of inbox.requests) {
    const terms = state.requestTerms.get(r.terms.cid);
    items.push(
      el(
        "section",
        { class: "card request", "data-grantee": r.grantee.address },
        el("h3", {}, t("inbox.request", { grantee: nameOf(r.grantee), institution: institutionOf(r.grantee) })),
        el("p", {}, terms ? t("inbox.purpose", { purpose: purposeLabel(terms.purpose) }) : el("span", { class: "muted" }, t("inbox.purposeSealed"))),
        el("p", { class: "muted" }, t("inbox.duration", { days: Math.round(r.duration / DAY) })),
        sectionTags(r.sections),
        el(
          "div",
          { class: "actions" },
          el("button", { type: "button", "data-action": "grant", onclick: (e) => guarded(e.target, () => grant(r)) }, t("action.grant")),
          actionButton(t("action.refuse"), "refuse-request", { patient: state.subject, grantee: r.grantee.address }, "secondary"),
        ),
      ),
    );
  }
  for (const a of inbox.amendments) {
    items.push(
      el(
        "section",
        { class: "card amendment", "data-record": a.record },
        el("h3", {}, t("inbox.amendment", { author: nameOf(a.author), date: date(a.previousAnchoredAt) })),
        a.added.length ? [el("span", { class: "muted" }, t("inbox.added")), sectionTags(a.added, "added")] : null,
        a.removed.length ? [el("span", { class: "muted" }, t("inbox.removed")), sectionTags(a.removed, "removed")] : null,
        a.kept.length ? [el("span", { class: "muted" }, t("inbox.kept")), sectionTags(a.kept)] : null,
        el(
          "div",
          { class: "actions" },
          actionButton(t("action.approve"), "approve-update", a.params),
          actionButton(t("action.refuse"), "refuse-update", { patient: state.subject, previous: a.previous, recordId: a.record }, "secondary"),
        ),
      ),
    );
  }
  const sealed = inbox.requests.some((r) => !state.requestTerms.get(r.terms.cid));
  const unlock =
    sealed && !state.key && state.subject === state.account && state.me.keyKind !== "account"
      ? el("button", { type: "button", class: "secondary", id: "unlock", onclick: (e) => guarded(e.target, async () => { await deriveKey(); await route(); }) }, t("inbox.unlock"))
      : null;
  return [el("h2", {}, t("inbox.title")), keyPanel(), unlock, items.length ? items : el("p", { class: "muted" }, t("inbox.empty"))];
}

async function consentsScreen() {
  const inbox = await api.inbox(state.subject);
  const cancelInput = el("input", { type: "text", id: "cancel-grantee", placeholder: "0x…" });
  return [
    el("h2", {}, t("consents.title")),
    inbox.consents.length
      ? inbox.consents.map((c) =>
          el(
            "section",
            { class: "card consent", "data-grantee": c.grantee.address },
            el("h3", {}, `${nameOf(c.grantee)} (${institutionOf(c.grantee)})`),
            el("p", { class: "muted" }, t("consents.until", { date: date(c.expiresAt) })),
            c.purpose && c.purpose !== "committed" ? el("p", {}, t("inbox.purpose", { purpose: purposeLabel(c.purpose) })) : null,
            sectionTags(c.sections),
            el("div", { class: "actions" }, actionButton(t("action.revoke"), "revoke", { patient: state.subject, grantee: c.grantee.address }, "danger")),
          ),
        )
      : el("p", { class: "muted" }, t("consents.empty")),
    el(
      "section",
      { class: "card" },
      el("h3", {}, t("consents.cancelTitle")),
      el("p", { class: "muted" }, t("consents.cancelBody")),
      cancelInput,
      el("div", { class: "actions" }, actionButton(t("action.cancel"), "cancel", () => ({ owner: state.subject, kind: "consent", subject: cancelInput.value.trim() }), "secondary")),
    ),
  ];
}

function guardianRow(g, who, removable) {
  return el(
    "section",
    { class: "card guardian", "data-guardian": who.address },
    el("h3", {}, nameOf(who), " ", addr(who.address)),
    el("p", { class: "muted" }, scopeWords(g.scope), " · ", t("guardians.until", { date: date(g.expiresAt) }), g.dependent ? ` · ${t("guardians.dependentTag")}` : ""),
    removable ? el("div", { class: "actions" }, actionButton(t("action.remove"), "remove-guardian", { resident: state.subject, guardian: who.address }, "danger")) : null,
  );
}

async function guardiansScreen() {
  const r = state.resident;
  const own = state.subject === state.account;
  const address = el("input", { type: "text", id: "guardian-address", placeholder: "0x…" });
  const days = el("input", { type: "number", id: "guardian-days", value: "365", min: "1" });
  const dependent = el("input", { type: "checkbox", id: "guardian-dependent" });
  const boxes = state.config.scopes.map((s) => el("input", { type: "checkbox", value: s, "data-scope": s }));
  const scopeMask = () => boxes.reduce((m, b, i) => (b.checked ? m | (1 << i) : m), 0);
  return [
    el("h2", {}, t("guardians.title")),
    r.guardians.filter((g) => g.active).length
      ? r.guardians.filter((g) => g.active).map((g) => guardianRow(g, g.who, own))
      : el("p", { class: "muted" }, t("guardians.empty")),
    own
      ? el(
          "section",
          { class: "card" },
          el("h3", {}, t("guardians.appointTitle")),
          el("form", { onsubmit: (e) => e.preventDefault() },
            el("label", { for: "guardian-address" }, t("guardians.address")), address,
            el("div", { class: "scopes" }, boxes.map((b, i) => el("label", {}, b, t(`scope.${state.config.scopes[i]}`)))),
            el("label", { for: "guardian-days" }, t("guardians.days")), days,
            el("label", {}, dependent, " ", t("guardians.dependent")),
          ),
          el("div", { class: "actions" }, actionButton(t("action.appoint"), "appoint-guardian", () => ({
            resident: state.subject,
            guardian: address.value.trim(),
            scope: scopeMask(),
            expiresAt: r.now + Math.round(Number(days.value) * DAY),
            dependent: dependent.checked,
          }))),
        )
      : el("p", { class: "muted" }, t("guardians.onlyResident")),
    state.me.wards.length ? [el("h2", {}, t("guardians.wards")), state.me.wards.map((w) => guardianRow(w, w.who, false))] : null,
  ];
}

function eventLine(entry) {
  const a = entry.args;
  const p = entry.parties;
  const party = (k) => (p[k] ? `${nameOf(p[k])}${p[k].institution ? ` (${institutionOf(p[k])})` : ""}` : "");
  const sections = a.sectionNames ? a.sectionNames.map(sectionLabel).join(language() === "zh" ? "、" : ", ") : "";
  const zh = language() === "zh";
  const lines = {
    ResidentRegistered: zh ? "登记为居民" : "registered as a resident",
    AgreementProposed: zh ? `${party("doctor")} 提出家庭医生签约` : `family-doctor agreement proposed with ${party("doctor")}`,
    AgreementAccepted: zh ? `与 ${party("doctor")} 的家庭医生签约生效` : `family-doctor agreement with ${party("doctor")} in force`,
    AgreementTerminated: zh ? `与 ${party("doctor")} 的签约解除` : `agreement with ${party("doctor")} ended`,
    AgreementProposalWithdrawn: zh ? `${party("doctor")} 的签约申请被撤回或拒绝` : `agreement proposal of ${party("doctor")} withdrawn or refused`,
    ConsentGranted: zh ? `授权 ${party("grantee")} 查看：${sections}` : `consent given to ${party("grantee")}: ${sections}`,
    ConsentRevoked: zh ? `撤销对 ${party("grantee")} 的授权` : `consent of ${party("grantee")} revoked`,
    AccessRequested: zh ? `${party("grantee")} 申请查看：${sections}` : `${party("grantee")} asked to see: ${sections}`,
    AccessRequestRefused: zh ? `拒绝了 ${party("grantee")} 的申请` : `request of ${party("grantee")} refused`,
    AccessRequestWithdrawn: zh ? `${party("grantee")} 撤回了申请` : `${party("grantee")} withdrew the request`,
    RecordAnchored: zh ? `${party("author")} 添加病历：${sections}` : `record added by ${party("author")}: ${sections}`,
    KeysReleased: zh ? `${party("releaser")} 向 ${party("grantee")} 提供了密钥：${sections}` : `keys to ${sections} released to ${party("grantee")} by ${party("releaser")}`,
    UpdateApproved: zh ? `批准了病历修订：${sections}` : `amendment approved: ${sections}`,
    UpdateRefused: zh ? "拒绝了病历修订" : "amendment refused",
    GuardianAppointed: zh ? `指定 ${party("guardian")} 为监护人` : `${party("guardian")} appointed guardian`,
    GuardianRemoved: zh ? `${party("guardian")} 不再是监护人` : `${party("guardian")} no longer a guardian`,
    EncryptionKeyChanged: zh ? "登记了新的加密密钥" : "new encryption key registered",
    NonceCancelled: zh ? "作废了一个未使用的签名" : "an unused signature was cancelled",
    DeletionRequested: zh ? "申请删除" : "deletion requested",
  };
  return lines[entry.event] ?? entry.event;
}

async function auditScreen() {
  const audit = await api.audit(state.subject);
  const entries = audit.entries.slice().reverse();
  return [
    el("h2", {}, t("audit.title")),
    entries.length
      ? el(
          "ol",
          { class: "audit" },
          entries.map((e) =>
            el(
              "li",
              { "data-event": e.event },
              el("span", { class: "muted" }, date(e.time, true)),
              " ",
              eventLine(e),
              e.guardian ? el("div", { class: "muted by-guardian" }, t("audit.byGuardian", { guardian: nameOf(e.guardian), resident: nameOf(state.resident.who) })) : null,
            ),
          ),
        )
      : el("p", { class: "muted" }, t("audit.empty")),
  ];
}

const SCREENS = { card: cardScreen, inbox: inboxScreen, consents: consentsScreen, guardians: guardiansScreen, audit: auditScreen };

// --- connecting and routing -----------------------------------------------------------------------------

function connectScreen() {
  return [
    el("h2", {}, t("connect.title")),
    el("p", {}, t("connect.body")),
    el("button", { type: "button", id: "connect", onclick: (e) => guarded(e.target, connect) }, t("connect.button")),
  ];
}

function renderWho() {
  const box = document.getElementById("who");
  const wards = state.me?.wards?.filter((w) => w.active) ?? [];
  const select = el(
    "select",
    { id: "acting-for", onchange: (e) => guarded(null, async () => { state.subject = e.target.value; await reload(); }) },
    el("option", { value: state.account, selected: state.subject === state.account }, `${t("who.myself")} (${short(state.account)})`),
    wards.map((w) => el("option", { value: w.who.address, selected: state.subject === w.who.address }, t("who.guardianOf", { name: nameOf(w.who), scope: scopeWords(w.scope) }))),
  );
  box.replaceChildren(el("span", {}, `${t("who.you")}: `), addr(state.account), " · ", el("label", { for: "acting-for" }, `${t("who.actingFor")}: `), select);
  box.hidden = false;
}

async function connect() {
  state.wallet = await Wallet.discover({ timeout: 150 });
  const [account] = await state.wallet.connect();
  state.account = account;
  state.subject = account;
  state.wallet.on("accountsChanged", (accounts) => guarded(null, async () => {
    state.account = accounts?.[0] ? accounts[0] : null;
    state.subject = state.account;
    state.key = null;
    state.opened.clear();
    await reload();
  }));
  state.wallet.on("chainChanged", () => guarded(null, route));
  await state.wallet.ensureChain(state.config.chainId);
  if (!location.hash || location.hash === "#connect") location.hash = "#card";
  await reload();
}

async function reload() {
  if (!state.account) return route();
  state.me = await api.resident(state.account);
  state.resident = state.subject === state.account ? state.me : await api.resident(state.subject);
  return route();
}

async function route() {
  document.querySelectorAll("[data-t]").forEach((n) => (n.textContent = t(n.dataset.t)));
  document.getElementById("lang").textContent = t("lang.switch");
  const nav = document.getElementById("nav");
  if (!state.account) {
    nav.hidden = true;
    document.getElementById("who").hidden = true;
    main().replaceChildren(...connectScreen());
    return;
  }
  renderWho();
  nav.hidden = false;
  const name = location.hash.replace("#", "") || "card";
  nav.querySelectorAll("a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#${name}`));
  if (!state.resident?.registered && !state.me?.wards?.length) {
    main().replaceChildren(el("p", { id: "not-registered" }, t("who.notRegistered")));
    return;
  }
  const screen = SCREENS[name] ?? cardScreen;
  const content = await screen();
  main().replaceChildren(...[content].flat(3).filter(Boolean));
  main().dataset.screen = name;
}

async function boot() {
  setLanguage(initialLanguage());
  document.getElementById("lang").addEventListener("click", () => {
    setLanguage(language() === "zh" ? "en" : "zh");
    guarded(null, route);
  });
  window.addEventListener("hashchange", () => guarded(null, route));
  try {
    state.config = await api.config();
  } catch (err) {
    say(explain(err));
    return;
  }
  await guarded(null, route);
  document.body.dataset.ready = "1";
}

boot().catch((err) => say(err instanceof WalletError ? explain(err) : String(err?.message ?? err)));
