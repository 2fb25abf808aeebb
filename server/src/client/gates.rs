//! The gates: what waits for a decision, and deciding one.

use std::collections::BTreeMap;

use app::api::{JobView, PendingGate};
use app::domain::{Decision, GateForm, InputKind, format_duration, parse_number};
use serde_json::{Value, json};

use super::{Connect, Failure};
use crate::clock::now_ms;

/// Which gate, and what the decision says.
#[derive(Clone, Debug, clap::Args)]
pub struct DecisionArgs {
    /// The run's number (`tollgate gates` lists them).
    pub run: i64,
    /// The gate, e.g. `hitl-gate-evaluate`.
    pub gate: String,
    /// The comment recorded with the decision.
    #[arg(short = 'm', long = "message")]
    pub comment: Option<String>,
    /// The option chosen, for a gate that offers some.
    #[arg(long)]
    pub option: Option<String>,
    /// A value for one of the gate's inputs, `NAME=VALUE`; repeat for several. Numbers
    /// and booleans are sent as such when the gate's form says so.
    #[arg(long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// As an admin, bypass the gate's rules (the comment must say why).
    #[arg(long = "override")]
    pub overriding: bool,
}

/// `tollgate gates [--run N]`.
pub async fn list(server: &Connect, run: Option<i64>) -> Result<(), Failure> {
    let (gates, json): (Vec<PendingGate>, Value) = server
        .call("pending_gates", &json!({ "run_id": run }))
        .await?;
    server.show(&json, &gate_table(&gates));
    Ok(())
}

/// One tab-separated row per gate, with the flags its form takes under it.
fn gate_table(gates: &[PendingGate]) -> String {
    if gates.is_empty() {
        return "no gate is waiting".into();
    }
    let mut table = "RUN\tGATE\tPIPELINE\tWAITING\tTIMES OUT IN\tAPPROVALS\tYOU\n".to_string();
    let now = now_ms();
    for gate in gates {
        let since = |at: i64| format_duration(u64::try_from((at - now).abs() / 1000).unwrap_or(0));
        let you = match (&gate.your_access.reason, gate.your_access.may_approve) {
            (_, true) => "may decide".to_string(),
            (Some(reason), false) => format!("may not: {reason}"),
            (None, false) => "may not decide".to_string(),
        };
        table.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}/{}\t{you}\n",
            gate.run_id,
            gate.gate,
            gate.pipeline,
            since(gate.activated_at_ms),
            since(gate.deadline_at_ms),
            gate.approvals.len(),
            gate.approvals_required,
        ));
        if let Some(form) = describe(&gate.form) {
            table.push_str(&format!("\t{form}\n"));
        }
    }
    table
}

/// `tollgate approve|reject RUN GATE ...`.
pub async fn decide(
    server: &Connect,
    args: &DecisionArgs,
    decision: Decision,
) -> Result<(), Failure> {
    let given = parse_inputs(&args.inputs)?;
    let inputs = if given.is_empty() {
        None
    } else {
        // Typed as the gate's form says; the server judges the values.
        let form = waiting_form(server, args.run, &args.gate).await?;
        Some(typed(given, &form))
    };
    let body = json!({
        "run_id": args.run,
        "gate": args.gate,
        "decision": decision,
        "comment": args.comment,
        "override": args.overriding.then_some(true),
        "option": args.option,
        "inputs": inputs,
    });
    let (gate, json): (JobView, Value) = server.call("decide_gate", &body).await?;
    let reason = gate.reason.map(|r| format!(" ({r})")).unwrap_or_default();
    let said = format!(
        "run {}: {} is {}{reason}",
        args.run,
        gate.id,
        gate.status.as_str()
    );
    server.show(&json, &said);
    Ok(())
}

/// `NAME=VALUE` pairs, in the order given; a repeated name keeps its last value.
fn parse_inputs(pairs: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_string(), value.to_string()))
            }
            _ => Err(Failure::Usage(format!(
                "--input takes NAME=VALUE (got `{pair}`), e.g. --input threshold=0.9"
            ))),
        })
        .collect()
}

/// The form of `gate` if it waits (else none: the server says why it refuses).
async fn waiting_form(server: &Connect, run: i64, gate: &str) -> Result<GateForm, Failure> {
    let (gates, _): (Vec<PendingGate>, Value) = server
        .call("pending_gates", &json!({ "run_id": run }))
        .await?;
    Ok(gates
        .into_iter()
        .find(|waiting| waiting.gate == gate)
        .map(|waiting| waiting.form)
        .unwrap_or_default())
}

/// Each value as the JSON its input takes: a number or a boolean where the form asks
/// for one and the text is one; text otherwise.
fn typed(given: BTreeMap<String, String>, form: &GateForm) -> BTreeMap<String, Value> {
    given
        .into_iter()
        .map(|(name, text)| {
            let kind = form
                .inputs
                .iter()
                .find(|input| input.name == name)
                .map(|input| input.kind);
            let value = match kind {
                Some(InputKind::Number) => parse_number(&text).map(Value::Number),
                Some(InputKind::Boolean) => match text.trim() {
                    "true" | "yes" => Some(Value::Bool(true)),
                    "false" | "no" => Some(Value::Bool(false)),
                    _ => None,
                },
                _ => None,
            };
            (name, value.unwrap_or(Value::String(text)))
        })
        .collect()
}

/// What a gate's approval fills in, in one line; `None` for a yes/no gate.
fn describe(form: &GateForm) -> Option<String> {
    let mut parts = Vec::new();
    if !form.options.is_empty() {
        parts.push(format!("--option {}", form.options.join("|")));
    }
    for input in &form.inputs {
        let required = if input.required { ", required" } else { "" };
        parts.push(format!(
            "--input {}=<{}{required}>",
            input.name,
            input.kind.as_str()
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}
