//! What a candle series keeps in memory, and where the rest comes from.
//!
//! A series loaded from files keeps a [`Chunk`] of its bars resident: all of them after the
//! load, then, once the market keeps a window ([`Residency`]), only the bars around the replay
//! clock. A read outside the resident bars reads the series' files again (the gzip or CSV text,
//! parsing only the rows the read needs) and keeps that run as the store's `recent` chunk for
//! a few seconds, so a request's own reads and the next page of a paged history come from
//! memory. A file that changed since the load (size or modification time), vanished or no
//! longer parses gives a [`DataError`], never different candles.
//!
//! Why the files and not a compressed copy in memory: the last session measured two exact
//! in-memory encodings of these series at 29% and 1.7× smaller, while the window keeps a few
//! weeks of three years (see ARCHITECTURE.md, crates/sim, for the numbers).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use rust_decimal::Decimal;

use super::data::{
    CANDLE_HEADER, CandleRow, DataError, candle_time, data_lines, parse_candle_line, read,
};
use super::path::{Bar, Bars, Volume, to_units};

/// A run of a series' bars: `first..first + len`.
#[derive(Debug, Clone)]
pub(super) struct Chunk {
    pub(super) first: usize,
    pub(super) bars: Bars,
    pub(super) volume: Box<[Volume]>,
    /// The replay time this run was chosen for: a background read never replaces a run chosen
    /// for a later time.
    for_ms: i64,
}

impl Chunk {
    fn new(first: usize, bars: Vec<Bar>, volume: Vec<Volume>, for_ms: i64) -> Chunk {
        Chunk {
            first,
            bars: Bars::new(bars),
            volume: volume.into_boxed_slice(),
            for_ms,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.volume.len()
    }

    /// Whether bars `ka..kb` are all here.
    #[inline]
    pub(super) fn covers(&self, ka: usize, kb: usize) -> bool {
        self.first <= ka && kb <= self.first + self.len()
    }

    #[inline]
    pub(super) fn bar(&self, k: usize) -> Bar {
        self.bars.get(k - self.first)
    }

    #[inline]
    pub(super) fn volume(&self, k: usize) -> Volume {
        self.volume[k - self.first]
    }

    /// Bars `ka..kb` (inside this run) copied into allocations of their own.
    fn slice(&self, ka: usize, kb: usize, for_ms: i64) -> Chunk {
        let bars: Vec<Bar> = (ka..kb).map(|k| self.bar(k)).collect();
        let volume = self.volume[ka - self.first..kb - self.first].to_vec();
        Chunk::new(ka, bars, volume, for_ms)
    }
}

/// Places a file's rows on a series' grid of `interval_ms` from `start_ms`, filling gaps with
/// flat zero-volume bars at the previous close, and keeps bars `keep.0..keep.1`. The load and
/// every later read of the files go through it, so both see the same bars.
pub(super) struct Grid {
    start_ms: i64,
    interval_ms: i64,
    keep: (usize, usize),
    next: Option<usize>,
    prev_close: i64,
    bars: Vec<Bar>,
    volume: Vec<Volume>,
    pub(super) filled: usize,
}

impl Grid {
    /// A grid keeping bars `keep.0..keep.1`, with room for `expected` of them at first.
    pub(super) fn new(
        start_ms: i64,
        interval_ms: i64,
        keep: (usize, usize),
        expected: usize,
    ) -> Grid {
        let n = keep.1.saturating_sub(keep.0).min(expected);
        Grid {
            start_ms,
            interval_ms,
            keep,
            next: None,
            prev_close: 0,
            bars: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
            filled: 0,
        }
    }

    fn place(&mut self, bar: Bar, volume: Volume, idx: usize) {
        if (self.keep.0..self.keep.1).contains(&idx) {
            self.bars.push(bar);
            self.volume.push(volume);
        }
    }

