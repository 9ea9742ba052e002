//! `verify` and `export-records`: what the platform runs to check a settlement statement
//! against the exchange's own records of the user's account (docs/profit-share.md).
//!
//! Exit codes: 0 the statement verifies; 1 it does not (each difference printed with its
//! reason); 2 it could not be checked (bad arguments, an unreadable file, the exchange
//! unreachable or refusing the key).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use perpdesk_app::verifier::{
    AccountRecords, fetch_records, records_since, statement_symbols, verify_json,
};
use perpdesk_binance::{BaseUrls, Client, Environment, HmacSigner, RestClient, RestConfig};
use perpdesk_core::ledger::ShareRatio;
use perpdesk_core::verify::Expectations;
use perpdesk_core::{PublicKey, SignedStatement, Symbol};
use rust_decimal::Decimal;
use serde::Deserialize;

const VERIFY_USAGE: &str = "usage: perpdesk-app verify --statement FILE --public-key KEY
           (--records FILE | --key-file FILE | --env) [--exchange live|demo|URL]
           [--since YYYY-MM-DD] [--previous FILE] [--split RATIO]

Checks a perpdesk settlement statement (the signed JSON) as the platform: the signature
against the public key the user gave you, and every number recomputed from the exchange's
own records of the account. Prints each difference with its reason.

  --statement FILE   the signed statement (JSON)
  --public-key KEY   the user's statement key: ed25519:<64 hex digits> (or the 64 digits)
  --records FILE     an exchange-records export (docs/profit-share.md), or instead fetch:
  --key-file FILE    a read-only API key of the account, JSON {\"api_key\", \"api_secret\"}
  --env              the key from $PERPDESK_API_KEY and $PERPDESK_API_SECRET
  --exchange WHERE   live (default), demo, or a base URL (https, or http on loopback)
  --since DAY        fetch income from this UTC day (default: 30 days before the period)
  --previous FILE    the statement before this one: its closing must be this one's opening
  --split RATIO      the platform's agreed fraction (e.g. 0.7): any other split is reported

Exit status: 0 verified, 1 not verified, 2 could not check.";

const EXPORT_USAGE: &str = "usage: perpdesk-app export-records (--key-file FILE | --env)
           [--exchange live|demo|URL] [--since YYYY-MM-DD] [--symbols A,B] --out FILE

Fetches an account's trade list, income history and the client ids of its orders with a
read-only key, and writes them as an exchange-records export (JSON, the exchange's own
field names; docs/profit-share.md) for `perpdesk-app verify --records`.

  --key-file FILE    JSON {\"api_key\", \"api_secret\"}; or --env: $PERPDESK_API_KEY/_SECRET
  --exchange WHERE   live (default), demo, or a base URL (https, or http on loopback)
  --since DAY        income from this UTC day (default: the beginning)
  --symbols A,B      trade lists of these symbols too (every symbol in the income is fetched)
  --out FILE         where to write";

/// What a `--help` "fails" with: only the usage is printed.
const HELP: &str = "--help";

/// Where the records come from.
enum Source {
    File(PathBuf),
    Fetch { key: KeyPair, urls: BaseUrls },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyPair {
    api_key: String,
    api_secret: String,
}

/// A failure that means the statement could not be checked (exit status 2).
struct CannotCheck(String);

impl<E: std::fmt::Display> From<E> for CannotCheck {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

fn read(path: &Path, what: &str) -> Result<String, CannotCheck> {
    std::fs::read_to_string(path)
        .map_err(|e| CannotCheck(format!("cannot read the {what} {}: {e}", path.display())))
}

fn exchange(name: &str) -> BaseUrls {
    match name {
        "live" => Environment::Live.urls(),
        "demo" => Environment::Demo.urls(),
        url => BaseUrls {
            rest: url.trim_end_matches('/').to_owned(),
            spot_rest: None,
            streams: url
                .replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1),
        },
    }
}

fn key_from_env() -> Result<KeyPair, CannotCheck> {
    let get = |name: &str| {
        std::env::var(name).map_err(|_| CannotCheck(format!("--env: ${name} is not set")))
    };
    Ok(KeyPair {
        api_key: get("PERPDESK_API_KEY")?,
        api_secret: get("PERPDESK_API_SECRET")?,
    })
}

fn key_from_file(path: &Path) -> Result<KeyPair, CannotCheck> {
    serde_json::from_str(&read(path, "key file")?).map_err(|e| {
        CannotCheck(format!(
            "the key file {} is not {{\"api_key\", \"api_secret\"}}: {e}",
            path.display()
        ))
    })
}

fn day(text: &str) -> Result<DateTime<Utc>, CannotCheck> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| CannotCheck(format!("{text:?} is not a day (YYYY-MM-DD)")))
}

fn client(key: &KeyPair, urls: &BaseUrls) -> Result<Client, CannotCheck> {
    let signer = HmacSigner::new(&key.api_key, &key.api_secret);
    let rest = RestClient::new(urls, Some(Arc::new(signer)), RestConfig::default())?;
    Ok(Client::new(Arc::new(rest)))
}

/// The key options both commands share: where the key comes from and which exchange.
#[derive(Default)]
struct KeyOptions {
    key_file: Option<PathBuf>,
    env: bool,
    exchange: Option<String>,
}

impl KeyOptions {
    /// Takes `option` if it is one of the key options.
    fn take(
        &mut self,
        option: &str,
        it: &mut impl Iterator<Item = String>,
    ) -> Result<bool, CannotCheck> {
        match option {
            "--key-file" => self.key_file = Some(value(it, option)?.into()),
            "--env" => self.env = true,
            "--exchange" => self.exchange = Some(value(it, option)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn key(&self) -> Result<Option<(KeyPair, BaseUrls)>, CannotCheck> {
        let key = match (&self.key_file, self.env) {
            (Some(_), true) => {
                return Err(CannotCheck("give --key-file or --env, not both".into()));
            }
            (Some(path), false) => key_from_file(path)?,
            (None, true) => key_from_env()?,
            (None, false) => return Ok(None),
        };
        Ok(Some((
            key,
            exchange(self.exchange.as_deref().unwrap_or("live")),
        )))
    }
}

fn value(it: &mut impl Iterator<Item = String>, option: &str) -> Result<String, CannotCheck> {
    it.next()
        .ok_or_else(|| CannotCheck(format!("{option} needs a value")))
}

fn finish(result: Result<ExitCode, CannotCheck>, usage: &str) -> ExitCode {
    result.unwrap_or_else(|CannotCheck(why)| {
        if why == HELP {
            eprintln!("{usage}");
        } else {
            eprintln!("perpdesk-app: {why}\n\n{usage}");
        }
        ExitCode::from(2)
    })
}

/// Runs `perpdesk-app verify`.
pub async fn verify(args: impl Iterator<Item = String>) -> ExitCode {
    finish(run_verify(args).await, VERIFY_USAGE)
}

async fn run_verify(mut it: impl Iterator<Item = String>) -> Result<ExitCode, CannotCheck> {
    let (mut statement, mut public_key, mut records, mut previous) = (None, None, None, None);
    let (mut since, mut split) = (None, None);
    let mut keys = KeyOptions::default();
    while let Some(option) = it.next() {
        if keys.take(&option, &mut it)? {
            continue;
        }
        match option.as_str() {
            "--statement" => statement = Some(PathBuf::from(value(&mut it, &option)?)),
            "--public-key" => public_key = Some(value(&mut it, &option)?),
            "--records" => records = Some(PathBuf::from(value(&mut it, &option)?)),
            "--previous" => previous = Some(PathBuf::from(value(&mut it, &option)?)),
            "--since" => since = Some(day(&value(&mut it, &option)?)?),
            "--split" => split = Some(value(&mut it, &option)?),
            "--help" | "-h" => return Err(CannotCheck(HELP.into())),
            other => return Err(CannotCheck(format!("unknown option {other:?}"))),
        }
    }
    let statement = statement.ok_or_else(|| CannotCheck("--statement is required".into()))?;
    let key_text = public_key.ok_or_else(|| CannotCheck("--public-key is required".into()))?;
    let with_prefix = if key_text.trim().starts_with("ed25519:") {
        key_text.trim().to_owned()
    } else {
        format!("ed25519:{}", key_text.trim())
    };
    let trusted: PublicKey = with_prefix
        .parse()
        .map_err(|e| CannotCheck(format!("--public-key: {e}")))?;
    let agreed = split
        .map(|s| {
            s.parse::<Decimal>()
                .ok()
                .and_then(|d| ShareRatio::new(d).ok())
                .ok_or_else(|| CannotCheck(format!("--split {s:?} is not a fraction from 0 to 1")))
        })
        .transpose()?;
    let source = match (records, keys.key()?) {
        (Some(_), Some(_)) => {
            return Err(CannotCheck(
                "give --records or a key to fetch with, not both".into(),
            ));
        }
        (Some(path), None) => Source::File(path),
        (None, Some((key, urls))) => Source::Fetch { key, urls },
        (None, None) => {
            return Err(CannotCheck(
                "the exchange's records are needed: --records FILE, or --key-file/--env".into(),
            ));
        }
    };
    let text = read(&statement, "statement")?;
    // Read once here too, for the period and symbols a fetch needs and for the heading.
    let signed = SignedStatement::from_json(&text).map_err(|e| {
        CannotCheck(format!(
            "{} is not a signed statement: {e}",
            statement.display()
        ))
    })?;
    let previous = previous
        .map(|path| {
            let text = read(&path, "previous statement")?;
            SignedStatement::from_json(&text)
                .map(|s| s.statement)
                .map_err(|e| CannotCheck(format!("{} is not a statement: {e}", path.display())))
        })
        .transpose()?;
    let (records, from) = match source {
        Source::File(path) => (
            AccountRecords::from_export(&read(&path, "records export")?)?,
            format!("the export {}", path.display()),
        ),
        Source::Fetch { key, urls } => {
            let client = client(&key, &urls)?;
            let since = since.unwrap_or_else(|| records_since(&signed.statement));
            let symbols = statement_symbols(&signed.statement);
            let records = fetch_records(&client, since, &symbols).await?;
            (
                records,
                format!("{} (income since {})", urls.rest, since.format("%Y-%m-%d")),
            )
        }
    };
    let s = &signed.statement;
    println!(
        "statement #{} of {:?}, settled {}, signed by {}",
        s.sequence,
        s.account,
        DateTime::from_timestamp_millis(s.settled_at_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        signed.public_key.fingerprint()
    );
    println!(
        "records: {} fills and {} income rows from {from}",
        records.fills.len(),
        records.income.len()
    );
    let expect = Expectations {
        agreed_ratio: agreed,
        previous: previous.as_ref(),
    };
    let outcome = verify_json(&text, &trusted, &records, expect)?;
    print!("{}", outcome.report());
    Ok(if outcome.is_genuine() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `perpdesk-app export-records`.
pub async fn export_records(args: impl Iterator<Item = String>) -> ExitCode {
    finish(run_export(args).await, EXPORT_USAGE)
}

async fn run_export(mut it: impl Iterator<Item = String>) -> Result<ExitCode, CannotCheck> {
    let (mut out, mut since, mut symbols) = (None, None, Vec::new());
    let mut keys = KeyOptions::default();
    while let Some(option) = it.next() {
        if keys.take(&option, &mut it)? {
            continue;
        }
        match option.as_str() {
            "--out" => out = Some(PathBuf::from(value(&mut it, &option)?)),
            "--since" => since = Some(day(&value(&mut it, &option)?)?),
            "--symbols" => {
                for s in value(&mut it, &option)?
                    .split(',')
                    .filter(|s| !s.is_empty())
                {
                    symbols.push(Symbol::new(s).map_err(|e| CannotCheck(format!("{s}: {e}")))?);
                }
            }
            "--help" | "-h" => return Err(CannotCheck(HELP.into())),
            other => return Err(CannotCheck(format!("unknown option {other:?}"))),
        }
    }
    let out = out.ok_or_else(|| CannotCheck("--out is required".into()))?;
    let (key, urls) = keys
        .key()?
        .ok_or_else(|| CannotCheck("a key is required: --key-file or --env".into()))?;
    let client = client(&key, &urls)?;
    let records = fetch_records(&client, since.unwrap_or_default(), &symbols).await?;
    let tmp = out.with_extension("part");
    std::fs::write(&tmp, records.to_export(Utc::now()))
        .and_then(|()| std::fs::rename(&tmp, &out))
        .map_err(|e| CannotCheck(format!("cannot write {}: {e}", out.display())))?;
    println!(
        "wrote {} fills and {} income rows to {}",
        records.fills.len(),
        records.income.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
