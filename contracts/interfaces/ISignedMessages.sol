// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

/// @title ISignedMessages
/// @notice Errors, events and functions shared by every famchain contract that accepts EIP-712 messages
/// (Consortium, ResidentRegistry, ConsentRegistry, RecordRegistry, EmergencyAccess). Each has its own EIP-712
/// domain (`name` = `"famchain <Contract>"`, `version` = `"1"`, chain id, contract address, exposed through
/// ERC-5267 `eip712Domain()`).
///
/// Nonces are OpenZeppelin keyed nonces (`NoncesKeyed`): a signed message's `nonce` is the full 256-bit value
/// `key << 64 | sequence`, and every message type requires the key of what it signs,
/// `key = uint192(domain) << 160 | uint160(subject)`:
/// `1 Registration` (subject 0), `2 Agreement` (the doctor), `3 Consent` (the grantee), `4 Update`
/// (`uint160(uint256(previous))`), `5 KeyRelease` (the grantee), `6 Guardian` (the guardian), `7 Profile`
/// (subject 0), `8 Deletion` (`uint160(uint256(recordId))`, 0 = the whole card), `9 Emergency` (subject 0),
/// `10 Enrollment` (the institution). Signatures for unrelated things use different keys and can be used in any
/// order; two for the same thing are ordered, so using (or cancelling) one kills the other.
///
/// A resident's guardian may sign in the resident's place for the actions its scope covers (`CONSENT 0x01`,
/// `AGREEMENT 0x02`, `RECORDS 0x04`, `EMERGENCY 0x08`, `READ 0x10`, `PROFILE 0x20`); the contract then emits
/// `GuardianActed` in the same transaction as the action's own event. A guardian with any scope may sign a
/// `Cancel`.
/// @dev Checks run in this order: deadline, signature (ECDSA for a signer without code: 65 bytes, low-s; the
/// resident's guardian when the recovered key is not the signer's; ERC-1271 for a signer with code, without the
/// guardian path), nonce key, nonce. Type string of the cancel message:
/// `Cancel(address owner,uint256 keyNonce,uint256 deadline)`.
interface ISignedMessages is IERC5267 {
    /// @notice The signed message's deadline has passed (`block.timestamp > deadline`).
    error SignedMessagesExpired(uint256 deadline);

    /// @notice The ECDSA signature has an `s` value in the upper half of the curve order (a malleable twin).
    error SignedMessagesMalleable(bytes32 s);

    /// @notice The ECDSA signature is not 65 bytes long.
    error SignedMessagesInvalidLength(uint256 length);

    /// @notice The signature belongs neither to `expected` nor to a guardian of `expected` whose scope covers the
    /// action: another key, another chain id or another deployment signed it (`recovered`), or the ERC-1271 wallet
    /// `expected` refused it (`recovered == address(0)`).
    error SignedMessagesInvalidSigner(address expected, address recovered);

    /// @notice The nonce's key is `got`, but what is signed requires `expected`.
    error SignedMessagesWrongNonceKey(uint192 expected, uint192 got);

    /// @notice `guardian` signed for `resident` with a scope covering `scope` (the action's own event is in the
    /// same transaction).
    event GuardianActed(address indexed resident, address indexed guardian, uint8 scope);

    /// @notice `owner` consumed the keyed nonce `keyNonce` without using it: every signature made with it is dead.
    event NonceCancelled(address indexed owner, uint256 keyNonce);

    /// @notice Consumes the caller's keyed nonce `keyNonce`, which must be the current one of its key.
    /// Caller: the signer whose outstanding signature must die.
    /// @param keyNonce `key << 64 | sequence`, as `nonces(owner, key)` returns it.
    function cancelNonce(uint256 keyNonce) external;

    /// @notice Same as `cancelNonce`, on `owner`'s (or any of `owner`'s guardians') `Cancel` signature. The
    /// message consumes the nonce it names, so it needs no nonce of its own. Caller: anyone.
    function cancelNonceWithSig(address owner, uint256 keyNonce, uint256 deadline, bytes calldata signature)
        external;

    /// @notice The next keyed nonce of `owner` for `key` (the key in the upper 192 bits).
    function nonces(address owner, uint192 key) external view returns (uint256);
}
