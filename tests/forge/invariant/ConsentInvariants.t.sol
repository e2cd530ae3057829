// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";

/// @notice Drives ConsentRegistry as patients, relayers and attackers, keeping a ghost copy of every grant that
/// changes only on the patient's own transaction or the patient's valid signature.
contract ConsentHandler is Fixture {
    address[] public patients;
    uint256[] internal patientKeys;
    address[] public grantees;
    mapping(address patient => mapping(address grantee => IConsentRegistry.Grant)) public ghost;
    mapping(address patient => uint256) public ghostNonce;
    bool public nonceDecreased;
    bool public forgeryAccepted;
    uint256 public successes;

    constructor() {
        setUp();
        patients.push(patient);
        patients.push(otherPatient);
        patientKeys.push(PATIENT_PK);
        patientKeys.push(OTHER_PATIENT_PK);
        grantees.push(hospitalDoctor);
        grantees.push(insurerStaff);
        grantees.push(familyDoctor); // no agreement here: only grants can authorize it
    }

    function registry() external view returns (IConsentRegistry) {
        return consent;
    }

    function patientCount() external view returns (uint256) {
        return patients.length;
    }

    function granteeCount() external view returns (uint256) {
        return grantees.length;
    }

    function grant(uint256 pi, uint256 gi, uint32 sections, uint8 actions, uint8 purpose, uint32 ttl)
        external
    {
        pi = bound(pi, 0, 1);
        address p = patients[pi];
        address g = grantees[bound(gi, 0, 2)];
        IConsentRegistry.Grant memory m = _scope(sections, actions, purpose, ttl);
        vm.prank(p);
        try consent.grant(g, m.sections, m.actions, m.purpose, m.expiresAt) {
            ghost[p][g] = m;
            ++successes;
        } catch {}
        _checkNonces();
    }

    function grantWithSig(
        uint256 pi,
        uint256 gi,
        uint32 sections,
        uint8 actions,
        uint8 purpose,
        uint32 ttl,
        address relayer
    ) external {
        pi = bound(pi, 0, 1);
        address p = patients[pi];
        address g = grantees[bound(gi, 0, 2)];
        IConsentRegistry.Grant memory m = _scope(sections, actions, purpose, ttl);
        ConsentMsg memory c = ConsentMsg({
            patient: p,
            grantee: g,
            sections: m.sections,
            actions: m.actions,
            purpose: m.purpose,
            expiresAt: m.expiresAt,
            nonce: consent.nonces(p),
            deadline: block.timestamp + 1 hours
        });
        bytes memory sig = signDigest(patientKeys[pi], _consentDigest(address(consent), c));
        vm.prank(relayer);
        try consent.grantWithSig(
            p, g, c.sections, c.actions, c.purpose, c.expiresAt, c.nonce, c.deadline, sig
        ) {
            ghost[p][g] = m;
            ++successes;
        } catch {}
        _checkNonces();
    }

    /// @dev A consent signed by anyone but the patient (a grantee, a stranger, the other patient) must never land.
    function forgedGrantWithSig(uint256 pi, uint256 gi, uint256 forger, uint32 sections, uint32 ttl)
        external
    {
        pi = bound(pi, 0, 1);
        address p = patients[pi];
        address g = grantees[bound(gi, 0, 2)];
        uint256[4] memory forgers = [STRANGER_PK, HOSPITAL_DOCTOR_PK, INSURER_STAFF_PK, patientKeys[1 - pi]];
        IConsentRegistry.Grant memory m = _scope(sections, READ_APPEND, TREATMENT, ttl);
        ConsentMsg memory c = ConsentMsg({
            patient: p,
            grantee: g,
            sections: m.sections,
            actions: m.actions,
            purpose: m.purpose,
            expiresAt: m.expiresAt,
            nonce: consent.nonces(p),
            deadline: block.timestamp + 1 hours
        });
        bytes memory sig = signDigest(forgers[bound(forger, 0, 3)], _consentDigest(address(consent), c));
        vm.prank(g);
        try consent.grantWithSig(
            p, g, c.sections, c.actions, c.purpose, c.expiresAt, c.nonce, c.deadline, sig
        ) {
            forgeryAccepted = true;
        } catch {}
        _checkNonces();
    }

    function revoke(uint256 pi, uint256 gi) external {
        address p = patients[bound(pi, 0, 1)];
        address g = grantees[bound(gi, 0, 2)];
        vm.prank(p);
        try consent.revoke(g) {
            delete ghost[p][g];
            ++successes;
        } catch {}
        _checkNonces();
    }

    /// @dev Grantees and strangers calling the patient-only functions act on their own rows, never a patient's.
    function outsiderActs(uint256 who, uint256 gi, uint32 sections, uint32 ttl) external {
        address[4] memory outsiders = [stranger, hospitalDoctor, insurerStaff, familyDoctor];
        address o = outsiders[bound(who, 0, 3)];
        address g = grantees[bound(gi, 0, 2)];
        IConsentRegistry.Grant memory m = _scope(sections, READ_APPEND, RESEARCH, ttl);
        vm.startPrank(o);
        try consent.grant(g, m.sections, m.actions, m.purpose, m.expiresAt) {} catch {}
        try consent.revoke(g) {} catch {}
        try consent.requestAccess(patients[0], m.sections, m.actions, m.purpose) {} catch {}
        vm.stopPrank();
        _checkNonces();
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 90 days));
    }

    function _scope(uint32 sections, uint8 actions, uint8 purpose, uint32 ttl)
        internal
        view
        returns (IConsentRegistry.Grant memory)
    {
        return IConsentRegistry.Grant({
            sections: uint32(bound(sections, 1, ALL_SECTIONS)),
            actions: uint8(bound(actions, 1, 3)),
            purpose: uint8(bound(purpose, 1, 4)),
            expiresAt: uint64(block.timestamp + bound(ttl, 1, 120 days))
        });
    }

    function _checkNonces() internal {
        for (uint256 i = 0; i < patients.length; ++i) {
            uint256 n = consent.nonces(patients[i]);
            if (n < ghostNonce[patients[i]]) nonceDecreased = true;
            ghostNonce[patients[i]] = n;
        }
    }
}

