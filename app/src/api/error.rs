//! The one error type of the API: what went wrong, in words a person can act on, and
//! the HTTP status it maps to (in one place, [`ApiError::status`]).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::{FieldProblem, ValidationError};

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
///
/// Through [`WireError`], a plain struct: serde's derive for an internally tagged enum
/// buffers the whole body first and was the largest function of the browser's wasm.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(from = "WireError", into = "WireError")]
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
    /// The values of a decision do not fit the gate's form; each problem names its
    /// field (422).
    #[error("{message}")]
    InvalidInput {
        message: String,
        fields: Vec<FieldProblem>,
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
    /// The server is up but its database does not answer; nothing is lost, the server
    /// keeps retrying (503).
    #[error("{message}")]
    Unavailable { message: String },
}

/// What a person is told while the server's database does not answer.
pub const DATABASE_UNAVAILABLE: &str = "The database does not answer; nothing is lost, retrying.";

/// The kinds of [`ApiError`], as the `error` field names them.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ErrorKind {
    BadRequest,
    InvalidPipeline,
    InvalidInput,
    Unauthorized,
    Forbidden,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    NotFound,
    Conflict,
    Internal,
    Unreachable,
    Unavailable,
}

/// [`ApiError`] as JSON: the fields of every kind, those of one kind only when present.
#[derive(Clone, Serialize, Deserialize)]
struct WireError {
    error: ErrorKind,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    problems: Option<Vec<Problem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fields: Option<Vec<FieldProblem>>,
}

impl From<ApiError> for WireError {
    fn from(error: ApiError) -> WireError {
        let mut fields = None;
        let (error, message, problems, retry_after_secs) = match error {
            ApiError::BadRequest { message } => (ErrorKind::BadRequest, message, None, None),
            ApiError::InvalidInput {
                message,
                fields: given,
            } => {
                fields = Some(given);
                (ErrorKind::InvalidInput, message, None, None)
            }
            ApiError::InvalidPipeline { message, problems } => {
                (ErrorKind::InvalidPipeline, message, Some(problems), None)
            }
            ApiError::Unauthorized { message } => (ErrorKind::Unauthorized, message, None, None),
            ApiError::Forbidden { message } => (ErrorKind::Forbidden, message, None, None),
            ApiError::PayloadTooLarge { message } => {
                (ErrorKind::PayloadTooLarge, message, None, None)
            }
            ApiError::UnsupportedMediaType { message } => {
                (ErrorKind::UnsupportedMediaType, message, None, None)
            }
            ApiError::TooManyRequests {
                message,
                retry_after_secs,
            } => (
                ErrorKind::TooManyRequests,
                message,
                None,
                Some(retry_after_secs),
            ),
            ApiError::NotFound { message } => (ErrorKind::NotFound, message, None, None),
            ApiError::Conflict { message } => (ErrorKind::Conflict, message, None, None),
            ApiError::Internal { message } => (ErrorKind::Internal, message, None, None),
            ApiError::Unreachable { message } => (ErrorKind::Unreachable, message, None, None),
            ApiError::Unavailable { message } => (ErrorKind::Unavailable, message, None, None),
        };
        WireError {
            error,
            message,
            problems,
            retry_after_secs,
            fields,
        }
    }
}

impl From<WireError> for ApiError {
    fn from(wire: WireError) -> ApiError {
        let message = wire.message;
        match wire.error {
            ErrorKind::BadRequest => ApiError::BadRequest { message },
            ErrorKind::InvalidInput => ApiError::InvalidInput {
                message,
                fields: wire.fields.unwrap_or_default(),
            },
            ErrorKind::InvalidPipeline => ApiError::InvalidPipeline {
                message,
                problems: wire.problems.unwrap_or_default(),
            },
            ErrorKind::Unauthorized => ApiError::Unauthorized { message },
            ErrorKind::Forbidden => ApiError::Forbidden { message },
            ErrorKind::PayloadTooLarge => ApiError::PayloadTooLarge { message },
            ErrorKind::UnsupportedMediaType => ApiError::UnsupportedMediaType { message },
            ErrorKind::TooManyRequests => ApiError::TooManyRequests {
                message,
                retry_after_secs: wire.retry_after_secs.unwrap_or_default(),
            },
            ErrorKind::NotFound => ApiError::NotFound { message },
            ErrorKind::Conflict => ApiError::Conflict { message },
            ErrorKind::Internal => ApiError::Internal { message },
            ErrorKind::Unreachable => ApiError::Unreachable { message },
            ErrorKind::Unavailable => ApiError::Unavailable { message },
        }
    }
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

    /// What the API answers while the database does not: the same words as the
    /// page's banner.
    pub fn database_unavailable() -> ApiError {
        ApiError::Unavailable {
            message: DATABASE_UNAVAILABLE.into(),
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
            ApiError::InvalidPipeline { .. } | ApiError::InvalidInput { .. } => 422,
            ApiError::Internal { .. } => 500,
            ApiError::Unreachable { .. } => 502,
            ApiError::Unavailable { .. } => 503,
        }
    }
}

impl ApiError {
    /// A decision whose values do not fit the gate's form: every problem, in one
    /// message and field by field.
    pub fn invalid_input(fields: Vec<FieldProblem>) -> ApiError {
        let listed: Vec<&str> = fields.iter().map(|f| f.message.as_str()).collect();
        ApiError::InvalidInput {
            message: format!("the decision was not recorded: {}", listed.join("; ")),
            fields,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_keep_their_json_shape() {
        let cases = [
            (
                ApiError::bad_request("no"),
                json!({"error": "bad_request", "message": "no"}),
            ),
            (
                ApiError::InvalidPipeline {
                    message: "1 problem".into(),
                    problems: vec![Problem {
                        job: Some("a".into()),
                        message: "empty".into(),
                    }],
                },
                json!({"error": "invalid_pipeline", "message": "1 problem",
                       "problems": [{"job": "a", "message": "empty"}]}),
            ),
            (
                ApiError::TooManyRequests {
                    message: "wait".into(),
                    retry_after_secs: 30,
                },
                json!({"error": "too_many_requests", "message": "wait", "retry_after_secs": 30}),
            ),
            (
                ApiError::UnsupportedMediaType {
                    message: "json".into(),
                },
                json!({"error": "unsupported_media_type", "message": "json"}),
            ),
        ];
        for (error, wire) in cases {
            assert_eq!(serde_json::to_value(&error).expect("serialize"), wire);
            assert_eq!(
                serde_json::from_value::<ApiError>(wire).expect("deserialize"),
                error
            );
        }
    }
}
