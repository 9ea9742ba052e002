"""Binance's official SDK for USDⓈ-M futures (`binance-sdk-derivatives-trading-usds-futures`,
pinned in scripts/setup.sh) against perpdesk-sim, unmodified: only the base URLs change.

The SDK parses every reply into strict pydantic models (a float where Binance sends an int, or
a number where it sends a string, is refused), signs with the machine's clock (no offset
option), and opens its stream connections on the routed URLs (`/market/stream`,
`/public/stream`, `/private/stream`). The session: server time, symbols, klines, mark price,
depth, balance, leverage, margin type, brackets, commission, a market entry seen on the
user-data stream, the position, a limit order modified and cancelled, a protective stop and a
take-profit on the algo endpoint, the close, trades and income, an error as the SDK reports it,
and the listen key's life. Exits non-zero on any failure.

Usage: python3 crates/sim/tests/third_party/sdk_client.py <path to perpdesk-sim> <shared/data dir>
"""

import asyncio
import logging
import sys
import time

from binance_common.configuration import ConfigurationRestAPI, ConfigurationWebSocketStreams
from binance_common.errors import BadRequestError
from binance_sdk_derivatives_trading_usds_futures import DerivativesTradingUsdsFutures
from binance_sdk_derivatives_trading_usds_futures.rest_api.models import (
    ChangeMarginTypeMarginTypeEnum,
    KlineCandlestickDataIntervalEnum,
    NewAlgoOrderAlgoTypeEnum,
    NewAlgoOrderClosePositionEnum,
    NewAlgoOrderSideEnum,
    NewAlgoOrderTypeEnum,
    ModifyOrderSideEnum,
    NewOrderReduceOnlyEnum,
    NewOrderSideEnum,
    NewOrderTimeInForceEnum,
    NewOrderTypeEnum,
)
from binance_sdk_derivatives_trading_usds_futures.websocket_streams.models import (
    KlineCandlestickStreamsIntervalEnum,
)

from simproc import ACCOUNT_KEY, ACCOUNT_SECRET, simulator

SYMBOL = "BTCUSDT"


class TypeMismatches(logging.Handler):
    """The endpoints whose reply the SDK had to parse with strict typing removed: each one is a
    field whose JSON type differs from the SDK's model."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.endpoints = set()

    def emit(self, record):
        text = record.getMessage()
        if "did not match the declared types" in text:
            self.endpoints.add(text.split(" ", 1)[0])


# Binance itself sends `cum` of GET leverageBracket as a float (0.0, 300.0) where the SDK's
# single-symbol model declares an int; the SDK warns and parses it anyway
# (binance/binance-connector-python#418, #427). Any other mismatch is ours.
KNOWN_MISMATCHES = {"/fapi/v1/leverageBracket"}


def wall_ms():
    return int(time.time() * 1000)


def near_now(ms, slack_ms=60_000):
    return abs(ms - wall_ms()) <= slack_ms


async def until(what, predicate, timeout=120.0):
    """Waits until `predicate()` is truthy and returns it (the bound is for a stuck run)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def first(items, predicate):
    return next((m for m in list(items) if predicate(m)), None)


def field(message, name):
    """A field of a stream message, whichever form the SDK gave it: a dict, a model, or a
    one-of wrapper (user-data events) around the model."""
    if isinstance(message, dict):
        return message.get(name)
    message = getattr(message, "actual_instance", None) or message
    return getattr(message, name, None)


def event(message):
    """The SDK's model name of a user-data event (it keeps no `e` field on them)."""
    return type(getattr(message, "actual_instance", None) or message).__name__


