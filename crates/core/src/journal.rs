//! The order journal's rules: how client order ids are made and which state changes are
//! legal. The app writes an order's intent *before* sending it and every change after, so
//! after a crash or an unknown outcome it knows exactly which orders to look up.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ClientOrderId, ClientOrderIdError};

/// The part of an order in a one-click trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    Entry,
    TakeProfit,
    StopLoss,
    /// An order that flattens a position (manual close, kill switch, failed stop-loss).
    Close,
}

impl Leg {
    fn tag(self) -> &'static str {
        match self {
            Leg::Entry => "en",
            Leg::TakeProfit => "tp",
            Leg::StopLoss => "sl",
            Leg::Close => "cl",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        [Leg::Entry, Leg::TakeProfit, Leg::StopLoss, Leg::Close]
            .into_iter()
            .find(|l| l.tag() == tag)
    }
}

/// The prefix of every client order id perpdesk makes; orders without it were placed
/// elsewhere (the Binance app, another bot) and are never touched by reconciliation.
pub const CLIENT_ID_PREFIX: &str = "pd";

/// Makes the deterministic client order id of one leg of a ticket.
///
/// `ticket` is the trade's id (letters and digits, at most 24 characters), `attempt` counts
/// replacements of the same leg (a stop-loss re-placed after a restart gets attempt 1, …);
/// a resend of the *same* order keeps the same id, which is what makes it idempotent.
///
/// # Errors
/// Returns [`ClientOrderIdError`] when the ticket is not alphanumeric or too long.
pub fn client_order_id(
    ticket: &str,
    leg: Leg,
    attempt: u32,
) -> Result<ClientOrderId, ClientOrderIdError> {
    if ticket.len() > 24 || !ticket.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ClientOrderIdError::BadCharacter(ticket.to_owned()));
    }
    ClientOrderId::new(&format!(
        "{CLIENT_ID_PREFIX}-{ticket}-{}{attempt}",
        leg.tag()
    ))
}

/// Reads a client order id made by [`client_order_id`] back into (ticket, leg, attempt).
pub fn parse_client_order_id(id: &ClientOrderId) -> Option<(String, Leg, u32)> {
    let mut parts = id.as_str().splitn(3, '-');
    if parts.next()? != CLIENT_ID_PREFIX {
        return None;
    }
    let ticket = parts.next()?;
    let rest = parts.next()?;
    if rest.len() < 3 || !rest.is_char_boundary(2) {
        return None;
    }
    let (tag, attempt) = rest.split_at(2);
    Some((
        ticket.to_owned(),
        Leg::from_tag(tag)?,
        attempt.parse().ok()?,
    ))
}

/// Where a one-click trade came from. It is the first letter of the ticket id, so the
/// origin travels inside every client order id to the exchange and back: the profit-share
/// ledger can tell signal trades from manual ones from the exchange's own trade records,
/// even after the local database is lost and re-synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketOrigin {
    /// Opened from a perpdesk signal (by a click on it, or by auto-trade).
    Signal,
    /// Opened from the manual ticket.
    Manual,
}

impl TicketOrigin {
    fn letter(self) -> char {
        match self {
            TicketOrigin::Signal => 's',
            TicketOrigin::Manual => 'm',
        }
    }
}

/// Makes a ticket id: origin letter, the time in base 36 and a per-process sequence, so ids
/// sort by time and two tickets in the same millisecond still differ.
pub fn ticket_id(origin: TicketOrigin, at_ms: i64, seq: u32) -> String {
    format!(
        "{}{}{}",
        origin.letter(),
        base36(u64::try_from(at_ms).unwrap_or(0)),
        base36(u64::from(seq) % (36 * 36 * 36))
    )
}

/// Reads the origin back from a ticket id made by [`ticket_id`].
pub fn ticket_origin(ticket: &str) -> Option<TicketOrigin> {
    match ticket.chars().next()? {
        's' => Some(TicketOrigin::Signal),
        'm' => Some(TicketOrigin::Manual),
        _ => None,
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        // n % 36 < 36, so the index is in range.
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// An order's state as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderState {
    /// Written before anything was sent.
    Intent,
    /// The request left the machine; no answer yet.
    Sent,
    /// The request may or may not have reached the exchange (timeout, 5xx, dropped
    /// connection): the order must be looked up by its client id before anything else.
    Unknown,
    /// A lookup found no such order: it never reached the exchange.
    NotFound,
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
    /// Given up before it reached the exchange: a take-profit or stop-loss whose entry never
    /// filled, or an entry found missing after a restart (re-sending a stale click later, at
    /// another price, is not what the user asked for).
    Abandoned,
}

impl OrderState {
    /// Returns true when no further change can happen.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled
                | OrderState::Canceled
                | OrderState::Rejected
                | OrderState::Expired
                | OrderState::Abandoned
        )
    }

    /// Returns true when the exchange's truth is not known locally and a lookup is due.
    pub fn needs_lookup(self) -> bool {
        matches!(self, OrderState::Sent | OrderState::Unknown)
    }

    /// Returns true for states reported by the exchange itself.
    fn is_exchange_state(self) -> bool {
        matches!(
            self,
            OrderState::New
                | OrderState::PartiallyFilled
                | OrderState::Filled
                | OrderState::Canceled
                | OrderState::Rejected
                | OrderState::Expired
        )
    }

    /// Says whether the journal may move from `self` to `next`.
    ///
    /// Exchange states may arrive out of order (a stream event after a REST answer), so an
    /// exchange state may follow any non-terminal state; only a fresh send needs an
    /// `Intent` or a confirmed `NotFound` before it.
    pub fn can_become(self, next: OrderState) -> bool {
        use OrderState::*;
        if self.is_terminal() {
            return false;
        }
        match next {
            Intent => false,
            Sent => matches!(self, Intent | NotFound),
            Unknown => matches!(self, Sent | Unknown),
            NotFound => matches!(self, Sent | Unknown),
            Abandoned => matches!(self, Intent | NotFound),
            s if s.is_exchange_state() => self != NotFound && self != Intent,
            _ => false,
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(state_name(*self))
    }
}

