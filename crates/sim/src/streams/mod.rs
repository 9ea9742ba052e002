//! WebSocket streams at the 2026 URL layout (CONTRACT.md §1 "Stream URL forms", §6):
//! `/private` for user data (by listenKey), `/market` for klines and mark price, `/public`
//! for the high-frequency class, and the legacy un-routed `/ws` and `/stream`. Each route has
//! a raw mode (`…/ws[/<name>…]`) and a combined mode (`…/stream[?streams=a/b]`, each message
//! wrapped as `{stream, data}`).
//!
//! Invariants:
//! - Every connection takes live `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` /
//!   `SET_PROPERTY` / `GET_PROPERTY` messages and answers each with its `id`; a refused request
//!   changes no subscription.
//! - Only `/market` delivers the market class; `/public` and the legacy routes deliver the
//!   public class (book ticker, depth, trades: `book`). The legacy routes accept market names
//!   and stay silent, as Binance's do since the split; `/public` refuses market names and
//!   `/market` public ones, since the two classes cannot share a connection.
//! - A client's Close frame is answered with a Close frame before the socket ends.

mod book;
mod control;
mod market;
mod private;

pub use market::{legacy_bare, market_bare, public_bare, public_combined, public_raw};
pub use market::{legacy_combined, legacy_raw, market_combined, market_raw};
pub use private::{private, private_path, private_stream};

/// What a connection does with one incoming frame: a text is a control message whose reply
/// `apply` makes and which is sent back; a Close is answered with a Close. `false` when the
/// connection is over (closed, broken, or the reply could not be sent).
async fn on_incoming(
    socket: &mut axum::extract::ws::WebSocket,
    incoming: Option<Result<axum::extract::ws::Message, axum::Error>>,
    apply: impl FnOnce(&str) -> serde_json::Value,
) -> bool {
    use axum::extract::ws::Message;
    match incoming {
        Some(Ok(Message::Close(_))) => {
            answer_close(socket).await;
            false
        }
        None | Some(Err(_)) => false,
        Some(Ok(Message::Text(text))) => {
            let reply = apply(text.as_str());
            socket
                .send(Message::Text(reply.to_string().into()))
                .await
                .is_ok()
        }
        Some(Ok(_)) => true,
    }
}

/// Sends the Close frame that answers a client's Close. Reading the client's frame only queues
/// the answer, and the socket refuses further sends once closing, so it has to be flushed out.
async fn answer_close(socket: &mut axum::extract::ws::WebSocket) {
    use futures_util::SinkExt;
    // The peer may already be gone; there is nothing left to tell it then.
    let _ = socket.flush().await;
}
