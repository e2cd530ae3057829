// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @notice One resident and two family doctors proposing, accepting (by transaction and by signature, sent by the
/// doctor or relayed), withdrawing and terminating in any order and at any time; doctors re-registered. The ghost
/// state counts, per doctor, the terminations of an agreement with it, and records that count for every proposal
/// and signature when it was made; a proposal or signature made before a termination must never bring an
/// agreement back.
contract AgreementHandler is Fixture {
    struct Signed {
        address doctor;
        uint64 term;
        uint256 nonce;
        uint256 deadline;
        bytes signature;
        uint256 terminationsAtSigning;
    }

    uint256 internal constant SECOND_DOCTOR_PK = 0xD0C5;
    address[] public doctors;
    uint256[] internal _doctorKeys;
    Signed[] internal _signed;
    mapping(address doctor => uint256) public terminations;
    mapping(address doctor => uint256) public proposalEpoch;
    mapping(address doctor => uint64) internal _lastTerm;
    mapping(address doctor => bool) internal _lastByResident;
    bool public staleRevived;
    /// @dev The doctor whose agreement the ghost believes is in force (zero after a termination).
    address public ghostDoctor;
    uint256 public acceptances;
    uint256 public bySignature;

    constructor() {
        setUp();
        _registerPractitioner(pcAdmin, SECOND_DOCTOR_PK);
        doctors.push(familyDoctor);
        doctors.push(vm.addr(SECOND_DOCTOR_PK));
        _doctorKeys.push(FAMILY_DOCTOR_PK);
        _doctorKeys.push(SECOND_DOCTOR_PK);
    }

    function _doctor(uint256 di) internal view returns (address) {
        return doctors[bound(di, 0, 1)];
    }

    function propose(uint256 di, bool byResident, uint8 term) external {
        address d = _doctor(di);
        uint64 t = uint64(bound(term, 1, 30)) * 1 days;
        vm.prank(byResident ? patient : d);
        try residents.proposeAgreement(byResident ? d : patient, ALL_SECTIONS, READ_APPEND, t) {
            proposalEpoch[d] = terminations[d];
            _lastTerm[d] = t;
            _lastByResident[d] = byResident;
        } catch {}
    }

    /// @dev Mostly accepts the pair's last proposal as the other side (so that agreements do come into force),
    /// sometimes with random terms or side.
    function accept(uint256 di, bool byResident, uint8 term) external {
        address d = _doctor(di);
        uint64 t = uint64(bound(term, 1, 30)) * 1 days;
        if (term % 4 != 0 && _lastTerm[d] != 0) (t, byResident) = (_lastTerm[d], !_lastByResident[d]);
        vm.prank(byResident ? patient : d);
        try residents.acceptAgreement(byResident ? d : patient, ALL_SECTIONS, READ_APPEND, t) {
            if (proposalEpoch[d] != terminations[d]) staleRevived = true;
            _accepted(d);
        } catch {}
    }

    /// @dev Mostly signs for the doctor of the stored agreement (the signature a termination must kill).
    function sign(uint256 di, uint8 term) external {
        address current = residents.agreement(patient).doctor;
        address d = di % 4 != 0 && current != address(0) ? current : _doctor(di);
        uint64 t = uint64(bound(term, 1, 30)) * 1 days;
        uint256 nonce = residents.nonces(patient, _key(D_AGREEMENT, d));
        uint256 deadline = block.timestamp + 60 days;
        bytes memory sig =
            _agreementDigestSig(PATIENT_PK, patient, d, ALL_SECTIONS, READ_APPEND, t, nonce, deadline);
        _signed.push(Signed(d, t, nonce, deadline, sig, terminations[d]));
    }

    function submit(uint256 k, bool byDoctor) external {
        if (_signed.length == 0) return;
        // Mostly one of the three latest signatures (older ones are mostly spent), sometimes any.
        uint256 n = _signed.length;
        uint256 pick = k % 4 == 0 ? bound(k, 0, n - 1) : n - 1 - bound(k, 0, n < 3 ? n - 1 : 2);
        Signed memory s = _signed[pick];
        vm.prank(byDoctor ? s.doctor : stranger);
        try residents.acceptAgreementWithSig(
            patient, s.doctor, ALL_SECTIONS, READ_APPEND, s.term, s.nonce, s.deadline, s.signature
        ) {
            if (s.terminationsAtSigning != terminations[s.doctor]) staleRevived = true;
            ++bySignature;
            _accepted(s.doctor);
        } catch {}
    }

    function withdraw(uint256 di, bool byResident) external {
        address d = _doctor(di);
        vm.prank(byResident ? patient : d);
        try residents.withdrawProposal(byResident ? d : patient) {} catch {}
    }

    function terminate(bool byResident) external {
        address d = residents.agreement(patient).doctor;
        vm.prank(byResident ? patient : d);
        try residents.terminateAgreement(patient) {
            ++terminations[d];
            ghostDoctor = address(0);
        } catch {}
    }

    function reRegister(uint256 di) external {
        di = bound(di, 0, 1);
        address d = doctors[di];
        if (consortium.isActivePractitioner(d)) {
            vm.prank(d);
            consortium.resign();
        }
        _registerPractitioner(pcAdmin, _doctorKeys[di]);
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 10 days));
    }

    function inForce() external view returns (address doctor) {
        (doctor,,,) = residents.activeFamilyDoctor(patient);
    }

    /// @dev The resident's one slot holds both the agreement and the status: whatever the agreement does, the
    /// resident stays registered and unlocked, and `cardAccessOf` gives a doctor the terms exactly when
    /// `activeFamilyDoctor` names it.
    function hotSlotConsistent() external view returns (bool) {
        (bool registered, bool locked) = residents.residentStatus(patient);
        if (!registered || locked) return false;
        (address doctor, uint32 sections, uint8 actions,) = residents.activeFamilyDoctor(patient);
        for (uint256 i = 0; i < doctors.length; ++i) {
            (bool r, bool l, uint32 s, uint8 a) = residents.cardAccessOf(patient, doctors[i]);
            if (!r || l) return false;
            bool named = doctor == doctors[i];
            if (named ? (s != sections || a != actions || s == 0) : (s != 0 || a != 0)) return false;
        }
        return true;
    }

    function _accepted(address d) internal {
        ++acceptances;
        ghostDoctor = d;
    }
}

