//! Every rule a pipeline must satisfy before it can run, reported all at once.
//!
//! The server checks a deploy with these rules and the Constructor checks every edit with
//! the same code, so a person sees the same message in both places. Each message names
//! the job at fault and says what to do about it.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::access::GROUP_PREFIX;
use super::network::{MAX_CONNECT_PORTS, Network};
use super::pipeline::{GateSpec, JobSpec, Pipeline};

/// The prefix of every injected gate's id; user jobs may not use it.
pub const GATE_PREFIX: &str = "hitl-gate-";

/// The most approvals a gate may ask for.
pub const MAX_GATE_APPROVALS: u32 = 20;

/// The longest gate timeout accepted: 30 days.
pub const MAX_GATE_TIMEOUT_SECS: u64 = 30 * 24 * 60 * 60;

/// The longest gate message: 4,096 characters. It is shown in the approval banner and
/// the gates list, so it is a paragraph or two; the details belong in the job's output.
pub const MAX_GATE_MESSAGE_CHARS: usize = 4096;

/// The most approver entries a gate may name: beyond that, use a `group:<name>`.
pub const MAX_GATE_APPROVERS: usize = 100;

/// The longest `run` script: 64 KiB. The script is passed to `sh -c` as one argument,
/// and Linux refuses a single argument of 128 KiB or more (`MAX_ARG_STRLEN`), so the job
/// could never start; half of that leaves no doubt. A longer script belongs in a file
/// the job runs.
pub const MAX_RUN_BYTES: usize = 64 * 1024;

/// The most environment variables one job may set.
pub const MAX_ENV_VARS: usize = 100;

/// The longest value of one environment variable: 8 KiB. The whole environment and the
/// script must fit in the kernel's 2 MiB for a new process (`ARG_MAX`); with
/// [`MAX_ENV_VARS`] variables at this size (800 KiB) and [`MAX_RUN_BYTES`], a job always
/// starts. Larger data belongs in a file in the workspace.
pub const MAX_ENV_VALUE_BYTES: usize = 8 * 1024;

/// The id of the gate injected after job `source`.
pub fn gate_id(source: &str) -> String {
    format!("{GATE_PREFIX}{source}")
}

