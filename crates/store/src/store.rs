//! Opening, checking and migrating the database file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use crate::{Result, StoreError};

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another connection's lock before giving up; long enough
/// to ride out a large sync batch, short enough that a stuck lock surfaces as an error.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Every SQLite file starts with these 16 bytes.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// WAL pages after which a commit checkpoints by itself (about 40 MB with 4 KiB pages).
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// A handle to the database; cheap to clone, safe to share between tasks.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: SqlitePool,
}

impl Store {
    /// Begins a transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`).
    /// A deferred transaction that reads and then writes fails at once with `SQLITE_BUSY`
    /// when another connection wrote in between (a sync booking fills while the user
    /// settles); taking the lock first makes it wait out the busy timeout instead.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Opens (or creates) the database at `path`, checks its integrity and applies any
    /// pending migrations.
    ///
    /// The connection runs in WAL mode with `synchronous=NORMAL`. That pairing is safe for
    /// this data: a commit is appended to the WAL before `COMMIT` returns, so a crash of
    /// the app (or a SIGKILL) loses nothing committed; only a power cut or OS crash can
    /// roll back the last few transactions, and never corrupts the file. Everything lost
    /// that way is exchange data that the next sync fetches again idempotently.
    ///
    /// On Unix the database, its `-wal` and its `-shm` are readable by their owner only,
    /// whatever the umask: a new database is created 0600, and an existing one (with any
    /// `-wal`/`-shm`/`-journal` beside it) loses group and other access before it is opened.
    ///
    /// # Errors
    /// - [`StoreError::NotSqlite`] when the file exists but is not an SQLite database;
    /// - [`StoreError::Corrupt`] when `PRAGMA quick_check` fails or the file cannot be read
    ///   as a database (truncated, overwritten); the file is left untouched in both cases;
    /// - [`StoreError::Io`] when the file cannot be created, read or made private;
    /// - [`StoreError::Migration`] when a migration fails or the file was migrated by a
    ///   newer build;
    /// - [`StoreError::Sqlx`] for other driver failures.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        // Before SQLite touches anything: it gives the `-wal`/`-shm` it creates the
        // database's own mode, so a private database keeps all three private.
        make_private(path)?;
        if has_content(path)? {
            check_header(path)?;
            quick_check(path).await?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // SQLite's default checkpoints every 1,000 WAL pages inside whichever commit
            // crosses the mark, and a checkpoint syncs the files: that commit is then the
            // slowest write of the run, and it may be an order's journal entry on the
            // click path. The app checkpoints in the background instead
            // ([`Store::checkpoint`]); this larger mark is only the safety net for when
            // nothing does.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Self::migrated(pool).await
    }

    /// Opens a fresh, migrated database that lives in memory, for tests and previews.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::Migration`] if SQLite cannot start.
    pub async fn open_in_memory() -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // Each connection to `:memory:` is a separate database, so the pool holds exactly
        // one connection and must never retire it.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Self::migrated(pool).await
    }

    async fn migrated(pool: SqlitePool) -> Result<Self> {
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Returns the newest schema version this build knows and applies.
    pub fn schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Returns the result of `PRAGMA quick_check` on the open database: empty when healthy.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when the check itself cannot run.
    pub async fn quick_check(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as("PRAGMA quick_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| r.0)
            .filter(|r| r != "ok")
            .collect())
    }

    /// Copies what the WAL holds into the main file where no reader still needs it
    /// (SQLite's PASSIVE checkpoint: it never waits for or blocks other connections).
    /// Called off the order path, so commits on that path never pay for a checkpoint.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses; nothing is lost then, the WAL
    /// keeps the data.
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Copies the WAL into the main file, then waits for every connection to finish and
    /// closes the pool. Afterwards the main file alone is the whole database (a backup
    /// can copy just it).
    pub async fn close(&self) {
        // A failed checkpoint loses nothing: the WAL stays beside the file and SQLite
        // replays it on the next open.
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }
}

