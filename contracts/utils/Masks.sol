// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Masks
/// @notice The protocol's bitmasks and codes (docs/protocol.md "Constants"), shared by the registries.
library Masks {
    /// @dev Bits 0..6: present illness, past history, family history, diagnosis, prescriptions, examinations,
    /// attachments.
    uint32 internal constant ALL_SECTIONS = 0x7f;
    uint8 internal constant READ = 0x01;
    uint8 internal constant APPEND = 0x02;
    uint8 internal constant ALL_ACTIONS = 0x03;
    uint8 internal constant MAX_PURPOSE = 4;
    uint8 internal constant CODEC_RAW = 0x55;
    uint8 internal constant CODEC_DAG_PB = 0x70;

    function validSections(uint32 sections) internal pure returns (bool) {
        return sections != 0 && sections & ~ALL_SECTIONS == 0;
    }

    function validActions(uint8 actions) internal pure returns (bool) {
        return actions != 0 && actions & ~ALL_ACTIONS == 0;
    }

    function validPurpose(uint8 purpose) internal pure returns (bool) {
        return purpose != 0 && purpose <= MAX_PURPOSE;
    }

    function validCodec(uint8 codec) internal pure returns (bool) {
        return codec == CODEC_RAW || codec == CODEC_DAG_PB;
    }

    /// @dev Whether `granted` has every bit of `requested`.
    function covers(uint32 granted, uint32 requested) internal pure returns (bool) {
        return granted & requested == requested;
    }

    /// @dev Whether `account` is the address of the 64-byte uncompressed secp256k1 public key `key`.
    function isKeyOf(bytes calldata key, address account) internal pure returns (bool) {
        return key.length == 64 && address(uint160(uint256(keccak256(key)))) == account;
    }
}