/// One thing wrong with a pipeline.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ValidationError {
    #[error("the pipeline has no jobs: add at least one job with an `id` and a `run` command")]
    NoJobs,
    #[error(
        "pipeline name `{name}` is not a safe identifier: use 1 to 64 letters, digits, `_` or `-`"
    )]
    BadPipelineName { name: String },
    #[error("job id `{job}` is not valid: use 1 to 64 letters, digits, `_` or `-`")]
    BadJobId { job: String },
    #[error("job id `{job}` is used by {count} jobs: give each job its own id")]
    DuplicateJobId { job: String, count: usize },
    #[error(
        "job id `{job}` is the id of the gate Tollgate injects after job `{source_job}`: rename the job"
    )]
    CollidesWithGate { job: String, source_job: String },
    #[error(
        "job id `{job}` starts with `{GATE_PREFIX}`, which is kept for injected gates: rename the job"
    )]
    ReservedGatePrefix { job: String },
    #[error("job `{job}` has an empty `run`: give it a shell command or script")]
    EmptyRun { job: String },
    #[error(
        "job `{job}` depends on `{dependency}`, which is not a job of this pipeline: add a job `{dependency}` or remove it from `depends_on`"
    )]
    UnknownDependency { job: String, dependency: String },
    #[error("job `{job}` depends on itself: remove `{job}` from its `depends_on`")]
    SelfDependency { job: String },
    #[error(
        "jobs depend on each other in a cycle: {}; remove one of these dependencies",
        cycle.join(" -> ")
    )]
    Cycle {
        /// The jobs around the cycle in run order, the first repeated at the end.
        cycle: Vec<String>,
    },
    #[error(
        "job `{job}`'s gate names environment `{environment}`, which does not exist: ask an admin to create it, or name another"
    )]
    UnknownEnvironment { job: String, environment: String },
    #[error("job `{job}`'s gate {problem}: environment `{environment}` allows only stricter rules")]
    LooserThanEnvironment {
        job: String,
        environment: String,
        /// The gate field at fault (`gate_approvers`, `gate_approvals`, ...).
        field: String,
        problem: String,
    },
    #[error("job `{job}` has `timeout: 0`: use at least 1 second, or remove the timeout")]
    ZeroJobTimeout { job: String },
    #[error(
        "job `{job}` has `network: {{connect: [...]}}` with {problem}: list 1 to {MAX_CONNECT_PORTS} ports from 1 to 65535, or write `network: none`"
    )]
    BadNetwork { job: String, problem: String },
    #[error(
        "job `{job}` lists port {port} in `network: {{connect: [...]}}`, the port of {what}: jobs may not reach Tollgate's own server or store; remove it"
    )]
    ControlPlanePort {
        job: String,
        port: u16,
        what: String,
    },
    #[error(
        "job `{job}` has gate timeout {timeout} s: use 1 to {MAX_GATE_TIMEOUT_SECS} seconds (30 days)"
    )]
    GateTimeoutOutOfRange { job: String, timeout: u64 },
    #[error(
        "job `{job}` sets a gate timeout but its gate message is blank, so no gate would be injected: write a gate message, or remove the timeout"
    )]
    GateTimeoutWithoutMessage { job: String },
    #[error(
        "job `{job}` sets env `{name}`, which is not a valid variable name: use letters, digits and `_`, not starting with a digit"
    )]
    BadEnvName { job: String, name: String },
    #[error("job `{job}` sets env `{name}`: names starting with `TOLLGATE_` are set by Tollgate")]
    ReservedEnvName { job: String, name: String },
    #[error(
        "job `{job}` has gate approver `{entry}`, which is neither a username nor `group:<name>`: use 1 to 64 letters, digits, `_` or `-` after the optional `group:`"
    )]
    BadApprover { job: String, entry: String },
    #[error(
        "job `{job}` has gate `approvals: {approvals}`: use 1 to {MAX_GATE_APPROVALS} different people"
    )]
    ApprovalsOutOfRange { job: String, approvals: u32 },
    #[error(
        "job `{job}` needs {approvals} gate approvals but names only {people} approver{}: name more people, add a group, or lower `approvals`",
        if *people == 1 { "" } else { "s" }
    )]
    TooFewApprovers {
        job: String,
        approvals: u32,
        people: usize,
    },
    #[error(
        "job `{job}` sets who approves its gate but its gate message is blank, so no gate would be injected: write a gate message, or remove `approvers`, `approvals` and `allow_self_approval`"
    )]
    GateRulesWithoutMessage { job: String },
    #[error(
        "job `{job}` has a `run` script of {} bytes; the limit is {} bytes (64 KiB): put the script in a file and run that file",
        thousands(*bytes), thousands(MAX_RUN_BYTES)
    )]
    RunTooLong { job: String, bytes: usize },
    #[error(
        "job `{job}` sets {count} env variables; the limit is {MAX_ENV_VARS}: pass the rest in a file in the workspace"
    )]
    TooManyEnvVars { job: String, count: usize },
    #[error(
        "job `{job}` sets env `{name}` to a value of {} bytes; the limit is {} bytes (8 KiB): write the value to a file and pass its path",
        thousands(*bytes), thousands(MAX_ENV_VALUE_BYTES)
    )]
    EnvValueTooLong {
        job: String,
        name: String,
        bytes: usize,
    },
    #[error(
        "job `{job}` has a gate message of {} characters; the limit is {}: keep it to what the reviewer must check, and put the details in the job's output",
        thousands(*chars), thousands(MAX_GATE_MESSAGE_CHARS)
    )]
    GateMessageTooLong { job: String, chars: usize },
    #[error(
        "job `{job}` names {count} gate approvers; the limit is {MAX_GATE_APPROVERS}: name a `group:<name>` instead"
    )]
    TooManyApprovers { job: String, count: usize },
    /// A problem with the gate's options or inputs (see [`crate::domain::gate_form`]).
    #[error("job `{job}`, gate {field}: {message}")]
    GateForm {
        job: String,
        field: String,
        message: String,
    },
    #[error(
        "job `{job}` gives its gate options or inputs but its gate message is blank, so no gate would be injected: write a gate message, or remove `options` and `inputs`"
    )]
    GateFormWithoutMessage { job: String },
    #[error(
        "jobs `{job}` and `{other}` would both pass their gate's choice as `{prefix}_*`: rename one of them"
    )]
    GateChoiceNamesCollide {
        job: String,
        other: String,
        prefix: String,
    },
    #[error(
        "job `{job}` has `when.gate: {gate}`, which is not a gate of this pipeline: name the gate `hitl-gate-<job>` of a job with a gate message{}",
        if gates.is_empty() { String::new() } else { format!(" ({})", gates.join(", ")) }
    )]
    WhenUnknownGate {
        job: String,
        gate: String,
        /// The pipeline's gates.
        gates: Vec<String>,
    },
    #[error(
        "job `{job}` has `when.gate: {gate}` but does not come after that gate: add `{source_job}` (or a job after it) to its `depends_on`"
    )]
    WhenNotAfterGate {
        job: String,
        gate: String,
        source_job: String,
    },
    #[error(
        "job `{job}` has `when.option: {option}`, which gate `{gate}` does not offer: {}",
        if options.is_empty() { format!("give job `{}`'s gate `options`, or remove `when`", gate.trim_start_matches(GATE_PREFIX)) } else { format!("use one of {}", options.join(", ")) }
    )]
    WhenUnknownOption {
        job: String,
        gate: String,
        option: String,
        /// The gate's options.
        options: Vec<String>,
    },
    #[error(
        "`notify` has `{url}`, which is not a web address: give one like https://hooks.example.com/tollgate (http or https, at most 2,048 characters)"
    )]
    BadNotifyUrl { url: String },
    #[error(
        "`notify` has `{url}`, which points at {address}, a link-local address where clouds serve instance metadata and credentials: use another endpoint, or start the server with --notify-allow-link-local"
    )]
    LinkLocalNotifyUrl { url: String, address: String },
    #[error(
        "`notify` has `{url}`, an address hidden from you that stands for none of the saved pipeline's: give the whole URL, or remove it"
    )]
    HiddenNotifyUrl { url: String },
    #[error("`notify` lists {count} endpoints; the limit is {MAX_NOTIFY_URLS}")]
    TooManyNotifyUrls { count: usize },
    #[error(
        "the pipeline has {} jobs with its gates ({} jobs and {} gates, each gate a node of the run); the limit is {} per run (TOLLGATE_MAX_JOBS_PER_RUN): split it into several pipelines",
        thousands(jobs + gates), thousands(*jobs), thousands(*gates), thousands(*limit)
    )]
    TooManyJobs {
        jobs: usize,
        gates: usize,
        limit: usize,
    },
}