    /// Places row `r` (1-based `line` of `file`); false once no later row can be kept.
    pub(super) fn push(
        &mut self,
        r: &CandleRow,
        file: &str,
        line: usize,
    ) -> Result<bool, DataError> {
        let off = r.open_time_ms - self.start_ms;
        if off % self.interval_ms != 0 {
            return Err(DataError::OffGrid {
                file: file.to_string(),
                line,
                time_ms: r.open_time_ms,
                interval_ms: self.interval_ms,
            });
        }
        let unsorted = || DataError::Unsorted {
            file: file.to_string(),
            line,
            prev_ms: self.start_ms,
            time_ms: r.open_time_ms,
        };
        let idx = usize::try_from(off / self.interval_ms).map_err(|_| unsorted())?;
        if self.next.is_some_and(|n| idx < n) {
            return Err(unsorted());
        }
        let conv = |d: Decimal| {
            to_units(d).ok_or_else(|| DataError::BadRow {
                file: file.to_string(),
                line,
                reason: format!("price {d} out of range"),
            })
        };
        let bar = Bar {
            o: conv(r.open)?,
            h: conv(r.high)?,
            l: conv(r.low)?,
            c: conv(r.close)?,
        };
        let volume = Volume::pack(r.volume).ok_or_else(|| DataError::BadRow {
            file: file.to_string(),
            line,
            reason: format!("volume {} out of range", r.volume),
        })?;
        if let Some(next) = self.next {
            let p = self.prev_close;
            for k in next..idx {
                self.place(
                    Bar {
                        o: p,
                        h: p,
                        l: p,
                        c: p,
                    },
                    Volume::ZERO,
                    k,
                );
                self.filled += 1;
            }
        }
        self.place(bar, volume, idx);
        self.prev_close = bar.c;
        self.next = Some(idx + 1);
        Ok(idx + 1 < self.keep.1)
    }

    /// The kept bars and volumes, and the index after the last row placed.
    pub(super) fn finish(self) -> (Vec<Bar>, Vec<Volume>, usize) {
        (self.bars, self.volume, self.next.unwrap_or(0))
    }
}

/// One file of a series, as it was when loaded.
#[derive(Debug)]
struct SourceFile {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    /// Its first row's open time (the files of a series do not overlap).
    first_ms: i64,
}

/// The files a series was loaded from, to read its bars again.
#[derive(Debug)]
pub(super) struct Source {
    files: Vec<SourceFile>,
}

/// What a file looks like now: its size and modification time.
fn stamp(path: &std::path::Path) -> Result<(u64, Option<SystemTime>), DataError> {
    let meta = std::fs::metadata(path).map_err(|err| DataError::from_io(path, err))?;
    Ok((meta.len(), meta.modified().ok()))
}

impl Source {
    /// Notes each file's size and modification time; call it before reading them, so a file
    /// changed in between is seen as changed.
    pub(super) fn stamp(paths: &[PathBuf]) -> Result<Vec<(u64, Option<SystemTime>)>, DataError> {
        paths.iter().map(|p| stamp(p)).collect()
    }

    /// The source of a series read from `files`: `(path, stamp, first open time)`.
    pub(super) fn new(files: Vec<(PathBuf, (u64, Option<SystemTime>), i64)>) -> Source {
        Source {
            files: files
                .into_iter()
                .map(|(path, (len, modified), first_ms)| SourceFile {
                    path,
                    len,
                    modified,
                    first_ms,
                })
                .collect(),
        }
    }

    fn check(file: &SourceFile) -> Result<(), DataError> {
        let (len, modified) = stamp(&file.path)?;
        if len != file.len || modified != file.modified {
            return Err(DataError::Changed {
                path: file.path.clone(),
                reason: format!("{len} bytes now, {} at load", file.len),
            });
        }
        Ok(())
    }

