"""ccxt's streaming client (`ccxt.pro`, in the ccxt package pinned in scripts/setup.sh) against
perpdesk-sim: only the base URLs change.

ccxt.pro rewrites the USDⓈ-M stream URL per channel (`/market/ws/<n>` for klines, tickers and
mark prices, `/private/ws?listenKey=…` for the account) and keeps the listen key alive itself.
The session watches candles, a ticker and the mark price, then trades while watching its
orders, trades, positions and balance, and checks each update against the REST records of
the same session. Exits non-zero on any failure.

Usage: python3 crates/sim/tests/third_party/ccxt_pro_client.py <path to perpdesk-sim> <shared/data dir>
"""

import asyncio
import sys
import time

import ccxt.pro as ccxtpro

from simproc import ACCOUNT_KEY, ACCOUNT_SECRET, simulator

SYMBOL = "BTC/USDT:USDT"
# A bound for a stuck run, not a speed expectation.
TIMEOUT = 120


def near_now(ms, slack_ms=60_000):
    return abs(ms - time.time() * 1000) <= slack_ms


async def watch_until(what, watch, predicate):
    """Calls `watch()` until what it returns satisfies `predicate`, and returns that."""
    async def loop():
        while True:
            value = await watch()
            if predicate(value):
                return value
    try:
        return await asyncio.wait_for(loop(), TIMEOUT)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def session(base):
    ex = ccxtpro.binanceusdm({
        "apiKey": ACCOUNT_KEY, "secret": ACCOUNT_SECRET,
        "options": {"fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False},
    })
    for name, url in list(ex.urls["api"].items()):
        if isinstance(url, str):
            ex.urls["api"][name] = url.replace("https://fapi.binance.com", base).replace("https://api.binance.com", base)
    ex.urls["api"]["ws"]["linear"] = base.replace("http://", "ws://") + "/ws"
    try:
        await ex.load_markets()

        # Market streams.
        candles = await watch_until("1m candles", lambda: ex.watch_ohlcv(SYMBOL, "1m"), lambda c: len(c) > 0)
        assert candles[-1][0] % 60_000 == 0 and near_now(candles[-1][0], 120_000), candles[-1]
        ticker = await watch_until("a ticker", lambda: ex.watch_ticker(SYMBOL), lambda t: t["last"])
        assert ticker["symbol"] == SYMBOL and near_now(ticker["timestamp"]), ticker
        mark = await watch_until("a mark price", lambda: ex.watch_mark_price(SYMBOL), lambda t: t["markPrice"])
        assert mark["markPrice"] > 0 and near_now(mark["timestamp"]), mark

        # The account's streams, each started before the trade it should see.
        await ex.set_leverage(5, SYMBOL)
        orders = asyncio.ensure_future(watch_until(
            "the entry on watch_orders", lambda: ex.watch_orders(SYMBOL),
            lambda os: any(o["status"] == "closed" and o["side"] == "buy" for o in os)))
        trades = asyncio.ensure_future(watch_until(
            "the entry's fill on watch_my_trades", lambda: ex.watch_my_trades(SYMBOL), lambda ts: len(ts) > 0))
        positions = asyncio.ensure_future(watch_until(
            "the position on watch_positions", lambda: ex.watch_positions([SYMBOL]),
            lambda ps: any(p["symbol"] == SYMBOL and p["contracts"] for p in ps)))
        balance = asyncio.ensure_future(watch_until(
            "the commission on watch_balance", lambda: ex.watch_balance(),
            lambda b: b.get("USDT", {}).get("total") not in (None, 10000.0)))
        # The private socket must be connected before the trade: ccxt opens it on the first
        # private watch, after fetching a listen key.
        async def private_connected():
            while not [url for url in ex.clients if "listenKey=" in url]:
                await asyncio.sleep(0.05)
            url = next(url for url in ex.clients if "listenKey=" in url)
            await ex.clients[url].connected
            return url
        private_url = await asyncio.wait_for(private_connected(), TIMEOUT)
        assert "/private/ws?listenKey=" in private_url, private_url

        entry = await ex.create_order(SYMBOL, "market", "buy", 0.01)
        seen = [o for o in await orders if o["id"] == entry["id"]]
        assert seen and seen[-1]["status"] == "closed" and seen[-1]["filled"] == 0.01, seen
        fills = await trades
        assert fills[-1]["order"] == entry["id"] and near_now(fills[-1]["timestamp"]), fills[-1]
        rest_fills = await ex.fetch_my_trades(SYMBOL)
        assert [f["id"] for f in rest_fills] == [f["id"] for f in fills], (rest_fills, fills)
        held = [p for p in await positions if p["symbol"] == SYMBOL and p["contracts"]]
        assert held[-1]["contracts"] == 0.01 and held[-1]["side"] == "long", held
        # The stream's balance is the wallet (ACCOUNT_UPDATE's `wb`): 10,000 less the commission,
        # as the REST account's wallet says (its `total` adds the unrealised PnL).
        after = await balance
        wallet = float((await ex.fetch_balance())["info"]["totalWalletBalance"])
        assert abs(after["USDT"]["total"] - wallet) < 1e-6 and wallet < 10000, (after["USDT"], wallet)

        # The close, seen on the stream as well.
        closing = asyncio.ensure_future(watch_until(
            "the close on watch_orders", lambda: ex.watch_orders(SYMBOL),
            lambda os: any(o["status"] == "closed" and o["side"] == "sell" for o in os)))
        await asyncio.sleep(0)
        close = await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
        assert any(o["id"] == close["id"] for o in await closing)
        assert not [p for p in await ex.fetch_positions([SYMBOL]) if p["contracts"]]
    finally:
        await ex.close()
    print(f"ccxt.pro {ccxtpro.__version__} against perpdesk-sim: candles, ticker, mark price, orders, trades, "
          "positions and balance streams, each matching the REST records: ok")


def main(binary, data):
    with simulator(binary, data) as base:
        asyncio.run(session(base))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
