"""A third-party Binance USDⓈ-M client (ccxt, pinned in scripts/setup.sh) against perpdesk-sim.

Starts the simulator binary on a free loopback port with one account (simproc.py), points
ccxt's `binanceusdm` at it (only the base URLs change, and no clock sync), and walks a
trader's session: markets, balance, leverage, margin mode, market and limit orders, query and
cancel, modify, batch cancel, the book ticker, positions, stop-loss and take-profit algo
orders, trades and income. Exits non-zero on any failure.

Usage: python3 crates/sim/tests/third_party/ccxt_client.py <path to perpdesk-sim> <shared/data dir>
"""

import sys

import ccxt

from simproc import ACCOUNT_KEY, ACCOUNT_SECRET, simulator


def main(binary, data):
    with simulator(binary, data) as base:
        ex = ccxt.binanceusdm({
            "apiKey": ACCOUNT_KEY, "secret": ACCOUNT_SECRET,
            # No clock sync: the simulator speaks wall-clock time, as Binance does.
            "options": {"fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False},
        })
        for name, url in list(ex.urls["api"].items()):
            if isinstance(url, str):
                ex.urls["api"][name] = url.replace("https://fapi.binance.com", base).replace("https://api.binance.com", base)
        sym = "BTC/USDT:USDT"
        markets = ex.load_markets()
        assert {"BTC/USDT:USDT", "ETH/USDT:USDT"} <= set(markets), markets.keys()
        assert ex.fetch_balance()["USDT"]["total"] == 10000.0
        ex.set_leverage(5, sym)
        ex.set_margin_mode("isolated", sym)
        market = ex.create_order(sym, "market", "buy", 0.01)
        assert market["status"] == "closed", market
        positions = [p for p in ex.fetch_positions() if p["contracts"]]
        assert [(p["symbol"], p["contracts"]) for p in positions] == [(sym, 0.01)], positions
        last = float(ex.fapiPublicGetTickerPrice({"symbol": "BTCUSDT"})["price"])
        limit = ex.create_order(sym, "limit", "buy", 0.01, round(last * 0.97, 1))
        assert len(ex.fetch_open_orders(sym)) == 1
        assert ex.fetch_order(limit["id"], sym)["status"] == "open"
        assert ex.cancel_order(limit["id"], sym)["status"] == "canceled"
        # Modify (PUT /fapi/v1/order), batch cancel (DELETE /fapi/v1/batchOrders), bookTicker.
        first = ex.create_order(sym, "limit", "buy", 0.01, round(last * 0.97, 1))
        second = ex.create_order(sym, "limit", "buy", 0.01, round(last * 0.96, 1))
        edited = ex.edit_order(first["id"], sym, "limit", "buy", 0.02, round(last * 0.965, 1))
        assert (edited["id"], edited["amount"], edited["price"]) == (first["id"], 0.02, round(last * 0.965, 1)), edited
        cancelled = ex.cancel_orders([first["id"], second["id"]], sym)
        assert [o["status"] for o in cancelled] == ["canceled", "canceled"], cancelled
        assert ex.fetch_open_orders(sym) == []
        top = ex.fetch_bids_asks([sym])[sym]
        assert 0 < top["bid"] < top["ask"], top
        ex.create_order(sym, "STOP_MARKET", "sell", 0.01, None, {"stopPrice": round(last * 0.95, 1), "reduceOnly": True})
        ex.create_order(sym, "TAKE_PROFIT_MARKET", "sell", 0.01, None, {"stopPrice": round(last * 1.05, 1), "reduceOnly": True})
        assert len(ex.fetch_open_orders(sym, params={"trigger": True})) == 2
        assert len(ex.fetch_my_trades(sym)) == 1
        kinds = {row["type"] for row in ex.fetch_ledger()}
        assert {"transfer", "commission"} <= kinds, kinds
        print(f"ccxt {ccxt.__version__} against perpdesk-sim: markets, balance, leverage, margin mode, "
              "market/limit orders, query/cancel, modify, batch cancel, book ticker, positions, "
              "SL/TP algo orders, trades, income: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
