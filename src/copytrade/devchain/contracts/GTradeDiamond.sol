// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title gTrade (Gains Network) GNSMultiCollatDiamond emulator, v9 and v10
/// @notice The real diamond (GNSMultiCollatDiamond) was upgraded IN PLACE from v9 to v10: same
/// address, different event signatures (MarketExecuted, LimitExecuted, PositionSize*Executed and
/// LeverageUpdateExecuted changed; BorrowingFeeCharged gave way to HoldingFeesChargedOnTrade).
/// `GTradeDiamond` is a minimal proxy that delegatecalls everything to one facet, so every log
/// is emitted from the diamond's address; `upgradeTo` swaps the v9 facet for the v10 one.
///
/// The facets only emit: the trade accounting happens off-chain in
/// copytrade.devchain.venues.gtrade, one `Op` per trader action. Per action the logs are
///   [GovFeeCharged [TriggerFeeCharged] GnsOtcFeeCharged GTokenFeeCharged [FeesProcessed (v10)]]
///   [BorrowingFeeCharged (v9) | HoldingFeesChargedOnTrade (v10)]
///   MarketExecuted | LimitExecuted | PositionSizeIncreaseExecuted |
///   PositionSizeDecreaseExecuted | LeverageUpdateExecuted          <- the anchor (always last)
/// with a lone GovFeeCharged as the fee of a leverage update. Event signatures, indexed flags
/// and struct layouts are those of the official v9 / v10 ABIs (gtrade-stats-subgraph).
/// Prices carry 10 decimals, leverage 3, collateral amounts the collateral's own decimals.

/// Storage the proxy owns: implementation and admin (the keeper allowed to `execute`).
abstract contract GTradeDiamondSlots {
    bytes32 internal constant IMPLEMENTATION_SLOT =
        bytes32(uint256(keccak256("copytrade.devchain.gtrade.diamond.implementation")) - 1);
    bytes32 internal constant ADMIN_SLOT =
        bytes32(uint256(keccak256("copytrade.devchain.gtrade.diamond.admin")) - 1);

    function _implementation() internal view returns (address impl) {
        bytes32 slot = IMPLEMENTATION_SLOT;
        assembly {
            impl := sload(slot)
        }
    }

    function _admin() internal view returns (address adm) {
        bytes32 slot = ADMIN_SLOT;
        assembly {
            adm := sload(slot)
        }
    }
}

contract GTradeDiamond is GTradeDiamondSlots {
    enum FacetCutAction {
        Add,
        Replace,
        Remove
    }

    struct FacetCut {
        address facetAddress;
        FacetCutAction action;
        bytes4[] functionSelectors;
    }

    /// The diamond standard's upgrade event (in both official ABIs).
    event DiamondCut(FacetCut[] _diamondCut, address _init, bytes _calldata);

    constructor(address implementation) {
        bytes32 implSlot = IMPLEMENTATION_SLOT;
        bytes32 adminSlot = ADMIN_SLOT;
        address sender = msg.sender;
        assembly {
            sstore(implSlot, implementation)
            sstore(adminSlot, sender)
        }
        _emitCut(implementation, FacetCutAction.Add);
    }

    function upgradeTo(address implementation) external {
        require(msg.sender == _admin(), "GTradeDiamond: forbidden");
        bytes32 implSlot = IMPLEMENTATION_SLOT;
        assembly {
            sstore(implSlot, implementation)
        }
        _emitCut(implementation, FacetCutAction.Replace);
    }

    function implementation() external view returns (address) {
        return _implementation();
    }

    function admin() external view returns (address) {
        return _admin();
    }

    function _emitCut(address implementation, FacetCutAction action) internal {
        FacetCut[] memory cut = new FacetCut[](1);
        cut[0] = FacetCut(implementation, action, new bytes4[](0));
        emit DiamondCut(cut, address(0), "");
    }

    fallback() external payable {
        address impl = _implementation();
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), impl, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 {
                revert(0, returndatasize())
            }
            default {
                return(0, returndatasize())
            }
        }
    }

    receive() external payable {}
}

