// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Synthetix Perps v2 market emulator (one deployment per market, like each market's proxy)
/// @notice Emits the position events of a real Synthetix PerpsV2 market (Synthetixio/synthetix
/// contracts/PerpsV2Market*.sol, emitted through the market's ProxyPerpsV2) with their exact
/// signatures and indexed flags, in the order the market emits them within one call:
///   trade (modifyPosition / delayed order execution): FundingRecomputed PositionModified
///   transferMargin:                                   FundingRecomputed MarginTransferred PositionModified
///   liquidatePosition:                                FundingRecomputed PositionModified PositionLiquidated
/// PositionModified and PositionLiquidated changed shape in the Caph release (v2.86, April 2023):
///   old: PositionModified has no `skew`; PositionLiquidated(id, account, liquidator indexed; size, price, fee)
///   new: PositionModified ends with `int256 skew`; PositionLiquidated is all non-indexed with
///        (flaggerFee, liquidatorFee, stakersFee) instead of `fee`.
/// Both shapes are declared (overloaded events); each op picks one with `newShape`.
/// The accounting happens off-chain in the scenario generator; this contract only emits.
/// Amounts (margin, size, prices, fees, funding) carry 18 decimals, as in Synthetix.
contract SynthetixPerpsV2Market {
    event FundingRecomputed(int256 funding, int256 fundingRate, uint256 index, uint256 timestamp);
    event MarginTransferred(address indexed account, int256 marginDelta);

    // -- before the Caph release (v2.86, April 2023)
    event PositionModified(
        uint256 indexed id, address indexed account, uint256 margin, int256 size, int256 tradeSize,
        uint256 lastPrice, uint256 fundingIndex, uint256 fee
    );
    event PositionLiquidated(
        uint256 indexed id, address indexed account, address indexed liquidator, int256 size, uint256 price,
        uint256 fee
    );

    // -- from the Caph release on
    event PositionModified(
        uint256 indexed id, address indexed account, uint256 margin, int256 size, int256 tradeSize,
        uint256 lastPrice, uint256 fundingIndex, uint256 fee, int256 skew
    );
    event PositionLiquidated(
        uint256 id, address account, address liquidator, int256 size, uint256 price, uint256 flaggerFee,
        uint256 liquidatorFee, uint256 stakersFee
    );

    uint8 internal constant NOOP = 0;       // emits nothing (the OPEN half of a flip)
    uint8 internal constant TRADE = 1;      // FundingRecomputed PositionModified
    uint8 internal constant TRANSFER = 2;   // FundingRecomputed MarginTransferred PositionModified
    uint8 internal constant LIQUIDATE = 3;  // FundingRecomputed PositionModified PositionLiquidated

    /// One trader action. Fields not used by an action's kind are ignored.
    struct Op {
        uint8 kind;
        bool newShape;            // emit the post-April-2023 PositionModified / PositionLiquidated
        int256 funding;           // FundingRecomputed: cumulative funding per unit after the recompute
        int256 fundingRate;       // FundingRecomputed: current funding rate (per day)
        uint256 index;            // FundingRecomputed.index == PositionModified.fundingIndex
        uint256 timestamp;        // FundingRecomputed.timestamp (block time)
        uint256 id;               // position id (0 for margin transfers without a position)
        address account;
        uint256 margin;           // PositionModified: margin after the action
        int256 size;              // PositionModified: size after the action
        int256 tradeSize;         // PositionModified: size traded (0 for transfers and liquidations)
        uint256 lastPrice;        // PositionModified.lastPrice / PositionLiquidated.price
        uint256 fee;              // PositionModified.fee
        int256 skew;              // PositionModified.skew (new shape): market skew after the action
        int256 marginDelta;       // MarginTransferred
        address liquidator;       // PositionLiquidated
        int256 liquidatedSize;    // PositionLiquidated.size (the size before liquidation)
        uint256 flaggerFee;       // new PositionLiquidated; the old `fee` is the total:
        uint256 liquidatorFee;    //   flaggerFee + liquidatorFee + stakersFee
        uint256 stakersFee;
    }

    address public immutable keeper;

    constructor() {
        keeper = msg.sender;
    }

    function execute(Op[] calldata ops) external {
        require(msg.sender == keeper, "SynthetixPerpsV2Market: forbidden");
        for (uint256 i = 0; i < ops.length; i++) {
            Op calldata op = ops[i];
            if (op.kind == NOOP) continue;
            if (op.kind > LIQUIDATE) revert("SynthetixPerpsV2Market: unknown op");
            emit FundingRecomputed(op.funding, op.fundingRate, op.index, op.timestamp);
            if (op.kind == TRANSFER) emit MarginTransferred(op.account, op.marginDelta);
            _emitPositionModified(op);
            if (op.kind == LIQUIDATE) {
                if (op.newShape) {
                    emit PositionLiquidated(
                        op.id, op.account, op.liquidator, op.liquidatedSize, op.lastPrice, op.flaggerFee,
                        op.liquidatorFee, op.stakersFee
                    );
                } else {
                    emit PositionLiquidated(
                        op.id, op.account, op.liquidator, op.liquidatedSize, op.lastPrice,
                        op.flaggerFee + op.liquidatorFee + op.stakersFee
                    );
                }
            }
        }
    }

    function _emitPositionModified(Op calldata op) internal {
        if (op.newShape) {
            emit PositionModified(
                op.id, op.account, op.margin, op.size, op.tradeSize, op.lastPrice, op.index, op.fee, op.skew
            );
        } else {
            emit PositionModified(
                op.id, op.account, op.margin, op.size, op.tradeSize, op.lastPrice, op.index, op.fee
            );
        }
    }
}
