// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title NaiveHealthRecords
/// @notice The benchmark's baseline: the shape most Ethereum + IPFS health-record projects take, written
/// idiomatically and without deliberate waste. A patient registers by storing their public key and the CID of
/// their profile; a doctor asks to be the patient's doctor and the patient approves; access is a boolean per
/// (patient, accessor) pair; every record is one transaction that pushes a struct holding the CID as a string
/// onto the patient's array; a re-encrypted key for a grantee is published by storing its CID.
/// @dev Not part of famchain. It has no consortium, no sections, no purposes, no expiry and no exactly-once
/// anchoring: it is what famchain is measured against, so it is kept as small as that design allows.
contract NaiveHealthRecords {
    struct Patient {
        bytes publicKey;
        string profileCid;
        address doctor;
        bool registered;
    }

    struct Record {
        string cid;
        address doctor;
        uint256 timestamp;
    }

    mapping(address patient => Patient) public patients;
    mapping(address doctor => mapping(address patient => bool)) public doctorRequests;
    mapping(address patient => mapping(address accessor => bool)) public access;
    mapping(address patient => Record[]) private _records;
    mapping(address patient => mapping(address grantee => string)) public sharedKeys;
    mapping(address patient => uint256) public nonces;

    event PatientRegistered(address indexed patient);
    event DoctorRequested(address indexed patient, address indexed doctor);
    event DoctorApproved(address indexed patient, address indexed doctor);
    event AccessGranted(address indexed patient, address indexed accessor);
    event AccessRevoked(address indexed patient, address indexed accessor);
    event RecordAdded(address indexed patient, address indexed doctor, uint256 index, string cid);
    event KeyShared(address indexed patient, address indexed grantee, string keyCid);

    error NotRegistered(address patient);
    error NotAuthorized(address patient, address accessor);
    error NoRequest(address patient, address doctor);
    error BadSignature(address patient);

    modifier onlyRegistered(address patient) {
        if (!patients[patient].registered) revert NotRegistered(patient);
        _;
    }

    function register(bytes calldata publicKey, string calldata profileCid) external {
        Patient storage p = patients[msg.sender];
        p.publicKey = publicKey;
        p.profileCid = profileCid;
        p.registered = true;
        emit PatientRegistered(msg.sender);
    }

    function requestDoctor(address patient) external onlyRegistered(patient) {
        doctorRequests[msg.sender][patient] = true;
        emit DoctorRequested(patient, msg.sender);
    }

    function approveDoctor(address doctor) external onlyRegistered(msg.sender) {
        if (!doctorRequests[doctor][msg.sender]) revert NoRequest(msg.sender, doctor);
        doctorRequests[doctor][msg.sender] = false;
        patients[msg.sender].doctor = doctor;
        access[msg.sender][doctor] = true;
        emit DoctorApproved(msg.sender, doctor);
    }

    function grantAccess(address accessor) external onlyRegistered(msg.sender) {
        access[msg.sender][accessor] = true;
        emit AccessGranted(msg.sender, accessor);
    }

    /// @notice Grant relayed by anyone with the patient's `personal_sign` signature over
    /// `keccak256(abi.encodePacked(this, patient, accessor, nonce))`.
    function grantAccessWithSig(address patient, address accessor, bytes calldata signature)
        external
        onlyRegistered(patient)
    {
        bytes32 hash = keccak256(abi.encodePacked(address(this), patient, accessor, nonces[patient]));
        bytes32 message = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", hash));
        if (signature.length != 65) revert BadSignature(patient);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (ecrecover(message, v, r, s) != patient) revert BadSignature(patient);
        nonces[patient]++;
        access[patient][accessor] = true;
        emit AccessGranted(patient, accessor);
    }

    function revokeAccess(address accessor) external {
        access[msg.sender][accessor] = false;
        emit AccessRevoked(msg.sender, accessor);
    }

    function addRecord(address patient, string calldata cid) external onlyRegistered(patient) {
        if (!isAuthorized(patient, msg.sender)) revert NotAuthorized(patient, msg.sender);
        _records[patient].push(Record(cid, msg.sender, block.timestamp));
        emit RecordAdded(patient, msg.sender, _records[patient].length - 1, cid);
    }

    function shareKey(address grantee, string calldata keyCid) external onlyRegistered(msg.sender) {
        if (!access[msg.sender][grantee]) revert NotAuthorized(msg.sender, grantee);
        sharedKeys[msg.sender][grantee] = keyCid;
        emit KeyShared(msg.sender, grantee, keyCid);
    }

    function isAuthorized(address patient, address accessor) public view returns (bool) {
        return patient == accessor || access[patient][accessor];
    }

    function recordCount(address patient) external view returns (uint256) {
        return _records[patient].length;
    }

    function getRecord(address patient, uint256 index) external view returns (Record memory) {
        if (!isAuthorized(patient, msg.sender)) revert NotAuthorized(patient, msg.sender);
        return _records[patient][index];
    }
}