/// Types and events that are identical in v9 and v10.
abstract contract GTradeFacetCommon is GTradeDiamondSlots {
    enum PendingOrderType {
        MARKET_OPEN,
        MARKET_CLOSE,
        LIMIT_OPEN,
        STOP_OPEN,
        TP_CLOSE,
        SL_CLOSE,
        LIQ_CLOSE,
        UPDATE_LEVERAGE,
        MARKET_PARTIAL_OPEN,
        MARKET_PARTIAL_CLOSE
    }

    enum TradeType {
        TRADE,
        LIMIT,
        STOP
    }

    enum CancelReason {
        NONE,
        PAUSED,
        MARKET_CLOSED,
        SLIPPAGE,
        TP_REACHED,
        SL_REACHED,
        EXPOSURE_LIMITS,
        PRICE_IMPACT,
        MAX_LEVERAGE,
        NO_TRADE,
        WRONG_TRADE,
        NOT_HIT,
        LIQ_REACHED
    }

    struct Id {
        address user;
        uint32 index;
    }

    event GovFeeCharged(address indexed trader, uint8 indexed collateralIndex, uint256 amountCollateral);
    event TriggerFeeCharged(address indexed trader, uint8 indexed collateralIndex, uint256 amountCollateral);
    event GnsOtcFeeCharged(address indexed trader, uint8 indexed collateralIndex, uint256 amountCollateral);
    event GTokenFeeCharged(address indexed trader, uint8 indexed collateralIndex, uint256 amountCollateral);

    uint8 internal constant KIND_MARKET = 0; // MarketExecuted (market open / market close)
    uint8 internal constant KIND_LIMIT = 1; // LimitExecuted (LIMIT_OPEN, TP_CLOSE, SL_CLOSE, LIQ_CLOSE)
    uint8 internal constant KIND_INCREASE = 2; // PositionSizeIncreaseExecuted
    uint8 internal constant KIND_DECREASE = 3; // PositionSizeDecreaseExecuted
    uint8 internal constant KIND_LEVERAGE = 4; // LeverageUpdateExecuted

    uint8 internal constant FEES_NONE = 0;
    uint8 internal constant FEES_TRADING = 1; // gov, [trigger], gns otc, gToken (+ FeesProcessed in v10)
    uint8 internal constant FEES_GOV_ONLY = 2; // leverage update: the gov fee alone

    function _onlyKeeper() internal view {
        require(msg.sender == _admin(), "GTradeFacet: forbidden");
    }

    function _emitFeeEvents(
        address trader,
        uint8 collateralIndex,
        uint8 feeMode,
        uint256 govFee,
        uint256 triggerFee,
        uint256 gnsOtcFee,
        uint256 gTokenFee
    ) internal {
        if (feeMode == FEES_TRADING) {
            emit GovFeeCharged(trader, collateralIndex, govFee);
            if (triggerFee > 0) emit TriggerFeeCharged(trader, collateralIndex, triggerFee);
            emit GnsOtcFeeCharged(trader, collateralIndex, gnsOtcFee);
            emit GTokenFeeCharged(trader, collateralIndex, gTokenFee);
        } else if (feeMode == FEES_GOV_ONLY) {
            emit GovFeeCharged(trader, collateralIndex, govFee);
        } else {
            require(feeMode == FEES_NONE, "GTradeFacet: unknown fee mode");
        }
    }
}

