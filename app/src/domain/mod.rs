//! Tollgate's rules, free of I/O: the pipeline model, validation, gate injection, the
//! run graph and the run state machine. The server and the browser both use this code,
//! so a pipeline is judged the same way in the Constructor and at deploy.

pub mod access;
pub mod environment;
pub mod expand;
pub mod gate_form;
pub mod network;
pub mod pipeline;
pub mod redaction;
pub mod run_graph;
pub mod state_machine;
pub mod status;
#[cfg(test)]
mod test_support;
pub mod validate;
mod yaml;

pub use access::{Action, Actor, GateAccess, GatePolicy, Role};
pub use expand::expand;
pub use gate_form::{
    FieldProblem, GateChoice, GateForm, InputKind, InputSpec, OnTimeout, PatternMatcher,
    parse_number, value_text,
};
pub use pipeline::{
    DEFAULT_GATE_TIMEOUT_SECS, GateSpec, JobSpec, MAX_SPEC_BYTES, ParseError, Pipeline, When,
};
pub use run_graph::{NodeKind, RunGraph, RunNode, Topology};
pub use state_machine::{
    Approval, Decision, Effect, Event, GateChange, JobExit, JobState, RunState, StatusChange,
    Transition, TransitionError,
};
pub use status::{
    GateDecision, JobStatus, RunStatus, StatusCounts, UnknownStatus, format_duration,
};
pub use validate::{
    GATE_PREFIX, MAX_ENV_VALUE_BYTES, MAX_ENV_VARS, MAX_GATE_APPROVALS, MAX_GATE_APPROVERS,
    MAX_GATE_MESSAGE_CHARS, MAX_GATE_TIMEOUT_SECS, MAX_RUN_BYTES, ValidationError,
    ValidationErrors, check_run_size, gate_id, is_safe_identifier, is_webhook_url, run_size,
    validate,
};