impl ValidationError {
    /// The job the error is about, so an editor can mark it; `None` for whole-pipeline
    /// errors (a cycle names all of its jobs in [`ValidationError::Cycle::cycle`]).
    pub fn job(&self) -> Option<&str> {
        use ValidationError::*;
        match self {
            NoJobs
            | BadPipelineName { .. }
            | Cycle { .. }
            | TooManyJobs { .. }
            | BadNotifyUrl { .. }
            | LinkLocalNotifyUrl { .. }
            | HiddenNotifyUrl { .. }
            | TooManyNotifyUrls { .. } => None,
            BadJobId { job }
            | DuplicateJobId { job, .. }
            | CollidesWithGate { job, .. }
            | ReservedGatePrefix { job }
            | EmptyRun { job }
            | UnknownDependency { job, .. }
            | SelfDependency { job }
            | ZeroJobTimeout { job }
            | BadNetwork { job, .. }
            | ControlPlanePort { job, .. }
            | UnknownEnvironment { job, .. }
            | LooserThanEnvironment { job, .. }
            | GateTimeoutOutOfRange { job, .. }
            | GateTimeoutWithoutMessage { job }
            | BadEnvName { job, .. }
            | ReservedEnvName { job, .. }
            | BadApprover { job, .. }
            | ApprovalsOutOfRange { job, .. }
            | TooFewApprovers { job, .. }
            | GateRulesWithoutMessage { job }
            | RunTooLong { job, .. }
            | TooManyEnvVars { job, .. }
            | EnvValueTooLong { job, .. }
            | GateMessageTooLong { job, .. }
            | TooManyApprovers { job, .. }
            | GateForm { job, .. }
            | GateFormWithoutMessage { job }
            | GateChoiceNamesCollide { job, .. }
            | WhenUnknownGate { job, .. }
            | WhenNotAfterGate { job, .. }
            | WhenUnknownOption { job, .. } => Some(job),
        }
    }
}

