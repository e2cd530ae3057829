// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./Test.sol";
import {Consortium} from "../../../contracts/Consortium.sol";
import {ResidentRegistry} from "../../../contracts/ResidentRegistry.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {RecordRegistry} from "../../../contracts/RecordRegistry.sol";
import {EmergencyAccess} from "../../../contracts/EmergencyAccess.sol";
import {IConsortium} from "../../../contracts/interfaces/IConsortium.sol";
import {IRecordRegistry} from "../../../contracts/interfaces/IRecordRegistry.sol";

/// @notice The deployed famchain system with its actors: three founding institutions (primary care, hospital,
/// insurer) whose admin keys are known (member keys must hash to them), one practitioner at each, two registered
/// patients, a guardian and a stranger, and the EIP-712 helpers every test shares.
abstract contract Fixture is Test {
    uint32 internal constant PAST_HISTORY = 0x02;
    uint32 internal constant DIAGNOSIS = 0x08;
    uint32 internal constant PRESCRIPTIONS = 0x10;
    uint32 internal constant ALLERGIES = 0x80;
    uint32 internal constant ALL_SECTIONS = 0xff;
    uint32 internal constant DEFAULT_EMERGENCY = 0x9a;
    uint8 internal constant READ = 0x01;
    uint8 internal constant APPEND = 0x02;
    uint8 internal constant READ_APPEND = 0x03;
    uint8 internal constant RAW = 0x55;
    uint8 internal constant DAG_PB = 0x70;
    uint8 internal constant OUTPATIENT = 0;
    uint8 internal constant INPATIENT = 1;
    uint8 internal constant G_CONSENT = 0x01;
    uint8 internal constant G_AGREEMENT = 0x02;
    uint8 internal constant G_RECORDS = 0x04;
    uint8 internal constant G_EMERGENCY = 0x08;
    uint8 internal constant G_READ = 0x10;
    uint8 internal constant G_PROFILE = 0x20;
    uint8 internal constant G_ALL = 0x3f;
    uint8 internal constant D_REGISTRATION = 1;
    uint8 internal constant D_AGREEMENT = 2;
    uint8 internal constant D_CONSENT = 3;
    uint8 internal constant D_UPDATE = 4;
    uint8 internal constant D_KEY_RELEASE = 5;
    uint8 internal constant D_GUARDIAN = 6;
    uint8 internal constant D_PROFILE = 7;
    uint8 internal constant D_DELETION = 8;
    uint8 internal constant D_EMERGENCY = 9;
    uint8 internal constant D_ENROLLMENT = 10;
    uint64 internal constant VOTING_PERIOD = 7 days;
    uint64 internal constant YEAR = 365 days;
    uint64 internal constant OUTPATIENT_RETENTION = 15 * 365 days;
    uint64 internal constant INPATIENT_RETENTION = 30 * 365 days;
    uint256 internal constant START = 1_750_000_000;

    uint256 internal constant PC_ADMIN_PK = 0xA1;
    uint256 internal constant HOSPITAL_ADMIN_PK = 0xA2;
    uint256 internal constant INSURER_ADMIN_PK = 0xA3;
    uint256 internal constant FAMILY_DOCTOR_PK = 0xD0C1;
    uint256 internal constant HOSPITAL_DOCTOR_PK = 0xD0C2;
    uint256 internal constant INSURER_STAFF_PK = 0xD0C3;
    uint256 internal constant PATIENT_PK = 0xBA7E;
    uint256 internal constant OTHER_PATIENT_PK = 0xBA7F;
    uint256 internal constant STRANGER_PK = 0x5757;
    uint256 internal constant GUARDIAN_PK = 0x6A6A;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant CANCEL_TYPEHASH =
        keccak256("Cancel(address owner,uint256 keyNonce,uint256 deadline)");
    bytes32 internal constant ENROLLMENT_TYPEHASH =
        keccak256("Enrollment(address practitioner,address institution,uint256 nonce,uint256 deadline)");
    bytes32 internal constant REGISTRATION_TYPEHASH = keccak256(
        "Registration(address resident,bytes encryptionKey,bytes32 profile,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant PROFILE_TYPEHASH =
        keccak256("Profile(address resident,bytes32 profile,uint256 nonce,uint256 deadline)");
    bytes32 internal constant ENCRYPTION_KEY_TYPEHASH =
        keccak256("EncryptionKey(address resident,bytes encryptionKey,uint256 nonce,uint256 deadline)");
    bytes32 internal constant AGREEMENT_TYPEHASH = keccak256(
        "Agreement(address resident,address doctor,uint32 sections,uint8 actions,uint64 term,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant AGREEMENT_WITHDRAWAL_TYPEHASH =
        keccak256("AgreementWithdrawal(address resident,address doctor,uint256 nonce,uint256 deadline)");
    bytes32 internal constant TERMINATION_TYPEHASH =
        keccak256("Termination(address resident,address doctor,uint256 nonce,uint256 deadline)");
    bytes32 internal constant GUARDIAN_TYPEHASH = keccak256(
        "Guardian(address resident,address guardian,uint8 scope,uint64 expiresAt,bool dependent,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant GUARDIAN_REMOVAL_TYPEHASH =
        keccak256("GuardianRemoval(address resident,address guardian,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DELETION_REQUEST_TYPEHASH =
        keccak256("DeletionRequest(address resident,bytes32 recordId,uint256 nonce,uint256 deadline)");
    bytes32 internal constant CONSENT_TERMS_TYPEHASH = keccak256(
        "ConsentTerms(string recipient,string contact,string purpose,string data,string method,uint64 recordsFrom,uint64 recordsUntil,bytes32 salt)"
    );
    bytes32 internal constant CONSENT_TYPEHASH = keccak256(
        "Consent(address patient,address grantee,uint32 sections,uint8 actions,uint64 expiresAt,ConsentTerms terms,bytes32 bundleDigest,uint8 bundleCodec,uint256 nonce,uint256 deadline)ConsentTerms(string recipient,string contact,string purpose,string data,string method,uint64 recordsFrom,uint64 recordsUntil,bytes32 salt)"
    );
    bytes32 internal constant REVOCATION_TYPEHASH =
        keccak256("Revocation(address patient,address grantee,uint256 nonce,uint256 deadline)");
    bytes32 internal constant REFUSAL_TYPEHASH =
        keccak256("Refusal(address patient,address grantee,uint256 nonce,uint256 deadline)");
    bytes32 internal constant RECORD_UPDATE_TYPEHASH = keccak256(
        "RecordUpdate(address patient,address author,bytes32 previous,bytes32 salt,bytes32 cidDigest,uint8 cidCodec,uint32 sections,uint8 kind,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant UPDATE_REFUSAL_TYPEHASH = keccak256(
        "UpdateRefusal(address patient,bytes32 previous,bytes32 recordId,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant KEY_RELEASE_TYPEHASH = keccak256(
        "KeyRelease(address patient,address grantee,bytes32 bundleDigest,uint8 bundleCodec,uint32 sections,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant EMERGENCY_CHOICE_TYPEHASH =
        keccak256("EmergencyChoice(address resident,uint32 sections,uint256 nonce,uint256 deadline)");
    bytes32 internal constant EMERGENCY_REVIEW_TYPEHASH = keccak256(
        "EmergencyReview(address patient,uint256 id,bool contested,uint256 nonce,uint256 deadline)"
    );

    string internal constant CONSORTIUM_NAME = "famchain Consortium";
    string internal constant RESIDENTS_NAME = "famchain ResidentRegistry";
    string internal constant CONSENT_NAME = "famchain ConsentRegistry";
    string internal constant RECORDS_NAME = "famchain RecordRegistry";
    string internal constant EMERGENCY_NAME = "famchain EmergencyAccess";

    address internal pcAdmin;
    address internal hospitalAdmin;
    address internal insurerAdmin;
    address internal familyDoctor;
    address internal hospitalDoctor;
    address internal insurerStaff;
    address internal patient;
    address internal otherPatient;
    address internal stranger;
    address internal guardian;

    Consortium internal consortium;
    ResidentRegistry internal residents;
    ConsentRegistry internal consent;
    RecordRegistry internal records;
    EmergencyAccess internal emergency;

    function setUp() public virtual {
        vm.warp(START);
        pcAdmin = vm.addr(PC_ADMIN_PK);
        hospitalAdmin = vm.addr(HOSPITAL_ADMIN_PK);
        insurerAdmin = vm.addr(INSURER_ADMIN_PK);
        familyDoctor = vm.addr(FAMILY_DOCTOR_PK);
        hospitalDoctor = vm.addr(HOSPITAL_DOCTOR_PK);
        insurerStaff = vm.addr(INSURER_STAFF_PK);
        patient = vm.addr(PATIENT_PK);
        otherPatient = vm.addr(OTHER_PATIENT_PK);
        stranger = vm.addr(STRANGER_PK);
        guardian = vm.addr(GUARDIAN_PK);
        _deploy();
        _registerPractitioner(pcAdmin, FAMILY_DOCTOR_PK);
        _registerPractitioner(hospitalAdmin, HOSPITAL_DOCTOR_PK);
        _registerPractitioner(insurerAdmin, INSURER_STAFF_PK);
        _registerResident(PATIENT_PK);
        _registerResident(OTHER_PATIENT_PK);
    }

    function _deploy() internal {
        address[] memory founders = new address[](3);
        founders[0] = pcAdmin;
        founders[1] = hospitalAdmin;
        founders[2] = insurerAdmin;
        IConsortium.InstitutionKind[] memory kinds = new IConsortium.InstitutionKind[](3);
        kinds[0] = IConsortium.InstitutionKind.PrimaryCare;
        kinds[1] = IConsortium.InstitutionKind.Hospital;
        kinds[2] = IConsortium.InstitutionKind.Insurer;
        consortium = new Consortium(founders, kinds, 0, VOTING_PERIOD);
        residents = new ResidentRegistry(consortium);
        consent = new ConsentRegistry(consortium, residents);
        records = new RecordRegistry(consent, residents, OUTPATIENT_RETENTION, INPATIENT_RETENTION);
        emergency = new EmergencyAccess(consortium, residents, records);
    }

    // ----- nonces -----

    function _key(uint8 domain, address subject) internal pure returns (uint192) {
        return (uint192(domain) << 160) | uint192(uint160(subject));
    }

    function _key(uint8 domain, bytes32 subject) internal pure returns (uint192) {
        return (uint192(domain) << 160) | uint192(uint160(uint256(subject)));
    }

    // ----- EIP-712 -----

    function _domainSeparator(string memory name, address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256("1"), block.chainid, verifyingContract
            )
        );
    }

    function _typedDigest(string memory name, address verifyingContract, bytes32 structHash)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(name, verifyingContract), structHash));
    }

    function _sign(uint256 pk, string memory name, address verifyingContract, bytes32 structHash)
        internal
        view
        returns (bytes memory)
    {
        return signDigest(pk, _typedDigest(name, verifyingContract, structHash));
    }

    function _cancelSig(
        uint256 pk,
        string memory name,
        address target,
        address owner,
        uint256 keyNonce,
        uint256 deadline
    ) internal view returns (bytes memory) {
        return _sign(pk, name, target, keccak256(abi.encode(CANCEL_TYPEHASH, owner, keyNonce, deadline)));
    }

    // ----- actors -----

    function _enrollmentSig(uint256 pk, address institution, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash =
            keccak256(abi.encode(ENROLLMENT_TYPEHASH, vm.addr(pk), institution, nonce, deadline));
        return _sign(pk, CONSORTIUM_NAME, address(consortium), structHash);
    }

    function _registerPractitioner(address admin, uint256 pk) internal {
        address account = vm.addr(pk);
        bytes memory key = publicKeyOf(pk);
        uint256 nonce = consortium.nonces(account, _key(D_ENROLLMENT, admin));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _enrollmentSig(pk, admin, nonce, deadline);
        vm.prank(admin);
        consortium.registerPractitioner(account, key, nonce, deadline, sig);
    }

    function _profileOf(address resident) internal pure returns (bytes32) {
        return keccak256(abi.encode("profile", resident));
    }

    function _registerResident(uint256 pk) internal {
        bytes memory key = publicKeyOf(pk);
        address resident = vm.addr(pk);
        vm.prank(resident);
        residents.register(key, _profileOf(resident));
    }

    /// @dev The doctor proposes, the resident accepts.
    function _agree(address resident, address doctor, uint32 sections, uint8 actions, uint64 term) internal {
        vm.prank(doctor);
        residents.proposeAgreement(resident, sections, actions, term);
        vm.prank(resident);
        residents.acceptAgreement(doctor, sections, actions, term);
    }

    function _agreementDigestSig(
        uint256 pk,
        address resident,
        address doctor,
        uint32 sections,
        uint8 actions,
        uint64 term,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(AGREEMENT_TYPEHASH, resident, doctor, sections, actions, term, nonce, deadline)
        );
        return _sign(pk, RESIDENTS_NAME, address(residents), structHash);
    }

    function _appointGuardian(address resident, address who, uint8 scope, uint64 expiresAt, bool dependent)
        internal
    {
        vm.prank(resident);
        residents.appointGuardian(who, scope, expiresAt, dependent);
    }

    // ----- governance -----

    /// @dev Proposes as one founder and votes as another (neither is the target): passes at the default threshold
    /// with three active founders.
    function _pass(
        IConsortium.ProposalAction action,
        address institution,
        address subject,
        IConsortium.InstitutionKind kind,
        IConsortium.Parameter parameter,
        uint64 value
    ) internal returns (uint256 id) {
        address[3] memory admins = [pcAdmin, hospitalAdmin, insurerAdmin];
        address first;
        address second;
        for (uint256 i = 0; i < 3; ++i) {
            if (admins[i] == institution) continue;
            if (first == address(0)) first = admins[i];
            else if (second == address(0)) second = admins[i];
        }
        vm.prank(first);
        id = consortium.propose(action, institution, subject, kind, parameter, value);
        vm.prank(second);
        consortium.vote(id);
    }

    function _passMember(IConsortium.ProposalAction action, address institution) internal returns (uint256) {
        IConsortium.InstitutionKind kind = action == IConsortium.ProposalAction.Admit
            ? IConsortium.InstitutionKind.Hospital
            : IConsortium.InstitutionKind.None;
        return _pass(action, institution, address(0), kind, IConsortium.Parameter.None, 0);
    }

    function _publishMemberKey(uint256 adminPk) internal {
        bytes memory key = publicKeyOf(adminPk);
        vm.prank(vm.addr(adminPk));
        consortium.publishMemberKey(key);
    }

    /// @dev The primary-care centre and the insurer publish keys and become the two custodians (threshold 2).
    function _setUpCustodians() internal {
        _publishMemberKey(PC_ADMIN_PK);
        _publishMemberKey(INSURER_ADMIN_PK);
        _pass(
            IConsortium.ProposalAction.AddCustodian,
            pcAdmin,
            address(0),
            IConsortium.InstitutionKind.None,
            IConsortium.Parameter.None,
            0
        );
        _pass(
            IConsortium.ProposalAction.AddCustodian,
            insurerAdmin,
            address(0),
            IConsortium.InstitutionKind.None,
            IConsortium.Parameter.None,
            0
        );
    }

    // ----- consents -----

    function _termsOf(string memory purpose, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                CONSENT_TERMS_TYPEHASH,
                keccak256(bytes("Renji Hospital")),
                keccak256(bytes("dpo@renji.example")),
                keccak256(bytes(purpose)),
                keccak256(bytes("diagnosis, prescriptions")),
                keccak256(bytes("read through famchain")),
                uint64(0),
                uint64(0),
                salt
            )
        );
    }

    function _terms() internal pure returns (bytes32) {
        return _termsOf("referral", keccak256("salt"));
    }

    function _grant(address patient_, address grantee, uint32 sections, uint8 actions, uint64 expiresAt)
        internal
    {
        vm.prank(patient_);
        consent.grant(grantee, sections, actions, expiresAt, _terms(), 0, 0);
    }

    struct ConsentMsg {
        address patient;
        address grantee;
        uint32 sections;
        uint8 actions;
        uint64 expiresAt;
        bytes32 terms;
        bytes32 bundleDigest;
        uint8 bundleCodec;
        uint256 nonce;
        uint256 deadline;
    }

    function _consentMsg(address patient_, address grantee) internal view returns (ConsentMsg memory) {
        return ConsentMsg({
            patient: patient_,
            grantee: grantee,
            sections: DIAGNOSIS | PRESCRIPTIONS,
            actions: READ,
            expiresAt: uint64(block.timestamp + 30 days),
            terms: _terms(),
            bundleDigest: keccak256(abi.encode("bundle", grantee)),
            bundleCodec: RAW,
            nonce: consent.nonces(patient_, _key(D_CONSENT, grantee)),
            deadline: block.timestamp + 1 hours
        });
    }

    function _consentDigest(ConsentMsg memory m) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                CONSENT_TYPEHASH,
                m.patient,
                m.grantee,
                m.sections,
                m.actions,
                m.expiresAt,
                m.terms,
                m.bundleDigest,
                m.bundleCodec,
                m.nonce,
                m.deadline
            )
        );
        return _typedDigest(CONSENT_NAME, address(consent), structHash);
    }

    function _signConsent(uint256 pk, ConsentMsg memory m) internal view returns (bytes memory) {
        return signDigest(pk, _consentDigest(m));
    }

    function _grantWithSig(ConsentMsg memory m, bytes memory signature) internal {
        consent.grantWithSig(
            m.patient,
            m.grantee,
            m.sections,
            m.actions,
            m.expiresAt,
            m.terms,
            m.bundleDigest,
            m.bundleCodec,
            m.nonce,
            m.deadline,
            signature
        );
    }

    // ----- records -----

    function _anchorOf(uint256 seed, uint32 sections) internal pure returns (IRecordRegistry.Anchor memory) {
        return IRecordRegistry.Anchor({
            salt: keccak256(abi.encode("salt", seed)),
            previous: bytes32(0),
            cidDigest: keccak256(abi.encode("cid", seed)),
            sections: sections,
            cidCodec: RAW,
            kind: OUTPATIENT
        });
    }

    function _recordId(address patient_, address author, IRecordRegistry.Anchor memory a)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(patient_, author, a.salt, a.cidDigest, a.cidCodec));
    }

    function _leaf(bytes32 recordId, bytes32 previous, uint32 sections, uint8 kind, uint64 anchoredAt)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(recordId, previous, sections, kind, anchoredAt));
    }

    function _next(bytes24 head, bytes32 leaf) internal pure returns (bytes24) {
        return bytes24(keccak256(abi.encode(head, leaf)));
    }

    function _head(address patient_) internal view returns (bytes24 head) {
        (head,) = records.card(patient_);
    }

    function _length(address patient_) internal view returns (uint64 length) {
        (, length) = records.card(patient_);
    }

    /// @dev Anchors `a` on `patient_`'s card as `author` at the current head; returns the record id.
    function _anchor(address author, address patient_, IRecordRegistry.Anchor memory a)
        internal
        returns (bytes32)
    {
        bytes24 head = _head(patient_);
        vm.prank(author);
        records.anchor(patient_, head, a);
        return _recordId(patient_, author, a);
    }

    function _recordUpdateSig(
        uint256 pk,
        address patient_,
        address author,
        IRecordRegistry.Anchor memory a,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(
                RECORD_UPDATE_TYPEHASH,
                patient_,
                author,
                a.previous,
                a.salt,
                a.cidDigest,
                a.cidCodec,
                a.sections,
                a.kind,
                nonce,
                deadline
            )
        );
        return _sign(pk, RECORDS_NAME, address(records), structHash);
    }

    function _keyReleaseSig(
        uint256 pk,
        address patient_,
        address grantee,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(
                KEY_RELEASE_TYPEHASH, patient_, grantee, bundleDigest, bundleCodec, sections, nonce, deadline
            )
        );
        return _sign(pk, RECORDS_NAME, address(records), structHash);
    }
}
