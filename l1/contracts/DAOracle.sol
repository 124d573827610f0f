// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// An on-chain light client of the DA chain (specs/12-attestation.md): it holds the validator
// set (its keys in a code-only data contract written once at deployment), accepts every W-th
// header with the validators' BLS certificate checked through the EIP-2537 precompiles, keeps the
// header's tuple_root under the window's nonce, and answers Blobstream's
// IDAOracle.verifyAttestation, so rollup contracts written for Blobstream work unchanged. The
// same state machine in Rust is da-attest's `oracle`; both run the golden vectors of
// specs/vectors/attestation.json.

/// Blobstream's tuple: a height of the DA chain and its header's data_root.
struct DataRootTuple {
    uint256 height;
    bytes32 dataRoot;
}

/// Blobstream's binary Merkle proof: RFC 6962 audit path, siblings leaf level first.
struct BinaryMerkleProof {
    bytes32[] sideNodes;
    uint256 key;
    uint256 numLeaves;
}

/// One field element of a block's square opened against its row: the row's KZG commitment, its
/// proof into the block's data_root (leaf row + 1), the element's index in the row (0..4096), its
/// value and the EIP-4844 proof.
struct ElementOpening {
    bytes commitment;
    BinaryMerkleProof rowProof;
    uint256 position;
    bytes32 value;
    bytes kzgProof;
}

/// A square's shape as its data_root commits to it: leaf 0, the params leaf
/// (u16 k ‖ u32 blobCount ‖ u8 layout version 1), proven at key 0 of the 2k + 1 leaves. Binding k
/// fixes the tree's size, without which an RFC 6962 proof does not bind its key (the last leaf
/// also verifies as key 1 of a two-leaf tree, and so on).
struct SquareParams {
    uint256 k;
    uint256 blobCount;
    BinaryMerkleProof proof;
}

/// Blobstream's Data Availability Oracle interface.
interface IDAOracle {
    function verifyAttestation(uint256 _tupleRootNonce, DataRootTuple memory _tuple, BinaryMerkleProof memory _proof)
        external
        view
        returns (bool);
}