    /// Bars `ka..kb` of the series of `interval_ms` whose first candle opens at `origin_ms`,
    /// read again from the files. Only the rows from the one before `ka` on are parsed.
    fn read(
        &self,
        origin_ms: i64,
        interval_ms: i64,
        (ka, kb): (usize, usize),
        for_ms: i64,
    ) -> Result<Chunk, DataError> {
        let at = |k: usize| origin_ms + i64::try_from(k).unwrap_or(i64::MAX / 2) * interval_ms;
        let (ta, tb) = (at(ka), at(kb));
        // The last file starting at or before the first bar holds it or the row before it.
        let i0 = self
            .files
            .iter()
            .rposition(|f| f.first_ms <= ta)
            .unwrap_or(0);
        let mut grid = Grid::new(origin_ms, interval_ms, (ka, kb), kb - ka);
        'files: for f in self.files[i0..]
            .iter()
            .take_while(|f| f.first_ms < tb.max(ta + 1))
        {
            Source::check(f)?;
            let text = read(&f.path)?;
            let name = f.path.display().to_string();
            // Rows before the first bar only matter as the close a gap there is filled with.
            let mut before: Option<(usize, &str)> = None;
            for (line, l) in data_lines(&text, &name, CANDLE_HEADER)? {
                if candle_time(l, &name, line)? < ta {
                    before = Some((line, l));
                    continue;
                }
                if let Some((bl, b)) = before.take() {
                    grid.push(&parse_candle_line(b, &name, bl)?, &name, bl)?;
                }
                if !grid.push(&parse_candle_line(l, &name, line)?, &name, line)? {
                    break 'files;
                }
            }
            if let Some((bl, b)) = before {
                grid.push(&parse_candle_line(b, &name, bl)?, &name, bl)?;
            }
        }
        let (bars, volume, _) = grid.finish();
        if bars.len() != kb - ka {
            let path = self
                .files
                .get(i0)
                .map(|f| f.path.clone())
                .unwrap_or_default();
            return Err(DataError::Changed {
                path,
                reason: format!("{} of bars {ka}..{kb} found", bars.len()),
            });
        }
        Ok(Chunk::new(ka, bars, volume, for_ms))
    }
}

/// A read outside the resident bars loads at least this many, from a multiple of it.
const READ_BLOCK: usize = 2048;
/// ...and up to the resident bars when they start within this many: a history paged forward
/// toward the clock (the app's start reads ~10,300 hours) reads its files once.
const READ_UP_TO_RESIDENT: usize = 16_384;
/// How long a read outside the resident bars stays in memory after its last use.
pub(super) const RECENT_TTL: Duration = Duration::from_secs(3);

/// A series' bars: the resident run, the last run read outside it, and the files.
#[derive(Debug)]
pub(super) struct Store {
    pub(super) len: usize,
    /// The first candle's open time in the files (a shifted market moves its series' times,
    /// never this).
    origin_ms: i64,
    interval_ms: i64,
    source: Option<Source>,
    resident: RwLock<Arc<Chunk>>,
    recent: Mutex<Option<(Arc<Chunk>, Instant)>>,
}

impl Store {
    /// A store holding every bar of a series (`bars.len()` of them) that opens at `origin_ms`.
    pub(super) fn whole(
        bars: Vec<Bar>,
        volume: Vec<Volume>,
        origin_ms: i64,
        interval_ms: i64,
        source: Option<Source>,
    ) -> Store {
        Store {
            len: volume.len(),
            origin_ms,
            interval_ms,
            source,
            resident: RwLock::new(Arc::new(Chunk::new(0, bars, volume, i64::MIN))),
            recent: Mutex::new(None),
        }
    }

    /// The same bars in allocations of their own, made by the calling thread.
    pub(super) fn relocated(&self) -> Store {
        let resident = self.resident();
        Store {
            len: self.len,
            origin_ms: self.origin_ms,
            interval_ms: self.interval_ms,
            source: self.source.as_ref().map(|s| Source {
                files: s
                    .files
                    .iter()
                    .map(|f| SourceFile {
                        path: f.path.clone(),
                        ..*f
                    })
                    .collect(),
            }),
            resident: RwLock::new(Arc::new(resident.slice(
                resident.first,
                resident.first + resident.len(),
                resident.for_ms,
            ))),
            recent: Mutex::new(None),
        }
    }