contract ConsentInvariantTest is Test {
    ConsentHandler internal handler;
    IConsentRegistry internal consent;

    function setUp() public {
        handler = new ConsentHandler();
        consent = handler.registry();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = ConsentHandler.grant.selector;
        selectors[1] = ConsentHandler.grantWithSig.selector;
        selectors[2] = ConsentHandler.forgedGrantWithSig.selector;
        selectors[3] = ConsentHandler.revoke.selector;
        selectors[4] = ConsentHandler.outsiderActs.selector;
        selectors[5] = ConsentHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Consent changes only by the patient's transaction or the patient's signature.
    function invariant_consentChangesOnlyByPatient() public view {
        assertFalse(handler.forgeryAccepted(), "a consent not signed by the patient was accepted");
        for (uint256 i = 0; i < handler.patientCount(); ++i) {
            address p = handler.patients(i);
            for (uint256 j = 0; j < handler.granteeCount(); ++j) {
                address g = handler.grantees(j);
                IConsentRegistry.Grant memory stored = consent.grantOf(p, g);
                (uint32 sections, uint8 actions, uint8 purpose, uint64 expiresAt) = handler.ghost(p, g);
                assertEq(stored.sections, sections, "sections");
                assertEq(stored.actions, actions, "actions");
                assertEq(stored.purpose, purpose, "purpose");
                assertEq(stored.expiresAt, expiresAt, "expiresAt");
            }
        }
    }

    /// @dev A revoked (absent) or expired grant never authorizes, for any section or action.
    function invariant_revokedOrExpiredNeverAuthorizes() public view {
        for (uint256 i = 0; i < handler.patientCount(); ++i) {
            address p = handler.patients(i);
            for (uint256 j = 0; j < handler.granteeCount(); ++j) {
                address g = handler.grantees(j);
                (,,, uint64 expiresAt) = handler.ghost(p, g);
                if (expiresAt > block.timestamp) continue;
                for (uint32 bit = 1; bit <= 0x40; bit <<= 1) {
                    assertFalse(consent.isAuthorized(p, g, bit, 1), "read after revoke/expiry");
                    assertFalse(consent.isAuthorized(p, g, bit, 2), "append after revoke/expiry");
                }
            }
        }
    }

    /// @dev Nonces only grow.
    function invariant_noncesOnlyGrow() public view {
        assertFalse(handler.nonceDecreased(), "a nonce decreased");
        for (uint256 i = 0; i < handler.patientCount(); ++i) {
            address p = handler.patients(i);
            assertGe(consent.nonces(p), handler.ghostNonce(p), "nonce below ghost");
        }
    }
}
