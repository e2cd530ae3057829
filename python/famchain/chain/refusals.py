"""A sentence for every custom error the contracts can revert with: what happened, then what to do.

:func:`famchain.chain.revert.decode_revert` looks the decoded error up in :data:`REFUSALS`; the builders take the
error's decoded arguments (by name) and return one line. A test walks every error in the packaged ABIs and fails
on any without a sentence here, so a new contract error cannot reach a user as its raw name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from eth_utils.address import to_checksum_address

from famchain.chain.structs import MemberStatus, ProposalAction

Values = dict[str, Any]
Builder = Callable[[Values], str]


def _a(values: Values, key: str) -> str:
    """An address argument, checksummed (``?`` when the payload did not decode)."""
    value = values.get(key)
    if isinstance(value, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        return to_checksum_address(value)
    return "?" if value is None else str(value)


def _n(values: Values, key: str) -> str:
    value = values.get(key)
    return "?" if value is None else str(value)


def _h(values: Values, key: str) -> str:
    """A ``bytes32``/``bytes24`` argument as hex."""
    value = values.get(key)
    return "0x" + value.hex() if isinstance(value, bytes) else ("?" if value is None else str(value))


def _when(values: Values, key: str) -> str:
    """A Unix time argument as a UTC date and time."""
    value = values.get(key)
    if not isinstance(value, int):
        return "?"
    try:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(value))
    except (OverflowError, OSError, ValueError):
        return str(value)


def _record(values: Values, key: str = "recordId") -> str:
    value = values.get(key)
    if isinstance(value, bytes) and not any(value):
        return "the whole card"
    return f"record {_h(values, key)}"


def _enum(kind: type[MemberStatus] | type[ProposalAction], values: Values, key: str) -> str:
    value = values.get(key)
    try:
        return kind(int(value)).name.lower().replace("_", "-") if value is not None else "?"
    except ValueError:
        return str(value)


_SECTIONS = "sections are named by the `--sections` list (see `-h`)"
_SIGN_AGAIN = "sign a new message and send it again"

REFUSALS: dict[str, Builder] = {
    # --- shared by every contract (signed messages, nonces, OpenZeppelin helpers) ---
    "InvalidAccountNonce": lambda v: (
        f"the signed message of {_a(v, 'account')} was already used or replaced (its nonce is now "
        f"{_n(v, 'currentNonce')}): {_SIGN_AGAIN}"
    ),
    "SignedMessagesExpired": lambda v: (
        f"the signed message expired at {_when(v, 'deadline')}: {_SIGN_AGAIN}, and send it before its deadline"
    ),
    "SignedMessagesMalleable": lambda v: (
        "the signature is in a non-canonical form (high s value) that the contracts refuse: sign again with a "
        "standard wallet or `famchain`"
    ),
    "SignedMessagesInvalidLength": lambda v: (
        f"the signature is {_n(v, 'length')} bytes long, not 65: pass the whole 0x… signature the wallet printed"
    ),
    "SignedMessagesInvalidSigner": lambda v: (
        f"the signature was made by {_a(v, 'recovered')}, not by {_a(v, 'expected')} or a guardian of theirs "
        "for this action (another key, chain or deployment): sign with that account on this deployment"
    ),
    "SignedMessagesWrongNonceKey": lambda v: (
        "the signed message uses a nonce meant for another kind of action: sign the message famchain prepares "
        "for this action"
    ),
    "InvalidShortString": lambda v: (
        "a contract name or version is not a valid short string: deploy with the packaged artifacts "
        "(`famchain deploy`)"
    ),
    "StringTooLong": lambda v: (
        "a contract name or version is too long for EIP-712: deploy with the packaged artifacts (`famchain deploy`)"
    ),
    "SafeCastOverflowedUintDowncast": lambda v: (
        f"a number is too large for the contract ({_n(v, 'value')} does not fit in {_n(v, 'bits')} bits): "
        "use a shorter term or an earlier date"
    ),
    # --- Consortium ---
    "ConsortiumInvalidFounders": lambda v: (
        f"a consortium needs at least two founders, each with a kind ({_n(v, 'founders')} founders, "
        f"{_n(v, 'kinds')} kinds given): pass --founder KIND:ADDRESS at least twice"
    ),
    "ConsortiumInvalidThreshold": lambda v: (
        f"a voting threshold of {_n(v, 'thresholdBps')} basis points is not a majority: pass a value above 5000 "
        "and at most 10000 (or 0 for a simple majority)"
    ),
    "ConsortiumInvalidVotingPeriod": lambda v: (
        "the voting period is zero: pass a positive --voting-period-days"
    ),
    "ConsortiumZeroAddress": lambda v: (
        "an address is zero where an institution, practitioner, guardian or resident is needed: pass a real address"
    ),
    "ConsortiumInvalidKind": lambda v: (
        "an institution needs a kind: use primary-care, hospital, insurer, research or regulator"
    ),
    "ConsortiumDuplicateFounder": lambda v: (
        f"founder {_a(v, 'founder')} is listed twice: give each founding institution once"
    ),
    "ConsortiumNotActiveMember": lambda v: (
        f"{_a(v, 'account')} is not an active member of the consortium: use the admin keystore of an active "
        "member (`famchain consortium members`)"
    ),
    "ConsortiumInvalidTransition": lambda v: (
        f"a proposal to {_enum(ProposalAction, v, 'action')} {_a(v, 'institution')} cannot apply while it is "
        f"{_enum(MemberStatus, v, 'status')} (or, for custodians, it already is one, is none, or has published no "
        "member key): check `famchain consortium members` and `famchain emergency custodians`"
    ),
    "ConsortiumTooFewActiveMembers": lambda v: (
        f"this would leave fewer than two active members ({_n(v, 'activeCount')} now): admit another member first "
        "(`famchain consortium propose admit`)"
    ),
    "ConsortiumUnknownProposal": lambda v: (
        f"there is no proposal {_n(v, 'proposalId')}: see the open ones with `famchain consortium proposals`"
    ),
    "ConsortiumProposalExpired": lambda v: (
        f"proposal {_n(v, 'proposalId')} closed at {_when(v, 'expiresAt')} without passing: make a new proposal "
        "(`famchain consortium propose`)"
    ),
    "ConsortiumProposalExecuted": lambda v: (
        f"proposal {_n(v, 'proposalId')} has already passed and been carried out: nothing more to vote or "
        "execute (`famchain consortium members` shows the result)"
    ),
    "ConsortiumAlreadyVoted": lambda v: (
        f"{_a(v, 'voter')} has already voted on proposal {_n(v, 'proposalId')}: each member votes once; "
        "wait for the other members' votes (`famchain consortium proposals`)"
    ),
    "ConsortiumNotEnoughApprovals": lambda v: (
        f"proposal {_n(v, 'proposalId')} has {_n(v, 'approvals')} approval(s) of active members and needs "
        f"{_n(v, 'required')}: ask more members to vote (`famchain consortium vote`), then execute it"
    ),
    "ConsortiumInvalidEncryptionKey": lambda v: (
        f"the encryption key is not the public key of {_a(v, 'account')}: publish it from that account's own "
        "keystore (`famchain consortium publish-key`)"
    ),
    "ConsortiumPractitionerActive": lambda v: (
        f"{_a(v, 'practitioner')} is already an active practitioner of {_a(v, 'institution')}: nothing to do "
        "(`famchain institution doctors` lists them)"
    ),
    "ConsortiumNotOwnPractitioner": lambda v: (
        f"{_a(v, 'practitioner')} is not an active practitioner of {_a(v, 'institution')}: an institution acts "
        "only on its own practitioners (`famchain institution doctors`)"
    ),
    "ConsortiumInvalidParameter": lambda v: (
        f"parameter {_n(v, 'parameter')} cannot be {_n(v, 'value')}: see `famchain consortium parameters` for "
        "the allowed ranges"
    ),
    # --- ResidentRegistry ---
    "ResidentRegistryInvalidEncryptionKey": lambda v: (
        f"the encryption key given for {_a(v, 'account')} is not a valid public key: register with famchain or a "
        "wallet that derives it (`famchain resident register`)"
    ),
    "ResidentRegistryInvalidProfile": lambda v: (
        "the basic information commitment is empty: register with a profile file (`--profile FILE`)"
    ),
    "ResidentRegistryAlreadyRegistered": lambda v: (
        f"{_a(v, 'resident')} is already registered: change the basic information with "
        "`famchain resident update-profile`"
    ),
    "ResidentRegistryNotRegistered": lambda v: (
        f"{_a(v, 'resident')} is not a registered resident: the resident registers first "
        "(`famchain resident register`)"
    ),
    "ResidentRegistryCardLocked": lambda v: (
        f"{_a(v, 'resident')} asked for the deletion of the whole card, so no agreement can come into force: "
        "nothing can be done for this card"
    ),
    "ResidentRegistryInvalidSections": lambda v: (
        f"the section set {_n(v, 'sections')} is empty or names unknown sections: {_SECTIONS}"
    ),
    "ResidentRegistryInvalidActions": lambda v: (
        f"the action set {_n(v, 'actions')} is empty or unknown: use read, append or read,append"
    ),
    "ResidentRegistryInvalidTerm": lambda v: (
        f"an agreement term of {_n(v, 'term')} seconds is not valid: pass a positive --term-days of at most "
        "a few thousand years"
    ),
    "ResidentRegistryNotFamilyDoctor": lambda v: (
        f"{_a(v, 'doctor')} is not an active practitioner of an active primary-care centre, so it cannot be a "
        "family doctor: its centre registers it first (`famchain institution add-doctor`)"
    ),
    "ResidentRegistryInvalidCounterparty": lambda v: (
        f"{_a(v, 'caller')} and {_a(v, 'counterparty')} are not a registered resident and a family doctor: a "
        "resident proposes to a family doctor, or a family doctor to a resident"
    ),
    "ResidentRegistryNoPendingAgreement": lambda v: (
        f"there is no pending agreement proposal between {_a(v, 'resident')} and {_a(v, 'doctor')} from the other "
        "side: the other side proposes first (`famchain agreement propose`)"
    ),
    "ResidentRegistryProposalExpired": lambda v: (
        f"the agreement proposal between {_a(v, 'resident')} and {_a(v, 'doctor')} expired at "
        f"{_when(v, 'expiresAt')}: propose again (`famchain agreement propose`)"
    ),
    "ResidentRegistryTermsMismatch": lambda v: (
        f"the accepted terms differ from what was proposed between {_a(v, 'resident')} and {_a(v, 'doctor')}: "
        "check the proposal (`famchain agreement show`) and accept exactly its terms"
    ),
    "ResidentRegistryEnrollmentChanged": lambda v: (
        f"family doctor {_a(v, 'doctor')} was re-registered or deactivated since the proposal: propose the "
        "agreement again (`famchain agreement propose`)"
    ),
    "ResidentRegistryAgreementInForce": lambda v: (
        f"{_a(v, 'resident')} already has an agreement in force with {_a(v, 'doctor')}: end it first "
        "(`famchain agreement terminate`)"
    ),
    "ResidentRegistryNoActiveAgreement": lambda v: (
        f"{_a(v, 'resident')} has no family-doctor agreement in force: propose one (`famchain agreement propose`)"
    ),
    "ResidentRegistryNotAgreementParty": lambda v: (
        f"{_a(v, 'caller')} is neither the resident {_a(v, 'resident')} nor their doctor in this agreement: use "
        "the keystore of one of them"
    ),
    "ResidentRegistryInvalidGuardian": lambda v: (
        f"{_a(v, 'guardian')} cannot be a guardian of {_a(v, 'resident')} (zero, or the resident itself): "
        "name another account"
    ),
    "ResidentRegistryInvalidGuardianScope": lambda v: (
        f"the guardian scope {_n(v, 'scope')} is empty or unknown: pass the scopes listed by "
        "`famchain guardian appoint -h`"
    ),
    "ResidentRegistryInvalidGuardianExpiry": lambda v: (
        f"the guardianship would end at {_when(v, 'expiresAt')}, which is not in the future: pass a later end"
    ),
    "ResidentRegistryNoGuardianship": lambda v: (
        f"{_a(v, 'guardian')} is not a guardian of {_a(v, 'resident')}: see `famchain guardian list`"
    ),
    "ResidentRegistryDependentGuardianship": lambda v: (
        f"the guardianship of {_a(v, 'guardian')} over the dependent resident {_a(v, 'resident')} cannot be "
        f"changed or ended by the resident before {_when(v, 'expiresAt')}: the guardian can, or the consortium "
        "by vote (`famchain consortium propose end-guardianship`)"
    ),
    "ResidentRegistryNotGuardianshipParty": lambda v: (
        f"{_a(v, 'caller')} is neither the resident {_a(v, 'resident')} nor the guardian: use one of their "
        "keystores"
    ),
    "ResidentRegistryInvalidEndGuardianship": lambda v: (
        f"proposal {_n(v, 'proposalId')} is not an end-guardianship proposal the consortium carried out: vote "
        "and execute one first (`famchain consortium proposals`)"
    ),
    "ResidentRegistryEndGuardianshipConsumed": lambda v: (
        f"the end-guardianship proposal {_n(v, 'proposalId')} has already been applied: nothing more to do"
    ),
    "ResidentRegistryDeletionAlreadyRequested": lambda v: (
        f"{_a(v, 'resident')} has already asked for the deletion of {_record(v)}: it is erased when its "
        "retention period ends (`famchain record erase`)"
    ),
    # --- ConsentRegistry ---
    "ConsentRegistryInvalidSections": lambda v: (
        f"the section set {_n(v, 'sections')} is empty or names unknown sections: {_SECTIONS}"
    ),
    "ConsentRegistryInvalidActions": lambda v: (
        f"the action set {_n(v, 'actions')} is empty or unknown: use read, append or read,append"
    ),
    "ConsentRegistryInvalidExpiry": lambda v: (
        f"the consent would end at {_when(v, 'expiresAt')}, which is not in the future: pass a positive --days"
    ),
    "ConsentRegistryInvalidTerms": lambda v: (
        "the consent terms are missing (or the request lasts zero days): grant or request it again with "
        "famchain, which commits the terms"
    ),
    "ConsentRegistryInvalidBundle": lambda v: (
        "the re-wrapped keys sent with the consent are malformed (or sent for a consent without read): grant it "
        "again with famchain"
    ),
    "ConsentRegistryPatientNotRegistered": lambda v: (
        f"{_a(v, 'patient')} is not a registered resident: the resident registers first "
        "(`famchain resident register`)"
    ),
    "ConsentRegistryCardLocked": lambda v: (
        f"{_a(v, 'patient')} asked for the deletion of the whole card: no new consent or request can be made for it"
    ),
    "ConsentRegistryInvalidGrantee": lambda v: (
        f"{_a(v, 'grantee')} is not an active practitioner of a consortium member (or is the patient), so it "
        "cannot be granted access: its institution registers it first (`famchain institution add-doctor`)"
    ),
    "ConsentRegistryNotGranted": lambda v: (
        f"{_a(v, 'patient')} has no consent in force for {_a(v, 'grantee')}: nothing to revoke "
        "(`famchain consent list`)"
    ),
    "ConsentRegistryNoRequest": lambda v: (
        f"{_a(v, 'grantee')} has no open request to {_a(v, 'patient')}: nothing to refuse (`famchain consent list`)"
    ),
    # --- RecordRegistry ---
    "RecordRegistryInvalidSections": lambda v: (
        f"the section set {_n(v, 'sections')} is empty or names unknown sections: check the record file's "
        "sections (docs/record-format.md)"
    ),
    "RecordRegistryInvalidCodec": lambda v: (
        f"the content identifier uses codec {_n(v, 'codec')}, which the registry does not accept: store the "
        "record with famchain (raw or dag-pb CIDs)"
    ),
    "RecordRegistryInvalidKind": lambda v: (
        f"record kind {_n(v, 'kind')} is unknown: use --kind outpatient or --kind inpatient"
    ),
    "RecordRegistryInvalidAnchor": lambda v: (
        "the record's content identifier is empty: submit it again with `famchain record submit`"
    ),
    "RecordRegistryInvalidBundle": lambda v: (
        "the record's key bundle is empty: submit or share it again with famchain"
    ),
    "RecordRegistryInvalidPrevious": lambda v: (
        f"record {_h(v, 'recordId')} is anchored as the wrong kind (a new record naming a previous version, or "
        "an update naming none): submit new records with `record submit` and amendments with `record update`"
    ),
    "RecordRegistryEmptyBatch": lambda v: (
        "the batch holds no record: nothing was anchored; add records first"
    ),
    "RecordRegistryPatientNotRegistered": lambda v: (
        f"{_a(v, 'patient')} is not a registered resident and has no visit card: the resident registers first "
        "(`famchain resident register`)"
    ),
    "RecordRegistryCardLocked": lambda v: (
        f"{_a(v, 'patient')} asked for the deletion of the whole card: no record can be added or shared on it"
    ),
    "RecordRegistryUnauthorized": lambda v: (
        f"{_a(v, 'author')} may not add these sections to the card of {_a(v, 'patient')}: it needs a family-doctor "
        "agreement in force or a consent with append (`famchain consent request`)"
    ),
    "RecordRegistryGranteeUnauthorized": lambda v: (
        f"{_a(v, 'grantee')} may not read these sections of the records of {_a(v, 'patient')}, so no key can be "
        "released to it: the patient grants a consent first (`famchain consent request`)"
    ),
    "RecordRegistryReleaserUnauthorized": lambda v: (
        f"{_a(v, 'releaser')} is neither the patient {_a(v, 'patient')} nor allowed to read these sections, so it "
        "cannot release their keys: ask the patient (`famchain consent sync`)"
    ),
    "RecordRegistryAlreadyAnchored": lambda v: (
        f"record {_h(v, 'recordId')} is already on the card: nothing more to do (`famchain record list`)"
    ),
    "RecordRegistryStaleHead": lambda v: (
        f"the card of {_a(v, 'patient')} changed while this record was being anchored: flush the outbox to try "
        "again (`famchain outbox flush`)"
    ),
    "RecordRegistryUpdateNotApproved": lambda v: (
        f"the patient {_a(v, 'patient')} has not approved this amendment of record {_h(v, 'recordId')}: send them "
        "the approval file to sign (`famchain record approve`)"
    ),
    "RecordRegistryApprovalExpired": lambda v: (
        f"the patient's approval of the amendment of record {_h(v, 'recordId')} expired at "
        f"{_when(v, 'deadline')}: prepare the amendment again and ask for a new approval (`famchain record update`)"
    ),
    "RecordRegistryInvalidDeadline": lambda v: (
        f"the approval deadline {_when(v, 'deadline')} is in the past: prepare the amendment again "
        "(`famchain record update`)"
    ),
    "RecordRegistryRetentionNotOver": lambda v: (
        f"record {_h(v, 'recordId')} must be kept until {_when(v, 'endsAt')}: erase it after that "
        "(`famchain record erase --due`)"
    ),
    "RecordRegistryNoDeletionRequest": lambda v: (
        f"{_a(v, 'patient')} has not asked for the deletion of {_record(v)}: the resident asks first "
        "(`famchain resident delete-request`)"
    ),
    "RecordRegistryBadProof": lambda v: (
        f"the erasure proof of record {_h(v, 'recordId')} does not match the card of {_a(v, 'patient')}: "
        "read the card again and retry (`famchain record erase`)"
    ),
    "RecordRegistryAlreadyErased": lambda v: (
        f"record {_h(v, 'recordId')} has already been erased: nothing more to do"
    ),
    # --- EmergencyAccess ---
    "EmergencyAccessNotHospitalPhysician": lambda v: (
        f"{_a(v, 'account')} is not an active practitioner of an active hospital member, so it cannot declare "
        "an emergency: a hospital registers it first (`famchain institution add-doctor`)"
    ),
    "EmergencyAccessNotRegistered": lambda v: (
        f"{_a(v, 'resident')} is not a registered resident: the resident registers first "
        "(`famchain resident register`)"
    ),
    "EmergencyAccessCardLocked": lambda v: (
        f"{_a(v, 'patient')} asked for the deletion of the whole card: no emergency can be declared or approved "
        "for it"
    ),
    "EmergencyAccessOptedOut": lambda v: (
        f"{_a(v, 'patient')} has opted out of emergency access: no emergency can be declared for them (they can "
        "opt in again with `famchain emergency optin`)"
    ),
    "EmergencyAccessTooFewCustodians": lambda v: (
        f"the consortium has {_n(v, 'custodians')} emergency custodian(s) and an emergency needs "
        f"{_n(v, 'threshold')}: members add custodians by vote (`famchain consortium propose add-custodian`)"
    ),
    "EmergencyAccessInvalidReason": lambda v: (
        "an emergency needs a reason: pass --reason (see `famchain emergency declare -h`)"
    ),
    "EmergencyAccessInvalidSections": lambda v: (
        f"the section set {_n(v, 'sections')} names unknown sections: {_SECTIONS}"
    ),
    "EmergencyAccessPhysicianLimit": lambda v: (
        f"{_a(v, 'physician')} has declared {_n(v, 'limit')} emergencies today, the daily limit per physician: "
        "the count starts again at 00:00 UTC"
    ),
    "EmergencyAccessInstitutionLimit": lambda v: (
        f"the physicians of {_a(v, 'institution')} have declared {_n(v, 'limit')} emergencies today, the daily "
        "limit per institution: the count starts again at 00:00 UTC"
    ),
    "EmergencyAccessUnknown": lambda v: f"there is no emergency {_n(v, 'id')}: see `famchain emergency list`",
    "EmergencyAccessExpired": lambda v: (
        f"emergency {_n(v, 'id')} ended at {_when(v, 'expiresAt')}: nothing more can be released or opened for "
        "it; declare a new one if the emergency goes on"
    ),
    "EmergencyAccessNotCustodian": lambda v: (
        f"{_a(v, 'account')} is not an emergency custodian now: use a custodian's keystore "
        "(`famchain emergency custodians`)"
    ),
    "EmergencyAccessAlreadyApproved": lambda v: (
        f"custodian {_a(v, 'custodian')} already released its shares for emergency {_n(v, 'id')}: nothing more "
        "to do"
    ),
    "EmergencyAccessInvalidBundle": lambda v: (
        "the released shares are malformed: approve again with `famchain emergency approve`"
    ),
    "EmergencyAccessPhysicianInactive": lambda v: (
        f"{_a(v, 'physician')}, who declared emergency {_n(v, 'id')}, is no longer an active practitioner of "
        "its hospital: nothing more is released to it; an active physician declares again"
    ),
    "EmergencyAccessNotReviewer": lambda v: (
        f"{_a(v, 'account')} cannot review emergency {_n(v, 'id')}: only the patient, a guardian with the "
        "emergency scope or the family doctor in force can"
    ),
    "EmergencyAccessWrongPatient": lambda v: (
        f"emergency {_n(v, 'id')} is not for {_a(v, 'patient')}: check the emergency id "
        "(`famchain emergency list`)"
    ),
}
"""Custom error name -> sentence builder (what happened: what to do)."""