impl Store {
    /// Writes a consistent, compacted copy of the whole database to `path` with SQLite's
    /// `VACUUM INTO` (readers and writers carry on meanwhile). The copy is a standalone
    /// file with no WAL beside it.
    ///
    /// # Errors
    /// - [`StoreError::Conflict`] when `path` exists (it is never overwritten);
    /// - [`StoreError::InvalidData`] when the path is not UTF-8;
    /// - [`StoreError::Io`] when the copy cannot be created;
    /// - [`StoreError::Sqlx`] when SQLite cannot write the copy (no file is left then).
    ///
    /// On Unix the copy is readable by its owner only, whatever the umask.
    pub async fn backup_to(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::invalid(format!("{} is not UTF-8", path.display())))?;
        // SQLite would create the copy with the umask's mode; an empty file made here,
        // private, is one `VACUUM INTO` accepts. `create_new` also makes "never
        // overwrite" atomic.
        create_private(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                StoreError::Conflict(format!(
                    "{} exists already; a backup never overwrites a file",
                    path.display()
                ))
            } else {
                StoreError::Io {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
        let result = self.vacuum_into(target).await;
        if result.is_err() {
            // No half-written or empty copy is left to be mistaken for a backup.
            let _ = std::fs::remove_file(path);
        }
        result
    }

    async fn vacuum_into(&self, target: &str) -> Result<()> {
        // An in-memory database would VACUUM INTO another in-memory database (SQLite
        // opens the target with the source's flags); a URI with `mode=rwc` asks for a file.
        let (file,): (String,) =
            sqlx::query_as("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&self.pool)
                .await?;
        let target = if file.is_empty() {
            let encoded = target
                .replace('%', "%25")
                .replace('?', "%3f")
                .replace('#', "%23");
            format!("file:{encoded}?mode=rwc")
        } else {
            target.to_owned()
        };
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Checks a database file without writing to it: the SQLite header, `PRAGMA
    /// quick_check` through a read-only connection, and the migration history (present,
    /// complete, every migration one this build knows with the same checksum, so
    /// [`Store::open`] would accept it). Returns the file's schema version.
    ///
    /// # Errors
    /// - [`StoreError::Corrupt`] for an empty, truncated or damaged file;
    /// - [`StoreError::NotSqlite`] when it is not an SQLite database;
    /// - [`StoreError::InvalidData`] when it is not a perpdesk database, or was written by a
    ///   newer or different build;
    /// - [`StoreError::Io`] when it cannot be read.
    pub async fn verify_file(path: impl AsRef<Path>) -> Result<i64> {
        let path = path.as_ref();
        if !has_content(path)? {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: "the file is missing or empty".to_owned(),
            });
        }
        check_header(path)?;
        quick_check(path).await?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(BUSY_TIMEOUT);
        let mut conn = options.connect().await?;
        let result = check_migrations(path, &mut conn).await;
        let _ = conn.close().await;
        result
    }
}

/// The migration history of a database this build can open: returns its schema version.
async fn check_migrations(path: &Path, conn: &mut sqlx::SqliteConnection) -> Result<i64> {
    let bad = |what: String| StoreError::invalid(format!("{}: {what}", path.display()));
    let table: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if table.is_none() {
        return Err(bad(
            "not a perpdesk database (it has no migration history)".to_owned()
        ));
    }
    let rows: Vec<(i64, bool, Vec<u8>)> =
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
    let newest = Store::schema_version();
    let mut version = None;
    for (v, success, checksum) in rows {
        if !success {
            return Err(bad(format!("migration {v} did not finish")));
        }
        match MIGRATOR.iter().find(|m| m.version == v) {
            None => {
                return Err(bad(format!(
                    "written by a newer perpdesk (schema version {v}; this build knows up to {newest})"
                )));
            }
            Some(m) if *m.checksum != *checksum => {
                return Err(bad(format!(
                    "migration {v} differs from this build's; it was written by another build"
                )));
            }
            Some(_) => version = Some(v),
        }
    }
    version.ok_or_else(|| bad("not a perpdesk database (no migration was applied)".to_owned()))
}

/// A missing or zero-length file is a new database; SQLite itself treats both that way.
/// Creates an empty file that only its owner may read or write (on Unix; elsewhere the
/// folder's ACL decides). Fails if the file exists.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// Makes the database private before it is opened: creates it 0600 when missing, and
/// takes group and other access away from it and from any `-wal`, `-shm` or `-journal`
/// an earlier build or a crash left beside it. Windows: nothing to do, the files inherit
/// the ACL of the user's profile folder.
#[cfg(unix)]
fn make_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;

    let io = |path: &Path, source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    match create_private(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(io(path, source)),
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let mode = match std::fs::metadata(&file) {
            Ok(m) => m.permissions().mode(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(io(&file, source)),
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))
                .map_err(|source| io(&file, source))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_path: &Path) -> Result<()> {
    Ok(())
}

fn has_content(path: &Path) -> Result<bool> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.len() > 0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(StoreError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

fn check_header(path: &Path) -> Result<()> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let mut head = Vec::with_capacity(SQLITE_HEADER.len());
    std::fs::File::open(path)
        .map_err(io)?
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    if head.as_slice() == SQLITE_HEADER {
        Ok(())
    } else {
        Err(StoreError::NotSqlite {
            path: path.to_owned(),
            detail: "the file does not start with the SQLite header".to_owned(),
        })
    }
}

/// Checks an existing file through a read-only connection, so a damaged file is
/// reported, never "repaired" into an empty database.
async fn quick_check(path: &Path) -> Result<()> {
    let corrupt = |detail: String| StoreError::Corrupt {
        path: PathBuf::from(path),
        detail,
    };
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT);
    let classify = |e: sqlx::Error| {
        if is_damage(&e) {
            corrupt(e.to_string())
        } else {
            StoreError::Sqlx(e)
        }
    };
    let mut conn = options.connect().await.map_err(classify)?;
    let result: std::result::Result<Vec<(String,)>, sqlx::Error> =
        sqlx::query_as("PRAGMA quick_check")
            .fetch_all(&mut conn)
            .await;
    // The check's verdict matters more than a failure to close a read-only handle.
    let _ = conn.close().await;
    let rows = result.map_err(classify)?;
    let problems: Vec<String> = rows
        .into_iter()
        .map(|r| r.0)
        .filter(|r| r != "ok")
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(corrupt(problems.join("; ")))
    }
}