/// The v9 diamond's trading events.
contract GTradeV9Facet is GTradeFacetCommon {
    struct Trade {
        address user;
        uint32 index;
        uint16 pairIndex;
        uint24 leverage;
        bool long;
        bool isOpen;
        uint8 collateralIndex;
        TradeType tradeType;
        uint120 collateralAmount;
        uint64 openPrice;
        uint64 tp;
        uint64 sl;
        uint192 __placeholder;
    }

    struct IncreasePositionSizeValues {
        uint256 positionSizeCollateralDelta;
        uint256 existingPositionSizeCollateral;
        uint256 newPositionSizeCollateral;
        uint256 newCollateralAmount;
        uint256 newLeverage;
        uint256 priceAfterImpact;
        int256 existingPnlCollateral;
        uint256 oldPosSizePlusPnlCollateral;
        uint256 newOpenPrice;
        uint256 borrowingFeeCollateral;
        uint256 openingFeesCollateral;
        uint256 existingLiqPrice;
        uint256 newLiqPrice;
    }

    struct DecreasePositionSizeValues {
        uint256 positionSizeCollateralDelta;
        uint256 existingPositionSizeCollateral;
        uint256 existingLiqPrice;
        uint256 priceAfterImpact;
        int256 existingPnlCollateral;
        uint256 borrowingFeeCollateral;
        uint256 closingFeeCollateral;
        int256 availableCollateralInDiamond;
        int256 collateralSentToTrader;
        uint120 newCollateralAmount;
        uint24 newLeverage;
    }

    struct UpdateLeverageValues {
        uint256 newLeverage;
        uint256 newCollateralAmount;
        uint256 liqPrice;
        uint256 govFeeCollateral;
    }

    event BorrowingFeeCharged(
        address indexed trader, uint32 indexed index, uint8 indexed collateralIndex, uint256 amountCollateral
    );
    event MarketExecuted(
        Id orderId,
        address indexed user,
        uint32 indexed index,
        Trade t,
        bool open,
        uint256 oraclePrice,
        uint256 marketPrice,
        uint256 liqPrice,
        uint256 priceImpactP,
        int256 percentProfit,
        uint256 amountSentToTrader,
        uint256 collateralPriceUsd
    );
    event LimitExecuted(
        Id orderId,
        address indexed user,
        uint32 indexed index,
        uint32 indexed limitIndex,
        Trade t,
        address triggerCaller,
        PendingOrderType orderType,
        uint256 oraclePrice,
        uint256 marketPrice,
        uint256 liqPrice,
        uint256 priceImpactP,
        int256 percentProfit,
        uint256 amountSentToTrader,
        uint256 collateralPriceUsd,
        bool exactExecution
    );
    event PositionSizeIncreaseExecuted(
        Id orderId,
        CancelReason cancelReason,
        uint8 indexed collateralIndex,
        address indexed trader,
        uint256 pairIndex,
        uint256 indexed index,
        bool long,
        uint256 oraclePrice,
        uint256 collateralPriceUsd,
        uint256 collateralDelta,
        uint256 leverageDelta,
        IncreasePositionSizeValues values
    );
    event PositionSizeDecreaseExecuted(
        Id orderId,
        CancelReason cancelReason,
        uint8 indexed collateralIndex,
        address indexed trader,
        uint256 pairIndex,
        uint256 indexed index,
        bool long,
        uint256 oraclePrice,
        uint256 collateralPriceUsd,
        uint256 collateralDelta,
        uint256 leverageDelta,
        DecreasePositionSizeValues values
    );
    event LeverageUpdateExecuted(
        Id orderId,
        bool isIncrease,
        CancelReason cancelReason,
        uint8 indexed collateralIndex,
        address indexed trader,
        uint256 pairIndex,
        uint256 indexed index,
        uint256 oraclePrice,
        uint256 collateralDelta,
        UpdateLeverageValues values
    );

    /// One trader action (flat: every field is one ABI word). Fields an action's kind does not
    /// use are ignored. Trade fields (leverage .. sl, collateralAmount) describe the trade as the
    /// main event shows it: after the action for opens, before it for everything else.
    struct Op {
        uint8 kind; // KIND_*
        uint8 feeMode; // FEES_*
        bool chargeHolding; // emit BorrowingFeeCharged(holdingFee)
        address trader;
        uint32 index; // trade index (per trader)
        uint32 orderIndex; // orderId.index (per-trader order counter)
        uint16 pairIndex;
        bool long;
        uint8 collateralIndex;
        uint256 collateralPriceUsd; // 1e8
        uint24 leverage; // trade fields
        bool isOpen;
        uint120 collateralAmount;
        uint64 openPrice;
        uint64 tp;
        uint64 sl;
        bool open; // MarketExecuted.open
        uint8 orderType; // PendingOrderType of the action
        address triggerCaller; // LimitExecuted
        bool exactExecution; // LimitExecuted
        uint256 oraclePrice; // also marketPrice and priceAfterImpact (no spread, no impact)
        uint256 liqPrice; // liqPrice / existingLiqPrice / leverage update liqPrice
        uint256 newLiqPrice; // PositionSizeIncreaseExecuted.newLiqPrice
        int256 percentProfit;
        uint256 amountSentToTrader;
        uint256 govFee;
        uint256 triggerFee;
        uint256 gnsOtcFee;
        uint256 gTokenFee;
        uint256 holdingFee; // BorrowingFeeCharged / values.borrowingFeeCollateral
        uint256 collateralDelta;
        uint256 leverageDelta;
        bool isIncrease; // LeverageUpdateExecuted.isIncrease (leverage up = collateral out)
        uint256 positionSizeCollateralDelta; // also the opening/closing fee basis
        uint256 existingPositionSizeCollateral;
        uint256 newPositionSizeCollateral;
        uint256 newCollateralAmount;
        uint256 newLeverage;
        int256 existingPnlCollateral;
        uint256 oldPosSizePlusPnlCollateral;
        uint256 newOpenPrice;
        int256 availableCollateralInDiamond;
        int256 collateralSentToTrader;
    }

    function execute(Op[] calldata ops) external {
        _onlyKeeper();
        for (uint256 i = 0; i < ops.length; i++) {
            Op calldata op = ops[i];
            _emitFeeEvents(
                op.trader, op.collateralIndex, op.feeMode, op.govFee, op.triggerFee, op.gnsOtcFee, op.gTokenFee
            );
            if (op.chargeHolding) emit BorrowingFeeCharged(op.trader, op.index, op.collateralIndex, op.holdingFee);
            uint8 kind = op.kind;
            if (kind == KIND_MARKET) _marketExecuted(op);
            else if (kind == KIND_LIMIT) _limitExecuted(op);
            else if (kind == KIND_INCREASE) _increaseExecuted(op);
            else if (kind == KIND_DECREASE) _decreaseExecuted(op);
            else if (kind == KIND_LEVERAGE) _leverageExecuted(op);
            else revert("GTradeV9Facet: unknown op");
        }
    }

    function _trade(Op calldata op) internal pure returns (Trade memory t) {
        t.user = op.trader;
        t.index = op.index;
        t.pairIndex = op.pairIndex;
        t.leverage = op.leverage;
        t.long = op.long;
        t.isOpen = op.isOpen;
        t.collateralIndex = op.collateralIndex;
        t.tradeType = TradeType.TRADE;
        t.collateralAmount = op.collateralAmount;
        t.openPrice = op.openPrice;
        t.tp = op.tp;
        t.sl = op.sl;
    }

    function _marketExecuted(Op calldata op) internal {
        emit MarketExecuted(
            Id(op.trader, op.orderIndex),
            op.trader,
            op.index,
            _trade(op),
            op.open,
            op.oraclePrice,
            op.oraclePrice,
            op.liqPrice,
            0,
            op.percentProfit,
            op.amountSentToTrader,
            op.collateralPriceUsd
        );
    }

    function _limitExecuted(Op calldata op) internal {
        emit LimitExecuted(
            Id(op.trader, op.orderIndex),
            op.trader,
            op.index,
            op.index,
            _trade(op),
            op.triggerCaller,
            PendingOrderType(op.orderType),
            op.oraclePrice,
            op.oraclePrice,
            op.liqPrice,
            0,
            op.percentProfit,
            op.amountSentToTrader,
            op.collateralPriceUsd,
            op.exactExecution
        );
    }

    function _increaseValues(Op calldata op) internal pure returns (IncreasePositionSizeValues memory v) {
        v.positionSizeCollateralDelta = op.positionSizeCollateralDelta;
        v.existingPositionSizeCollateral = op.existingPositionSizeCollateral;
        v.newPositionSizeCollateral = op.newPositionSizeCollateral;
        v.newCollateralAmount = op.newCollateralAmount;
        v.newLeverage = op.newLeverage;
        v.priceAfterImpact = op.oraclePrice;
        v.existingPnlCollateral = op.existingPnlCollateral;
        v.oldPosSizePlusPnlCollateral = op.oldPosSizePlusPnlCollateral;
        v.newOpenPrice = op.newOpenPrice;
        v.borrowingFeeCollateral = op.holdingFee;
        v.openingFeesCollateral = op.govFee + op.triggerFee + op.gnsOtcFee + op.gTokenFee;
        v.existingLiqPrice = op.liqPrice;
        v.newLiqPrice = op.newLiqPrice;
    }

    function _increaseExecuted(Op calldata op) internal {
        emit PositionSizeIncreaseExecuted(
            Id(op.trader, op.orderIndex),
            CancelReason.NONE,
            op.collateralIndex,
            op.trader,
            op.pairIndex,
            op.index,
            op.long,
            op.oraclePrice,
            op.collateralPriceUsd,
            op.collateralDelta,
            op.leverageDelta,
            _increaseValues(op)
        );
    }

    function _decreaseValues(Op calldata op) internal pure returns (DecreasePositionSizeValues memory v) {
        v.positionSizeCollateralDelta = op.positionSizeCollateralDelta;
        v.existingPositionSizeCollateral = op.existingPositionSizeCollateral;
        v.existingLiqPrice = op.liqPrice;
        v.priceAfterImpact = op.oraclePrice;
        v.existingPnlCollateral = op.existingPnlCollateral;
        v.borrowingFeeCollateral = op.holdingFee;
        v.closingFeeCollateral = op.govFee + op.triggerFee + op.gnsOtcFee + op.gTokenFee;
        v.availableCollateralInDiamond = op.availableCollateralInDiamond;
        v.collateralSentToTrader = op.collateralSentToTrader;
        v.newCollateralAmount = uint120(op.newCollateralAmount);
        v.newLeverage = uint24(op.newLeverage);
    }

    function _decreaseExecuted(Op calldata op) internal {
        emit PositionSizeDecreaseExecuted(
            Id(op.trader, op.orderIndex),
            CancelReason.NONE,
            op.collateralIndex,
            op.trader,
            op.pairIndex,
            op.index,
            op.long,
            op.oraclePrice,
            op.collateralPriceUsd,
            op.collateralDelta,
            op.leverageDelta,
            _decreaseValues(op)
        );
    }

    function _leverageExecuted(Op calldata op) internal {
        emit LeverageUpdateExecuted(
            Id(op.trader, op.orderIndex),
            op.isIncrease,
            CancelReason.NONE,
            op.collateralIndex,
            op.trader,
            op.pairIndex,
            op.index,
            op.oraclePrice,
            op.collateralDelta,
            UpdateLeverageValues(op.newLeverage, op.newCollateralAmount, op.newLiqPrice, op.govFee)
        );
    }
}

