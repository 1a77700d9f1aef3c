//! Bearer-token authentication. Tokens are kept as SHA-256 digests and a
//! presented token is compared with every one of them in constant time, so
//! neither the match position nor the length leaks through timing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;

/// The accepted tokens.
#[derive(Clone, Default)]
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.digests.len())
    }
}

impl Tokens {
    /// Accepts these tokens (blank ones are ignored).
    pub fn new<I, S>(tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let digests = tokens
            .into_iter()
            .map(|t| t.as_ref().trim().to_string())
            .filter(|t| !t.is_empty())
            .map(|t| digest(&t))
            .collect();
        Tokens { digests }
    }

    /// True when no token is configured (the API is open).
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// Whether `presented` is one of the tokens, in constant time.
    pub fn check(&self, presented: &str) -> bool {
        let p = digest(presented);
        let mut ok = 0u8;
        for d in &self.digests {
            let mut diff = 0u8;
            for (a, b) in d.iter().zip(p.iter()) {
                diff |= a ^ b;
            }
            ok |= u8::from(std::hint::black_box(diff) == 0);
        }
        ok == 1
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Middleware: lets the request through when tokens are off or the
/// `Authorization: Bearer <token>` header carries a valid one.
pub async fn require_token(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if st.tokens.is_empty() {
        return next.run(req).await;
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match presented {
        Some(t) if st.tokens.check(t) => next.run(req).await,
        _ => ApiError::Unauthorized.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let t = Tokens::new(["alpha-token", " ", "beta-token"]);
        assert_eq!(t.len(), 2);
        assert!(t.check("beta-token"));
        assert!(!t.check("beta-toke"));
        assert!(!t.check(""));
        assert!(Tokens::new(Vec::<String>::new()).is_empty());
    }
}