/// Says whether SQLite blamed the file's contents rather than, say, permissions: a
/// locked or unreadable file must not be reported as corrupt.
fn is_damage(e: &sqlx::Error) -> bool {
    const SQLITE_CORRUPT: i64 = 11;
    const SQLITE_NOTADB: i64 = 26;
    const SQLITE_IOERR_SHORT_READ: i64 = 522;
    let Some(code) = e
        .as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i64>().ok())
    else {
        return false;
    };
    code & 0xff == SQLITE_CORRUPT || code == SQLITE_NOTADB || code == SQLITE_IOERR_SHORT_READ
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// A migrator that stops at `version`, standing in for an older build of the app.
    fn migrator_up_to(version: i64) -> Migrator {
        Migrator {
            migrations: Cow::Owned(
                MIGRATOR
                    .iter()
                    .filter(|m| m.version <= version)
                    .cloned()
                    .collect(),
            ),
            ..Migrator::DEFAULT
        }
    }

    async fn pool_at(path: &Path) -> SqlitePool {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        SqlitePool::connect_with(options).await.expect("pool")
    }

    #[tokio::test]
    async fn migrates_from_empty_and_from_every_earlier_version() {
        let versions: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert!(versions.len() >= 2, "the upgrade test needs two migrations");
        let dir = tempfile::tempdir().expect("tempdir");

        let empty = dir.path().join("empty.db");
        let store = Store::open(&empty).await.expect("open empty");
        let applied: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&store.pool)
                .await
                .expect("versions");
        assert_eq!(
            applied.into_iter().map(|v| v.0).collect::<Vec<_>>(),
            versions
        );
        store.close().await;

        for &from in &versions[..versions.len() - 1] {
            let path = dir.path().join(format!("from-{from}.db"));
            let pool = pool_at(&path).await;
            migrator_up_to(from).run(&pool).await.expect("old migrate");
            // Data written by the older schema must survive the upgrade.
            sqlx::query(
                "INSERT INTO exchange_accounts (name, environment, api_key_id, secret_sealed, created_at)
                 VALUES ('old', 'paper', 'k', 'sealed', 1)",
            )
            .execute(&pool)
            .await
            .expect("old insert");
            pool.close().await;

            let store = Store::open(&path).await.expect("upgrade");
            let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM user_api_configs")
                .fetch_all(&store.pool)
                .await
                .expect("view from the newest migration");
            assert_eq!(names, vec![("old".to_owned(),)]);
            assert!(store.quick_check().await.expect("check").is_empty());
            store.close().await;
        }
    }

    #[tokio::test]
    async fn refuses_a_database_from_a_newer_build() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("newer.db");
        Store::open(&path).await.expect("open").close().await;
        let pool = pool_at(&path).await;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (9999, 'future', 1, x'00', 0)",
        )
        .execute(&pool)
        .await
        .expect("fake future migration");
        pool.close().await;
        assert!(matches!(
            Store::open(&path).await,
            Err(StoreError::Migration(_))
        ));
    }

    #[tokio::test]
    async fn open_sets_the_documented_pragmas() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("p.db")).await.expect("open");
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .expect("journal_mode");
        assert_eq!(mode.0, "wal");
        let fk: (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(&store.pool)
            .await
            .expect("fk");
        assert_eq!(fk.0, 1);
        let sync: (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&store.pool)
            .await
            .expect("sync");
        assert_eq!(sync.0, 1, "NORMAL");
        let mark: (i64,) = sqlx::query_as("PRAGMA wal_autocheckpoint")
            .fetch_one(&store.pool)
            .await
            .expect("wal_autocheckpoint");
        assert_eq!(mark.0, i64::from(WAL_AUTOCHECKPOINT_PAGES));
    }

    #[tokio::test]
    async fn a_background_checkpoint_moves_the_wal_into_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.db");
        let store = Store::open(&path).await.expect("open");
        let at = chrono::Utc::now();
        for i in 0..50 {
            store
                .put_setting(&format!("k{i}"), &i, at)
                .await
                .expect("write");
        }
        let before = std::fs::metadata(&path).expect("file").len();
        store.checkpoint().await.expect("checkpoint");
        let after = std::fs::metadata(&path).expect("file").len();
        assert!(
            after > before,
            "the main file grew from {before} to {after} bytes"
        );
        let busy: (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&store.pool)
            .await
            .expect("again");
        assert_eq!(busy.0, 0, "not blocked");
        assert_eq!(busy.1, busy.2, "every WAL frame is in the file");
    }

    #[tokio::test]
    async fn backup_to_writes_a_copy_that_verifies_and_never_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        for store in [
            Store::open(dir.path().join("live.db")).await.expect("open"),
            Store::open_in_memory().await.expect("memory"),
        ] {
            let copy = dir.path().join(format!("copy-{}.db", unique_suffix()));
            store.backup_to(&copy).await.expect("backup");
            assert_eq!(
                Store::verify_file(&copy).await.expect("verifies"),
                Store::schema_version()
            );
            assert!(matches!(
                store.backup_to(&copy).await,
                Err(StoreError::Conflict(_))
            ));
            store.close().await;
        }
    }

    fn unique_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    }

    #[tokio::test]
    async fn verify_file_refuses_empty_foreign_and_newer_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").expect("write");
        assert!(matches!(
            Store::verify_file(&empty).await,
            Err(StoreError::Corrupt { .. })
        ));

        let foreign = dir.path().join("foreign.db");
        let pool = pool_at(&foreign).await;
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&pool)
            .await
            .expect("table");
        pool.close().await;
        assert!(matches!(
            Store::verify_file(&foreign).await,
            Err(StoreError::InvalidData(d)) if d.contains("not a perpdesk database")
        ));

        let newer = dir.path().join("newer.db");
        Store::open(&newer).await.expect("open").close().await;
        let pool = pool_at(&newer).await;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (9999, 'future', 1, x'00', 0)",
        )
        .execute(&pool)
        .await
        .expect("fake future migration");
        pool.close().await;
        assert!(matches!(
            Store::verify_file(&newer).await,
            Err(StoreError::InvalidData(d)) if d.contains("newer perpdesk")
        ));
    }
}