contract DAOracle is IDAOracle {
    /// A validator: its key as an EIP-2537 G1 point (x ‖ y, 64 bytes each) and its power.
    struct Validator {
        bytes32[4] key;
        uint64 power;
    }

    /// Validator `index`'s key is not a canonical point of the G1 subgroup (constructor).
    error BadKey(uint256 index);
    /// No validators, too many for one data contract, a zero power or a total over 2^62.
    error BadValidatorSet();
    /// The header is not 213 bytes of a v2 header (height ≥ 1, zero parent at height 1).
    error BadHeader();
    /// The header belongs to another chain.
    error WrongChain();
    /// The header's height does not end an attestation window.
    error NotWindowEnd(uint64 height, uint64 window);
    /// The window's tuple_root is already stored.
    error AlreadyCommitted(uint256 nonce);
    /// The header's validator-set hash (or its next one) is not this oracle's set.
    error WrongValidatorSet();
    /// The signer bitmap does not fit the validator set.
    error BadBitmap();
    /// The signers hold at most 2/3 of the power.
    error InsufficientPower(uint256 signed, uint256 total);
    /// The aggregate signature does not verify.
    error BadSignature();

    /// A window's tuple_root is stored under `nonce` (= height / window).
    event HeaderCommitted(uint256 indexed nonce, uint64 height, bytes32 tupleRoot);

    uint256 private constant HEADER_LEN = 213;
    // The scalar field modulus r and the 4096th root of unity 7^((r - 1) / 4096) of EIP-4844.
    uint256 private constant BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    uint256 private constant ROOT_4096 = 0x564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306;
    // Versioned hash of a KZG commitment: 0x01 ‖ SHA-256(commitment)[1:].
    bytes32 private constant VERSIONED_MASK = 0x00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff;
    bytes32 private constant VERSIONED_KZG = 0x0100000000000000000000000000000000000000000000000000000000000000;
    // Bytes per validator in the data contract: x (48) ‖ y (48) ‖ u64 power (8).
    uint256 private constant ENTRY = 104;
    // Most validators one data contract holds (EIP-170: 24 576 bytes of code, one 0x00 first).
    uint256 private constant MAX_VALIDATORS = 236;
    // BLS12-381 base field modulus p, as an EIP-2537 element (two words, 16 leading zero bytes).
    uint256 private constant P_HI = 0x000000000000000000000000000000001a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    // (p - 1) / 2: a y above it is the "larger" root (the 0x20 flag of compressed keys).
    uint256 private constant HALF_HI = 0x000000000000000000000000000000000d0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant HALF_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;
    // The G1 generator, negated: (x, p - y).
    uint256 private constant G1_X_HI = 0x0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0f;
    uint256 private constant G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 private constant G1_NEG_Y_HI = 0x00000000000000000000000000000000114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 private constant G1_NEG_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;
    // The signature ciphersuite's domain separation tag, 43 bytes, and its length byte: DST'.
    bytes32 private constant DST_A = "BLS_SIG_BLS12381G2_XMD:SHA-256_";
    bytes32 private constant DST_B = "SSWU_RO_POP_+"; // "+" = 0x2b = 43, I2OSP(len(DST), 1)
    // Precompiles (called from assembly): 0x02 SHA-256, 0x05 MODEXP, 0x0a POINT_EVALUATION,
    // 0x0b BLS12_G1ADD, 0x0c BLS12_G1MSM, 0x0d BLS12_G2ADD, 0x0f BLS12_PAIRING_CHECK,
    // 0x11 BLS12_MAP_FP2_TO_G2.

    /// SHA-256 of the DA chain's id.
    bytes32 public immutable chain;
    /// Heights per attestation window (the genesis attestation_window).
    uint64 public immutable window;
    /// The chain's hash of the validator set (specs/05-header.md §Validator set).
    bytes32 public immutable validatorSetHash;
    /// Number of validators.
    uint256 public immutable validatorCount;
    /// Their total power.
    uint256 public immutable totalPower;
    /// The code-only contract holding the set: 0x00 ‖ (x ‖ y ‖ u64 power) per validator.
    address public immutable validatorData;
    /// tuple_root per nonce.
    mapping(uint256 => bytes32) public tupleRoots;

    /// An oracle of the chain `chain_` attesting every `window_` heights, trusting the validator
    /// set `validators` (canonical order, as the chain's genesis lists it sorted).
    constructor(bytes32 chain_, uint64 window_, Validator[] memory validators) {
        require(window_ > 0, "window");
        uint256 n = validators.length;
        if (n == 0 || n > MAX_VALIDATORS) revert BadValidatorSet();
        // 32 bytes of slack each: the word-wide stores below may run past an entry's end.
        bytes memory hashed = new bytes(23 + 56 * n + 32);
        bytes memory data = new bytes(1 + ENTRY * n + 32);
        bytes32 domain = "da/validator-set/v2";
        assembly {
            let p := add(hashed, 32)
            mstore(p, domain)
            mstore(add(p, 19), shl(224, n))
        }
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            Validator memory v = validators[i];
            if (v.power == 0) revert BadValidatorSet();
            total += v.power;
            if (!_inG1(v.key)) revert BadKey(i);
            uint256 xHi = uint256(v.key[0]);
            uint256 xLo = uint256(v.key[1]);
            uint256 yHi = uint256(v.key[2]);
            uint256 yLo = uint256(v.key[3]);
            bool larger = yHi > HALF_HI || (yHi == HALF_HI && yLo > HALF_LO);
            uint256 first = xHi | ((larger ? uint256(0xa0) : uint256(0x80)) << 120);
            uint256 power = v.power;
            assembly {
                let q := add(add(hashed, 55), mul(i, 56))
                mstore(q, shl(128, first))
                mstore(add(q, 16), xLo)
                mstore(add(q, 48), shl(192, power))
                let d := add(add(data, 33), mul(i, 104))
                mstore(d, shl(128, xHi))
                mstore(add(d, 16), xLo)
                mstore(add(d, 48), shl(128, yHi))
                mstore(add(d, 64), yLo)
                mstore(add(d, 96), shl(192, power))
            }
        }
        if (total > 1 << 62) revert BadValidatorSet();
        assembly {
            mstore(hashed, add(23, mul(56, n)))
            mstore(data, add(1, mul(ENTRY, n)))
        }
        // Init code: PUSH2 size, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN; then the code.
        bytes memory init = abi.encodePacked(hex"61", uint16(data.length), hex"80600c6000396000f3", data);
        address pointer;
        assembly {
            pointer := create(0, add(init, 32), mload(init))
        }
        require(pointer != address(0), "validator data");
        chain = chain_;
        window = window_;
        validatorSetHash = sha256(hashed);
        validatorCount = n;
        totalPower = total;
        validatorData = pointer;
    }

    /// Checks a window's last header and its certificate (round, signer bitmap in validator
    /// order, aggregate signature as an EIP-2537 G2 point) and stores the header's tuple_root
    /// under nonce height / window.
    function commitHeader(bytes calldata header, uint32 round, bytes calldata signers, bytes calldata signature)
        external
        returns (uint256 nonce)
    {
        if (header.length != HEADER_LEN || uint8(header[0]) != 2) revert BadHeader();
        uint64 height = uint64(bytes8(header[33:41]));
        if (height == 0 || (height == 1 && bytes32(header[41:73]) != 0)) revert BadHeader();
        bytes32 headerChain = bytes32(header[1:33]);
        if (headerChain != chain) revert WrongChain();
        uint64 w = window;
        if (height % w != 0) revert NotWindowEnd(height, w);
        nonce = height / w;
        if (tupleRoots[nonce] != 0) revert AlreadyCommitted(nonce);
        if (bytes32(header[85:117]) != validatorSetHash || bytes32(header[117:149]) != validatorSetHash) {
            revert WrongValidatorSet();
        }
        uint256 n = validatorCount;
        if (signers.length != (n + 7) / 8) revert BadBitmap();
        if (n % 8 != 0 && (uint8(signers[signers.length - 1]) >> (n % 8)) != 0) revert BadBitmap();
        (uint256 signed, bytes memory key) = _signers(signers, n);
        if (3 * signed <= 2 * totalPower) revert InsufficientPower(signed, totalPower);

        bytes32 id = sha256(abi.encodePacked("da/header/v2", header));
        bytes memory message = abi.encodePacked("da/vote/v2", uint8(2), headerChain, height, round, uint8(1), id);
        if (signature.length != 256 || !_verify(key, message, signature)) revert BadSignature();

        bytes32 tupleRoot = bytes32(header[181:213]);
        tupleRoots[nonce] = tupleRoot;
        emit HeaderCommitted(nonce, height, tupleRoot);
    }

    /// @inheritdoc IDAOracle
    function verifyAttestation(uint256 _tupleRootNonce, DataRootTuple memory _tuple, BinaryMerkleProof memory _proof)
        external
        view
        returns (bool)
    {
        return _attested(_tupleRootNonce, _tuple, _proof);
    }

    /// Whether `opening.value` is element `opening.position` (0..4096) of row
    /// `opening.rowProof.key - 1` (< 2k) of the block whose data_root is in `tuple`, and `tuple`
    /// is in the attested window `nonce`: the tuple proof, the square's params leaf, the RFC 6962
    /// proof of the row's commitment in data_root (a row leaf of the 2k + 1), and the EIP-4844
    /// point-evaluation precompile at z = w^brp(position), w the 4096th root of unity.
    function verifyFieldElement(
        uint256 nonce,
        DataRootTuple memory tuple,
        BinaryMerkleProof memory tupleProof,
        SquareParams memory params,
        ElementOpening memory opening
    ) external view returns (bool) {
        if (opening.rowProof.key == 0 || !_attested(nonce, tuple, tupleProof)) return false;
        if (!_shape(tuple.dataRoot, params) || opening.rowProof.key > 2 * params.k) return false;
        return _opens(tuple.dataRoot, params.k, opening, opening.rowProof.key - 1, opening.position);
    }

    /// Whether element `element` of the blob `blobId` (its payload bytes [31e, 31e + 31), bytes
    /// 1..32 of the last opening's value) is published in the block whose data_root is in
    /// `tuple`, attested under `nonce`, whose square has `params`. `openings` are the square's
    /// original elements (rows < k), each opened as in
    /// verifyFieldElement: element 0 (the index's entry count), the elements holding index entry
    /// `entry` (payload bytes [4 + 69·entry, 73 + 69·entry) of the index: elements
    /// (4 + 69·entry)/31 ..= (72 + 69·entry)/31, element 0 not repeated), then the blob's element
    /// at 64·first_cell + element. Square element n is element n mod 4096 of row n / 4096.
    /// True iff every opening verifies at its place, entry < count, the entry's blob id is
    /// `blobId` and element < ceil(len / 31).
    function verifyBlobElement(
        uint256 nonce,
        DataRootTuple memory tuple,
        BinaryMerkleProof memory tupleProof,
        SquareParams memory params,
        bytes32 blobId,
        uint256 entry,
        uint256 element,
        ElementOpening[] memory openings
    ) external view returns (bool) {
        if (entry >= 1 << 32 || element >= 1 << 32 || !_attested(nonce, tuple, tupleProof)) return false;
        bytes32 root = tuple.dataRoot;
        if (!_shape(root, params)) return false;
        uint256 k = params.k;
        uint256 lo = (4 + 69 * entry) / 31;
        uint256 hi = (72 + 69 * entry) / 31;
        uint256 first = lo == 0 ? 0 : 1;
        if (openings.length != first + hi - lo + 2 || !_opens(root, k, openings[0], 0, 0)) return false;
        // The index: u32 count, then 69-byte entries namespace (29) ‖ blob id (32) ‖ u32 first_cell
        // ‖ u32 len; payload bytes are bytes 1..32 of each element.
        if (entry >= uint256(uint32(bytes4(openings[0].value << 8)))) return false;
        bytes memory payload = new bytes(31 * (hi - lo + 1) + 1);
        for (uint256 n = lo; n <= hi; ++n) {
            ElementOpening memory o = openings[first + n - lo];
            if (n != 0 && (n / 4096 >= k || !_opens(root, k, o, n / 4096, n % 4096))) return false;
            bytes32 v = o.value << 8;
            uint256 at = 31 * (n - lo);
            assembly {
                mstore(add(add(payload, 32), at), v)
            }
        }
        uint256 off = 4 + 69 * entry - 31 * lo + 29;
        bytes32 id;
        uint256 firstCell;
        uint256 len;
        assembly {
            let p := add(add(payload, 32), off)
            id := mload(p)
            firstCell := shr(224, mload(add(p, 32)))
            len := shr(224, mload(add(p, 36)))
        }
        if (id != blobId || element >= (len + 30) / 31) return false;
        uint256 g = 64 * firstCell + element;
        if (g / 4096 >= k) return false;
        return _opens(root, k, openings[openings.length - 1], g / 4096, g % 4096);
    }

    /// Blobstream's attestation check, with the tuple's place in the window enforced.
    function _attested(uint256 _tupleRootNonce, DataRootTuple memory _tuple, BinaryMerkleProof memory _proof)
        private
        view
        returns (bool)
    {
        bytes32 root = tupleRoots[_tupleRootNonce];
        if (root == 0 || _tuple.height == 0) return false;
        uint256 w = window;
        if ((_tuple.height - 1) / w + 1 != _tupleRootNonce) return false;
        uint256 first = (_tupleRootNonce - 1) * w + 1;
        if (_proof.key != _tuple.height - first || _proof.numLeaves != w) return false;
        return verifyMerkle(root, _proof, abi.encode(_tuple));
    }

    /// Whether `params` is the params leaf of `dataRoot`'s tree: k a power of two in 1..256,
    /// the leaf at key 0 of 2k + 1 leaves (a key-0 proof binds its leaf whatever the size it
    /// claims: every sibling is a right sibling, so it retraces the tree's left edge).
    function _shape(bytes32 dataRoot, SquareParams memory params) private view returns (bool) {
        uint256 k = params.k;
        if (k == 0 || k > 256 || k & (k - 1) != 0 || params.blobCount >= 1 << 32) return false;
        BinaryMerkleProof memory p = params.proof;
        if (p.key != 0 || p.numLeaves != 2 * k + 1) return false;
        return verifyMerkle(dataRoot, p, abi.encodePacked(uint16(k), uint32(params.blobCount), uint8(1)));
    }

    /// Whether `o` opens element `position` of row `row` of the square of `k` original rows
    /// whose data_root is `dataRoot`: its place, its commitment at leaf row + 1 of the 2k + 1,
    /// then the point evaluation.
    function _opens(bytes32 dataRoot, uint256 k, ElementOpening memory o, uint256 row, uint256 position)
        private
        view
        returns (bool)
    {
        bytes memory commitment = o.commitment;
        bytes memory kzgProof = o.kzgProof;
        if (
            commitment.length != 48 || kzgProof.length != 48 || position >= 4096 || o.position != position
                || o.rowProof.key != row + 1 || o.rowProof.numLeaves != 2 * k + 1
        ) {
            return false;
        }
        if (!verifyMerkle(dataRoot, o.rowProof, commitment)) return false;
        uint256 e = 0;
        for (uint256 i = 0; i < 12; ++i) {
            e = (e << 1) | ((position >> i) & 1);
        }
        bytes32 versioned = (sha256(commitment) & VERSIONED_MASK) | VERSIONED_KZG;
        bytes32 value = o.value;
        bool ok;
        uint256 z;
        uint256 elements;
        assembly {
            let m := mload(0x40)
            // z = ROOT_4096^e mod r (MODEXP, 32-byte operands).
            mstore(m, 32)
            mstore(add(m, 32), 32)
            mstore(add(m, 64), 32)
            mstore(add(m, 96), ROOT_4096)
            mstore(add(m, 128), e)
            mstore(add(m, 160), BLS_MODULUS)
            ok := staticcall(gas(), 0x05, m, 192, m, 32)
            z := mload(m)
            // Point evaluation: versioned hash ‖ z ‖ y ‖ commitment ‖ proof (192 bytes).
            mstore(m, versioned)
            mstore(add(m, 32), z)
            mstore(add(m, 64), value)
            mcopy(add(m, 96), add(commitment, 32), 48)
            mcopy(add(m, 144), add(kzgProof, 32), 48)
            ok := and(ok, staticcall(gas(), 0x0a, m, 192, m, 64))
            elements := mload(m)
        }
        return ok && elements == 4096;
    }

    /// Whether `proof` puts `leaf` at `proof.key` of an RFC 6962 SHA-256 tree of
    /// `proof.numLeaves` leaves with root `root` (RFC 9162 §2.1.3.2; the tree of Blobstream's
    /// BinaryMerkleTree and of our data_root).
    function verifyMerkle(bytes32 root, BinaryMerkleProof memory proof, bytes memory leaf)
        public
        view
        returns (bool)
    {
        uint256 fn = proof.key;
        uint256 sn = proof.numLeaves;
        if (fn >= sn) return false;
        sn -= 1;
        bytes32 r = sha256(abi.encodePacked(uint8(0), leaf));
        bytes32[] memory side = proof.sideNodes;
        for (uint256 i = 0; i < side.length; ++i) {
            if (sn == 0) return false;
            bytes32 s = side[i];
            bool left = fn & 1 == 1 || fn == sn;
            assembly {
                // SHA-256(0x01 ‖ a ‖ b) in scratch memory: left sibling first when `left`.
                let ptr := mload(0x40)
                mstore8(ptr, 1)
                switch left
                case 1 {
                    mstore(add(ptr, 1), s)
                    mstore(add(ptr, 33), r)
                }
                default {
                    mstore(add(ptr, 1), r)
                    mstore(add(ptr, 33), s)
                }
                if iszero(staticcall(gas(), 0x02, ptr, 65, ptr, 32)) { revert(0, 0) }
                r := mload(ptr)
            }
            if (left) {
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }

    /// hash_to_curve(message) in G2 under the signature DST (RFC 9380,
    /// BLS12381G2_XMD:SHA-256_SSWU_RO_), as an EIP-2537 G2 point: expand_message_xmd to 256
    /// bytes, four base-field elements reduced mod p, each Fp2 element mapped by the precompile
    /// (which clears the cofactor), the two points added.
    function hashToG2(bytes memory message) public view returns (bytes memory point) {
        point = new bytes(256);
        uint256 len = message.length;
        assembly {
            let ok := 1
            let buf := mload(0x40)
            // b0 = H(Z_pad(64) ‖ msg ‖ I2OSP(256, 2) ‖ 0x00 ‖ DST').
            mstore(buf, 0)
            mstore(add(buf, 32), 0)
            mcopy(add(buf, 64), add(message, 32), len)
            let t := add(add(buf, 64), len)
            mstore(t, shl(240, 0x0100))
            mstore8(add(t, 2), 0)
            mstore(add(t, 3), DST_A)
            mstore(add(t, 34), DST_B)
            ok := and(ok, staticcall(gas(), 0x02, buf, add(len, 111), buf, 32))
            let b0 := mload(buf)
            // b1..b8 at u (8 words), each H((b0 ^ b_{i-1}) ‖ I2OSP(i, 1) ‖ DST'), b_0' = 0.
            let u := add(buf, 128)
            let prev := 0
            for { let i := 1 } lt(i, 9) { i := add(i, 1) } {
                mstore(buf, xor(b0, prev))
                mstore8(add(buf, 32), i)
                mstore(add(buf, 33), DST_A)
                mstore(add(buf, 64), DST_B)
                ok := and(ok, staticcall(gas(), 0x02, buf, 77, add(u, mul(sub(i, 1), 32)), 32))
                prev := mload(add(u, mul(sub(i, 1), 32)))
            }
            // e_j = (b_{2j+1} ‖ b_{2j+2}) mod p, in place as 64-byte EIP-2537 elements.
            let m := add(u, 256)
            mstore(m, 64)
            mstore(add(m, 32), 1)
            mstore(add(m, 64), 64)
            for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                let e := add(u, mul(j, 64))
                mcopy(add(m, 96), e, 64)
                mstore8(add(m, 160), 1)
                mstore(add(m, 161), P_HI)
                mstore(add(m, 193), P_LO)
                ok := and(ok, staticcall(gas(), 0x05, m, 225, e, 64))
            }
            // Q0 = map(e0, e1), Q1 = map(e2, e3), H = Q0 + Q1.
            let q := add(u, 512)
            ok := and(ok, staticcall(gas(), 0x11, u, 128, q, 256))
            ok := and(ok, staticcall(gas(), 0x11, add(u, 128), 128, add(q, 256), 256))
            ok := and(ok, staticcall(gas(), 0x0d, q, 512, add(point, 32), 256))
            if iszero(ok) { revert(0, 0) }
        }
    }

    /// Whether `key` is a canonical EIP-2537 encoding of a point of the G1 subgroup other than
    /// infinity (BLS12_G1MSM checks encoding, curve and subgroup; the key times 1 is itself).
    function _inG1(bytes32[4] memory key) private view returns (bool ok) {
        assembly {
            let ptr := mload(0x40)
            mcopy(ptr, key, 128)
            mstore(add(ptr, 128), 1)
            ok := staticcall(gas(), 0x0c, ptr, 160, ptr, 128)
            // The identity (all zeros) is a valid point but not a key.
            if and(ok, iszero(or(or(mload(ptr), mload(add(ptr, 32))), or(mload(add(ptr, 64)), mload(add(ptr, 96)))))) {
                ok := 0
            }
        }
    }

    /// The signers' power and the sum of their keys (EIP-2537 G1 additions), read from the data
    /// contract in one copy.
    function _signers(bytes calldata signers, uint256 n) private view returns (uint256 signed, bytes memory acc) {
        acc = new bytes(128);
        bytes memory keys = new bytes(ENTRY * n);
        address data = validatorData;
        assembly {
            extcodecopy(data, add(keys, 32), 1, mul(ENTRY, n))
        }
        bool any = false;
        bool ok = true;
        for (uint256 i = 0; i < n; ++i) {
            if ((uint8(signers[i >> 3]) >> (i & 7)) & 1 == 0) continue;
            assembly {
                let e := add(add(keys, 32), mul(i, ENTRY))
                signed := add(signed, shr(192, mload(add(e, 96))))
                let ptr := mload(0x40)
                // ptr: acc (128) ‖ key (128), the key padded to EIP-2537.
                mcopy(ptr, add(acc, 32), 128)
                mstore(add(ptr, 128), 0)
                mcopy(add(ptr, 144), e, 48)
                mstore(add(ptr, 192), 0)
                mcopy(add(ptr, 208), add(e, 48), 48)
                switch any
                case 0 { mcopy(add(acc, 32), add(ptr, 128), 128) }
                default { ok := and(ok, staticcall(gas(), 0x0b, ptr, 256, add(acc, 32), 128)) }
            }
            any = true;
        }
        if (!ok) revert BadSignature();
    }

    /// e(key, H(message)) == e(g1, signature), as one pairing check with -g1.
    function _verify(bytes memory key, bytes memory message, bytes calldata signature) private view returns (bool) {
        bytes memory h = hashToG2(message);
        bool ok;
        uint256 result;
        assembly {
            let p := mload(0x40)
            mcopy(p, add(key, 32), 128)
            mcopy(add(p, 128), add(h, 32), 256)
            mstore(add(p, 384), G1_X_HI)
            mstore(add(p, 416), G1_X_LO)
            mstore(add(p, 448), G1_NEG_Y_HI)
            mstore(add(p, 480), G1_NEG_Y_LO)
            calldatacopy(add(p, 512), signature.offset, 256)
            ok := staticcall(gas(), 0x0f, p, 768, p, 32)
            result := mload(p)
        }
        return ok && result == 1;
    }
}