contract AgreementInvariantTest is Test {
    AgreementHandler internal handler;

    function setUp() public {
        handler = new AgreementHandler();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = AgreementHandler.propose.selector;
        selectors[1] = AgreementHandler.accept.selector;
        selectors[2] = AgreementHandler.sign.selector;
        selectors[3] = AgreementHandler.submit.selector;
        selectors[4] = AgreementHandler.withdraw.selector;
        selectors[5] = AgreementHandler.terminate.selector;
        selectors[6] = AgreementHandler.reRegister.selector;
        selectors[7] = AgreementHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev A proposal or signature made before a termination never puts an agreement with that doctor in force.
    function invariant_terminatedAgreementNotRevivedByOldProposalOrSignature() public view {
        assertFalse(
            handler.staleRevived(),
            "an agreement came back from a proposal or signature older than a termination"
        );
    }

    function invariant_hotSlotAgreesWithAgreementAndStatus() public view {
        assertTrue(handler.hotSlotConsistent(), "status bits or the family doctor's terms out of step");
    }

    /// @dev An agreement in force is the last one accepted since the last termination (never one the ghost saw end).
    function invariant_inForceOnlyAfterNewAcceptance() public view {
        address doctor = handler.inForce();
        if (doctor != address(0)) {
            assertEq(doctor, handler.ghostDoctor(), "in force without a new acceptance");
        }
    }
}