    /// The resident run.
    pub(super) fn resident(&self) -> Arc<Chunk> {
        self.resident
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the files can give back bars the store lets go of.
    pub(super) fn has_source(&self) -> bool {
        self.source.is_some()
    }

    /// `f` over a run holding bars `ka..kb` (`ka < kb <= len`): the resident one, the recent
    /// one, or one read from the files now.
    #[inline]
    pub(super) fn with<R>(
        &self,
        ka: usize,
        kb: usize,
        f: impl FnOnce(&Chunk) -> R,
    ) -> Result<R, DataError> {
        {
            let resident = self.resident.read().unwrap_or_else(PoisonError::into_inner);
            if resident.covers(ka, kb) {
                return Ok(f(&resident));
            }
        }
        let chunk = self.fetch(ka, kb)?;
        Ok(f(&chunk))
    }

    fn fetch(&self, ka: usize, kb: usize) -> Result<Arc<Chunk>, DataError> {
        // Held while reading, so concurrent misses read the files once.
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((chunk, used)) = recent.as_mut()
            && chunk.covers(ka, kb)
        {
            *used = Instant::now();
            return Ok(chunk.clone());
        }
        let source = self.source.as_ref().ok_or_else(|| DataError::Changed {
            path: PathBuf::new(),
            reason: format!("bars {ka}..{kb} are neither in memory nor in a file"),
        })?;
        let a = ka / READ_BLOCK * READ_BLOCK;
        let mut b = kb.max(a + READ_BLOCK).min(self.len);
        let resident_first = self.resident().first;
        if resident_first > b && resident_first - a <= READ_UP_TO_RESIDENT {
            b = resident_first;
        }
        let chunk = Arc::new(source.read(self.origin_ms, self.interval_ms, (a, b), i64::MIN)?);
        *recent = Some((chunk.clone(), Instant::now()));
        Ok(chunk)
    }

    /// Lets go of the recent run when it was last used over `ttl` ago.
    pub(super) fn forget_recent(&self, ttl: Duration) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent
            .as_ref()
            .is_some_and(|(_, used)| used.elapsed() >= ttl)
        {
            *recent = None;
        }
    }

    /// Bars `ka..kb` as a run chosen for `for_ms`: cut from the resident run when it holds
    /// them (no I/O), read from the files otherwise.
    fn prepare(&self, (ka, kb): (usize, usize), for_ms: i64) -> Result<Chunk, DataError> {
        let resident = self.resident();
        if resident.covers(ka, kb) {
            return Ok(resident.slice(ka, kb, for_ms));
        }
        let source = self.source.as_ref().ok_or_else(|| DataError::Changed {
            path: PathBuf::new(),
            reason: format!("bars {ka}..{kb} are neither in memory nor in a file"),
        })?;
        source.read(self.origin_ms, self.interval_ms, (ka, kb), for_ms)
    }

    /// Makes `chunk` the resident run; unless `force`, only when no run chosen for a later
    /// time is already there.
    fn install(&self, chunk: Chunk, force: bool) {
        let mut resident = self
            .resident
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if force || chunk.for_ms >= resident.for_ms {
            *resident = Arc::new(chunk);
        }
    }
}

/// How long after a failed background read of the window ahead the next is tried (replay ms).
const RETRY_MS: i64 = 3_600_000;

/// How much of each series a market keeps in memory around the replay clock
/// ([`super::MarketData::keeping`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Residency {
    /// Kept behind the clock, in ms.
    pub back_ms: i64,
    /// Kept ahead of the clock, in ms; a new window is read in the background once half of
    /// it is used.
    pub ahead_ms: i64,
}

impl Residency {
    /// The paper exchange's window: 45 days behind the clock, what the app reads after its
    /// start (the chart's 1,000 hourly candles, the 24 h ticker, the newest candles), and 40
    /// days ahead, more than one fast-forward (at most 30 days), so a jump never waits on the
    /// files. The start's ~10,300 hourly candles of history are read from the files once.
    pub const PAPER: Residency = Residency {
        back_ms: 45 * 86_400_000,
        ahead_ms: 40 * 86_400_000,
    };
}

/// The market's window keeping: whether a background read runs, and the last error logged.
#[derive(Debug, Default, Clone)]
pub(super) struct Keeper {
    busy: Arc<AtomicBool>,
    last_error: Arc<Mutex<Option<String>>>,
    /// After a background read failed: the replay time before which none is tried again.
    retry_at: Arc<AtomicI64>,
    /// The background read, if one ran.
    reader: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
    /// After a check that left every store with what it needs: the span of steps
    /// `(from, until)` that need no other check, and when it was made (a check also lets go
    /// of the runs read outside the window, so one runs at least every second).
    quiet: Arc<Mutex<Option<(i64, i64, Instant)>>>,
}

/// How long a check of the window stands for the steps inside its quiet span (wall time).
const QUIET_FOR: Duration = Duration::from_secs(1);
/// How far past a check's `now` its quiet span reaches (replay ms): the window ahead is
/// then read at most this much later than it could be, and a step's own bars are still in
/// memory (the check made sure of an hour past `now`).
const QUIET_MS: i64 = 3_600_000;

