// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

/// @title ISignedMessages
/// @notice Errors and views shared by every famchain contract that accepts EIP-712 messages signed by a resident
/// (ResidentRegistry, ConsentRegistry, RecordRegistry). Each such contract has its own EIP-712 domain
/// (`name` = `"famchain <Contract>"`, `version` = `"1"`, chain id, contract address, exposed through ERC-5267
/// `eip712Domain()`) and one sequential nonce per signer shared by all its message types.
/// @dev Checks run in this order: deadline, signature, nonce. An EOA signer is recovered with ECDSA (65-byte
/// signatures, low-s only); a signer with code is asked through ERC-1271.
interface ISignedMessages is IERC5267 {
    /// @notice The signed message's deadline has passed (`block.timestamp > deadline`).
    error SignedMessagesExpired(uint256 deadline);

    /// @notice The ECDSA signature has an `s` value in the upper half of the curve order (a malleable twin).
    error SignedMessagesMalleable(bytes32 s);

    /// @notice The ECDSA signature is not 65 bytes long.
    error SignedMessagesInvalidLength(uint256 length);

    /// @notice The signature does not belong to `expected`: another key, another chain id or another deployment
    /// signed it (`recovered`), or the ERC-1271 wallet `expected` refused it (`recovered == address(0)`).
    error SignedMessagesInvalidSigner(address expected, address recovered);

    /// @notice The next nonce `owner` must sign; each accepted signature consumes exactly this value.
    /// @param owner The signer.
    /// @return The next unused nonce of `owner`.
    function nonces(address owner) external view returns (uint256);
}