async def session(base):
    ws_base = base.replace("http://", "ws://")
    client = DerivativesTradingUsdsFutures(
        config_rest_api=ConfigurationRestAPI(api_key=ACCOUNT_KEY, api_secret=ACCOUNT_SECRET, base_path=base,
                                             timeout=30_000, retries=0),
        config_ws_streams=ConfigurationWebSocketStreams(stream_url=ws_base),
    )
    rest = client.rest_api

    # Market data, all on the wall clock.
    rest.test_connectivity()
    server = rest.check_server_time().data().server_time
    assert near_now(server, 10_000), (server, wall_ms())
    info = rest.exchange_information().data()
    assert SYMBOL in {s.symbol for s in info.symbols}
    klines = rest.kline_candlestick_data(SYMBOL, KlineCandlestickDataIntervalEnum.INTERVAL_1h, limit=3).data()
    assert len(klines) == 3, klines
    last_open, last_close = int(klines[-1][0]), int(klines[-1][6])
    assert last_open % 3_600_000 == 0 and last_open <= server <= last_close, (klines[-1], server)
    book = rest.order_book(SYMBOL, limit=5).data()
    assert float(book.bids[0][0]) < float(book.asks[0][0]), book
    last = float(rest.symbol_price_ticker(symbol=SYMBOL).data().actual_instance.price)

    # Streams on the routed URLs: a kline on /market, the account on /private.
    connection = await client.websocket_streams.create_connection()
    market, user = [], []
    try:
        klines_stream = await connection.kline_candlestick_streams(
            symbol=SYMBOL.lower(), interval=KlineCandlestickStreamsIntervalEnum.INTERVAL_1m)
        klines_stream.on("message", market.append)
        listen_key = rest.start_user_data_stream().data().listen_key
        user_stream = await connection.user_data(listen_key)
        user_stream.on("message", user.append)

        kline = await until("a 1m kline event", lambda: first(market, lambda m: field(m, "e") == "kline"))
        assert field(kline, "s") == SYMBOL and near_now(field(kline, "E")), kline

        # The account.
        balances = {b.asset: b for b in rest.futures_account_balance_v3().data()}
        assert float(balances["USDT"].balance) == 10000.0, balances
        assert float(rest.account_information_v3().data().total_wallet_balance) == 10000.0
        assert rest.change_initial_leverage(SYMBOL, 5).data().leverage == 5
        rest.change_margin_type(SYMBOL, ChangeMarginTypeMarginTypeEnum.ISOLATED)
        brackets = rest.notional_and_leverage_brackets(symbol=SYMBOL).data()
        assert brackets.actual_instance, brackets
        commission = rest.user_commission_rate(SYMBOL).data()
        assert float(commission.taker_commission_rate) > 0, commission

        # An entry, seen on the user-data stream.
        entry = rest.new_order(SYMBOL, NewOrderSideEnum.BUY, NewOrderTypeEnum.MARKET, quantity=0.01).data()
        assert entry.order_id and near_now(entry.update_time), entry
        queried = rest.query_order(SYMBOL, order_id=entry.order_id).data()
        assert queried.status == "FILLED", queried
        filled = await until("ORDER_TRADE_UPDATE FILLED", lambda: first(
            user, lambda m: event(m) == "OrderTradeUpdate" and field(m, "o").i == entry.order_id
            and field(m, "o").X == "FILLED"))
        assert near_now(field(filled, "E")) and near_now(field(filled, "T")), filled
        update = await until("ACCOUNT_UPDATE", lambda: first(user, lambda m: event(m) == "AccountUpdate"))
        assert [p.s for p in field(update, "a").P] == [SYMBOL], update
        positions = [p for p in rest.position_information_v3(symbol=SYMBOL).data() if float(p.position_amt)]
        assert len(positions) == 1, positions
        position = positions[0]
        # v3 names no margin type; an isolated position has a wallet of its own.
        assert float(position.position_amt) == 0.01 and float(position.isolated_wallet) > 0, position
        entry_price = float(position.entry_price)
        assert 0.7 * entry_price < float(position.liquidation_price) < entry_price, position

        # A resting limit order: listed, modified, cancelled.
        limit = rest.new_order(SYMBOL, NewOrderSideEnum.BUY, NewOrderTypeEnum.LIMIT,
                               time_in_force=NewOrderTimeInForceEnum.GTC, quantity=0.01,
                               price=round(last * 0.97, 1)).data()
        assert [o.order_id for o in rest.current_all_open_orders(symbol=SYMBOL).data()] == [limit.order_id]
        moved = rest.modify_order(SYMBOL, ModifyOrderSideEnum.BUY, 0.01, round(last * 0.96, 1),
                                  order_id=limit.order_id).data()
        assert float(moved.price) == round(last * 0.96, 1), moved
        assert rest.cancel_order(SYMBOL, order_id=limit.order_id).data().status == "CANCELED"

        # Protection on the algo endpoint: a stop and a take-profit that close the position.
        for kind, trigger in ((NewAlgoOrderTypeEnum.STOP_MARKET, entry_price * 0.9),
                              (NewAlgoOrderTypeEnum.TAKE_PROFIT_MARKET, entry_price * 1.1)):
            placed = rest.new_algo_order(NewAlgoOrderAlgoTypeEnum.CONDITIONAL, SYMBOL, NewAlgoOrderSideEnum.SELL,
                                         kind, trigger_price=round(trigger, 1),
                                         close_position=NewAlgoOrderClosePositionEnum.TRUE).data()
            assert placed.algo_status == "NEW", placed
        algos = rest.current_all_algo_open_orders(symbol=SYMBOL).data()
        assert sorted(a.order_type for a in algos) == ["STOP_MARKET", "TAKE_PROFIT_MARKET"], algos
        rest.cancel_all_algo_open_orders(SYMBOL)
        assert rest.current_all_algo_open_orders(symbol=SYMBOL).data() == []

        # An error, as the SDK reports it.
        try:
            rest.new_order(SYMBOL, NewOrderSideEnum.BUY, NewOrderTypeEnum.MARKET, quantity=0)
            raise AssertionError("a zero quantity was accepted")
        except BadRequestError as err:
            assert "-4003" in str(err), str(err)

        # The close, then the records.
        rest.new_order(SYMBOL, NewOrderSideEnum.SELL, NewOrderTypeEnum.MARKET, quantity=0.01,
                       reduce_only=NewOrderReduceOnlyEnum.TRUE)
        assert not [p for p in rest.position_information_v3(symbol=SYMBOL).data() if float(p.position_amt)]
        trades = rest.account_trade_list(SYMBOL).data()
        assert [t.side for t in trades] == ["BUY", "SELL"] and all(near_now(t.time) for t in trades), trades
        # The income ledger ties to the trades (see connector_client.py).
        income = rest.get_income_history(symbol=SYMBOL).data()
        assert all(r.symbol == SYMBOL and near_now(r.time) for r in income), income
        commissions = sorted(r.trade_id for r in income if r.income_type == "COMMISSION")
        assert commissions == sorted(str(t.id) for t in trades), (commissions, trades)
        realized = sum(float(r.income) for r in income if r.income_type == "REALIZED_PNL")
        assert abs(realized - sum(float(t.realized_pnl) for t in trades)) < 1e-9, (income, trades)

        rest.keepalive_user_data_stream()
        rest.close_user_data_stream()
    finally:
        await connection.close_connection(close_session=True)
    print("binance-sdk-derivatives-trading-usds-futures against perpdesk-sim: time, symbols, klines, depth, "
          "kline and user streams on the routed URLs, balance v3, leverage, margin type, brackets, commission, "
          "market entry, position v3 with liquidation price, limit modify/cancel, algo stop and take-profit, "
          "error codes, close, trades, income, listen key: ok")


def main(binary, data):
    mismatches = TypeMismatches()
    logging.getLogger().addHandler(mismatches)
    with simulator(binary, data) as base:
        asyncio.run(session(base))
    assert mismatches.endpoints <= KNOWN_MISMATCHES, mismatches.endpoints


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
