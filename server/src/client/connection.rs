//! Where the server is, how the command proves who it is, and what its answers mean.

use std::sync::OnceLock;
use std::time::Duration;

use app::api::ApiError;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Exit;

/// How long a command waits for the server before it says it cannot reach it.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The server a remote command talks to.
#[derive(Clone, Debug, clap::Args)]
pub struct Connect {
    /// The server's address, e.g. `https://tollgate.example.com` (TLS certificates are
    /// checked against the system's trusted roots).
    #[arg(long, env = "TOLLGATE_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// An API token (`tollgate token create --user NAME`); the environment keeps it out
    /// of the process list.
    #[arg(long, env = "TOLLGATE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Prints the server's JSON answer instead of text, for scripts.
    #[arg(long)]
    pub json: bool,
}

/// Why a remote command did not do what it was asked.
#[derive(Debug)]
pub enum Failure {
    Refused(String),
    Usage(String),
    Unreachable(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Refused(message) | Failure::Usage(message) | Failure::Unreachable(message) => {
                message
            }
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            Failure::Refused(_) => Exit::Refused,
            Failure::Usage(_) => Exit::Usage,
            Failure::Unreachable(_) => Exit::Unreachable,
        }
    }
}

impl Connect {
    /// Prints an answer: the server's JSON with `--json`, else `text` for people.
    pub fn show(&self, json: &Value, text: &str) {
        if self.json {
            println!("{json}");
        } else {
            println!("{}", super::terminal::for_stdout(text.trim_end()));
        }
    }

    /// Calls `POST /api/<endpoint>` with `body`; the answer as `T` and as the JSON it was.
    pub async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &Value,
    ) -> Result<(T, Value), Failure> {
        let base = self.url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Failure::Usage(format!(
                "TOLLGATE_URL must be an http:// or https:// address (got `{base}`), e.g. \
                 https://tollgate.example.com"
            )));
        }
        let Some(token) = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Err(Failure::Usage(
                "no API token: set TOLLGATE_TOKEN (make one with `tollgate token create \
                 --user NAME`, or on the Users page)"
                    .into(),
            ));
        };
        let answer = client()?
            .post(format!("{base}/api/{endpoint}"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|err| {
                let why = crate::request_error::describe(&err);
                // rustls names a certificate it refuses ("invalid peer certificate: ...").
                let fix = if why.contains("certificate") {
                    "add the authority that signed the server's certificate to this \
                     machine's trusted certificates, or name a file of them in SSL_CERT_FILE"
                } else {
                    "check TOLLGATE_URL and that the server runs"
                };
                Failure::Unreachable(format!("cannot reach Tollgate at {base} ({why}): {fix}"))
            })?;
        let status = answer.status();
        let text = answer.text().await.map_err(|err| {
            Failure::Unreachable(format!(
                "the answer from {base} broke off: {}",
                crate::request_error::describe(&err)
            ))
        })?;
        let not_tollgate = || {
            Failure::Unreachable(format!(
                "{base} did not answer as Tollgate's API does (HTTP {status}): check TOLLGATE_URL"
            ))
        };
        if !status.is_success() {
            let error: ApiError = serde_json::from_str(&text).map_err(|_| not_tollgate())?;
            return Err(match status.as_u16() {
                502..=504 => Failure::Unreachable(error.to_string()),
                _ => Failure::Refused(refusal(&error)),
            });
        }
        let json: Value = serde_json::from_str(&text).map_err(|_| not_tollgate())?;
        let value = T::deserialize(&json).map_err(|_| not_tollgate())?;
        Ok((value, json))
    }
}

/// The one HTTP client of the process: the system's trusted certificates are read once,
/// not for every page `logs --follow` asks for.
fn client() -> Result<&'static reqwest::Client, Failure> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let built = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|err| Failure::Unreachable(format!("cannot make an HTTP client: {err}")))?;
    Ok(CLIENT.get_or_init(|| built))
}

/// The server's message, with each problem (a decision's field, a pipeline's job) on
/// its own line.
fn refusal(error: &ApiError) -> String {
    let mut message = error.to_string();
    match error {
        ApiError::InvalidInput { fields, .. } => {
            for field in fields {
                message.push_str(&format!("\n  {}: {}", field.field, field.message));
            }
        }
        ApiError::InvalidPipeline { problems, .. } => {
            for problem in problems {
                match &problem.job {
                    Some(job) => message.push_str(&format!("\n  {job}: {}", problem.message)),
                    None => message.push_str(&format!("\n  {}", problem.message)),
                }
            }
        }
        _ => {}
    }
    message
}