/// The state's name as serde writes it, which is also how the store keeps it.
fn state_name(s: OrderState) -> &'static str {
    match s {
        OrderState::Intent => "INTENT",
        OrderState::Sent => "SENT",
        OrderState::Unknown => "UNKNOWN",
        OrderState::NotFound => "NOT_FOUND",
        OrderState::New => "NEW",
        OrderState::PartiallyFilled => "PARTIALLY_FILLED",
        OrderState::Filled => "FILLED",
        OrderState::Canceled => "CANCELED",
        OrderState::Rejected => "REJECTED",
        OrderState::Expired => "EXPIRED",
        OrderState::Abandoned => "ABANDONED",
    }
}

/// Why a journal transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {id} cannot go from {from} to {to}")]
pub struct TransitionError {
    pub id: String,
    pub from: OrderState,
    pub to: OrderState,
}

/// Checks a transition, for callers that want an error rather than a bool.
///
/// # Errors
/// Returns [`TransitionError`] when [`OrderState::can_become`] says no.
pub fn transition(
    id: &ClientOrderId,
    from: OrderState,
    to: OrderState,
) -> Result<OrderState, TransitionError> {
    if from.can_become(to) {
        Ok(to)
    } else {
        Err(TransitionError {
            id: id.to_string(),
            from,
            to,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderState::*;
    use proptest::prelude::*;

    #[test]
    fn client_ids_are_deterministic_and_parse_back() {
        let a = client_order_id("01hz3k9q2w", Leg::StopLoss, 0).unwrap();
        let b = client_order_id("01hz3k9q2w", Leg::StopLoss, 0).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "pd-01hz3k9q2w-sl0");
        assert_eq!(
            parse_client_order_id(&a),
            Some(("01hz3k9q2w".into(), Leg::StopLoss, 0))
        );
        let longest = client_order_id(&"z".repeat(24), Leg::TakeProfit, 99_999).unwrap();
        assert!(longest.as_str().len() <= 36);
        assert!(client_order_id("bad-ticket", Leg::Entry, 0).is_err());
        assert_eq!(
            parse_client_order_id(&ClientOrderId::new("web_abc").unwrap()),
            None
        );
    }

    #[test]
    fn a_resend_needs_a_lookup_that_found_nothing() {
        assert!(Intent.can_become(Sent));
        assert!(Sent.can_become(Unknown));
        assert!(
            !Unknown.can_become(Sent),
            "an unknown order must be looked up first"
        );
        assert!(Unknown.can_become(NotFound));
        assert!(NotFound.can_become(Sent));
        assert!(Unknown.can_become(Filled));
        assert!(!Filled.can_become(Canceled));
        assert!(!Intent.can_become(Filled));
        assert!(Unknown.needs_lookup() && Sent.needs_lookup());
        let id = ClientOrderId::new("pd-x-en0").unwrap();
        assert_eq!(
            transition(&id, Canceled, New).unwrap_err().to_string(),
            "order pd-x-en0 cannot go from CANCELED to NEW"
        );
    }

    fn any_state() -> impl Strategy<Value = OrderState> {
        prop::sample::select(vec![
            Intent,
            Sent,
            Unknown,
            NotFound,
            New,
            PartiallyFilled,
            Filled,
            Canceled,
            Rejected,
            Expired,
        ])
    }

    proptest! {
        /// Whatever the exchange and the network do, an order is sent again only after a
        /// lookup proved it absent, and nothing follows a terminal state.
        #[test]
        fn no_path_resends_without_a_negative_lookup(steps in prop::collection::vec(any_state(), 0..40)) {
            let mut state = Intent;
            let mut sends = 0;
            let mut proven_absent = true;
            for next in steps {
                if state.can_become(next) {
                    if next == Sent {
                        prop_assert!(proven_absent);
                        sends += 1;
                        proven_absent = false;
                    }
                    if next == NotFound {
                        proven_absent = true;
                    }
                    state = next;
                }
            }
            prop_assert!(sends <= 40);
        }
    }

    #[test]
    fn ticket_ids_carry_their_origin_into_client_order_ids() {
        let t = ticket_id(TicketOrigin::Signal, 1_764_000_000_000, 7);
        assert_eq!(ticket_origin(&t), Some(TicketOrigin::Signal));
        let id = client_order_id(&t, Leg::StopLoss, 0).expect("valid id");
        let (back, leg, attempt) = parse_client_order_id(&id).expect("ours");
        assert_eq!(
            (back.as_str(), leg, attempt),
            (t.as_str(), Leg::StopLoss, 0)
        );
        let m = ticket_id(TicketOrigin::Manual, 1_764_000_000_000, 7);
        assert_eq!(ticket_origin(&m), Some(TicketOrigin::Manual));
        assert_ne!(
            ticket_id(TicketOrigin::Manual, 1, 1),
            ticket_id(TicketOrigin::Manual, 1, 2)
        );
        assert!(m.len() <= 24);
    }
}
