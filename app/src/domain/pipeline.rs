//! The pipeline a user writes: a name and a list of shell jobs, some carrying a HITL gate.
//!
//! This is the shape of the YAML and JSON files, of the API's deploy input and of what
//! the Constructor saves. Nothing here is checked yet: [`crate::domain::validate`] does
//! that, and [`crate::domain::expand`] turns a valid pipeline into the run graph.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::access::GatePolicy;
use super::gate_form::{GateForm, InputSpec, OnTimeout};
use super::network::Network;

/// How long a gate waits for a person when its timeout is not given: 48 hours.
pub const DEFAULT_GATE_TIMEOUT_SECS: u64 = 48 * 60 * 60;

/// The largest pipeline accepted, so a pasted or uploaded spec cannot exhaust memory: the
/// size of its text, or for a pipeline sent as a JSON object, of that object written as
/// compact JSON (see [`Pipeline::check_size`]).
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;

/// A pipeline as written by its author.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// A safe identifier (`[A-Za-z0-9_-]{1,64}`); runs are listed under it.
    pub name: String,
    /// Webhook endpoints told about this pipeline's runs (gates waiting, decided or
    /// timed out; runs finished), besides the server's own `--notify-url`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<String>,
    /// The jobs, in the order the author wrote them (the order breaks layout ties).
    #[serde(default)]
    pub jobs: Vec<JobSpec>,
}

/// One shell job of a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Unique within the pipeline, `[A-Za-z0-9_-]{1,64}`.
    pub id: String,
    /// A shell command or multi-line script, run as `sh -c <run>`.
    pub run: String,
    /// Ids of the jobs that must complete before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Extra environment variables for the process.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Seconds after which the job is killed and fails with "timed out".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// A human-in-the-loop gate placed right after this job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateSpec>,
    /// Runs the job only when a gate before it was approved with this option; for any
    /// other choice it is SKIPPED (not failed), so a gate can branch a pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
    /// The TCP ports the job may connect to; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
}

/// The branch a job belongs to: `when: {gate: hitl-gate-review, option: rollback}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// An injected gate upstream of the job (`hitl-gate-<job>`).
    pub gate: String,
    /// One of that gate's `options`.
    pub option: String,
}

/// The gate of a job: what the reviewer is asked, how long they have, and who may
/// decide (see [`crate::domain::access::GatePolicy`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    /// Shown in the approval banner. Blank means "no gate".
    #[serde(default)]
    pub message: String,
    /// Seconds the gate waits before it fails as timed out; [`DEFAULT_GATE_TIMEOUT_SECS`]
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Usernames and `group:<name>` entries who may decide; empty: any approver.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// How many different people must approve (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<u32>,
    /// Whether the person who deployed the run may decide (default: no).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_self_approval: bool,
    /// Choices the approver picks one of; the jobs after the gate receive the choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Typed fields the approver fills in; the jobs after the gate receive the values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputSpec>,
    /// `fail` (the default), `approve`, or `{option: <name>}`: what a timeout means.
    #[serde(default, skip_serializing_if = "OnTimeout::is_fail")]
    pub on_timeout: OnTimeout,
    /// The environment whose rules the gate follows (see
    /// [`crate::domain::environment`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl GateSpec {
    /// Who may decide, as the run keeps it.
    pub fn policy(&self) -> GatePolicy {
        GatePolicy {
            approvers: self.approvers.clone(),
            approvals: self.approvals.unwrap_or(1),
            allow_self_approval: self.allow_self_approval,
            environment: self.environment.clone(),
        }
    }

    /// What the approver is asked besides yes or no.
    pub fn form(&self) -> GateForm {
        GateForm {
            options: self.options.clone(),
            inputs: self.inputs.clone(),
            on_timeout: self.on_timeout.clone(),
        }
    }

    /// The timeout in force: the one written, or 48 hours.
    pub fn timeout_secs(&self) -> u64 {
        self.timeout.unwrap_or(DEFAULT_GATE_TIMEOUT_SECS)
    }

    /// A gate with a blank message injects nothing.
    pub fn is_active(&self) -> bool {
        !self.message.trim().is_empty()
    }
}

impl JobSpec {
    /// The gate to inject after this job, if its message is not blank.
    pub fn active_gate(&self) -> Option<&GateSpec> {
        self.gate.as_ref().filter(|gate| gate.is_active())
    }
}

