// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Masks
/// @notice The protocol's bitmasks and codes (docs/protocol.md "Constants"), shared by the contracts.
library Masks {
    /// @dev Bits 0..7: present illness, past history, family history, diagnosis, prescriptions, examinations,
    /// attachments, allergies.
    uint32 internal constant ALL_SECTIONS = 0xff;
    /// @dev What an emergency may open until the resident chooses: past history, diagnosis, prescriptions,
    /// allergies.
    uint32 internal constant DEFAULT_EMERGENCY_SECTIONS = 0x9a;
    uint8 internal constant READ = 0x01;
    uint8 internal constant APPEND = 0x02;
    uint8 internal constant ALL_ACTIONS = 0x03;
    uint8 internal constant CODEC_RAW = 0x55;
    uint8 internal constant CODEC_DAG_PB = 0x70;
    /// @dev Record kinds (they choose the retention period).
    uint8 internal constant KIND_OUTPATIENT = 0;
    uint8 internal constant KIND_INPATIENT = 1;
    /// @dev Guardian scopes.
    uint8 internal constant GUARDIAN_CONSENT = 0x01;
    uint8 internal constant GUARDIAN_AGREEMENT = 0x02;
    uint8 internal constant GUARDIAN_RECORDS = 0x04;
    uint8 internal constant GUARDIAN_EMERGENCY = 0x08;
    uint8 internal constant GUARDIAN_READ = 0x10;
    uint8 internal constant GUARDIAN_PROFILE = 0x20;
    uint8 internal constant GUARDIAN_ALL = 0x3f;

    /// @dev The secp256k1 field prime.
    uint256 private constant _P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;

    function validSections(uint32 sections) internal pure returns (bool) {
        return sections != 0 && sections & ~ALL_SECTIONS == 0;
    }

    function validActions(uint8 actions) internal pure returns (bool) {
        return actions != 0 && actions & ~ALL_ACTIONS == 0;
    }

    function validCodec(uint8 codec) internal pure returns (bool) {
        return codec == CODEC_RAW || codec == CODEC_DAG_PB;
    }

    function validKind(uint8 kind) internal pure returns (bool) {
        return kind <= KIND_INPATIENT;
    }

    function validGuardianScope(uint8 scope) internal pure returns (bool) {
        return scope != 0 && scope & ~GUARDIAN_ALL == 0;
    }

    /// @dev Whether `granted` has every bit of `requested`.
    function covers(uint32 granted, uint32 requested) internal pure returns (bool) {
        return granted & requested == requested;
    }

    /// @dev Whether `account` is the address of the 64-byte uncompressed secp256k1 public key `key`.
    function isKeyOf(bytes calldata key, address account) internal pure returns (bool) {
        return key.length == 64 && address(uint160(uint256(keccak256(key)))) == account;
    }

    /// @dev Whether `key` is a 64-byte uncompressed secp256k1 point `x ‖ y` with `x, y < p` and
    /// `y² = x³ + 7 (mod p)` (the point at infinity has no such encoding).
    function isOnCurve(bytes calldata key) internal pure returns (bool) {
        if (key.length != 64) return false;
        uint256 x = uint256(bytes32(key[0:32]));
        uint256 y = uint256(bytes32(key[32:64]));
        if (x >= _P || y >= _P) return false;
        return mulmod(y, y, _P) == addmod(mulmod(mulmod(x, x, _P), x, _P), 7, _P);
    }
}
