//! Database URLs for display: whatever could be a password is hidden, so
//! `rebound check` and logs can show where Rebound connects.

/// Hides the password of a database URL for display: the user-info part
/// and the `password` / `sslpassword` query parameters.
pub fn redact_database_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("REDACTED"));
    }
    let secret = |key: &str| key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sslpassword");
    if parsed.query_pairs().any(|(key, _)| secret(&key)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if secret(&key) {
                    "REDACTED".into()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_redacted_for_display() {
        assert_eq!(
            redact_database_url("postgres://u:pw@h/db"),
            "postgres://u:REDACTED@h/db"
        );
        assert_eq!(redact_database_url("sqlite://rebound.db"), "sqlite://rebound.db");
        let query = redact_database_url("postgres://h/db?user=u&password=pw1&sslmode=require&sslpassword=pw2");
        assert!(!query.contains("pw1") && !query.contains("pw2"), "{query}");
        assert!(query.contains("sslmode=require") && query.contains("user=u"), "{query}");
    }
}