/// The v10 diamond's trading events.
contract GTradeV10Facet is GTradeFacetCommon {
    struct Trade {
        address user;
        uint32 index;
        uint16 pairIndex;
        uint24 leverage;
        bool long;
        bool isOpen;
        uint8 collateralIndex;
        TradeType tradeType;
        uint120 collateralAmount;
        uint64 openPrice;
        uint64 tp;
        uint64 sl;
        bool isCounterTrade;
        uint160 positionSizeToken;
        uint24 __placeholder;
    }

    struct TradePriceImpact {
        uint256 positionSizeToken;
        int256 fixedSpreadP;
        int256 cumulVolPriceImpactP;
        int256 skewPriceImpactP;
        int256 totalPriceImpactP;
        uint64 priceAfterImpact;
    }

    struct IncreasePositionSizeValues {
        uint256 positionSizeCollateralDelta;
        uint256 existingPositionSizeCollateral;
        uint256 newPositionSizeCollateral;
        uint256 newCollateralAmount;
        uint256 newLeverage;
        TradePriceImpact priceImpact;
        int256 existingPnlCollateral;
        uint256 oldPosSizePlusPnlCollateral;
        uint256 newOpenPrice;
        uint256 openingFeesCollateral;
        uint256 existingLiqPrice;
        uint256 newLiqPrice;
        bool isCounterTradeValidated;
        uint256 exceedingPositionSizeCollateral;
        uint256 counterTradeCollateralToReturn;
        uint256 newEffectiveLeverage;
    }

    struct DecreasePositionSizeValues {
        bool isLeverageUpdate;
        uint256 positionSizeCollateralDelta;
        uint256 existingPositionSizeCollateral;
        uint256 existingLiqPrice;
        uint256 newLiqPrice;
        TradePriceImpact priceImpact;
        int256 existingPnlPercent;
        int256 partialRawPnlCollateral;
        int256 partialNetPnlCollateral;
        int256 pnlToRealizeCollateral;
        uint256 closingFeeCollateral;
        uint256 totalAvailableCollateralInDiamond;
        int256 availableCollateralInDiamond;
        int256 collateralSentToTrader;
        uint120 newCollateralAmount;
        uint24 newLeverage;
    }

    struct UpdateLeverageValues {
        uint256 newLeverage;
        uint256 newCollateralAmount;
        uint256 existingLiqPrice;
        uint256 newLiqPrice;
        uint256 govFeeCollateral;
        uint256 newEffectiveLeverage;
        uint256 totalTradeAvailableCollateralInDiamond;
        uint256 availableCollateralInDiamond;
    }

    struct TradeHoldingFees {
        int256 fundingFeeCollateral;
        uint256 borrowingFeeCollateral;
        uint256 borrowingFeeCollateral_old;
        int256 totalFeeCollateral;
    }

    event FeesProcessed(
        uint8 indexed collateralIndex,
        address indexed trader,
        uint256 positionSizeCollateral,
        PendingOrderType orderType,
        uint256 totalFeesCollateral
    );
    event HoldingFeesChargedOnTrade(
        uint8 indexed collateralIndex,
        address indexed trader,
        uint32 indexed index,
        uint64 currentPairPrice,
        TradeHoldingFees tradeHoldingFees,
        uint256 availableCollateralInDiamond,
        uint256 amountSentToVaultCollateral,
        uint256 newRealizedTradingFeesCollateral,
        int256 newRealizedPnlCollateral
    );
    event MarketExecuted(
        Id orderId,
        address indexed user,
        uint32 indexed index,
        Trade t,
        bool open,
        uint256 oraclePrice,
        uint256 marketPrice,
        uint256 liqPrice,
        TradePriceImpact priceImpact,
        int256 percentProfit,
        uint256 amountSentToTrader,
        uint256 collateralPriceUsd
    );
    event LimitExecuted(
        Id orderId,
        address indexed user,
        uint32 indexed index,
        uint32 indexed limitIndex,
        Trade t,
        address triggerCaller,
        PendingOrderType orderType,
        uint256 oraclePrice,
        uint256 marketPrice,
        uint256 liqPrice,
        TradePriceImpact priceImpact,
        int256 percentProfit,
        uint256 amountSentToTrader,
        uint256 collateralPriceUsd,
        bool exactExecution
    );
    event PositionSizeIncreaseExecuted(
        Id orderId,
        CancelReason cancelReason,
        uint8 indexed collateralIndex,
        address indexed trader,
        uint256 pairIndex,
        uint256 indexed index,
        bool long,
        uint256 oraclePrice,
        uint256 collateralPriceUsd,
        uint256 collateralDelta,
        uint256 leverageDelta,
        IncreasePositionSizeValues values
    );
    event PositionSizeDecreaseExecuted(
        Id orderId,
        CancelReason cancelReason,
        uint8 indexed collateralIndex,
        address indexed trader,
        uint256 pairIndex,
        uint256 indexed index,
        bool long,
        uint256 oraclePrice,
        uint256 collateralPriceUsd,
        uint256 collateralDelta,
        uint256 leverageDelta,
        DecreasePositionSizeValues values
    );
    event LeverageUpdateExecuted(
        Id orderId,
        bool isIncrease,
        CancelReason cancelReason,
        uint8 indexed collateralIndex,
        address indexed trader,
        uint256 pairIndex,
        uint256 indexed index,
        uint256 oraclePrice,
        uint256 collateralDelta,
        UpdateLeverageValues values
    );

    /// One trader action; the v9 Op plus the v10-only fields at the end.
    struct Op {
        uint8 kind;
        uint8 feeMode;
        bool chargeHolding; // emit HoldingFeesChargedOnTrade(holdingFee)
        address trader;
        uint32 index;
        uint32 orderIndex;
        uint16 pairIndex;
        bool long;
        uint8 collateralIndex;
        uint256 collateralPriceUsd;
        uint24 leverage;
        bool isOpen;
        uint120 collateralAmount;
        uint64 openPrice;
        uint64 tp;
        uint64 sl;
        bool open;
        uint8 orderType;
        address triggerCaller;
        bool exactExecution;
        uint256 oraclePrice;
        uint256 liqPrice; // liqPrice / existingLiqPrice
        uint256 newLiqPrice;
        int256 percentProfit; // also DecreasePositionSizeValues.existingPnlPercent
        uint256 amountSentToTrader;
        uint256 govFee;
        uint256 triggerFee;
        uint256 gnsOtcFee;
        uint256 gTokenFee;
        uint256 holdingFee;
        uint256 collateralDelta;
        uint256 leverageDelta;
        bool isIncrease;
        uint256 positionSizeCollateralDelta; // also FeesProcessed.positionSizeCollateral
        uint256 existingPositionSizeCollateral;
        uint256 newPositionSizeCollateral;
        uint256 newCollateralAmount;
        uint256 newLeverage;
        int256 existingPnlCollateral;
        uint256 oldPosSizePlusPnlCollateral;
        uint256 newOpenPrice;
        int256 availableCollateralInDiamond;
        int256 collateralSentToTrader;
        // v10 only
        uint160 positionSizeToken; // Trade.positionSizeToken (1e18)
        uint256 impactPositionSizeToken; // TradePriceImpact.positionSizeToken of the executed leg
        int256 partialRawPnlCollateral;
        int256 partialNetPnlCollateral;
        uint256 realizedTradingFees; // HoldingFeesChargedOnTrade.newRealizedTradingFeesCollateral
    }

    function execute(Op[] calldata ops) external {
        _onlyKeeper();
        for (uint256 i = 0; i < ops.length; i++) {
            Op calldata op = ops[i];
            _emitFeeEvents(
                op.trader, op.collateralIndex, op.feeMode, op.govFee, op.triggerFee, op.gnsOtcFee, op.gTokenFee
            );
            if (op.feeMode == FEES_TRADING) _feesProcessed(op);
            if (op.chargeHolding) _holdingFees(op);
            uint8 kind = op.kind;
            if (kind == KIND_MARKET) _marketExecuted(op);
            else if (kind == KIND_LIMIT) _limitExecuted(op);
            else if (kind == KIND_INCREASE) _increaseExecuted(op);
            else if (kind == KIND_DECREASE) _decreaseExecuted(op);
            else if (kind == KIND_LEVERAGE) _leverageExecuted(op);
            else revert("GTradeV10Facet: unknown op");
        }
    }

    function _totalFees(Op calldata op) internal pure returns (uint256) {
        return op.govFee + op.triggerFee + op.gnsOtcFee + op.gTokenFee;
    }

    function _feesProcessed(Op calldata op) internal {
        emit FeesProcessed(
            op.collateralIndex,
            op.trader,
            op.positionSizeCollateralDelta,
            PendingOrderType(op.orderType),
            _totalFees(op)
        );
    }

    function _holdingFees(Op calldata op) internal {
        emit HoldingFeesChargedOnTrade(
            op.collateralIndex,
            op.trader,
            op.index,
            uint64(op.oraclePrice),
            TradeHoldingFees(0, op.holdingFee, 0, int256(op.holdingFee)),
            op.collateralAmount,
            op.holdingFee,
            op.realizedTradingFees,
            0
        );
    }

    function _trade(Op calldata op) internal pure returns (Trade memory t) {
        t.user = op.trader;
        t.index = op.index;
        t.pairIndex = op.pairIndex;
        t.leverage = op.leverage;
        t.long = op.long;
        t.isOpen = op.isOpen;
        t.collateralIndex = op.collateralIndex;
        t.tradeType = TradeType.TRADE;
        t.collateralAmount = op.collateralAmount;
        t.openPrice = op.openPrice;
        t.tp = op.tp;
        t.sl = op.sl;
        t.positionSizeToken = op.positionSizeToken;
    }

    function _impact(Op calldata op) internal pure returns (TradePriceImpact memory p) {
        p.positionSizeToken = op.impactPositionSizeToken;
        p.priceAfterImpact = uint64(op.oraclePrice);
    }

    function _marketExecuted(Op calldata op) internal {
        emit MarketExecuted(
            Id(op.trader, op.orderIndex),
            op.trader,
            op.index,
            _trade(op),
            op.open,
            op.oraclePrice,
            op.oraclePrice,
            op.liqPrice,
            _impact(op),
            op.percentProfit,
            op.amountSentToTrader,
            op.collateralPriceUsd
        );
    }

    function _limitExecuted(Op calldata op) internal {
        emit LimitExecuted(
            Id(op.trader, op.orderIndex),
            op.trader,
            op.index,
            op.index,
            _trade(op),
            op.triggerCaller,
            PendingOrderType(op.orderType),
            op.oraclePrice,
            op.oraclePrice,
            op.liqPrice,
            _impact(op),
            op.percentProfit,
            op.amountSentToTrader,
            op.collateralPriceUsd,
            op.exactExecution
        );
    }

    function _increaseValues(Op calldata op) internal pure returns (IncreasePositionSizeValues memory v) {
        v.positionSizeCollateralDelta = op.positionSizeCollateralDelta;
        v.existingPositionSizeCollateral = op.existingPositionSizeCollateral;
        v.newPositionSizeCollateral = op.newPositionSizeCollateral;
        v.newCollateralAmount = op.newCollateralAmount;
        v.newLeverage = op.newLeverage;
        v.priceImpact = _impact(op);
        v.existingPnlCollateral = op.existingPnlCollateral;
        v.oldPosSizePlusPnlCollateral = op.oldPosSizePlusPnlCollateral;
        v.newOpenPrice = op.newOpenPrice;
        v.openingFeesCollateral = _totalFees(op);
        v.existingLiqPrice = op.liqPrice;
        v.newLiqPrice = op.newLiqPrice;
        v.newEffectiveLeverage = op.newLeverage;
    }

    function _increaseExecuted(Op calldata op) internal {
        emit PositionSizeIncreaseExecuted(
            Id(op.trader, op.orderIndex),
            CancelReason.NONE,
            op.collateralIndex,
            op.trader,
            op.pairIndex,
            op.index,
            op.long,
            op.oraclePrice,
            op.collateralPriceUsd,
            op.collateralDelta,
            op.leverageDelta,
            _increaseValues(op)
        );
    }

    function _decreaseValues(Op calldata op) internal pure returns (DecreasePositionSizeValues memory v) {
        v.isLeverageUpdate = false;
        v.positionSizeCollateralDelta = op.positionSizeCollateralDelta;
        v.existingPositionSizeCollateral = op.existingPositionSizeCollateral;
        v.existingLiqPrice = op.liqPrice;
        v.newLiqPrice = op.newLiqPrice;
        v.priceImpact = _impact(op);
        v.existingPnlPercent = op.percentProfit;
        v.partialRawPnlCollateral = op.partialRawPnlCollateral;
        v.partialNetPnlCollateral = op.partialNetPnlCollateral;
        v.pnlToRealizeCollateral = op.partialRawPnlCollateral;
        v.closingFeeCollateral = _totalFees(op);
        v.totalAvailableCollateralInDiamond = op.collateralAmount;
        v.availableCollateralInDiamond = op.availableCollateralInDiamond;
        v.collateralSentToTrader = op.collateralSentToTrader;
        v.newCollateralAmount = uint120(op.newCollateralAmount);
        v.newLeverage = uint24(op.newLeverage);
    }

    function _decreaseExecuted(Op calldata op) internal {
        emit PositionSizeDecreaseExecuted(
            Id(op.trader, op.orderIndex),
            CancelReason.NONE,
            op.collateralIndex,
            op.trader,
            op.pairIndex,
            op.index,
            op.long,
            op.oraclePrice,
            op.collateralPriceUsd,
            op.collateralDelta,
            op.leverageDelta,
            _decreaseValues(op)
        );
    }

    function _leverageExecuted(Op calldata op) internal {
        emit LeverageUpdateExecuted(
            Id(op.trader, op.orderIndex),
            op.isIncrease,
            CancelReason.NONE,
            op.collateralIndex,
            op.trader,
            op.pairIndex,
            op.index,
            op.oraclePrice,
            op.collateralDelta,
            UpdateLeverageValues(
                op.newLeverage,
                op.newCollateralAmount,
                op.liqPrice,
                op.newLiqPrice,
                op.govFee,
                op.newLeverage,
                op.newCollateralAmount,
                op.newCollateralAmount
            )
        );
    }
}