impl ValidationError {
    /// The job field the error is about, for an editor to mark: `id`, `run`,
    /// `depends_on`, `timeout`, `gate_message`, `gate_timeout`, `gate_approvers`,
    /// `gate_approvals`, `gate_form`, `env`, `when`, `network`, or `name` (the pipeline's).
    pub fn field(&self) -> Option<&'static str> {
        use ValidationError::*;
        Some(match self {
            NoJobs | Cycle { .. } | TooManyJobs { .. } => return None,
            BadPipelineName { .. } => "name",
            BadNotifyUrl { .. }
            | LinkLocalNotifyUrl { .. }
            | HiddenNotifyUrl { .. }
            | TooManyNotifyUrls { .. } => "notify",
            BadJobId { .. }
            | DuplicateJobId { .. }
            | CollidesWithGate { .. }
            | ReservedGatePrefix { .. } => "id",
            EmptyRun { .. } | RunTooLong { .. } => "run",
            UnknownDependency { .. } | SelfDependency { .. } => "depends_on",
            ZeroJobTimeout { .. } => "timeout",
            BadNetwork { .. } | ControlPlanePort { .. } => "network",
            UnknownEnvironment { .. } => "gate_environment",
            LooserThanEnvironment { field, .. } => gate_field(field),
            GateTimeoutOutOfRange { .. } | GateTimeoutWithoutMessage { .. } => "gate_timeout",
            BadEnvName { .. }
            | ReservedEnvName { .. }
            | TooManyEnvVars { .. }
            | EnvValueTooLong { .. } => "env",
            GateMessageTooLong { .. } => "gate_message",
            BadApprover { .. } | GateRulesWithoutMessage { .. } | TooManyApprovers { .. } => {
                "gate_approvers"
            }
            ApprovalsOutOfRange { .. } | TooFewApprovers { .. } => "gate_approvals",
            GateForm { .. } | GateFormWithoutMessage { .. } | GateChoiceNamesCollide { .. } => {
                "gate_form"
            }
            WhenUnknownGate { .. } | WhenNotAfterGate { .. } | WhenUnknownOption { .. } => "when",
        })
    }
}

/// A gate field's name as the editor knows it.
fn gate_field(name: &str) -> &'static str {
    [
        "gate_approvers",
        "gate_approvals",
        "gate_allow_self_approval",
        "gate_form",
        "gate_timeout",
    ]
    .into_iter()
    .find(|known| *known == name)
    .unwrap_or("gate_environment")
}

