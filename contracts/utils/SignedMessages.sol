// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {NoncesKeyed} from "@openzeppelin/contracts/utils/NoncesKeyed.sol";

import {ISignedMessages} from "../interfaces/ISignedMessages.sol";

/// @title SignedMessages
/// @notice EIP-712 verification shared by the famchain contracts: deadline, then signature (ECDSA for an EOA, with
/// the resident's guardians; ERC-1271 for a signer with code), then the keyed nonce the message requires.
abstract contract SignedMessages is ISignedMessages, EIP712, NoncesKeyed {
    bytes32 private constant _CANCEL_TYPEHASH =
        keccak256("Cancel(address owner,uint256 keyNonce,uint256 deadline)");

    /// @dev `guardianScope` value meaning "a guardian with any scope" (only for `Cancel`).
    uint8 internal constant _ANY_GUARDIAN = type(uint8).max;

    uint8 internal constant _DOMAIN_REGISTRATION = 1;
    uint8 internal constant _DOMAIN_AGREEMENT = 2;
    uint8 internal constant _DOMAIN_CONSENT = 3;
    uint8 internal constant _DOMAIN_UPDATE = 4;
    uint8 internal constant _DOMAIN_KEY_RELEASE = 5;
    uint8 internal constant _DOMAIN_GUARDIAN = 6;
    uint8 internal constant _DOMAIN_PROFILE = 7;
    uint8 internal constant _DOMAIN_DELETION = 8;
    uint8 internal constant _DOMAIN_EMERGENCY = 9;
    uint8 internal constant _DOMAIN_ENROLLMENT = 10;

    constructor(string memory name) EIP712(name, "1") {}

    /// @inheritdoc ISignedMessages
    function cancelNonce(uint256 keyNonce) external {
        _useCheckedNonce(msg.sender, keyNonce);
        emit NonceCancelled(msg.sender, keyNonce);
    }

    /// @inheritdoc ISignedMessages
    function cancelNonceWithSig(address owner, uint256 keyNonce, uint256 deadline, bytes calldata signature)
        external
    {
        if (block.timestamp > deadline) revert SignedMessagesExpired(deadline);
        bytes32 structHash = keccak256(abi.encode(_CANCEL_TYPEHASH, owner, keyNonce, deadline));
        _checkSigner(owner, _ANY_GUARDIAN, structHash, signature);
        _useCheckedNonce(owner, keyNonce);
        emit NonceCancelled(owner, keyNonce);
    }

    /// @inheritdoc ISignedMessages
    function nonces(address owner, uint192 key)
        public
        view
        virtual
        override(ISignedMessages, NoncesKeyed)
        returns (uint256)
    {
        return super.nonces(owner, key);
    }

    /// @dev Reverts unless `signature` is `signer`'s (or, when `guardianScope != 0`, a guardian's of `signer` whose
    /// scope covers `guardianScope`) signature of the typed message `structHash` in this contract's domain,
    /// `deadline` has not passed, and `keyNonce` carries `expectedKey` and is its current nonce, which it consumes.
    /// @return actor The key that signed: `signer`, or the guardian.
    function _useSignature(
        address signer,
        uint8 guardianScope,
        bytes32 structHash,
        uint256 keyNonce,
        uint192 expectedKey,
        uint256 deadline,
        bytes calldata signature
    ) internal returns (address actor) {
        if (block.timestamp > deadline) revert SignedMessagesExpired(deadline);
        actor = _checkSigner(signer, guardianScope, structHash, signature);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint192 key = uint192(keyNonce >> 64); // the upper 192 bits of a 256-bit value always fit

        if (key != expectedKey) revert SignedMessagesWrongNonceKey(expectedKey, key);
        _useCheckedNonce(signer, keyNonce);
    }

    /// @dev The signature check of `_useSignature`; emits `GuardianActed` when a guardian signed.
    function _checkSigner(address signer, uint8 guardianScope, bytes32 structHash, bytes calldata signature)
        internal
        returns (address actor)
    {
        bytes32 digest = _hashTypedDataV4(structHash);
        if (signer.code.length != 0) {
            if (!SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature)) {
                revert SignedMessagesInvalidSigner(signer, address(0));
            }
            return signer;
        }
        (address recovered, ECDSA.RecoverError error, bytes32 errorArg) = ECDSA.tryRecover(digest, signature);
        // Enum comparisons, not balances or times (Slither's taint reaches them through ResidentRegistry's storage).
        // slither-disable-next-line incorrect-equality
        if (error == ECDSA.RecoverError.InvalidSignatureS) revert SignedMessagesMalleable(errorArg);
        // slither-disable-next-line incorrect-equality
        if (error == ECDSA.RecoverError.InvalidSignatureLength) {
            revert SignedMessagesInvalidLength(uint256(errorArg));
        }
        // `recovered` is zero on any other error, and zero is never a valid signer here.
        if (recovered == address(0)) revert SignedMessagesInvalidSigner(signer, recovered);
        if (recovered == signer) return signer;
        if (guardianScope != 0) {
            uint8 scope = _guardianScope(signer, recovered);
            bool covered =
                guardianScope == _ANY_GUARDIAN ? scope != 0 : scope & guardianScope == guardianScope;
            if (covered) {
                emit GuardianActed(signer, recovered, guardianScope == _ANY_GUARDIAN ? scope : guardianScope);
                return recovered;
            }
        }
        revert SignedMessagesInvalidSigner(signer, recovered);
    }

    /// @dev The scope of `guardian` for `resident` now (0 when none or expired).
    function _guardianScope(address resident, address guardian) internal view virtual returns (uint8);

    /// @dev `uint192(domain) << 160 | uint160(subject)`.
    function _nonceKey(uint8 domain, address subject) internal pure returns (uint192) {
        return (uint192(domain) << 160) | uint192(uint160(subject));
    }

    /// @dev The key of a domain whose subject is a bytes32 (Update, Deletion): its low 160 bits.
    function _nonceKey(uint8 domain, bytes32 subject) internal pure returns (uint192) {
        return (uint192(domain) << 160) | uint192(uint160(uint256(subject)));
    }

    /// @dev Consumes `owner`'s current nonce of `key` (a state change that must kill outstanding signatures).
    function _bumpNonce(address owner, uint192 key) internal {
        _useNonce(owner, key);
    }
}
