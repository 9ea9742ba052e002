//! The saved state: a versioned JSON snapshot of everything but the market data, written
//! atomically, and the serde helpers the state types use to read it back.

use serde::{Deserialize, Serialize};

use super::Exchange;
use super::state::{Account, Fees, Slippage};
use crate::market::MarketData;

/// The `&'static str` values the exchange stores (order and algo statuses, income types),
/// read back from a saved state. An unknown value is an error, not a silent default.
const KNOWN_STRS: &[&str] = &[
    "NEW",
    "PARTIALLY_FILLED",
    "FILLED",
    "CANCELED",
    "REJECTED",
    "EXPIRED",
    "EXPIRED_IN_MATCH",
    "TRIGGERING",
    "TRIGGERED",
    "FINISHED",
    "TRANSFER",
    "REALIZED_PNL",
    "COMMISSION",
    "FUNDING_FEE",
    "INSURANCE_CLEAR",
];

pub(super) fn known_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = String::deserialize(d)?;
    KNOWN_STRS
        .iter()
        .copied()
        .find(|k| *k == s)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown value {s:?}")))
}

/// Positions as a JSON list of `{symbol, positionSide, ...}` (map keys must be strings in JSON).
pub(super) mod position_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::exchange::state::{Position, PositionKey, PositionSide};

    #[derive(Serialize, Deserialize)]
    struct Row {
        symbol: String,
        position_side: PositionSide,
        #[serde(flatten)]
        position: Position,
    }

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<PositionKey, Position>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let rows: Vec<Row> = map
            .iter()
            .map(|((symbol, side), p)| Row {
                symbol: symbol.clone(),
                position_side: *side,
                position: p.clone(),
            })
            .collect();
        rows.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<PositionKey, Position>, D::Error> {
        let rows = Vec::<Row>::deserialize(d)?;
        Ok(rows
            .into_iter()
            .map(|r| ((r.symbol, r.position_side), r.position))
            .collect())
    }
}

/// Everything [`Exchange`] keeps besides the market data: what paper mode saves between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version; a file of another version is refused.
    pub version: u32,
    /// Commission rates.
    pub fees: Fees,
    /// Accounts with their positions, orders, algo orders, trades, income and settings.
    pub accounts: Vec<Account>,
    /// The last id handed out (order, trade, algo and income ids share it).
    pub next_id: i64,
    /// The replay time the exchange has processed up to: where the clock resumes.
    pub clock_ms: i64,
    /// The weeks the market data was shifted by (`MarketData::shifted_weeks`; 0 in replay
    /// time). Every time in the state is on that shifted calendar, so the state only fits a
    /// market shifted alike; files written before the shift existed read as 0.
    #[serde(default)]
    pub shift_weeks: i64,
}

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Why a saved state could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading, writing or renaming the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not a snapshot this build understands.
    #[error("{path}: not a perpdesk-sim state file: {reason}")]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl Exchange {
    /// The replay time processed so far (a loaded exchange resumes its clock here).
    pub fn clock_ms(&self) -> i64 {
        self.processed_to
    }

    /// A copy of the state (everything but the market data and unsent stream events).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            fees: self.fees,
            accounts: self.accounts.clone(),
            next_id: self.next_id,
            clock_ms: self.processed_to,
            shift_weeks: self.market.shift_weeks(),
        }
    }

    /// An exchange over `market` in the state `snapshot` describes.
    ///
    /// # Errors
    /// A message when the snapshot is of another version or inconsistent (an open-order
    /// index out of range, an order on a symbol `market` does not list, a market shifted
    /// by other weeks than the state's times).
    pub fn from_snapshot(market: MarketData, snapshot: Snapshot) -> Result<Self, String> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(format!(
                "version {} (this build reads {SNAPSHOT_VERSION})",
                snapshot.version
            ));
        }
        if snapshot.shift_weeks != market.shift_weeks() {
            let time = |weeks: i64| match weeks {
                0 => "replay time".to_string(),
                n => format!("wall time, the data shifted {n} weeks"),
            };
            return Err(format!(
                "saved in {}, but the market is in {}",
                time(snapshot.shift_weeks),
                time(market.shift_weeks())
            ));
        }
        for a in &snapshot.accounts {
            if let Some(i) = a.open.iter().find(|&&i| i >= a.orders.len()) {
                return Err(format!(
                    "account {}: open order index {i} out of range",
                    a.api_key
                ));
            }
            let symbols = a
                .orders
                .iter()
                .map(|o| &o.symbol)
                .chain(a.positions.keys().map(|(s, _)| s));
            for s in symbols {
                if market.spec(s).is_none() {
                    return Err(format!(
                        "account {}: symbol {s} is not in the market data",
                        a.api_key
                    ));
                }
            }
        }
        Ok(Self {
            market,
            fees: snapshot.fees,
            slippage: Slippage::default(),
            accounts: snapshot.accounts,
            next_id: snapshot.next_id,
            processed_to: snapshot.clock_ms,
            outbox: Vec::new(),
        })
    }

    /// Writes the state to `path` as JSON, atomically: a temporary file in the same folder is
    /// written and synced, then renamed over `path`, so a crash leaves the old file or the
    /// new one, never half of one.
    ///
    /// # Errors
    /// [`StateError::Io`] when the folder is not writable.
    pub fn save(&self, path: &std::path::Path) -> Result<(), StateError> {
        use std::io::Write;
        let io = |source| StateError::Io {
            path: path.to_owned(),
            source,
        };
        let json = serde_json::to_vec_pretty(&self.snapshot()).map_err(|e| StateError::Format {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let written = (|| {
            // Paper accounts' secrets are in it: owner-only from the first byte (0600 on Unix,
            // whatever the umask); the rename then replaces any older, looser file.
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            // Make the rename itself durable (best effort: not every platform opens folders).
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && let Ok(d) = std::fs::File::open(dir)
            {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(io)
    }

    /// Reads a state written by [`Exchange::save`] over `market`.
    ///
    /// # Errors
    /// [`StateError::Io`] when unreadable, [`StateError::Format`] when it is not a snapshot
    /// of this version or does not fit `market`.
    pub fn load(market: MarketData, path: &std::path::Path) -> Result<Self, StateError> {
        let snapshot = Snapshot::read(path)?;
        Self::from_snapshot(market, snapshot).map_err(|reason| StateError::Format {
            path: path.to_owned(),
            reason,
        })
    }
}

impl Snapshot {
    /// Reads a state written by [`Exchange::save`] without a market (to learn, for one, the
    /// weeks its market was shifted by before loading it).
    ///
    /// # Errors
    /// [`StateError::Io`] when unreadable, [`StateError::Format`] when it is not JSON of a
    /// snapshot.
    pub fn read(path: &std::path::Path) -> Result<Snapshot, StateError> {
        let bytes = std::fs::read(path).map_err(|source| StateError::Io {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| StateError::Format {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }
}
