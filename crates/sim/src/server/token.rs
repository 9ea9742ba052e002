//! Secrets the server hands out or checks: listen keys and the admin token, drawn from the
//! operating system's random source so no caller can guess another's.

/// Letters and digits, as Binance's listen keys use.
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` letters and digits from the OS random source, without modulo bias: a byte is used
/// only below 248 (4 × 62), so every character is equally likely.
///
/// # Errors
/// When the operating system has no randomness to give.
pub(crate) fn random_alnum(len: usize) -> Result<String, getrandom::Error> {
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::with_capacity(len);
    let mut buf = [0_u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf)?;
        for b in buf.iter().map(|b| usize::from(*b)).filter(|b| *b < limit) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[b % ALPHABET.len()]));
        }
    }
    Ok(out)
}

/// Compares two secrets in time that depends only on their lengths, so a caller cannot
/// learn a token a byte at a time from response times.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_64_letters_and_digits_and_differ() {
        let a = random_alnum(64).expect("randomness");
        let b = random_alnum(64).expect("randomness");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_compare_by_every_byte() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
