// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {ISignedMessages} from "../interfaces/ISignedMessages.sol";

/// @title SignedMessages
/// @notice EIP-712 verification shared by the famchain contracts: deadline, then signature (ECDSA for an EOA,
/// ERC-1271 for a signer with code), then the signer's sequential nonce. Every failure has its own error.
abstract contract SignedMessages is ISignedMessages, EIP712, Nonces {
    constructor(string memory name) EIP712(name, "1") {}

    /// @inheritdoc ISignedMessages
    function nonces(address owner) public view virtual override(ISignedMessages, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @dev Reverts unless `signature` is `signer`'s signature of the typed message `structHash` in this
    /// contract's domain, `deadline` has not passed and `nonce` is `signer`'s next nonce, which it consumes.
    function _useSignature(
        address signer,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) internal {
        if (block.timestamp > deadline) revert SignedMessagesExpired(deadline);
        bytes32 digest = _hashTypedDataV4(structHash);
        if (signer.code.length == 0) {
            (address recovered, ECDSA.RecoverError error, bytes32 errorArg) =
                ECDSA.tryRecover(digest, signature);
            if (error == ECDSA.RecoverError.InvalidSignatureS) revert SignedMessagesMalleable(errorArg);
            if (error == ECDSA.RecoverError.InvalidSignatureLength) {
                revert SignedMessagesInvalidLength(uint256(errorArg));
            }
            // `recovered` is zero on any other error, and zero is never a valid signer here.
            if (recovered != signer || recovered == address(0)) {
                revert SignedMessagesInvalidSigner(signer, recovered);
            }
        } else if (!SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature)) {
            revert SignedMessagesInvalidSigner(signer, address(0));
        }
        _useCheckedNonce(signer, nonce);
    }
}