/// Logs `e` unless it is the error logged last (a missing file would otherwise be logged at
/// every heartbeat).
fn log_once(last: &Mutex<Option<String>>, e: &DataError) {
    let text = e.to_string();
    let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
    if last.as_deref() != Some(text.as_str()) {
        tracing::error!(error = %text, "the paper exchange cannot read its market data");
        *last = Some(text);
    }
}

/// One store's part of a window decision: bar ranges for the store's series.
pub(super) struct Need {
    pub(super) store: Arc<Store>,
    /// Bars the clock needs now: read at once if missing.
    pub(super) must: (usize, usize),
    /// Bars that must be there for the window to last: read in the background if missing.
    pub(super) soon: (usize, usize),
    /// The window to keep.
    pub(super) target: (usize, usize),
}

impl Keeper {
    /// Whether a check made for an earlier step still stands for the step `from..=now`.
    pub(super) fn quiet(&self, from: i64, now: i64) -> bool {
        let quiet = self.quiet.lock().unwrap_or_else(PoisonError::into_inner);
        quiet.is_some_and(|(lo, hi, at)| lo <= from && now <= hi && at.elapsed() < QUIET_FOR)
    }

    /// Waits for the background read started last, if any, to finish.
    pub(super) fn wait(&self) {
        let handle = self
            .reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle
            && handle.join().is_err()
        {
            tracing::error!("the market window's background read panicked");
        }
    }

    /// Brings every store's resident run to its `target` (`now` is the replay time): at once
    /// where the clock's own bars (`must`) are missing or the run is only cut shorter, in the
    /// background where only the bars ahead are running low.
    ///
    /// # Errors
    /// The first file that could not be read for bars the clock needs; those stores keep
    /// their runs, the others move on.
    pub(super) fn keep(&self, needs: Vec<Need>, from: i64, now: i64) -> Result<(), DataError> {
        let mut first_error = None;
        let mut later: Vec<(Arc<Store>, (usize, usize))> = Vec::new();
        for n in needs {
            n.store.forget_recent(RECENT_TTL);
            let resident = n.store.resident();
            let (slack_lo, slack_hi) = (
                n.target.0.saturating_sub(n.soon.1.saturating_sub(n.must.1)),
                n.target.1 + n.soon.1.saturating_sub(n.must.1),
            );
            let far_behind = resident.first < slack_lo;
            let far_ahead = resident.first + resident.len() > slack_hi;
            if !resident.covers(n.must.0, n.must.1) {
                match n.store.prepare(n.target, now) {
                    Ok(chunk) => n.store.install(chunk, true),
                    Err(e) => {
                        log_once(&self.last_error, &e);
                        first_error.get_or_insert(e);
                    }
                }
            } else if !resident.covers(n.soon.0, n.soon.1) {
                later.push((n.store, n.target));
            } else if (far_behind || far_ahead) && resident.covers(n.target.0, n.target.1) {
                n.store
                    .install(resident.slice(n.target.0, n.target.1, now), false);
            }
        }
        let retry_ok = now >= self.retry_at.load(Ordering::Acquire);
        if !later.is_empty() && retry_ok && !self.busy.swap(true, Ordering::AcqRel) {
            let (busy, last_error) = (self.busy.clone(), self.last_error.clone());
            let retry_at = self.retry_at.clone();
            let spawned = std::thread::Builder::new()
                .name("sim-market-window".into())
                .spawn(move || {
                    for (store, target) in later {
                        match store.prepare(target, now) {
                            Ok(chunk) => store.install(chunk, false),
                            // Reads needing those bars go to the files and report it; the
                            // window is tried again an hour of replay later.
                            Err(e) => {
                                log_once(&last_error, &e);
                                retry_at.store(now.saturating_add(RETRY_MS), Ordering::Release);
                            }
                        }
                    }
                    busy.store(false, Ordering::Release);
                });
            match spawned {
                Ok(handle) => {
                    *self.reader.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
                }
                Err(e) => {
                    // The bars are read when the clock needs them instead.
                    tracing::warn!(error = %e, "no thread for reading the market window ahead");
                    self.busy.store(false, Ordering::Release);
                }
            }
        }
        let mut quiet = self.quiet.lock().unwrap_or_else(PoisonError::into_inner);
        match first_error {
            Some(e) => {
                *quiet = None;
                Err(e)
            }
            None => {
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                *quiet = Some((from, now.saturating_add(QUIET_MS), Instant::now()));
                Ok(())
            }
        }
    }
}
