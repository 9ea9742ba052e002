//! The simulation clock: the exchange's notion of "now" (served as `serverTime`): manual,
//! accelerated, or the wall clock over a market shifted to play now.

use std::sync::Mutex;
use std::time::Instant;

/// How simulated time moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockMode {
    /// Time only moves through [`SimClock::advance`] / [`SimClock::set`] (tests).
    Manual,
    /// `sim = origin + speed × real elapsed`; `speed` must be finite and positive.
    Accelerated {
        /// Simulated milliseconds per real millisecond.
        speed: f64,
    },
    /// Same as `Accelerated { speed: 1.0 }`.
    RealTime,
}

impl ClockMode {
    fn speed(self) -> Option<f64> {
        match self {
            ClockMode::Manual => None,
            ClockMode::Accelerated { speed } => Some(speed),
            ClockMode::RealTime => Some(1.0),
        }
    }
}

/// Why a clock operation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClockError {
    /// `advance` is only meaningful for a manual clock.
    #[error("the clock is not manual; advance is only allowed in Manual mode")]
    NotManual,
    /// Time never goes backwards through `advance`.
    #[error("cannot advance by a negative amount ({0} ms)")]
    Negative(i64),
    /// An accelerated clock needs a finite, positive speed.
    #[error("invalid clock speed {0}")]
    BadSpeed(f64),
    /// A wall clock is the machine's time: it cannot be moved or switched.
    #[error("the clock is the wall clock; it cannot be moved or switched")]
    Wall,
}

#[derive(Debug)]
struct State {
    mode: ClockMode,
    origin_sim_ms: i64,
    origin_real: Instant,
    /// `Some(last time handed out)` for a wall clock ([`SimClock::wall`]), `None` otherwise.
    wall: Option<i64>,
}

/// The machine's UTC time in ms.
fn system_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    // A machine set before 1970 has no sensible "now"; the data's clamp takes over.
    since.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Thread-safe simulated clock bounded to the replay data.
///
/// Time is clamped into `[min_ms, max_ms]` (normally `MarketData::start_ms()..=end_ms()`): at
/// the end of the data a running clock stops rather than leaving the replay without prices.
#[derive(Debug)]
pub struct SimClock {
    state: Mutex<State>,
    min_ms: i64,
    max_ms: i64,
}

/// How far into the data a clock starts by default: 30 days, so klines have history behind them.
pub const DEFAULT_START_OFFSET_MS: i64 = 30 * 86_400_000;