/// All the errors of one pipeline, in the order of its jobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// `Ok` when there is no problem, else all of them.
    pub fn result(errors: Vec<ValidationError>) -> Result<(), ValidationErrors> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "the pipeline has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            write!(f, "\n- {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// `12000` as `12,000`, for messages about sizes.
fn thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// How many nodes a run of this pipeline has: its jobs and the gates injected after
/// them. Cheap (no validation), so it can be checked before anything else.
pub fn run_size(pipeline: &Pipeline) -> (usize, usize) {
    let gates = pipeline
        .jobs
        .iter()
        .filter(|job| job.active_gate().is_some())
        .count();
    (pipeline.jobs.len(), gates)
}

/// Refuses a pipeline whose run would have more than `limit` nodes, gates included:
/// every node is a row, a scheduler entry and a box on the run page, so the count is
/// what costs.
///
/// Not part of [`validate`]: the limit is the server's setting
/// (`TOLLGATE_MAX_JOBS_PER_RUN`), which the Constructor in the browser does not know, so
/// the server calls this on save and on deploy, before [`validate`], so an oversized
/// pipeline costs no more than counting its jobs.
pub fn check_run_size(pipeline: &Pipeline, limit: usize) -> Result<(), ValidationErrors> {
    let (jobs, gates) = run_size(pipeline);
    if jobs + gates > limit {
        return Err(ValidationErrors(vec![ValidationError::TooManyJobs {
            jobs,
            gates,
            limit,
        }]));
    }
    Ok(())
}

/// The most webhook endpoints one pipeline lists.
pub const MAX_NOTIFY_URLS: usize = 10;

/// A webhook endpoint Tollgate can post to: `http://` or `https://`, a host, no spaces,
/// at most 2,048 characters. Used for a pipeline's `notify` and the server's
/// `--notify-url` alike.
pub fn is_webhook_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with(['/', '?', '#'])
            && !url.chars().any(char::is_whitespace)
            && url.len() <= 2048
    })
}

