"""A sentence for every custom error the contracts can revert with: what happened, then what to do.

:func:`famchain.chain.revert.decode_revert` looks the decoded error up in :data:`REFUSALS`; the builders take the
error's decoded arguments (by name) and return one line, in the language famchain speaks now
(:func:`famchain.i18n._`; the values are formatted in after translation). A test walks every error in the packaged ABIs and fails
on any without a sentence here, so a new contract error cannot reach a user as its raw name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from eth_utils.address import to_checksum_address

from famchain.chain.structs import MemberStatus, ProposalAction
from famchain.i18n import _

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
        return _("the whole card")
    return _("record {id}").format(id=_h(values, key))


def _enum(kind: type[MemberStatus] | type[ProposalAction], values: Values, key: str) -> str:
    value = values.get(key)
    try:
        return kind(int(value)).name.lower().replace("_", "-") if value is not None else "?"
    except ValueError:
        return str(value)


REFUSALS: dict[str, Builder] = {
    # --- shared by every contract (signed messages, nonces, OpenZeppelin helpers) ---
    "InvalidAccountNonce": lambda v: _(
        "the signed message of {account} was already used or replaced (its nonce is now {currentNonce}): "
        "sign a new message and send it again"
    ).format(account=_a(v, "account"), currentNonce=_n(v, "currentNonce")),
    "SignedMessagesExpired": lambda v: _(
        "the signed message expired at {deadline}: sign a new message and send it again, and send it "
        "before its deadline"
    ).format(deadline=_when(v, "deadline")),
    "SignedMessagesMalleable": lambda v: _(
        "the signature is in a non-canonical form (high s value) that the contracts refuse: sign again "
        "with a standard wallet or `famchain`"
    ),
    "SignedMessagesInvalidLength": lambda v: _(
        "the signature is {length} bytes long, not 65: pass the whole 0x… signature the wallet printed"
    ).format(length=_n(v, "length")),
    "SignedMessagesInvalidSigner": lambda v: _(
        "the signature was made by {recovered}, not by {expected} or a guardian of theirs for this action"
        " (another key, chain or deployment): sign with that account on this deployment"
    ).format(recovered=_a(v, "recovered"), expected=_a(v, "expected")),
    "SignedMessagesWrongNonceKey": lambda v: _(
        "the signed message uses a nonce meant for another kind of action: sign the message famchain "
        "prepares for this action"
    ),
    "InvalidShortString": lambda v: _(
        "a contract name or version is not a valid short string: deploy with the packaged artifacts "
        "(`famchain deploy`)"
    ),
    "StringTooLong": lambda v: _(
        "a contract name or version is too long for EIP-712: deploy with the packaged artifacts "
        "(`famchain deploy`)"
    ),
    "SafeCastOverflowedUintDowncast": lambda v: _(
        "a number is too large for the contract ({value} does not fit in {bits} bits): use a shorter term"
        " or an earlier date"
    ).format(value=_n(v, "value"), bits=_n(v, "bits")),
    # --- Consortium ---
    "ConsortiumInvalidFounders": lambda v: _(
        "a consortium needs at least two founders, each with a kind ({founders} founders, {kinds} kinds "
        "given): pass --founder KIND:ADDRESS at least twice"
    ).format(founders=_n(v, "founders"), kinds=_n(v, "kinds")),
    "ConsortiumInvalidThreshold": lambda v: _(
        "a voting threshold of {thresholdBps} basis points is not a majority: pass a value above 5000 and"
        " at most 10000 (or 0 for a simple majority)"
    ).format(thresholdBps=_n(v, "thresholdBps")),
    "ConsortiumInvalidVotingPeriod": lambda v: _(
        "the voting period is zero: pass a positive --voting-period-days"
    ),
    "ConsortiumZeroAddress": lambda v: _(
        "an address is zero where an institution, practitioner, guardian or resident is needed: pass a "
        "real address"
    ),
    "ConsortiumInvalidKind": lambda v: _(
        "an institution needs a kind: use primary-care, hospital, insurer, research or regulator"
    ),
    "ConsortiumDuplicateFounder": lambda v: _(
        "founder {founder} is listed twice: give each founding institution once"
    ).format(founder=_a(v, "founder")),
    "ConsortiumNotActiveMember": lambda v: _(
        "{account} is not an active member of the consortium: use the admin keystore of an active member "
        "(`famchain consortium members`)"
    ).format(account=_a(v, "account")),
    "ConsortiumInvalidTransition": lambda v: _(
        "a proposal to {action} {institution} cannot apply while it is {status} (or, for custodians, it "
        "already is one, is none, or has published no member key): check `famchain consortium members` "
        "and `famchain emergency custodians`"
    ).format(
        action=_enum(ProposalAction, v, "action"),
        institution=_a(v, "institution"),
        status=_enum(MemberStatus, v, "status"),
    ),
    "ConsortiumTooFewActiveMembers": lambda v: _(
        "this would leave fewer than two active members ({activeCount} now): admit another member first "
        "(`famchain consortium propose admit`)"
    ).format(activeCount=_n(v, "activeCount")),
    "ConsortiumUnknownProposal": lambda v: _(
        "there is no proposal {proposalId}: see the open ones with `famchain consortium proposals`"
    ).format(proposalId=_n(v, "proposalId")),
    "ConsortiumProposalExpired": lambda v: _(
        "proposal {proposalId} closed at {expiresAt} without passing: make a new proposal (`famchain "
        "consortium propose`)"
    ).format(proposalId=_n(v, "proposalId"), expiresAt=_when(v, "expiresAt")),
    "ConsortiumProposalExecuted": lambda v: _(
        "proposal {proposalId} has already passed and been carried out: nothing more to vote or execute "
        "(`famchain consortium members` shows the result)"
    ).format(proposalId=_n(v, "proposalId")),
    "ConsortiumAlreadyVoted": lambda v: _(
        "{voter} has already voted on proposal {proposalId}: each member votes once; wait for the other "
        "members' votes (`famchain consortium proposals`)"
    ).format(voter=_a(v, "voter"), proposalId=_n(v, "proposalId")),
    "ConsortiumNotEnoughApprovals": lambda v: _(
        "proposal {proposalId} has {approvals} approval(s) of active members and needs {required}: ask "
        "more members to vote (`famchain consortium vote`), then execute it"
    ).format(proposalId=_n(v, "proposalId"), approvals=_n(v, "approvals"), required=_n(v, "required")),
    "ConsortiumInvalidEncryptionKey": lambda v: _(
        "the encryption key is not the public key of {account}: publish it from that account's own "
        "keystore (`famchain consortium publish-key`)"
    ).format(account=_a(v, "account")),
    "ConsortiumPractitionerActive": lambda v: _(
        "{practitioner} is already an active practitioner of {institution}: nothing to do (`famchain "
        "institution doctors` lists them)"
    ).format(practitioner=_a(v, "practitioner"), institution=_a(v, "institution")),
    "ConsortiumNotOwnPractitioner": lambda v: _(
        "{practitioner} is not an active practitioner of {institution}: an institution acts only on its "
        "own practitioners (`famchain institution doctors`)"
    ).format(practitioner=_a(v, "practitioner"), institution=_a(v, "institution")),
    "ConsortiumInvalidParameter": lambda v: _(
        "parameter {parameter} cannot be {value}: see `famchain consortium parameters` for the allowed ranges"
    ).format(parameter=_n(v, "parameter"), value=_n(v, "value")),
    # --- ResidentRegistry ---
    "ResidentRegistryInvalidEncryptionKey": lambda v: _(
        "the encryption key given for {account} is not a valid public key: register with famchain or a "
        "wallet that derives it (`famchain resident register`)"
    ).format(account=_a(v, "account")),
    "ResidentRegistryInvalidProfile": lambda v: _(
        "the basic information commitment is empty: register with a profile file (`--profile FILE`)"
    ),
    "ResidentRegistryAlreadyRegistered": lambda v: _(
        "{resident} is already registered: change the basic information with `famchain resident "
        "update-profile`"
    ).format(resident=_a(v, "resident")),
    "ResidentRegistryNotRegistered": lambda v: _(
        "{resident} is not a registered resident: the resident registers first (`famchain resident register`)"
    ).format(resident=_a(v, "resident")),
    "ResidentRegistryCardLocked": lambda v: _(
        "{resident} asked for the deletion of the whole card, so no agreement can come into force: "
        "nothing can be done for this card"
    ).format(resident=_a(v, "resident")),
    "ResidentRegistryInvalidSections": lambda v: _(
        "the section set {sections} is empty or names unknown sections: sections are named by the "
        "`--sections` list (see `-h`)"
    ).format(sections=_n(v, "sections")),
    "ResidentRegistryInvalidActions": lambda v: _(
        "the action set {actions} is empty or unknown: use read, append or read,append"
    ).format(actions=_n(v, "actions")),
    "ResidentRegistryInvalidTerm": lambda v: _(
        "an agreement term of {term} seconds is not valid: pass a positive --term-days of at most a few "
        "thousand years"
    ).format(term=_n(v, "term")),
    "ResidentRegistryNotFamilyDoctor": lambda v: _(
        "{doctor} is not an active practitioner of an active primary-care centre, so it cannot be a "
        "family doctor: its centre registers it first (`famchain institution add-doctor`)"
    ).format(doctor=_a(v, "doctor")),
    "ResidentRegistryInvalidCounterparty": lambda v: _(
        "{caller} and {counterparty} are not a registered resident and a family doctor: a resident "
        "proposes to a family doctor, or a family doctor to a resident"
    ).format(caller=_a(v, "caller"), counterparty=_a(v, "counterparty")),
    "ResidentRegistryNoPendingAgreement": lambda v: _(
        "there is no pending agreement proposal between {resident} and {doctor} from the other side: the "
        "other side proposes first (`famchain agreement propose`)"
    ).format(resident=_a(v, "resident"), doctor=_a(v, "doctor")),
    "ResidentRegistryProposalExpired": lambda v: _(
        "the agreement proposal between {resident} and {doctor} expired at {expiresAt}: propose again "
        "(`famchain agreement propose`)"
    ).format(resident=_a(v, "resident"), doctor=_a(v, "doctor"), expiresAt=_when(v, "expiresAt")),
    "ResidentRegistryTermsMismatch": lambda v: _(
        "the accepted terms differ from what was proposed between {resident} and {doctor}: check the "
        "proposal (`famchain agreement show`) and accept exactly its terms"
    ).format(resident=_a(v, "resident"), doctor=_a(v, "doctor")),
    "ResidentRegistryEnrollmentChanged": lambda v: _(
        "family doctor {doctor} was re-registered or deactivated since the proposal: propose the "
        "agreement again (`famchain agreement propose`)"
    ).format(doctor=_a(v, "doctor")),
    "ResidentRegistryAgreementInForce": lambda v: _(
        "{resident} already has an agreement in force with {doctor}: end it first (`famchain agreement "
        "terminate`)"
    ).format(resident=_a(v, "resident"), doctor=_a(v, "doctor")),
    "ResidentRegistryNoActiveAgreement": lambda v: _(
        "{resident} has no family-doctor agreement in force: propose one (`famchain agreement propose`)"
    ).format(resident=_a(v, "resident")),
    "ResidentRegistryNotAgreementParty": lambda v: _(
        "{caller} is neither the resident {resident} nor their doctor in this agreement: use the keystore"
        " of one of them"
    ).format(caller=_a(v, "caller"), resident=_a(v, "resident")),
    "ResidentRegistryInvalidGuardian": lambda v: _(
        "{guardian} cannot be a guardian of {resident} (zero, or the resident itself): name another account"
    ).format(guardian=_a(v, "guardian"), resident=_a(v, "resident")),
    "ResidentRegistryInvalidGuardianScope": lambda v: _(
        "the guardian scope {scope} is empty or unknown: pass the scopes listed by `famchain guardian "
        "appoint -h`"
    ).format(scope=_n(v, "scope")),
    "ResidentRegistryInvalidGuardianExpiry": lambda v: _(
        "the guardianship would end at {expiresAt}, which is not in the future: pass a later end"
    ).format(expiresAt=_when(v, "expiresAt")),
    "ResidentRegistryNoGuardianship": lambda v: _(
        "{guardian} is not a guardian of {resident}: see `famchain guardian list`"
    ).format(guardian=_a(v, "guardian"), resident=_a(v, "resident")),
    "ResidentRegistryDependentGuardianship": lambda v: _(
        "the guardianship of {guardian} over the dependent resident {resident} cannot be changed or ended"
        " by the resident before {expiresAt}: the guardian can, or the consortium by vote (`famchain "
        "consortium propose end-guardianship`)"
    ).format(guardian=_a(v, "guardian"), resident=_a(v, "resident"), expiresAt=_when(v, "expiresAt")),
    "ResidentRegistryNotGuardianshipParty": lambda v: _(
        "{caller} is neither the resident {resident} nor the guardian: use one of their keystores"
    ).format(caller=_a(v, "caller"), resident=_a(v, "resident")),
    "ResidentRegistryInvalidEndGuardianship": lambda v: _(
        "proposal {proposalId} is not an end-guardianship proposal the consortium carried out: vote and "
        "execute one first (`famchain consortium proposals`)"
    ).format(proposalId=_n(v, "proposalId")),
    "ResidentRegistryEndGuardianshipConsumed": lambda v: _(
        "the end-guardianship proposal {proposalId} has already been applied: nothing more to do"
    ).format(proposalId=_n(v, "proposalId")),
    "ResidentRegistryDeletionAlreadyRequested": lambda v: _(
        "{resident} has already asked for the deletion of {record}: it is erased when its retention "
        "period ends (`famchain record erase`)"
    ).format(resident=_a(v, "resident"), record=_record(v)),
    # --- ConsentRegistry ---
    "ConsentRegistryInvalidSections": lambda v: _(
        "the section set {sections} is empty or names unknown sections: sections are named by the "
        "`--sections` list (see `-h`)"
    ).format(sections=_n(v, "sections")),
    "ConsentRegistryInvalidActions": lambda v: _(
        "the action set {actions} is empty or unknown: use read, append or read,append"
    ).format(actions=_n(v, "actions")),
    "ConsentRegistryInvalidExpiry": lambda v: _(
        "the consent would end at {expiresAt}, which is not in the future: pass a positive --days"
    ).format(expiresAt=_when(v, "expiresAt")),
    "ConsentRegistryInvalidTerms": lambda v: _(
        "the consent terms are missing (or the request lasts zero days): grant or request it again with "
        "famchain, which commits the terms"
    ),
    "ConsentRegistryInvalidBundle": lambda v: _(
        "the re-wrapped keys sent with the consent are malformed (or sent for a consent without read): "
        "grant it again with famchain"
    ),
    "ConsentRegistryPatientNotRegistered": lambda v: _(
        "{patient} is not a registered resident: the resident registers first (`famchain resident register`)"
    ).format(patient=_a(v, "patient")),
    "ConsentRegistryCardLocked": lambda v: _(
        "{patient} asked for the deletion of the whole card: no new consent or request can be made for it"
    ).format(patient=_a(v, "patient")),
    "ConsentRegistryInvalidGrantee": lambda v: _(
        "{grantee} is not an active practitioner of a consortium member (or is the patient), so it cannot"
        " be granted access: its institution registers it first (`famchain institution add-doctor`)"
    ).format(grantee=_a(v, "grantee")),
    "ConsentRegistryNotGranted": lambda v: _(
        "{patient} has no consent in force for {grantee}: nothing to revoke (`famchain consent list`)"
    ).format(patient=_a(v, "patient"), grantee=_a(v, "grantee")),
    "ConsentRegistryNoRequest": lambda v: _(
        "{grantee} has no open request to {patient}: nothing to refuse (`famchain consent list`)"
    ).format(grantee=_a(v, "grantee"), patient=_a(v, "patient")),
    # --- RecordRegistry ---
    "RecordRegistryInvalidSections": lambda v: _(
        "the section set {sections} is empty or names unknown sections: check the record file's sections "
        "(docs/record-format.md)"
    ).format(sections=_n(v, "sections")),
    "RecordRegistryInvalidCodec": lambda v: _(
        "the content identifier uses codec {codec}, which the registry does not accept: store the record "
        "with famchain (raw or dag-pb CIDs)"
    ).format(codec=_n(v, "codec")),
    "RecordRegistryInvalidKind": lambda v: _(
        "record kind {kind} is unknown: use --kind outpatient or --kind inpatient"
    ).format(kind=_n(v, "kind")),
    "RecordRegistryInvalidAnchor": lambda v: _(
        "the record's content identifier is empty: submit it again with `famchain record submit`"
    ),
    "RecordRegistryInvalidBundle": lambda v: _(
        "the record's key bundle is empty: submit or share it again with famchain"
    ),
    "RecordRegistryInvalidPrevious": lambda v: _(
        "record {recordId} is anchored as the wrong kind (a new record naming a previous version, or an "
        "update naming none): submit new records with `record submit` and amendments with `record update`"
    ).format(recordId=_h(v, "recordId")),
    "RecordRegistryEmptyBatch": lambda v: _(
        "the batch holds no record: nothing was anchored; add records first"
    ),
    "RecordRegistryPatientNotRegistered": lambda v: _(
        "{patient} is not a registered resident and has no visit card: the resident registers first "
        "(`famchain resident register`)"
    ).format(patient=_a(v, "patient")),
    "RecordRegistryCardLocked": lambda v: _(
        "{patient} asked for the deletion of the whole card: no record can be added or shared on it"
    ).format(patient=_a(v, "patient")),
    "RecordRegistryUnauthorized": lambda v: _(
        "{author} may not add these sections to the card of {patient}: it needs a family-doctor agreement"
        " in force or a consent with append (`famchain consent request`)"
    ).format(author=_a(v, "author"), patient=_a(v, "patient")),
    "RecordRegistryGranteeUnauthorized": lambda v: _(
        "{grantee} may not read these sections of the records of {patient}, so no key can be released to "
        "it: the patient grants a consent first (`famchain consent request`)"
    ).format(grantee=_a(v, "grantee"), patient=_a(v, "patient")),
    "RecordRegistryReleaserUnauthorized": lambda v: _(
        "{releaser} is neither the patient {patient} nor allowed to read these sections, so it cannot "
        "release their keys: ask the patient (`famchain consent sync`)"
    ).format(releaser=_a(v, "releaser"), patient=_a(v, "patient")),
    "RecordRegistryAlreadyAnchored": lambda v: _(
        "record {recordId} is already on the card: nothing more to do (`famchain record list`)"
    ).format(recordId=_h(v, "recordId")),
    "RecordRegistryStaleHead": lambda v: _(
        "the card of {patient} changed while this record was being anchored: flush the outbox to try "
        "again (`famchain outbox flush`)"
    ).format(patient=_a(v, "patient")),
    "RecordRegistryUpdateNotApproved": lambda v: _(
        "the patient {patient} has not approved this amendment of record {recordId}: send them the "
        "approval file to sign (`famchain record approve`)"
    ).format(patient=_a(v, "patient"), recordId=_h(v, "recordId")),
    "RecordRegistryApprovalExpired": lambda v: _(
        "the patient's approval of the amendment of record {recordId} expired at {deadline}: prepare the "
        "amendment again and ask for a new approval (`famchain record update`)"
    ).format(recordId=_h(v, "recordId"), deadline=_when(v, "deadline")),
    "RecordRegistryInvalidDeadline": lambda v: _(
        "the approval deadline {deadline} is in the past: prepare the amendment again (`famchain record "
        "update`)"
    ).format(deadline=_when(v, "deadline")),
    "RecordRegistryRetentionNotOver": lambda v: _(
        "record {recordId} must be kept until {endsAt}: erase it after that (`famchain record erase --due`)"
    ).format(recordId=_h(v, "recordId"), endsAt=_when(v, "endsAt")),
    "RecordRegistryNoDeletionRequest": lambda v: _(
        "{patient} has not asked for the deletion of {record}: the resident asks first (`famchain "
        "resident delete-request`)"
    ).format(patient=_a(v, "patient"), record=_record(v)),
    "RecordRegistryBadProof": lambda v: _(
        "the erasure proof of record {recordId} does not match the card of {patient}: read the card again"
        " and retry (`famchain record erase`)"
    ).format(recordId=_h(v, "recordId"), patient=_a(v, "patient")),
    "RecordRegistryAlreadyErased": lambda v: _(
        "record {recordId} has already been erased: nothing more to do"
    ).format(recordId=_h(v, "recordId")),
    # --- EmergencyAccess ---
    "EmergencyAccessNotHospitalPhysician": lambda v: _(
        "{account} is not an active practitioner of an active hospital member, so it cannot declare an "
        "emergency: a hospital registers it first (`famchain institution add-doctor`)"
    ).format(account=_a(v, "account")),
    "EmergencyAccessNotRegistered": lambda v: _(
        "{resident} is not a registered resident: the resident registers first (`famchain resident register`)"
    ).format(resident=_a(v, "resident")),
    "EmergencyAccessCardLocked": lambda v: _(
        "{patient} asked for the deletion of the whole card: no emergency can be declared or approved for it"
    ).format(patient=_a(v, "patient")),
    "EmergencyAccessOptedOut": lambda v: _(
        "{patient} has opted out of emergency access: no emergency can be declared for them (they can opt"
        " in again with `famchain emergency optin`)"
    ).format(patient=_a(v, "patient")),
    "EmergencyAccessTooFewCustodians": lambda v: _(
        "the consortium has {custodians} emergency custodian(s) and an emergency needs {threshold}: "
        "members add custodians by vote (`famchain consortium propose add-custodian`)"
    ).format(custodians=_n(v, "custodians"), threshold=_n(v, "threshold")),
    "EmergencyAccessInvalidReason": lambda v: _(
        "an emergency needs a reason: pass --reason (see `famchain emergency declare -h`)"
    ),
    "EmergencyAccessInvalidSections": lambda v: _(
        "the section set {sections} names unknown sections: sections are named by the `--sections` list "
        "(see `-h`)"
    ).format(sections=_n(v, "sections")),
    "EmergencyAccessPhysicianLimit": lambda v: _(
        "{physician} has declared {limit} emergencies today, the daily limit per physician: the count "
        "starts again at 00:00 UTC"
    ).format(physician=_a(v, "physician"), limit=_n(v, "limit")),
    "EmergencyAccessInstitutionLimit": lambda v: _(
        "the physicians of {institution} have declared {limit} emergencies today, the daily limit per "
        "institution: the count starts again at 00:00 UTC"
    ).format(institution=_a(v, "institution"), limit=_n(v, "limit")),
    "EmergencyAccessUnknown": lambda v: _("there is no emergency {id}: see `famchain emergency list`").format(
        id=_n(v, "id")
    ),
    "EmergencyAccessExpired": lambda v: _(
        "emergency {id} ended at {expiresAt}: nothing more can be released or opened for it; declare a "
        "new one if the emergency goes on"
    ).format(id=_n(v, "id"), expiresAt=_when(v, "expiresAt")),
    "EmergencyAccessNotCustodian": lambda v: _(
        "{account} is not an emergency custodian now: use a custodian's keystore (`famchain emergency "
        "custodians`)"
    ).format(account=_a(v, "account")),
    "EmergencyAccessAlreadyApproved": lambda v: _(
        "custodian {custodian} already released its shares for emergency {id}: nothing more to do"
    ).format(custodian=_a(v, "custodian"), id=_n(v, "id")),
    "EmergencyAccessInvalidBundle": lambda v: _(
        "the released shares are malformed: approve again with `famchain emergency approve`"
    ),
    "EmergencyAccessPhysicianInactive": lambda v: _(
        "{physician}, who declared emergency {id}, is no longer an active practitioner of its hospital: "
        "nothing more is released to it; an active physician declares again"
    ).format(physician=_a(v, "physician"), id=_n(v, "id")),
    "EmergencyAccessNotReviewer": lambda v: _(
        "{account} cannot review emergency {id}: only the patient, a guardian with the emergency scope or"
        " the family doctor in force can"
    ).format(account=_a(v, "account"), id=_n(v, "id")),
    "EmergencyAccessWrongPatient": lambda v: _(
        "emergency {id} is not for {patient}: check the emergency id (`famchain emergency list`)"
    ).format(id=_n(v, "id"), patient=_a(v, "patient")),
}
"""Custom error name -> sentence builder (what happened: what to do)."""
