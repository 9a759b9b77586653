// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title GMX v2 (synthetics) EventEmitter emulator
/// @notice Emits the position events of the real GMX v2 EventEmitter (gmx-io/gmx-synthetics
/// contracts/event/EventEmitter.sol): `EventLog1(msgSender, eventName, eventNameHash, topic1,
/// eventData)` where `eventNameHash` is an indexed string (topics[1] = keccak(eventName)) and
/// `eventData` an `EventLogData` of key/value item arrays. Keys, their types and their order
/// follow contracts/position/PositionEventUtils.sol at commit 5371c8e9 (2025-04-25).
/// Per trader action, in the order the real DecreasePositionUtils / IncreasePositionUtils emit:
///   PositionFeesCollected   (topic1 = market)
///   PositionIncrease | PositionDecrease   (topic1 = account)
/// The position accounting happens off-chain in the scenario generator; this contract only
/// emits, so one transaction carries hundreds of actions. USD values carry 30 decimals, prices
/// are per unit of token (usd * 1e30 / 10**decimals).
contract GmxV2EventEmitter {
    // -- EventUtils structs (same layout as the real EventUtils library) -------------------------
    struct AddressKeyValue { string key; address value; }
    struct AddressArrayKeyValue { string key; address[] value; }
    struct AddressItems { AddressKeyValue[] items; AddressArrayKeyValue[] arrayItems; }

    struct UintKeyValue { string key; uint256 value; }
    struct UintArrayKeyValue { string key; uint256[] value; }
    struct UintItems { UintKeyValue[] items; UintArrayKeyValue[] arrayItems; }

    struct IntKeyValue { string key; int256 value; }
    struct IntArrayKeyValue { string key; int256[] value; }
    struct IntItems { IntKeyValue[] items; IntArrayKeyValue[] arrayItems; }

    struct BoolKeyValue { string key; bool value; }
    struct BoolArrayKeyValue { string key; bool[] value; }
    struct BoolItems { BoolKeyValue[] items; BoolArrayKeyValue[] arrayItems; }

    struct Bytes32KeyValue { string key; bytes32 value; }
    struct Bytes32ArrayKeyValue { string key; bytes32[] value; }
    struct Bytes32Items { Bytes32KeyValue[] items; Bytes32ArrayKeyValue[] arrayItems; }

    struct BytesKeyValue { string key; bytes value; }
    struct BytesArrayKeyValue { string key; bytes[] value; }
    struct BytesItems { BytesKeyValue[] items; BytesArrayKeyValue[] arrayItems; }

    struct StringKeyValue { string key; string value; }
    struct StringArrayKeyValue { string key; string[] value; }
    struct StringItems { StringKeyValue[] items; StringArrayKeyValue[] arrayItems; }

    struct EventLogData {
        AddressItems addressItems;
        UintItems uintItems;
        IntItems intItems;
        BoolItems boolItems;
        Bytes32Items bytes32Items;
        BytesItems bytesItems;
        StringItems stringItems;
    }

    event EventLog(
        address msgSender,
        string eventName,
        string indexed eventNameHash,
        EventLogData eventData
    );

    event EventLog1(
        address msgSender,
        string eventName,
        string indexed eventNameHash,
        bytes32 indexed topic1,
        EventLogData eventData
    );

    event EventLog2(
        address msgSender,
        string eventName,
        string indexed eventNameHash,
        bytes32 indexed topic1,
        bytes32 indexed topic2,
        EventLogData eventData
    );

    /// One trader action (every field one static word). Price impact, referral, UI fee and
    /// claimable funding fields are always zero on the dev chain and are not carried.
    struct Op {
        bool isIncrease;                    // PositionIncrease (else PositionDecrease)
        address msgSender;                  // the handler calling the EventEmitter
        bytes32 orderKey;
        bytes32 positionKey;
        address account;
        address market;
        address collateralToken;
        bool isLong;
        uint256 orderType;
        uint256 atTime;                     // increasedAtTime / decreasedAtTime
        uint256 sizeInUsd;                  // position after the action
        uint256 sizeInTokens;
        uint256 collateralAmount;
        uint256 borrowingFactor;
        uint256 fundingFeeAmountPerSize;    // also the fees' latestFundingFeeAmountPerSize
        uint256 executionPrice;             // also indexTokenPrice.min / .max (no price impact)
        uint256 collateralTokenPrice;       // .min = .max
        uint256 sizeDeltaUsd;               // also the fees' tradeSizeUsd
        uint256 sizeDeltaInTokens;
        int256 collateralDeltaAmount;       // int item on increase, uint item on decrease
        int256 basePnlUsd;
        int256 uncappedBasePnlUsd;
        uint256 fundingFeeAmount;
        uint256 borrowingFeeUsd;
        uint256 borrowingFeeAmount;
        uint256 borrowingFeeReceiverFactor;
        uint256 borrowingFeeAmountForFeeReceiver;
        uint256 positionFeeFactor;
        uint256 positionFeeAmount;          // also protocolFeeAmount (no referral rebate)
        uint256 positionFeeReceiverFactor;
        uint256 feeReceiverAmount;
        uint256 feeAmountForPool;
        uint256 positionFeeAmountForPool;
        uint256 totalCostAmount;
    }

    address public immutable keeper;

    constructor() {
        keeper = msg.sender;
    }

    function execute(Op[] calldata ops) external {
        require(msg.sender == keeper, "GmxV2EventEmitter: forbidden");
        for (uint256 i = 0; i < ops.length; ++i) {
            _emitFeesAndPosition(ops[i]);
        }
    }

    /// Everything an event allocates is garbage once it is emitted: hand the memory back after
    /// each event so a batch of hundreds of ops does not pay quadratic memory expansion.
    function _emitFeesAndPosition(Op calldata op) internal {
        uint256 freeMemory = _freeMemoryPointer();
        _emitPositionFeesCollected(op);
        _resetFreeMemoryPointer(freeMemory);
        if (op.isIncrease) {
            _emitPositionIncrease(op);
        } else {
            _emitPositionDecrease(op);
        }
        _resetFreeMemoryPointer(freeMemory);
    }

    function _freeMemoryPointer() private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
        }
    }

    function _resetFreeMemoryPointer(uint256 ptr) private pure {
        assembly ("memory-safe") {
            mstore(0x40, ptr)
        }
    }

    function _data(
        AddressKeyValue[] memory a,
        UintKeyValue[] memory u,
        IntKeyValue[] memory n,
        BoolKeyValue[] memory b,
        Bytes32KeyValue[] memory h
    ) private pure returns (EventLogData memory) {
        return EventLogData(
            AddressItems(a, new AddressArrayKeyValue[](0)),
            UintItems(u, new UintArrayKeyValue[](0)),
            IntItems(n, new IntArrayKeyValue[](0)),
            BoolItems(b, new BoolArrayKeyValue[](0)),
            Bytes32Items(h, new Bytes32ArrayKeyValue[](0)),
            BytesItems(new BytesKeyValue[](0), new BytesArrayKeyValue[](0)),
            StringItems(new StringKeyValue[](0), new StringArrayKeyValue[](0))
        );
    }

    // -- PositionFeesCollected -------------------------------------------------------------------

    function _emitPositionFeesCollected(Op calldata op) internal {
        AddressKeyValue[] memory a = new AddressKeyValue[](5);
        a[0] = AddressKeyValue("market", op.market);
        a[1] = AddressKeyValue("collateralToken", op.collateralToken);
        a[2] = AddressKeyValue("affiliate", address(0));
        a[3] = AddressKeyValue("trader", op.account);
        a[4] = AddressKeyValue("uiFeeReceiver", address(0));

        BoolKeyValue[] memory b = new BoolKeyValue[](1);
        b[0] = BoolKeyValue("isIncrease", op.isIncrease);

        Bytes32KeyValue[] memory h = new Bytes32KeyValue[](3);
        h[0] = Bytes32KeyValue("orderKey", op.orderKey);
        h[1] = Bytes32KeyValue("positionKey", op.positionKey);
        h[2] = Bytes32KeyValue("referralCode", bytes32(0));

        emit EventLog1(
            op.msgSender,
            "PositionFeesCollected",
            "PositionFeesCollected",
            bytes32(uint256(uint160(op.market))),
            _data(a, _feeUints(op), new IntKeyValue[](0), b, h)
        );
    }

    function _feeUints(Op calldata op) internal pure returns (UintKeyValue[] memory u) {
        u = new UintKeyValue[](23);
        u[0] = UintKeyValue("collateralTokenPrice.min", op.collateralTokenPrice);
        u[1] = UintKeyValue("collateralTokenPrice.max", op.collateralTokenPrice);
        u[2] = UintKeyValue("tradeSizeUsd", op.sizeDeltaUsd);
        u[3] = UintKeyValue("fundingFeeAmount", op.fundingFeeAmount);
        u[4] = UintKeyValue("claimableLongTokenAmount", 0);
        u[5] = UintKeyValue("claimableShortTokenAmount", 0);
        u[6] = UintKeyValue("latestFundingFeeAmountPerSize", op.fundingFeeAmountPerSize);
        u[7] = UintKeyValue("latestLongTokenClaimableFundingAmountPerSize", 0);
        u[8] = UintKeyValue("latestShortTokenClaimableFundingAmountPerSize", 0);
        u[9] = UintKeyValue("borrowingFeeUsd", op.borrowingFeeUsd);
        u[10] = UintKeyValue("borrowingFeeAmount", op.borrowingFeeAmount);
        u[11] = UintKeyValue("borrowingFeeReceiverFactor", op.borrowingFeeReceiverFactor);
        u[12] = UintKeyValue("borrowingFeeAmountForFeeReceiver", op.borrowingFeeAmountForFeeReceiver);
        u[13] = UintKeyValue("positionFeeFactor", op.positionFeeFactor);
        u[14] = UintKeyValue("protocolFeeAmount", op.positionFeeAmount);
        u[15] = UintKeyValue("positionFeeReceiverFactor", op.positionFeeReceiverFactor);
        u[16] = UintKeyValue("feeReceiverAmount", op.feeReceiverAmount);
        u[17] = UintKeyValue("feeAmountForPool", op.feeAmountForPool);
        u[18] = UintKeyValue("positionFeeAmountForPool", op.positionFeeAmountForPool);
        u[19] = UintKeyValue("positionFeeAmount", op.positionFeeAmount);
        u[20] = UintKeyValue("totalCostAmount", op.totalCostAmount);
        u[21] = UintKeyValue("uiFeeReceiverFactor", 0);
        u[22] = UintKeyValue("uiFeeAmount", 0);
    }

    // -- PositionIncrease / PositionDecrease ----------------------------------------------------

    function _positionAddresses(Op calldata op) private pure returns (AddressKeyValue[] memory a) {
        a = new AddressKeyValue[](3);
        a[0] = AddressKeyValue("account", op.account);
        a[1] = AddressKeyValue("market", op.market);
        a[2] = AddressKeyValue("collateralToken", op.collateralToken);
    }

    /// uint items 0..13, shared by both events; the caller fills the rest.
    function _positionUints(Op calldata op, uint256 count) private pure returns (UintKeyValue[] memory u) {
        u = new UintKeyValue[](count);
        u[0] = UintKeyValue("sizeInUsd", op.sizeInUsd);
        u[1] = UintKeyValue("sizeInTokens", op.sizeInTokens);
        u[2] = UintKeyValue("collateralAmount", op.collateralAmount);
        u[3] = UintKeyValue("borrowingFactor", op.borrowingFactor);
        u[4] = UintKeyValue("fundingFeeAmountPerSize", op.fundingFeeAmountPerSize);
        u[5] = UintKeyValue("longTokenClaimableFundingAmountPerSize", 0);
        u[6] = UintKeyValue("shortTokenClaimableFundingAmountPerSize", 0);
        u[7] = UintKeyValue("executionPrice", op.executionPrice);
        u[8] = UintKeyValue("indexTokenPrice.max", op.executionPrice);
        u[9] = UintKeyValue("indexTokenPrice.min", op.executionPrice);
        u[10] = UintKeyValue("collateralTokenPrice.max", op.collateralTokenPrice);
        u[11] = UintKeyValue("collateralTokenPrice.min", op.collateralTokenPrice);
        u[12] = UintKeyValue("sizeDeltaUsd", op.sizeDeltaUsd);
        u[13] = UintKeyValue("sizeDeltaInTokens", op.sizeDeltaInTokens);
    }

    function _positionFlags(Op calldata op) private pure returns (BoolKeyValue[] memory b) {
        b = new BoolKeyValue[](1);
        b[0] = BoolKeyValue("isLong", op.isLong);
    }

    function _positionKeys(Op calldata op) private pure returns (Bytes32KeyValue[] memory h) {
        h = new Bytes32KeyValue[](2);
        h[0] = Bytes32KeyValue("orderKey", op.orderKey);
        h[1] = Bytes32KeyValue("positionKey", op.positionKey);
    }

    function _emitPositionIncrease(Op calldata op) internal {
        UintKeyValue[] memory u = _positionUints(op, 16);
        u[14] = UintKeyValue("orderType", op.orderType);
        u[15] = UintKeyValue("increasedAtTime", op.atTime);

        IntKeyValue[] memory n = new IntKeyValue[](3);
        n[0] = IntKeyValue("collateralDeltaAmount", op.collateralDeltaAmount);
        n[1] = IntKeyValue("pendingPriceImpactUsd", 0);
        n[2] = IntKeyValue("pendingPriceImpactAmount", 0);

        emit EventLog1(
            op.msgSender,
            "PositionIncrease",
            "PositionIncrease",
            bytes32(uint256(uint160(op.account))),
            _data(_positionAddresses(op), u, n, _positionFlags(op), _positionKeys(op))
        );
    }

    function _emitPositionDecrease(Op calldata op) internal {
        UintKeyValue[] memory u = _positionUints(op, 18);
        u[14] = UintKeyValue("collateralDeltaAmount", uint256(op.collateralDeltaAmount));
        u[15] = UintKeyValue("values.priceImpactDiffUsd", 0);
        u[16] = UintKeyValue("orderType", op.orderType);
        u[17] = UintKeyValue("decreasedAtTime", op.atTime);

        IntKeyValue[] memory n = new IntKeyValue[](5);
        n[0] = IntKeyValue("priceImpactUsd", 0);
        n[1] = IntKeyValue("basePnlUsd", op.basePnlUsd);
        n[2] = IntKeyValue("uncappedBasePnlUsd", op.uncappedBasePnlUsd);
        n[3] = IntKeyValue("proportionalPendingImpactUsd", 0);
        n[4] = IntKeyValue("totalImpactUsd", 0);

        emit EventLog1(
            op.msgSender,
            "PositionDecrease",
            "PositionDecrease",
            bytes32(uint256(uint160(op.account))),
            _data(_positionAddresses(op), u, n, _positionFlags(op), _positionKeys(op))
        );
    }
}
