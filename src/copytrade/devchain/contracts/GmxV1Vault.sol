// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title GMX v1 Vault emulator
/// @notice Emits the position events of the real GMX v1 Vault (gmx-io/gmx-contracts
/// contracts/core/Vault.sol) with their exact signatures, in the order the Vault emits them
/// within one position update:
///   increase:  [UpdateFundingRate] CollectMarginFees IncreasePosition UpdatePosition
///   decrease:  [UpdateFundingRate] CollectMarginFees UpdatePnl DecreasePosition (UpdatePosition | ClosePosition)
///   liquidate: [UpdateFundingRate] CollectMarginFees LiquidatePosition
/// The position accounting happens off-chain in the scenario generator; this contract only
/// emits, so one transaction can carry hundreds of trader actions (as a keeper batch does).
/// USD amounts and prices carry 30 decimals, as in the Vault.
abstract contract GmxV1VaultBase {
    event CollectMarginFees(address token, uint256 feeUsd, uint256 feeTokens);
    event IncreasePosition(
        bytes32 key, address account, address collateralToken, address indexToken,
        uint256 collateralDelta, uint256 sizeDelta, bool isLong, uint256 price, uint256 fee
    );
    event DecreasePosition(
        bytes32 key, address account, address collateralToken, address indexToken,
        uint256 collateralDelta, uint256 sizeDelta, bool isLong, uint256 price, uint256 fee
    );
    event LiquidatePosition(
        bytes32 key, address account, address collateralToken, address indexToken, bool isLong,
        uint256 size, uint256 collateral, uint256 reserveAmount, int256 realisedPnl, uint256 markPrice
    );
    event ClosePosition(
        bytes32 key, uint256 size, uint256 collateral, uint256 averagePrice,
        uint256 entryFundingRate, uint256 reserveAmount, int256 realisedPnl
    );
    event UpdateFundingRate(address token, uint256 fundingRate);
    event UpdatePnl(bytes32 key, bool hasProfit, uint256 delta);

    uint8 internal constant INCREASE = 0;
    uint8 internal constant DECREASE = 1;
    uint8 internal constant LIQUIDATE = 2;

    /// One trader action. Fields not used by an action's kind are ignored.
    struct Op {
        uint8 kind;
        bool emitFunding;          // the first update of this collateral token after a funding interval
        uint256 fundingRate;       // cumulative funding rate of collateralToken
        bytes32 key;
        address account;
        address collateralToken;
        address indexToken;
        uint256 collateralDelta;
        uint256 sizeDelta;
        bool isLong;
        uint256 price;
        uint256 fee;               // the `fee` field of IncreasePosition / DecreasePosition
        uint256 marginFees;        // CollectMarginFees.feeUsd (position fee + funding fee)
        uint256 feeTokens;
        bool hasProfit;            // UpdatePnl
        uint256 pnlDelta;          // UpdatePnl
        bool isClose;              // decrease closes the position: ClosePosition, not UpdatePosition
        uint256 size;              // position after the update (UpdatePosition), or before close/liquidation
        uint256 collateral;
        uint256 averagePrice;
        uint256 entryFundingRate;
        uint256 reserveAmount;
        int256 realisedPnl;
        uint256 markPrice;
    }

    address public immutable keeper;

    constructor() {
        keeper = msg.sender;
    }

    function execute(Op[] calldata ops) external {
        require(msg.sender == keeper, "GmxV1Vault: forbidden");
        for (uint256 i = 0; i < ops.length; i++) {
            Op calldata op = ops[i];
            if (op.emitFunding) emit UpdateFundingRate(op.collateralToken, op.fundingRate);
            emit CollectMarginFees(op.collateralToken, op.marginFees, op.feeTokens);
            if (op.kind == INCREASE) {
                emit IncreasePosition(
                    op.key, op.account, op.collateralToken, op.indexToken, op.collateralDelta,
                    op.sizeDelta, op.isLong, op.price, op.fee
                );
                _emitUpdatePosition(op);
            } else if (op.kind == DECREASE) {
                emit UpdatePnl(op.key, op.hasProfit, op.pnlDelta);
                emit DecreasePosition(
                    op.key, op.account, op.collateralToken, op.indexToken, op.collateralDelta,
                    op.sizeDelta, op.isLong, op.price, op.fee
                );
                if (op.isClose) {
                    emit ClosePosition(
                        op.key, op.size, op.collateral, op.averagePrice, op.entryFundingRate,
                        op.reserveAmount, op.realisedPnl
                    );
                } else {
                    _emitUpdatePosition(op);
                }
            } else if (op.kind == LIQUIDATE) {
                emit LiquidatePosition(
                    op.key, op.account, op.collateralToken, op.indexToken, op.isLong, op.size,
                    op.collateral, op.reserveAmount, op.realisedPnl, op.markPrice
                );
            } else {
                revert("GmxV1Vault: unknown op");
            }
        }
    }

    function _emitUpdatePosition(Op calldata op) internal virtual;
}

/// Arbitrum deployment: UpdatePosition has 7 arguments.
contract GmxV1VaultArbitrum is GmxV1VaultBase {
    event UpdatePosition(
        bytes32 key, uint256 size, uint256 collateral, uint256 averagePrice,
        uint256 entryFundingRate, uint256 reserveAmount, int256 realisedPnl
    );

    function _emitUpdatePosition(Op calldata op) internal override {
        emit UpdatePosition(
            op.key, op.size, op.collateral, op.averagePrice, op.entryFundingRate,
            op.reserveAmount, op.realisedPnl
        );
    }
}

/// Avalanche deployment: UpdatePosition has 8 arguments (with markPrice).
contract GmxV1VaultAvalanche is GmxV1VaultBase {
    event UpdatePosition(
        bytes32 key, uint256 size, uint256 collateral, uint256 averagePrice,
        uint256 entryFundingRate, uint256 reserveAmount, int256 realisedPnl, uint256 markPrice
    );

    function _emitUpdatePosition(Op calldata op) internal override {
        emit UpdatePosition(
            op.key, op.size, op.collateral, op.averagePrice, op.entryFundingRate,
            op.reserveAmount, op.realisedPnl, op.markPrice
        );
    }
}
