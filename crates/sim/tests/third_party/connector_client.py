"""Binance's official Python connector (`binance-futures-connector`, pinned in scripts/setup.sh)
against perpdesk-sim, unmodified: only the base URLs change.

The connector signs with the machine's clock and has no time-offset option, so this passes
only when the simulator speaks wall-clock time (its default). It walks a trader's session over
REST and both stream routes: server time, symbols, klines, mark price, depth, balance,
leverage, margin type, a market entry seen on the user-data stream, the position with its
liquidation price, a limit order modified and cancelled, a protective stop on the algo
endpoint, the close, trades and income, an error as the connector reports it, and the listen
key's life. Exits non-zero on any failure.

Usage: python3 crates/sim/tests/third_party/connector_client.py <path to perpdesk-sim> <shared/data dir>
"""

import json
import sys
import threading
import time

from binance.error import ClientError
from binance.um_futures import UMFutures
from binance.websocket.um_futures.websocket_client import UMFuturesWebsocketClient

from simproc import ACCOUNT_KEY, ACCOUNT_SECRET, simulator, wait_for

SYMBOL = "BTCUSDT"


class Inbox:
    """Messages of one websocket, kept for the session's checks."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []

    def on_message(self, _socket, message):
        with self.lock:
            self.messages.append(json.loads(message))

    def find(self, predicate):
        with self.lock:
            return next((m for m in self.messages if predicate(m)), None)


def wall_ms():
    return int(time.time() * 1000)


def near_now(ms, slack_ms=60_000):
    return abs(ms - wall_ms()) <= slack_ms


def main(binary, data):
    with simulator(binary, data) as base:
        ws_base = base.replace("http://", "ws://")
        client = UMFutures(key=ACCOUNT_KEY, secret=ACCOUNT_SECRET, base_url=base)

        # Market data, all on the wall clock.
        client.ping()
        server = client.time()["serverTime"]
        assert near_now(server, 10_000), (server, wall_ms())
        symbols = {s["symbol"]: s for s in client.exchange_info()["symbols"]}
        assert SYMBOL in symbols, symbols.keys()
        klines = client.klines(SYMBOL, "1h", limit=3)
        assert len(klines) == 3, klines
        last_open, last_close = klines[-1][0], klines[-1][6]
        assert last_open % 3_600_000 == 0 and last_open <= server <= last_close, (klines[-1], server)
        mark = client.mark_price(SYMBOL)
        assert mark["nextFundingTime"] > server and mark["nextFundingTime"] % 3_600_000 == 0, mark
        funding = client.funding_rate(SYMBOL, limit=3)
        assert funding and all(f["fundingTime"] <= server for f in funding), funding
        book = client.depth(SYMBOL, limit=5)
        assert float(book["bids"][0][0]) < float(book["asks"][0][0]), book
        last = float(client.ticker_price(SYMBOL)["price"])

        # Streams: klines and mark price on /market, the account on /private.
        market = Inbox()
        market_ws = UMFuturesWebsocketClient(stream_url=f"{ws_base}/market", on_message=market.on_message)
        market_ws.kline(symbol=SYMBOL.lower(), interval="1m")
        market_ws.mark_price(symbol=SYMBOL.lower(), speed=1)
        listen_key = client.new_listen_key()["listenKey"]
        user = Inbox()
        user_ws = UMFuturesWebsocketClient(stream_url=f"{ws_base}/private", on_message=user.on_message)
        user_ws.user_data(listen_key=listen_key)
        try:
            kline = wait_for("a 1m kline event", lambda: market.find(lambda m: m.get("e") == "kline"))
            assert kline["s"] == SYMBOL and near_now(kline["E"]), kline
            assert kline["k"]["t"] % 60_000 == 0 and kline["k"]["t"] <= kline["E"] <= kline["k"]["T"], kline
            marked = wait_for("a mark price event", lambda: market.find(lambda m: m.get("e") == "markPriceUpdate"))
            assert near_now(marked["E"]) and marked["T"] > marked["E"], marked
            # The subscription replies ({"result": null, "id": ...}) arrive on the user socket
            # too; wait for it before trading so no event can precede the subscription.
            wait_for("the listen key's subscription reply", lambda: user.find(lambda m: "result" in m))

            # The account.
            balances = {b["asset"]: b for b in client.balance()}
            assert float(balances["USDT"]["balance"]) == 10000.0, balances
            assert float(client.account()["totalWalletBalance"]) == 10000.0
            assert client.change_leverage(symbol=SYMBOL, leverage=5)["leverage"] == 5
            client.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")

            # An entry, seen on the user-data stream.
            entry = client.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity=0.01,
                                     newOrderRespType="RESULT")
            assert entry["status"] == "FILLED" and near_now(entry["updateTime"]), entry
            assert client.query_order(symbol=SYMBOL, orderId=entry["orderId"])["status"] == "FILLED"
            filled = wait_for("ORDER_TRADE_UPDATE FILLED", lambda: user.find(
                lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["i"] == entry["orderId"] and m["o"]["X"] == "FILLED"))
            assert near_now(filled["E"]) and near_now(filled["T"]), filled
            update = wait_for("ACCOUNT_UPDATE", lambda: user.find(lambda m: m.get("e") == "ACCOUNT_UPDATE"))
            assert [p["s"] for p in update["a"]["P"]] == [SYMBOL] and float(update["a"]["P"][0]["iw"]) > 0, update
            positions = [p for p in client.get_position_risk(symbol=SYMBOL) if float(p["positionAmt"])]
            assert len(positions) == 1, positions
            position = positions[0]
            # v3 names no margin type; an isolated position has a wallet of its own.
            assert float(position["positionAmt"]) == 0.01 and float(position["isolatedWallet"]) > 0, position
            entry_price = float(position["entryPrice"])
            # An isolated 5x long is liquidated about 20% below its entry, never above it.
            assert 0.7 * entry_price < float(position["liquidationPrice"]) < entry_price, position

            # A resting limit order: listed, modified, cancelled.
            price = round(last * 0.97, 1)
            limit = client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                     quantity=0.01, price=price)
            assert [o["orderId"] for o in client.get_orders(symbol=SYMBOL)] == [limit["orderId"]]
            assert client.get_open_orders(symbol=SYMBOL, orderId=limit["orderId"])["status"] == "NEW"
            moved = client.modify_order(symbol=SYMBOL, side="BUY", orderId=limit["orderId"], quantity=0.01,
                                        price=round(last * 0.96, 1))
            assert float(moved["price"]) == round(last * 0.96, 1), moved
            assert client.cancel_order(symbol=SYMBOL, orderId=limit["orderId"])["status"] == "CANCELED"

            # A protective stop: conditional orders live on the algo endpoint, which this
            # connector version has no method for; its own generic signed call reaches it.
            stop = client.sign_request("POST", "/fapi/v1/algoOrder", {
                "algoType": "CONDITIONAL", "symbol": SYMBOL, "side": "SELL", "type": "STOP_MARKET",
                "triggerPrice": round(entry_price * 0.9, 1), "closePosition": "true"})
            assert stop["algoStatus"] == "NEW", stop
            open_algos = client.sign_request("GET", "/fapi/v1/openAlgoOrders", {"symbol": SYMBOL})
            assert [a["algoId"] for a in open_algos] == [stop["algoId"]], open_algos
            cancelled = client.sign_request("DELETE", "/fapi/v1/algoOrder", {"algoId": stop["algoId"]})
            assert cancelled["code"] == "200", cancelled

            # An error, as the connector reports it.
            try:
                client.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity=0)
                raise AssertionError("a zero quantity was accepted")
            except ClientError as err:
                assert (err.status_code, err.error_code) == (400, -4003), (err.status_code, err.error_code, err.error_message)

            # The close, then the records.
            close = client.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity=0.01, reduceOnly="true",
                                     newOrderRespType="RESULT")
            assert close["status"] == "FILLED", close
            assert not [p for p in client.get_position_risk(symbol=SYMBOL) if float(p["positionAmt"])]
            trades = client.get_account_trades(symbol=SYMBOL)
            assert [t["side"] for t in trades] == ["BUY", "SELL"] and all(near_now(t["time"]) for t in trades), trades
            # The income ledger ties to the trades: one commission row per fill, and the
            # realised PnL rows (none when the close was at the entry's price) sum to the trades'.
            income = client.get_income_history(symbol=SYMBOL)
            assert all(r["symbol"] == SYMBOL and near_now(r["time"]) for r in income), income
            commissions = sorted(r["tradeId"] for r in income if r["incomeType"] == "COMMISSION")
            assert commissions == sorted(str(t["id"]) for t in trades), (commissions, trades)
            realized = sum(float(r["income"]) for r in income if r["incomeType"] == "REALIZED_PNL")
            assert abs(realized - sum(float(t["realizedPnl"]) for t in trades)) < 1e-9, (income, trades)

            client.renew_listen_key(listen_key)
            client.close_listen_key(listen_key)
        finally:
            market_ws.stop()
            user_ws.stop()
        print("binance-futures-connector against perpdesk-sim: time, symbols, klines, mark price, funding, "
              "depth, kline and mark price streams, balance, leverage, margin type, market entry on the "
              "user stream, position with liquidation price, limit modify/cancel, algo stop, error codes, "
              "close, trades, income, listen key: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
