//! Master-password strength rules.
//!
//! The rules are deliberately few and explainable: the UI shows the failed rule verbatim, and a
//! long passphrase of ordinary words passes them all.

use std::fmt;

/// Fewest characters (not bytes) a master password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Fewest distinct characters; catches `aaaaaaaaaaa1` style padding that passes the other rules.
pub const MIN_DISTINCT_CHARS: usize = 5;

/// Bases of passwords that lead every leaked-password list (lowercase). A candidate is rejected
/// when it equals one of these, or is one of these with only digits/symbols around it
/// (`Password1234!`), because that is exactly what guessing tools try first.
const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "passphrase",
    "qwerty",
    "qwertyuiop",
    "qwertyuiop[]",
    "asdfghjkl",
    "zxcvbnm",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "qazwsxedc",
    "abcdefghijkl",
    "abc123",
    "letmein",
    "iloveyou",
    "welcome",
    "admin",
    "administrator",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "superman",
    "batman",
    "master",
    "masterpassword",
    "trustno",
    "changeme",
    "secret",
    "mypassword",
    "bitcoin",
    "binance",
    "perpdesk",
    "trading",
    "crypto",
];

/// Why a proposed master password was refused. `Display` is a sentence for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordWeakness {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    TooShort {
        /// Characters the candidate has.
        actual: usize,
    },
    /// Every character is of one class (only lowercase, only digits, …).
    SingleClass(CharClass),
    /// Fewer than [`MIN_DISTINCT_CHARS`] distinct characters.
    Repetitive,
    /// A well-known password, possibly with digits or symbols tacked on.
    Common,
}

/// Character classes the mix rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharClass {
    /// Lowercase letters (any script).
    Lower,
    /// Uppercase letters (any script).
    Upper,
    /// Decimal digits.
    Digit,
    /// Everything else: symbols, spaces, letters without case.
    Other,
}

impl CharClass {
    fn of(c: char) -> Self {
        if c.is_lowercase() {
            Self::Lower
        } else if c.is_uppercase() {
            Self::Upper
        } else if c.is_ascii_digit() {
            Self::Digit
        } else {
            Self::Other
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Lower => "lowercase letters",
            Self::Upper => "uppercase letters",
            Self::Digit => "digits",
            Self::Other => "symbols",
        }
    }
}

impl fmt::Display for PasswordWeakness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { actual } => write!(
                f,
                "it has {actual} characters; use at least {MIN_PASSWORD_CHARS} \
                 (a phrase of several words is easiest to remember)"
            ),
            Self::SingleClass(class) => write!(
                f,
                "it uses only {}; mix in another kind (lowercase, uppercase, digits, or symbols and spaces)",
                class.describe()
            ),
            Self::Repetitive => write!(
                f,
                "it repeats too few characters; use at least {MIN_DISTINCT_CHARS} different ones"
            ),
            Self::Common => f.write_str(
                "it is, or is built on, a commonly used password that guessing tools try first",
            ),
        }
    }
}

/// Checks `candidate` against the rules above, in the order a user most easily fixes them.
///
/// # Errors
///
/// Returns the first rule the candidate breaks.
pub fn check_password_strength(candidate: &str) -> Result<(), PasswordWeakness> {
    let chars = candidate.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordWeakness::TooShort { actual: chars });
    }
    let mut classes = candidate.chars().map(CharClass::of);
    if let Some(first) = classes.next()
        && classes.all(|c| c == first)
    {
        return Err(PasswordWeakness::SingleClass(first));
    }
    let mut distinct: Vec<char> = candidate.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Err(PasswordWeakness::Repetitive);
    }
    let lower = candidate.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if COMMON.contains(&lower.as_str()) || COMMON.contains(&core) {
        return Err(PasswordWeakness::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_fires_with_its_reason() {
        assert_eq!(
            check_password_strength("Short1!"),
            Err(PasswordWeakness::TooShort { actual: 7 })
        );
        assert_eq!(
            check_password_strength("alllowercaseletters"),
            Err(PasswordWeakness::SingleClass(CharClass::Lower))
        );
        assert_eq!(
            check_password_strength("123456789012"),
            Err(PasswordWeakness::SingleClass(CharClass::Digit))
        );
        assert_eq!(
            check_password_strength("aaaaaaaaaaaa1"),
            Err(PasswordWeakness::Repetitive)
        );
        assert_eq!(
            check_password_strength("Password1234!"),
            Err(PasswordWeakness::Common)
        );
        assert_eq!(
            check_password_strength("1q2w3e4r5t6y"),
            Err(PasswordWeakness::Common)
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 11 characters but more than 12 bytes: still too short.
        assert_eq!(
            check_password_strength("ééééééééééA"),
            Err(PasswordWeakness::TooShort { actual: 11 })
        );
    }

    #[test]
    fn reasonable_passwords_pass() {
        check_password_strength("correct horse battery staple").unwrap();
        check_password_strength("Tr0ub4dor&3xyz").unwrap();
        check_password_strength("Password-is-not-my-password").unwrap();
    }

    #[test]
    fn messages_name_the_rule() {
        let msg = PasswordWeakness::TooShort { actual: 5 }.to_string();
        assert!(msg.contains("at least 12"), "{msg}");
        let msg = PasswordWeakness::SingleClass(CharClass::Digit).to_string();
        assert!(msg.contains("only digits"), "{msg}");
    }
}
