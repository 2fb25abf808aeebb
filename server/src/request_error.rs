//! An outgoing HTTP request's failure in a few words, for people: what went wrong and
//! its innermost cause ("cannot connect: Connection refused (os error 111)", "cannot
//! connect: invalid peer certificate: UnknownIssuer"). reqwest's own message stops at
//! "error sending request", which says nothing an operator can act on.

/// `error` as "what: innermost cause".
pub fn describe(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let what = if error.is_timeout() {
        "no answer in time"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "the request failed"
    };
    format!("{what}: {cause}")
}
