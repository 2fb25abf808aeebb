//! The one error type of the API: what went wrong, in words a person can act on, and
//! the HTTP status it maps to (in one place, [`ApiError::status`]).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::ValidationError;

/// One validation problem of a pipeline, as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The job at fault, if the problem is about one job.
    pub job: Option<String>,
    pub message: String,
}

impl From<&ValidationError> for Problem {
    fn from(error: &ValidationError) -> Problem {
        Problem {
            job: error.job().map(str::to_string),
            message: error.to_string(),
        }
    }
}

/// An API error. Serialized as `{"error": "<kind>", "message": "...", ...}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ApiError {
    /// The request itself is malformed (400).
    #[error("{message}")]
    BadRequest { message: String },
    /// The pipeline breaks one or more rules; every problem is listed (422).
    #[error("{message}")]
    InvalidPipeline {
        message: String,
        problems: Vec<Problem>,
    },
    /// Nobody is signed in, or the credentials are wrong or expired (401).
    #[error("{message}")]
    Unauthorized { message: String },
    /// The caller may not do this; the message says why (403).
    #[error("{message}")]
    Forbidden { message: String },
    /// The request body is larger than the server reads (413); the message gives the
    /// limit.
    #[error("{message}")]
    PayloadTooLarge { message: String },
    /// The body is not JSON (415).
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// Too many failed sign-ins; try again after the wait (429).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// The run, job, gate or pipeline named does not exist (404).
    #[error("{message}")]
    NotFound { message: String },
    /// The request came too late: the thing changed already, e.g. a gate was decided (409).
    #[error("{message}")]
    Conflict { message: String },
    /// Tollgate failed; the details are in the server's log (500).
    #[error("{message}")]
    Internal { message: String },
    /// The browser got no usable answer from the server (network down, server stopped).
    #[error("{message}")]
    Unreachable { message: String },
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::Forbidden {
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::Internal {
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest { .. } => 400,
            ApiError::Unauthorized { .. } => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::NotFound { .. } => 404,
            ApiError::Conflict { .. } => 409,
            ApiError::InvalidPipeline { .. } => 422,
            ApiError::Internal { .. } => 500,
            ApiError::Unreachable { .. } => 502,
        }
    }
}

impl From<crate::domain::ValidationErrors> for ApiError {
    fn from(errors: crate::domain::ValidationErrors) -> ApiError {
        ApiError::InvalidPipeline {
            message: errors.to_string(),
            problems: errors.0.iter().map(Problem::from).collect(),
        }
    }
}

impl From<crate::domain::ParseError> for ApiError {
    fn from(error: crate::domain::ParseError) -> ApiError {
        ApiError::bad_request(error.to_string())
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    /// Failures of the server-function machinery itself: a body that is not the
    /// expected JSON is the caller's mistake; a failed request is the network's.
    fn from_server_fn_error(value: ServerFnErrorErr) -> ApiError {
        let error = match value {
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::MissingArg(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::UnsupportedRequestMethod(message) => ApiError::bad_request(
                format!("the request body is not what this endpoint takes: {message}"),
            ),
            ServerFnErrorErr::Request(message) | ServerFnErrorErr::Response(message) => {
                ApiError::Unreachable {
                    message: format!("no answer from the Tollgate server: {message}"),
                }
            }
            other => ApiError::internal(other.to_string()),
        };
        #[cfg(feature = "ssr")]
        crate::api::backend::set_response_status(&error);
        error
    }
}
