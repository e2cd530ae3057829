// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./Test.sol";
import {Consortium} from "../../../contracts/Consortium.sol";
import {ResidentRegistry} from "../../../contracts/ResidentRegistry.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {RecordRegistry} from "../../../contracts/RecordRegistry.sol";
import {IConsortium} from "../../../contracts/interfaces/IConsortium.sol";
import {IResidentRegistry} from "../../../contracts/interfaces/IResidentRegistry.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {IRecordRegistry} from "../../../contracts/interfaces/IRecordRegistry.sol";

/// @notice The deployed famchain system with its actors: three founding institutions (primary care, hospital,
/// insurer), one practitioner at each, two registered patients, and the EIP-712 helpers every test shares.
abstract contract Fixture is Test {
    uint32 internal constant ALL_SECTIONS = 0x7f;
    uint32 internal constant DIAGNOSIS = 0x08;
    uint32 internal constant PRESCRIPTIONS = 0x10;
    uint8 internal constant READ = 0x01;
    uint8 internal constant APPEND = 0x02;
    uint8 internal constant READ_APPEND = 0x03;
    uint8 internal constant TREATMENT = 1;
    uint8 internal constant REFERRAL = 2;
    uint8 internal constant INSURANCE_CLAIM = 3;
    uint8 internal constant RESEARCH = 4;
    uint8 internal constant RAW = 0x55;
    uint8 internal constant DAG_PB = 0x70;
    uint64 internal constant VOTING_PERIOD = 7 days;
    uint64 internal constant YEAR = 365 days;
    uint256 internal constant START = 1_750_000_000;

    uint256 internal constant FAMILY_DOCTOR_PK = 0xD0C1;
    uint256 internal constant HOSPITAL_DOCTOR_PK = 0xD0C2;
    uint256 internal constant INSURER_STAFF_PK = 0xD0C3;
    uint256 internal constant PATIENT_PK = 0xBA7E;
    uint256 internal constant OTHER_PATIENT_PK = 0xBA7F;
    uint256 internal constant STRANGER_PK = 0x5757;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant REGISTRATION_TYPEHASH = keccak256(
        "Registration(address resident,bytes encryptionKey,bytes32 profile,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant AGREEMENT_TYPEHASH = keccak256(
        "Agreement(address resident,address doctor,uint32 sections,uint8 actions,uint64 term,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant CONSENT_TYPEHASH = keccak256(
        "Consent(address patient,address grantee,uint32 sections,uint8 actions,uint8 purpose,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant RECORD_UPDATE_TYPEHASH = keccak256(
        "RecordUpdate(address patient,bytes32 recordId,bytes32 previous,bytes32 cidDigest,uint32 sections,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant KEY_RELEASE_TYPEHASH = keccak256(
        "KeyRelease(address patient,address grantee,bytes32 bundleDigest,uint32 sections,uint256 nonce,uint256 deadline)"
    );

    address internal pcAdmin = address(0xA1);
    address internal hospitalAdmin = address(0xA2);
    address internal insurerAdmin = address(0xA3);
    address internal familyDoctor;
    address internal hospitalDoctor;
    address internal insurerStaff;
    address internal patient;
    address internal otherPatient;
    address internal stranger;

    Consortium internal consortium;
    ResidentRegistry internal residents;
    ConsentRegistry internal consent;
    RecordRegistry internal records;

    function setUp() public virtual {
        vm.warp(START);
        familyDoctor = vm.addr(FAMILY_DOCTOR_PK);
        hospitalDoctor = vm.addr(HOSPITAL_DOCTOR_PK);
        insurerStaff = vm.addr(INSURER_STAFF_PK);
        patient = vm.addr(PATIENT_PK);
        otherPatient = vm.addr(OTHER_PATIENT_PK);
        stranger = vm.addr(STRANGER_PK);
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
        records = new RecordRegistry(consent);
    }

    // ----- actors -----

    function _registerPractitioner(address admin, uint256 pk) internal {
        bytes memory key = publicKeyOf(pk);
        vm.prank(admin);
        consortium.registerPractitioner(vm.addr(pk), key);
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

    function _grant(address patient_, address grantee, uint32 sections, uint8 actions, uint64 expiresAt)
        internal
    {
        vm.prank(patient_);
        consent.grant(grantee, sections, actions, TREATMENT, expiresAt);
    }

    // ----- records -----

    function _anchorOf(uint256 seed, uint32 sections) internal pure returns (IRecordRegistry.Anchor memory) {
        return IRecordRegistry.Anchor({
            recordId: keccak256(abi.encode("record", seed)),
            previous: bytes32(0),
            cidDigest: keccak256(abi.encode("cid", seed)),
            sections: sections,
            cidCodec: RAW
        });
    }

    function _leaf(IRecordRegistry.Anchor memory a, address author) internal pure returns (bytes32) {
        return keccak256(abi.encode(a.recordId, a.previous, a.cidDigest, a.sections, a.cidCodec, author));
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

    function _registrationDigest(
        address registry,
        address resident,
        bytes memory key,
        bytes32 profile,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(REGISTRATION_TYPEHASH, resident, keccak256(key), profile, nonce, deadline)
        );
        return _typedDigest("famchain ResidentRegistry", registry, structHash);
    }

    function _agreementDigest(
        address registry,
        address resident,
        address doctor,
        uint32 sections,
        uint8 actions,
        uint64 term,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(AGREEMENT_TYPEHASH, resident, doctor, sections, actions, term, nonce, deadline)
        );
        return _typedDigest("famchain ResidentRegistry", registry, structHash);
    }

    struct ConsentMsg {
        address patient;
        address grantee;
        uint32 sections;
        uint8 actions;
        uint8 purpose;
        uint64 expiresAt;
        uint256 nonce;
        uint256 deadline;
    }

    function _consentMsg(address patient_, address grantee) internal view returns (ConsentMsg memory) {
        return ConsentMsg({
            patient: patient_,
            grantee: grantee,
            sections: DIAGNOSIS | PRESCRIPTIONS,
            actions: READ,
            purpose: REFERRAL,
            expiresAt: uint64(block.timestamp + 30 days),
            nonce: consent.nonces(patient_),
            deadline: block.timestamp + 1 hours
        });
    }

    function _consentDigest(address registry, ConsentMsg memory m) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                CONSENT_TYPEHASH,
                m.patient,
                m.grantee,
                m.sections,
                m.actions,
                m.purpose,
                m.expiresAt,
                m.nonce,
                m.deadline
            )
        );
        return _typedDigest("famchain ConsentRegistry", registry, structHash);
    }

    function _grantWithSig(ConsentMsg memory m, bytes memory signature) internal {
        consent.grantWithSig(
            m.patient,
            m.grantee,
            m.sections,
            m.actions,
            m.purpose,
            m.expiresAt,
            m.nonce,
            m.deadline,
            signature
        );
    }

    function _recordUpdateDigest(
        address registry,
        address patient_,
        IRecordRegistry.Anchor memory a,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                RECORD_UPDATE_TYPEHASH,
                patient_,
                a.recordId,
                a.previous,
                a.cidDigest,
                a.sections,
                nonce,
                deadline
            )
        );
        return _typedDigest("famchain RecordRegistry", registry, structHash);
    }

    function _keyReleaseDigest(
        address registry,
        address patient_,
        address grantee,
        bytes32 bundleDigest,
        uint32 sections,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(KEY_RELEASE_TYPEHASH, patient_, grantee, bundleDigest, sections, nonce, deadline)
        );
        return _typedDigest("famchain RecordRegistry", registry, structHash);
    }
}
