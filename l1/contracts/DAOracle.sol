// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// An on-chain light client of the DA chain (specs/12-attestation.md): it stores the hash of the
// validator set, accepts every W-th header with the validators' BLS certificate checked through
// the EIP-2537 precompiles, keeps the header's tuple_root under the window's nonce, and answers
// Blobstream's IDAOracle.verifyAttestation, so rollup contracts written for Blobstream work
// unchanged. The same state machine in Rust is da-attest's `oracle`; both run the golden
// vectors of specs/vectors/attestation.json.

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

    /// The header is not 213 bytes of a v2 header (height ≥ 1, zero parent at height 1).
    error BadHeader();
    /// The header belongs to another chain.
    error WrongChain();
    /// The header's height does not end an attestation window.
    error NotWindowEnd(uint64 height, uint64 window);
    /// The header is not above the last committed one.
    error StaleHeight(uint64 height, uint64 last);
    /// The header's or the supplied validators' hash is not the stored set hash.
    error WrongValidatorSet();
    /// The signer bitmap does not fit the validator set.
    error BadBitmap();
    /// The signers hold at most 2/3 of the power.
    error InsufficientPower(uint256 signed, uint256 total);
    /// A point is invalid or the aggregate signature does not verify.
    error BadSignature();

    /// A window's tuple_root is stored under `nonce` (= height / window).
    event HeaderCommitted(uint256 indexed nonce, uint64 height, bytes32 tupleRoot);

    uint256 private constant HEADER_LEN = 213;
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
    uint256 private constant MASK_128 = 0xffffffffffffffffffffffffffffffff;
    // The signature ciphersuite's domain separation tag (43 bytes).
    bytes private constant DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

    // Precompiles called from assembly: 0x02 SHA-256 (through sha256()), 0x05 MODEXP,
    // 0x0b BLS12_G1ADD, 0x0d BLS12_G2ADD, 0x0f BLS12_PAIRING_CHECK, 0x11 BLS12_MAP_FP2_TO_G2.

    /// SHA-256 of the DA chain's id.
    bytes32 public immutable chain;
    /// Heights per attestation window (the genesis attestation_window).
    uint64 public immutable window;
    /// Hash of the validator set that certifies the next window.
    bytes32 public validatorSetHash;
    /// Height of the last committed header.
    uint64 public lastHeight;
    /// tuple_root per nonce.
    mapping(uint256 => bytes32) public tupleRoots;

    constructor(bytes32 chain_, uint64 window_, bytes32 validatorSetHash_) {
        require(window_ > 0, "window");
        chain = chain_;
        window = window_;
        validatorSetHash = validatorSetHash_;
    }

    /// Checks a window's last header and its certificate (round, signer bitmap, aggregate
    /// signature as an EIP-2537 G2 point) against the stored validator set, given in full in
    /// canonical order, and stores the header's tuple_root under nonce height / window.
    function commitHeader(
        bytes calldata header,
        uint32 round,
        bytes calldata signers,
        bytes calldata signature,
        Validator[] calldata validators
    ) external returns (uint256 nonce) {
        if (header.length != HEADER_LEN || uint8(header[0]) != 2) revert BadHeader();
        uint64 height = uint64(bytes8(header[33:41]));
        if (height == 0 || (height == 1 && bytes32(header[41:73]) != 0)) revert BadHeader();
        bytes32 headerChain = bytes32(header[1:33]);
        if (headerChain != chain) revert WrongChain();
        uint64 w = window;
        if (height % w != 0) revert NotWindowEnd(height, w);
        uint64 last = lastHeight;
        if (height <= last) revert StaleHeight(height, last);
        bytes32 setHash = validatorSetHash;
        if (bytes32(header[85:117]) != setHash || _setHash(validators) != setHash) {
            revert WrongValidatorSet();
        }
        uint256 n = validators.length;
        if (signers.length != (n + 7) / 8) revert BadBitmap();
        if (n % 8 != 0 && (uint8(signers[signers.length - 1]) >> (n % 8)) != 0) revert BadBitmap();
        (uint256 signed, uint256 total) = _power(signers, validators);
        if (3 * signed <= 2 * total) revert InsufficientPower(signed, total);

        bytes32 id = sha256(abi.encodePacked("da/header/v2", header));
        bytes memory message = abi.encodePacked("da/vote/v2", uint8(2), headerChain, height, round, uint8(1), id);
        if (signature.length != 256 || !_verify(_aggregateKey(signers, validators), message, signature)) {
            revert BadSignature();
        }

        nonce = height / w;
        bytes32 tupleRoot = bytes32(header[181:213]);
        tupleRoots[nonce] = tupleRoot;
        lastHeight = height;
        bytes32 next = bytes32(header[117:149]);
        if (next != setHash) validatorSetHash = next;
        emit HeaderCommitted(nonce, height, tupleRoot);
    }

    /// @inheritdoc IDAOracle
    function verifyAttestation(uint256 _tupleRootNonce, DataRootTuple memory _tuple, BinaryMerkleProof memory _proof)
        external
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

    /// Whether `proof` puts `leaf` at `proof.key` of an RFC 6962 SHA-256 tree of
    /// `proof.numLeaves` leaves with root `root` (RFC 9162 §2.1.3.2; the tree of Blobstream's
    /// BinaryMerkleTree and of our data_root).
    function verifyMerkle(bytes32 root, BinaryMerkleProof memory proof, bytes memory leaf)
        public
        pure
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
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(uint8(1), side[i], r));
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = sha256(abi.encodePacked(uint8(1), r, side[i]));
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
        bytes memory dst = DST;
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(256), uint8(0), dst, uint8(43)));
        bytes32[8] memory b;
        b[0] = sha256(abi.encodePacked(b0, uint8(1), dst, uint8(43)));
        for (uint256 i = 1; i < 8; ++i) {
            b[i] = sha256(abi.encodePacked(b0 ^ b[i - 1], uint8(i + 1), dst, uint8(43)));
        }
        // u0 = (e0, e1), u1 = (e2, e3); e_j = (b[2j] ‖ b[2j+1]) mod p, 64 bytes each.
        bytes memory u = new bytes(256);
        bool ok = true;
        for (uint256 j = 0; j < 4; ++j) {
            bytes32 hi = b[2 * j];
            bytes32 lo = b[2 * j + 1];
            assembly {
                let ptr := mload(0x40)
                mstore(ptr, 64) // base length
                mstore(add(ptr, 32), 1) // exponent length
                mstore(add(ptr, 64), 64) // modulus length
                mstore(add(ptr, 96), hi)
                mstore(add(ptr, 128), lo)
                mstore8(add(ptr, 160), 1)
                mstore(add(ptr, 161), P_HI)
                mstore(add(ptr, 193), P_LO)
                ok := and(ok, staticcall(gas(), 0x05, ptr, 225, add(add(u, 32), mul(j, 64)), 64))
            }
        }
        point = new bytes(256);
        assembly {
            let ptr := mload(0x40)
            ok := and(ok, staticcall(gas(), 0x11, add(u, 32), 128, ptr, 256))
            ok := and(ok, staticcall(gas(), 0x11, add(u, 160), 128, add(ptr, 256), 256))
            ok := and(ok, staticcall(gas(), 0x0d, ptr, 512, add(point, 32), 256))
        }
        require(ok, "hash to G2");
    }

    /// SHA-256("da/validator-set/v2" ‖ u32_be(n) ‖ for each: compressed key ‖ u64_be(power)),
    /// each key compressed from its point: x with the flags 0x80 and, when y > (p - 1) / 2, 0x20.
    function _setHash(Validator[] calldata validators) private pure returns (bytes32) {
        uint256 n = validators.length;
        bytes memory buf = new bytes(23 + 56 * n);
        bytes32 domain = "da/validator-set/v2";
        assembly {
            let p := add(buf, 32)
            mstore(p, domain)
            mstore(add(p, 19), shl(224, n))
        }
        for (uint256 i = 0; i < n; ++i) {
            Validator calldata v = validators[i];
            uint256 xHi = uint256(v.key[0]) & MASK_128;
            uint256 xLo = uint256(v.key[1]);
            uint256 yHi = uint256(v.key[2]) & MASK_128;
            uint256 yLo = uint256(v.key[3]);
            bool larger = yHi > HALF_HI || (yHi == HALF_HI && yLo > HALF_LO);
            uint256 first = xHi | ((larger ? uint256(0xa0) : uint256(0x80)) << 120);
            uint256 power = v.power;
            assembly {
                let q := add(add(buf, 55), mul(i, 56))
                mstore(q, shl(128, first))
                mstore(add(q, 16), xLo)
                mstore(add(q, 48), shl(192, power))
            }
        }
        return sha256(buf);
    }

    /// Power of the signers and of the whole set.
    function _power(bytes calldata signers, Validator[] calldata validators)
        private
        pure
        returns (uint256 signed, uint256 total)
    {
        for (uint256 i = 0; i < validators.length; ++i) {
            uint256 power = validators[i].power;
            total += power;
            if ((uint8(signers[i >> 3]) >> (i & 7)) & 1 == 1) signed += power;
        }
    }

    /// Sum of the signers' keys (EIP-2537 G1 additions), 128 bytes.
    function _aggregateKey(bytes calldata signers, Validator[] calldata validators)
        private
        view
        returns (bytes memory acc)
    {
        acc = new bytes(128);
        bool any = false;
        bool ok = true;
        for (uint256 i = 0; i < validators.length; ++i) {
            if ((uint8(signers[i >> 3]) >> (i & 7)) & 1 == 0) continue;
            bytes32[4] calldata key = validators[i].key;
            if (!any) {
                assembly {
                    calldatacopy(add(acc, 32), key, 128)
                }
                any = true;
                continue;
            }
            assembly {
                let ptr := mload(0x40)
                mcopy(ptr, add(acc, 32), 128)
                calldatacopy(add(ptr, 128), key, 128)
                ok := and(ok, staticcall(gas(), 0x0b, ptr, 256, add(acc, 32), 128))
            }
        }
        if (!ok) revert BadSignature();
    }

    /// e(key, H(message)) == e(g1, signature), as one pairing check with -g1.
    function _verify(bytes memory key, bytes memory message, bytes calldata signature) private view returns (bool) {
        bytes memory h = hashToG2(message);
        bytes memory input = new bytes(768);
        assembly {
            let p := add(input, 32)
            mcopy(p, add(key, 32), 128)
            mcopy(add(p, 128), add(h, 32), 256)
            mstore(add(p, 384), G1_X_HI)
            mstore(add(p, 416), G1_X_LO)
            mstore(add(p, 448), G1_NEG_Y_HI)
            mstore(add(p, 480), G1_NEG_Y_LO)
            calldatacopy(add(p, 512), signature.offset, 256)
        }
        bool ok;
        uint256 result;
        assembly {
            let out := mload(0x40)
            ok := staticcall(gas(), 0x0f, add(input, 32), 768, out, 32)
            result := mload(out)
        }
        return ok && result == 1;
    }
}