/// Why a pipeline file could not be read at all (before any validation).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ParseError {
    #[error("the pipeline is empty: write a `name` and a list of `jobs`")]
    Empty,
    #[error(
        "the pipeline is {size} bytes; the limit is {limit} bytes: split it into several pipelines, or move long scripts into files the jobs run"
    )]
    TooLarge { size: usize, limit: usize },
    #[error("the pipeline is not valid JSON: {0}")]
    Json(String),
    #[error("the pipeline is not valid YAML: {0}")]
    Yaml(String),
}

impl Pipeline {
    /// Reads a pipeline from YAML or JSON text. JSON is tried when the text starts with
    /// `{`; YAML otherwise (JSON is YAML too, but JSON's own errors read better).
    ///
    /// Not in the browser build: the YAML parser is about 350 KB of wasm, so the client
    /// asks the server instead (`api::parse_pipeline`).
    #[cfg(not(feature = "csr"))]
    pub fn parse(text: &str) -> Result<Pipeline, ParseError> {
        if text.len() > MAX_SPEC_BYTES {
            return Err(ParseError::TooLarge {
                size: text.len(),
                limit: MAX_SPEC_BYTES,
            });
        }
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Err(ParseError::Empty);
        }
        if trimmed.starts_with('{') {
            serde_json::from_str(trimmed).map_err(|err| ParseError::Json(err.to_string()))
        } else {
            // One-line errors ("... at line 4, column 5") read well in the API and the UI;
            // the budget stops alias bombs and absurdly deep or large documents.
            let options = serde_saphyr::options! {
                budget: serde_saphyr::budget! {
                    max_nodes: 200_000,
                    max_depth: 64,
                    max_aliases: 1_000,
                },
                with_snippet: false,
            };
            serde_saphyr::from_str_with_options(text, options)
                .map_err(|err| ParseError::Yaml(err.to_string()))
        }
    }

    /// Refuses a pipeline that was not read from text (the API's `{"spec": {...}}`) but
    /// is larger than [`MAX_SPEC_BYTES`] as compact JSON, so the object form cannot get
    /// round the limit [`Pipeline::parse`] puts on text.
    pub fn check_size(&self) -> Result<(), ParseError> {
        /// Counts what is written instead of keeping it.
        struct Count(usize);
        impl std::io::Write for Count {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0 += bytes.len();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut count = Count(0);
        // Writing into `Count` cannot fail, and a `Pipeline` always serializes.
        let _ = serde_json::to_writer(&mut count, self);
        if count.0 > MAX_SPEC_BYTES {
            return Err(ParseError::TooLarge {
                size: count.0,
                limit: MAX_SPEC_BYTES,
            });
        }
        Ok(())
    }

    /// The pipeline as YAML, the format the README documents and the Constructor shows.
    pub fn to_yaml(&self) -> String {
        super::yaml::to_yaml(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REVIEW: &str = r#"
name: review-workflow
jobs:
  - id: preprocess
    run: |
      echo "rows: 1000" > preprocessing_report.txt
    gate:
      message: Review data quality report before training begins
      timeout: 300
  - id: train
    run: echo training
    depends_on: [preprocess]
    env:
      EPOCHS: "3"
    timeout: 600
  - id: evaluate
    run: echo evaluating
    depends_on: [train]
"#;

    #[test]
    fn yaml_reads_every_field() {
        let pipeline = Pipeline::parse(REVIEW).expect("valid yaml");
        assert_eq!(pipeline.name, "review-workflow");
        assert_eq!(pipeline.jobs.len(), 3);
        let preprocess = &pipeline.jobs[0];
        assert!(preprocess.run.contains("preprocessing_report.txt"));
        let gate = preprocess.active_gate().expect("gate");
        assert_eq!(
            gate.message,
            "Review data quality report before training begins"
        );
        assert_eq!(gate.timeout_secs(), 300);
        let train = &pipeline.jobs[1];
        assert_eq!(train.depends_on, vec!["preprocess"]);
        assert_eq!(train.env.get("EPOCHS").map(String::as_str), Some("3"));
        assert_eq!(train.timeout, Some(600));
        assert!(train.gate.is_none());
    }

    #[test]
    fn json_reads_the_same_pipeline() {
        let yaml = Pipeline::parse(REVIEW).expect("valid yaml");
        let json = serde_json::to_string(&yaml).expect("serialize");
        assert_eq!(Pipeline::parse(&json).expect("valid json"), yaml);
    }

    #[test]
    fn yaml_round_trips() {
        let pipeline = Pipeline::parse(REVIEW).expect("valid yaml");
        assert_eq!(Pipeline::parse(&pipeline.to_yaml()), Ok(pipeline));
    }

    #[test]
    fn gate_timeout_defaults_to_48_hours() {
        let pipeline = Pipeline::parse(
            "name: p\njobs:\n  - id: a\n    run: x\n    gate:\n      message: ok\n",
        )
        .expect("valid");
        let gate = pipeline.jobs[0].active_gate().expect("gate");
        assert_eq!(gate.timeout_secs(), 172_800);
    }

    #[test]
    fn blank_gate_message_is_no_gate() {
        let pipeline = Pipeline::parse(
            "name: p\njobs:\n  - id: a\n    run: x\n    gate:\n      message: '  '\n",
        )
        .expect("valid");
        assert!(pipeline.jobs[0].active_gate().is_none());
    }

    #[test]
    fn unknown_field_is_named() {
        let err = Pipeline::parse("name: p\njobs:\n  - id: a\n    run: x\n    depends-on: [b]\n")
            .expect_err("typo");
        assert!(err.to_string().contains("depends-on"), "{err}");
    }

    #[test]
    fn yaml_syntax_error_names_the_line() {
        let err = Pipeline::parse("name: p\njobs:\n  - id: [a\n").expect_err("broken");
        let text = err.to_string();
        assert!(text.starts_with("the pipeline is not valid YAML"), "{text}");
        assert!(text.contains("line 3"), "{text}");
        assert_eq!(text.lines().count(), 1, "one line: {text}");
    }

    #[test]
    fn too_many_aliases_are_refused() {
        // Aliases are how a small YAML file expands into a huge one; past the budget the
        // file is refused before it is expanded.
        let aliases = vec!["*a"; 1500].join(", ");
        let text =
            format!("name: p\njobs:\n  - id: a\n    run: &a echo\n    depends_on: [{aliases}]\n");
        let err = Pipeline::parse(&text).expect_err("refused").to_string();
        assert!(err.contains("budget"), "{err}");
    }

    #[test]
    fn json_error_is_reported_as_json() {
        let err = Pipeline::parse("{\"name\": \"p\", \"jobs\": [}").expect_err("broken");
        assert!(matches!(err, ParseError::Json(_)), "{err}");
    }

    #[test]
    fn empty_and_oversized_text_are_refused() {
        assert_eq!(Pipeline::parse("  \n"), Err(ParseError::Empty));
        let huge = "#".repeat(MAX_SPEC_BYTES + 1);
        assert_eq!(
            Pipeline::parse(&huge).map_err(|err| err.to_string()),
            Err(format!(
                "the pipeline is {} bytes; the limit is {MAX_SPEC_BYTES} bytes: split it into several pipelines, or move long scripts into files the jobs run",
                MAX_SPEC_BYTES + 1
            ))
        );
        assert!(matches!(
            Pipeline::parse(&huge),
            Err(ParseError::TooLarge { .. })
        ));
    }

    #[test]
    fn an_object_larger_than_the_text_limit_is_refused() {
        let job = |run: String| JobSpec {
            id: "a".into(),
            run,
            depends_on: Vec::new(),
            env: BTreeMap::new(),
            timeout: None,
            gate: None,
            when: None,
            network: None,
        };
        let small = Pipeline {
            name: "p".into(),
            notify: Vec::new(),
            jobs: vec![job("echo hi".into())],
        };
        assert_eq!(small.check_size(), Ok(()));
        let big = Pipeline {
            name: "p".into(),
            notify: Vec::new(),
            jobs: vec![job("x".repeat(MAX_SPEC_BYTES))],
        };
        let size = serde_json::to_string(&big)
            .map(|json| json.len())
            .unwrap_or(0);
        assert_eq!(
            big.check_size(),
            Err(ParseError::TooLarge {
                size,
                limit: MAX_SPEC_BYTES
            })
        );
    }
}
