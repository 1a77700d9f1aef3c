//! [`ApiError`]: every failure the API answers with, rendered in Radar's
//! error envelope `{"success":false,"errors":[{"code","message"}],
//! "messages":[],"result":{}}`. Parameter errors also carry
//! `source.parameter`, the name of the offending parameter.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// Longest piece of user input echoed back in an error message.
const ECHO_MAX: usize = 64;

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is unknown, repeated, malformed or out of range.
    #[error("{message}")]
    BadParam {
        /// The parameter's name as the client sent it (truncated).
        param: String,
        /// What is wrong, naming the parameter.
        message: String,
    },
    /// No such event or path.
    #[error("{0}")]
    NotFound(String),
    /// Missing or wrong bearer token.
    #[error("authentication error")]
    Unauthorized,
    /// The store failed.
    #[error("internal error")]
    Store(#[from] StoreError),
    /// A worker thread failed.
    #[error("internal error")]
    Internal(String),
    /// The server is at its connection limit.
    #[error("{0}")]
    Unavailable(String),
    /// The path exists but not for this method.
    #[error("{0}")]
    MethodNotAllowed(String),
}

impl ApiError {
    /// A parameter error.
    pub fn param(param: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadParam {
            param: echo(param),
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParam { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    fn code(&self) -> u32 {
        match self {
            ApiError::BadParam { .. } => 10001,
            ApiError::NotFound(_) => 10404,
            ApiError::Unauthorized => 10000,
            ApiError::Store(_) | ApiError::Internal(_) => 10500,
            ApiError::Unavailable(_) => 10503,
            ApiError::MethodNotAllowed(_) => 10405,
        }
    }
}

/// User input made safe to quote in a message: at most [`ECHO_MAX`] chars.
pub fn echo(s: &str) -> String {
    let mut out: String = s.chars().take(ECHO_MAX).collect();
    if s.chars().nth(ECHO_MAX).is_some() {
        out.push('…');
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        match &self {
            ApiError::BadParam { param, .. } => {
                error["source"] = json!({"parameter": param});
            }
            ApiError::Store(e) => tracing::error!(error = %e, "store error while serving"),
            ApiError::Internal(e) => tracing::error!(error = %e, "internal error while serving"),
            _ => {}
        }
        let body = json!({"success": false, "errors": [error], "messages": [], "result": {}});
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
