// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @notice Patients sign consents that wait to be relayed, grant, revoke and cancel; grantees are deactivated and
/// re-registered; relayers submit any outstanding signature at any time. The ghost state records, for each
/// signature, the number of revocations (and cancels) of its (patient, grantee) at signing, and for each grant the
/// grantee's registration it was made under.
contract ConsentHandler is Fixture {
    struct Outstanding {
        ConsentMsg message;
        bytes signature;
        uint256 killsAtSigning;
    }

    address[] internal _patients;
    uint256[] internal _patientKeys;
    address[] public grantees;
    uint256[] internal _granteeKeys;
    address[] internal _admins;
    Outstanding[] internal _outstanding;
    mapping(address patient => mapping(address grantee => uint256)) public kills;
    mapping(address grantee => uint256) public registrations;
    mapping(address patient => mapping(address grantee => uint256)) public grantedUnder;
    bool public revokedSignatureSucceeded;
    uint256 public relayed;

    constructor() {
        setUp();
        _patients.push(patient);
        _patients.push(otherPatient);
        _patientKeys.push(PATIENT_PK);
        _patientKeys.push(OTHER_PATIENT_PK);
        grantees.push(hospitalDoctor);
        grantees.push(insurerStaff);
        _granteeKeys.push(HOSPITAL_DOCTOR_PK);
        _granteeKeys.push(INSURER_STAFF_PK);
        _admins.push(hospitalAdmin);
        _admins.push(insurerAdmin);
        registrations[hospitalDoctor] = 1;
        registrations[insurerStaff] = 1;
    }

    function patientAt(uint256 i) external view returns (address) {
        return _patients[i];
    }

    function sign(uint256 pi, uint256 gi, bool wide) external {
        pi = bound(pi, 0, 1);
        address g = grantees[bound(gi, 0, 1)];
        ConsentMsg memory m = _consentMsg(_patients[pi], g);
        m.sections = wide ? ALL_SECTIONS : DIAGNOSIS;
        m.deadline = block.timestamp + 30 days;
        m.expiresAt = uint64(block.timestamp + 60 days);
        _outstanding.push(Outstanding(m, _signConsent(_patientKeys[pi], m), kills[m.patient][g]));
    }

    function relay(uint256 k, address relayer) external {
        if (_outstanding.length == 0) return;
        Outstanding memory o = _outstanding[bound(k, 0, _outstanding.length - 1)];
        vm.prank(relayer);
        try consent.grantWithSig(
            o.message.patient,
            o.message.grantee,
            o.message.sections,
            o.message.actions,
            o.message.expiresAt,
            o.message.terms,
            o.message.bundleDigest,
            o.message.bundleCodec,
            o.message.nonce,
            o.message.deadline,
            o.signature
        ) {
            ++relayed;
            if (kills[o.message.patient][o.message.grantee] != o.killsAtSigning) {
                revokedSignatureSucceeded = true;
            }
            grantedUnder[o.message.patient][o.message.grantee] = registrations[o.message.grantee];
        } catch {}
    }

    function grant(uint256 pi, uint256 gi) external {
        address p = _patients[bound(pi, 0, 1)];
        address g = grantees[bound(gi, 0, 1)];
        vm.prank(p);
        try consent.grant(g, DIAGNOSIS, READ, uint64(block.timestamp + 60 days), _terms(), 0, 0) {
            grantedUnder[p][g] = registrations[g];
        } catch {}
    }

    function revoke(uint256 pi, uint256 gi) external {
        address p = _patients[bound(pi, 0, 1)];
        address g = grantees[bound(gi, 0, 1)];
        vm.prank(p);
        try consent.revoke(g) {
            ++kills[p][g];
        } catch {}
    }

    function cancel(uint256 pi, uint256 gi) external {
        address p = _patients[bound(pi, 0, 1)];
        address g = grantees[bound(gi, 0, 1)];
        uint256 nonce = consent.nonces(p, _key(D_CONSENT, g));
        vm.prank(p);
        consent.cancelNonce(nonce);
        ++kills[p][g];
    }

    /// @dev The grantee leaves (or is deactivated) and is registered again: a new enrollment.
    function reRegister(uint256 gi) external {
        gi = bound(gi, 0, 1);
        address g = grantees[gi];
        if (consortium.isActivePractitioner(g)) {
            vm.prank(g);
            consortium.resign();
        }
        _registerPractitioner(_admins[gi], _granteeKeys[gi]);
        ++registrations[g];
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 10 days));
    }

    function authorized(address p, address g) external view returns (bool) {
        return consent.isAuthorized(p, g, DIAGNOSIS, READ);
    }
}

contract ConsentInvariantTest is Test {
    ConsentHandler internal handler;

    function setUp() public {
        handler = new ConsentHandler();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = ConsentHandler.sign.selector;
        selectors[1] = ConsentHandler.relay.selector;
        selectors[2] = ConsentHandler.grant.selector;
        selectors[3] = ConsentHandler.revoke.selector;
        selectors[4] = ConsentHandler.cancel.selector;
        selectors[5] = ConsentHandler.reRegister.selector;
        selectors[6] = ConsentHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev A revoked (or cancelled) grantee's outstanding consent signature never succeeds.
    function invariant_revokedSignatureNeverSucceeds() public view {
        assertFalse(handler.revokedSignatureSucceeded(), "a consent signed before a revocation was accepted");
    }

    /// @dev A re-registered practitioner never inherits a grant: whoever is authorized was granted under its
    /// current registration.
    function invariant_reRegisteredPractitionerInheritsNoGrant() public view {
        for (uint256 pi = 0; pi < 2; ++pi) {
            address p = handler.patientAt(pi);
            for (uint256 gi = 0; gi < 2; ++gi) {
                address g = handler.grantees(gi);
                if (handler.authorized(p, g)) {
                    assertEq(
                        handler.grantedUnder(p, g), handler.registrations(g), "grant of an old enrollment"
                    );
                }
            }
        }
    }
}