/// `[A-Za-z0-9_-]{1,64}`: safe in a URL, a file name, a shell variable's value and SQL.
pub fn is_safe_identifier(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_env_name(text: &str) -> bool {
    let mut bytes = text.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Checks every rule and returns every error found.
pub fn validate(pipeline: &Pipeline) -> Result<(), ValidationErrors> {
    let mut errors = Vec::new();
    if !is_safe_identifier(&pipeline.name) {
        errors.push(ValidationError::BadPipelineName {
            name: pipeline.name.clone(),
        });
    }
    if pipeline.jobs.is_empty() {
        errors.push(ValidationError::NoJobs);
    }
    if pipeline.notify.len() > MAX_NOTIFY_URLS {
        errors.push(ValidationError::TooManyNotifyUrls {
            count: pipeline.notify.len(),
        });
    }
    for url in pipeline.notify.iter().filter(|url| !is_webhook_url(url)) {
        errors.push(ValidationError::BadNotifyUrl { url: url.clone() });
    }

    let mut counts: HashMap<&str, usize> = HashMap::new();
    for job in &pipeline.jobs {
        *counts.entry(job.id.as_str()).or_default() += 1;
    }
    let gated: HashMap<String, &str> = pipeline
        .jobs
        .iter()
        .filter(|job| job.active_gate().is_some())
        .map(|job| (gate_id(&job.id), job.id.as_str()))
        .collect();

    let mut seen: HashSet<&str> = HashSet::new();
    for job in &pipeline.jobs {
        // `insert` is true only for the first job with this id.
        if seen.insert(job.id.as_str()) {
            check_id(job, counts[job.id.as_str()], &gated, &mut errors);
        }
        check_job(job, &counts, &mut errors);
    }
    errors.extend(colliding_choice_names(pipeline));
    errors.extend(branches::check(pipeline));
    errors.extend(find_cycles(pipeline));

    ValidationErrors::result(errors)
}

/// Gates with a form whose jobs' ids differ only in case or in `-` against `_` would
/// hand their choices to the jobs after them under the same variable names.
fn colliding_choice_names(pipeline: &Pipeline) -> Vec<ValidationError> {
    let mut owners: HashMap<String, &str> = HashMap::new();
    let mut errors = Vec::new();
    for job in &pipeline.jobs {
        if job.active_gate().is_none_or(|gate| gate.form().is_empty()) {
            continue;
        }
        let option = super::gate_form::choice_env_name(&job.id, None);
        let prefix = option.trim_end_matches("_OPTION").to_string();
        match owners.get(&prefix) {
            Some(other) if *other != job.id => {
                errors.push(ValidationError::GateChoiceNamesCollide {
                    job: job.id.clone(),
                    other: other.to_string(),
                    prefix,
                })
            }
            Some(_) => {}
            None => {
                owners.insert(prefix, &job.id);
            }
        }
    }
    errors
}

/// Rules on the id itself, reported once per distinct id.
fn check_id(
    job: &JobSpec,
    count: usize,
    gated: &HashMap<String, &str>,
    errors: &mut Vec<ValidationError>,
) {
    let id = job.id.clone();
    if !is_safe_identifier(&id) {
        errors.push(ValidationError::BadJobId { job: id.clone() });
    }
    if count > 1 {
        errors.push(ValidationError::DuplicateJobId {
            job: id.clone(),
            count,
        });
    }
    if let Some(source) = gated.get(&id) {
        errors.push(ValidationError::CollidesWithGate {
            job: id,
            source_job: source.to_string(),
        });
    } else if id.starts_with(GATE_PREFIX) {
        errors.push(ValidationError::ReservedGatePrefix { job: id });
    }
}

/// Rules on one job's command, dependencies, timeouts, gate and environment.
fn check_job(job: &JobSpec, known: &HashMap<&str, usize>, errors: &mut Vec<ValidationError>) {
    let id = || job.id.clone();
    if job.run.trim().is_empty() {
        errors.push(ValidationError::EmptyRun { job: id() });
    } else if job.run.len() > MAX_RUN_BYTES {
        errors.push(ValidationError::RunTooLong {
            job: id(),
            bytes: job.run.len(),
        });
    }
    for dependency in &job.depends_on {
        if *dependency == job.id {
            errors.push(ValidationError::SelfDependency { job: id() });
        } else if !known.contains_key(dependency.as_str()) {
            errors.push(ValidationError::UnknownDependency {
                job: id(),
                dependency: dependency.clone(),
            });
        }
    }
    if job.timeout == Some(0) {
        errors.push(ValidationError::ZeroJobTimeout { job: id() });
    }
    if let Some(Network::Connect(ports)) = &job.network {
        let problem = if ports.connect.is_empty() {
            Some("no port".to_string())
        } else if ports.connect.len() > MAX_CONNECT_PORTS {
            Some(format!("{} ports", ports.connect.len()))
        } else if ports.connect.contains(&0) {
            Some("port 0".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            errors.push(ValidationError::BadNetwork { job: id(), problem });
        }
    }
    if let Some(gate) = &job.gate {
        match gate.timeout {
            Some(_) if !gate.is_active() => {
                errors.push(ValidationError::GateTimeoutWithoutMessage { job: id() });
            }
            Some(timeout) if !(1..=MAX_GATE_TIMEOUT_SECS).contains(&timeout) => {
                errors.push(ValidationError::GateTimeoutOutOfRange { job: id(), timeout });
            }
            _ => {}
        }
        check_gate_rules(job, gate, errors);
    }
    if job.env.len() > MAX_ENV_VARS {
        errors.push(ValidationError::TooManyEnvVars {
            job: id(),
            count: job.env.len(),
        });
    }
    for (name, value) in &job.env {
        if value.len() > MAX_ENV_VALUE_BYTES {
            errors.push(ValidationError::EnvValueTooLong {
                job: id(),
                name: name.clone(),
                bytes: value.len(),
            });
        }
        if !is_env_name(name) {
            errors.push(ValidationError::BadEnvName {
                job: id(),
                name: name.clone(),
            });
        } else if name.starts_with("TOLLGATE_") {
            errors.push(ValidationError::ReservedEnvName {
                job: id(),
                name: name.clone(),
            });
        }
    }
}

/// Rules on a gate's message and who decides it: a message of reasonable length,
/// well-formed approvers, a possible number of approvals.
fn check_gate_rules(job: &JobSpec, gate: &GateSpec, errors: &mut Vec<ValidationError>) {
    let id = || job.id.clone();
    let has_rules =
        !gate.approvers.is_empty() || gate.approvals.is_some() || gate.allow_self_approval;
    let form = gate.form();
    if !gate.is_active() {
        if has_rules {
            errors.push(ValidationError::GateRulesWithoutMessage { job: id() });
        }
        if !form.is_empty() {
            errors.push(ValidationError::GateFormWithoutMessage { job: id() });
        }
        return;
    }
    for problem in form.problems() {
        errors.push(ValidationError::GateForm {
            job: id(),
            field: problem.field,
            message: problem.message,
        });
    }
    let chars = gate.message.chars().count();
    if chars > MAX_GATE_MESSAGE_CHARS {
        errors.push(ValidationError::GateMessageTooLong { job: id(), chars });
    }
    if gate.approvers.len() > MAX_GATE_APPROVERS {
        errors.push(ValidationError::TooManyApprovers {
            job: id(),
            count: gate.approvers.len(),
        });
        return;
    }
    for entry in &gate.approvers {
        let name = entry.strip_prefix(GROUP_PREFIX).unwrap_or(entry);
        if !is_safe_identifier(name) {
            errors.push(ValidationError::BadApprover {
                job: id(),
                entry: entry.clone(),
            });
        }
    }
    let approvals = gate.approvals.unwrap_or(1);
    if !(1..=MAX_GATE_APPROVALS).contains(&approvals) {
        errors.push(ValidationError::ApprovalsOutOfRange {
            job: id(),
            approvals,
        });
        return;
    }
    let names_a_group = gate.approvers.iter().any(|e| e.starts_with(GROUP_PREFIX));
    let mut people: Vec<&String> = gate.approvers.iter().collect();
    people.sort();
    people.dedup();
    if !gate.approvers.is_empty() && !names_a_group && (people.len() as u64) < u64::from(approvals)
    {
        errors.push(ValidationError::TooFewApprovers {
            job: id(),
            approvals,
            people: people.len(),
        });
    }
}

/// One error per group of jobs that depend on each other in a circle, each naming one
/// cycle through the group in run order. Self-dependencies are reported on their own.
fn find_cycles(pipeline: &Pipeline) -> Vec<ValidationError> {
    // One node per distinct id, numbered in order of first declaration; `job[node]` is
    // the position of the job that declares it.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut job: Vec<usize> = Vec::new();
    for (position, spec) in pipeline.jobs.iter().enumerate() {
        index.entry(spec.id.as_str()).or_insert_with(|| {
            job.push(position);
            job.len() - 1
        });
    }
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); job.len()];
    for spec in &pipeline.jobs {
        let to = index[spec.id.as_str()];
        for dependency in &spec.depends_on {
            if let Some(&from) = index.get(dependency.as_str())
                && from != to
                && !next[from].contains(&to)
            {
                next[from].push(to);
            }
        }
    }
    // Walked in declaration order, so the answer is stable.
    for targets in &mut next {
        targets.sort_unstable();
    }

    let mut cycles: Vec<(usize, Vec<String>)> = strong::groups(&next)
        .into_iter()
        .filter(|group| group.len() > 1)
        .filter_map(|group| {
            let start = *group.iter().min()?;
            let path = cycle_through(&next, &group, start)
                .into_iter()
                .map(|node| pipeline.jobs[job[node]].id.clone())
                .collect();
            Some((job[start], path))
        })
        .collect();
    cycles.sort();
    cycles
        .into_iter()
        .map(|(_, cycle)| ValidationError::Cycle { cycle })
        .collect()
}

/// The shortest way from `start` back to itself inside one strongly connected group,
/// found breadth-first in declaration order so the answer is stable.
fn cycle_through(next: &[Vec<usize>], group: &[usize], start: usize) -> Vec<usize> {
    let mut came_from: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &neighbour in next[node].iter().filter(|n| group.contains(n)) {
            if neighbour == start {
                let mut path = vec![start, node];
                let mut at = node;
                while let Some(&previous) = came_from.get(&at) {
                    path.push(previous);
                    at = previous;
                }
                // `path` runs backwards from start to start; flip it into run order.
                path.reverse();
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = came_from.entry(neighbour) {
                e.insert(node);
                queue.push_back(neighbour);
            }
        }
    }
    vec![start, start]
}

mod branches;
mod strong;

#[cfg(test)]
mod tests;