impl SimClock {
    /// A clock at `start_ms` (clamped into `[min_ms, max_ms]`). An invalid accelerated speed
    /// (NaN, infinite, zero or negative) falls back to real time, so construction cannot fail.
    pub fn new(mode: ClockMode, start_ms: i64, min_ms: i64, max_ms: i64) -> SimClock {
        let max_ms = max_ms.max(min_ms);
        let mode = match mode.speed() {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                tracing::warn!(speed = s, "invalid clock speed, using real time");
                ClockMode::RealTime
            }
            _ => mode,
        };
        SimClock {
            state: Mutex::new(State {
                mode,
                origin_sim_ms: start_ms.clamp(min_ms, max_ms),
                origin_real: Instant::now(),
                wall: None,
            }),
            min_ms,
            max_ms,
        }
    }

    /// A clock that reads the machine's UTC time (clamped into `[min_ms, max_ms]`), for a
    /// market shifted to play now (`MarketData::shifted_weeks`): server time is then what a
    /// client's own clock says, as on Binance.
    ///
    /// It reads the system clock rather than counting from a start, because a monotonic count
    /// stops while a laptop sleeps and every signed request would then fail with -1021. It never
    /// goes backwards (an NTP step back repeats the last time until the clock passes it),
    /// because the exchange's processing must not.
    pub fn wall(min_ms: i64, max_ms: i64) -> SimClock {
        SimClock {
            state: Mutex::new(State {
                mode: ClockMode::RealTime,
                origin_sim_ms: min_ms,
                origin_real: Instant::now(),
                wall: Some(i64::MIN),
            }),
            min_ms,
            max_ms: max_ms.max(min_ms),
        }
    }

    /// True for a clock made by [`SimClock::wall`].
    pub fn is_wall(&self) -> bool {
        self.lock().wall.is_some()
    }

    /// A clock over `[min_ms, max_ms]` starting [`DEFAULT_START_OFFSET_MS`] after `min_ms`.
    pub fn with_default_start(mode: ClockMode, min_ms: i64, max_ms: i64) -> SimClock {
        SimClock::new(
            mode,
            min_ms.saturating_add(DEFAULT_START_OFFSET_MS),
            min_ms,
            max_ms,
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state half-written (every update is a
        // single assignment of plain values), so a poisoned lock is safe to reuse.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_locked(&self, st: &mut State) -> i64 {
        if let Some(last) = st.wall {
            let t = system_ms().clamp(self.min_ms, self.max_ms).max(last);
            st.wall = Some(t);
            return t;
        }
        let t = match st.mode.speed() {
            None => st.origin_sim_ms,
            Some(speed) => {
                let real_ms = st.origin_real.elapsed().as_secs_f64() * 1000.0;
                let sim = st.origin_sim_ms as f64 + speed * real_ms;
                // `as` saturates on overflow, and the clamp below bounds the result anyway.
                sim.floor() as i64
            }
        };
        t.clamp(self.min_ms, self.max_ms)
    }

    /// Current simulated time, UTC ms, within `[min_ms, max_ms]`.
    pub fn now_ms(&self) -> i64 {
        let mut st = self.lock();
        self.now_locked(&mut st)
    }

    /// Moves a manual clock forward by `ms` (clamped at `max_ms`).
    pub fn advance(&self, ms: i64) -> Result<(), ClockError> {
        let mut st = self.lock();
        if st.mode != ClockMode::Manual {
            return Err(ClockError::NotManual);
        }
        if ms < 0 {
            return Err(ClockError::Negative(ms));
        }
        st.origin_sim_ms = st
            .origin_sim_ms
            .saturating_add(ms)
            .clamp(self.min_ms, self.max_ms);
        Ok(())
    }

    /// Jumps to `ms` (clamped into range) in any mode; a running clock continues from there.
    /// Going backwards is allowed (the engine must cope, e.g. by ignoring non-forward steps).
    /// A wall clock refuses ([`ClockError::Wall`]).
    pub fn set(&self, ms: i64) -> Result<(), ClockError> {
        let mut st = self.lock();
        if st.wall.is_some() {
            return Err(ClockError::Wall);
        }
        st.origin_sim_ms = ms.clamp(self.min_ms, self.max_ms);
        st.origin_real = Instant::now();
        Ok(())
    }

    /// Switches mode, continuing from the current simulated time. A wall clock refuses
    /// ([`ClockError::Wall`]).
    pub fn set_mode(&self, mode: ClockMode) -> Result<(), ClockError> {
        if let Some(s) = mode.speed()
            && !(s.is_finite() && s > 0.0)
        {
            return Err(ClockError::BadSpeed(s));
        }
        let mut st = self.lock();
        if st.wall.is_some() {
            return Err(ClockError::Wall);
        }
        let now = self.now_locked(&mut st);
        st.origin_sim_ms = now;
        st.origin_real = Instant::now();
        st.mode = mode;
        Ok(())
    }

    /// The current mode.
    pub fn mode(&self) -> ClockMode {
        self.lock().mode
    }

    /// Replay milliseconds per wall-clock millisecond: the speed of a running clock, 1 for a
    /// standing (manual) one, whose time does not move while a request travels.
    pub fn speed(&self) -> f64 {
        self.mode().speed().unwrap_or(1.0)
    }

    /// Lower bound of simulated time.
    pub fn min_ms(&self) -> i64 {
        self.min_ms
    }

    /// Upper bound of simulated time (the end of the data).
    pub fn max_ms(&self) -> i64 {
        self.max_ms
    }

    /// True once the clock has reached the end of the data.
    pub fn at_end(&self) -> bool {
        self.now_ms() >= self.max_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_advance_set_and_clamp() {
        let c = SimClock::new(ClockMode::Manual, 500, 0, 1000);
        assert_eq!(c.now_ms(), 500);
        c.advance(100).unwrap();
        assert_eq!(c.now_ms(), 600);
        c.advance(10_000).unwrap();
        assert_eq!(c.now_ms(), 1000, "clamped at the end of the data");
        assert!(c.at_end());
        assert_eq!(c.advance(-1), Err(ClockError::Negative(-1)));
        c.set(-50).unwrap();
        assert_eq!(c.now_ms(), 0);
        c.set(250).unwrap();
        assert_eq!(c.now_ms(), 250);
        assert_eq!(c.mode(), ClockMode::Manual);
    }

    #[test]
    fn start_is_clamped_and_default_start() {
        assert_eq!(SimClock::new(ClockMode::Manual, -5, 0, 10).now_ms(), 0);
        let c = SimClock::with_default_start(ClockMode::Manual, 1_000, i64::MAX / 2);
        assert_eq!(c.now_ms(), 1_000 + DEFAULT_START_OFFSET_MS);
    }

    #[test]
    fn accelerated_moves_and_refuses_advance() {
        let c = SimClock::new(ClockMode::Accelerated { speed: 1000.0 }, 0, 0, i64::MAX / 2);
        assert_eq!(c.advance(1), Err(ClockError::NotManual));
        std::thread::sleep(std::time::Duration::from_millis(20));
        let t = c.now_ms();
        assert!(t >= 20_000, "{t}");
        let c = SimClock::new(ClockMode::Accelerated { speed: 1e9 }, 0, 0, 5_000);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(c.now_ms(), 5_000, "never past the end");
    }

    #[test]
    fn bad_speed_and_mode_switch() {
        let c = SimClock::new(ClockMode::Accelerated { speed: f64::NAN }, 0, 0, 100);
        assert_eq!(c.mode(), ClockMode::RealTime);
        assert!(matches!(
            c.set_mode(ClockMode::Accelerated { speed: -1.0 }),
            Err(ClockError::BadSpeed(_))
        ));
        c.set_mode(ClockMode::Manual).unwrap();
        let t = c.now_ms();
        c.advance(5).unwrap();
        assert_eq!(c.now_ms(), (t + 5).min(100));
    }

    #[test]
    fn a_wall_clock_reads_the_system_time_and_cannot_be_moved() {
        let c = SimClock::wall(0, i64::MAX / 2);
        let before = system_ms();
        let t = c.now_ms();
        let after = system_ms();
        assert!((before..=after).contains(&t), "{before} <= {t} <= {after}");
        assert!(c.is_wall());
        assert_eq!(c.speed(), 1.0);
        assert_eq!(c.advance(1), Err(ClockError::NotManual));
        assert_eq!(c.set(0), Err(ClockError::Wall));
        assert_eq!(c.set_mode(ClockMode::Manual), Err(ClockError::Wall));
        assert!(c.now_ms() >= t, "never backwards");
        let ended = SimClock::wall(0, 1_000);
        assert_eq!(ended.now_ms(), 1_000, "clamped at the end of the data");
        assert!(!SimClock::new(ClockMode::RealTime, 0, 0, 10).is_wall());
    }

    #[test]
    fn shared_across_threads() {
        let c = std::sync::Arc::new(SimClock::new(ClockMode::Manual, 0, 0, 1_000_000));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        c.advance(1).unwrap();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.now_ms(), 400);
    }
}
