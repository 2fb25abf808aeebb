//! Runs: deploying a pipeline, listing runs, cancelling a run or one of its jobs.

use std::path::Path;

use app::api::{Deployed, JobView, RunSummary};
use serde_json::{Value, json};

use super::{Connect, Failure};

/// `tollgate deploy FILE|NAME`: a pipeline file (YAML or JSON), or a saved pipeline's
/// name when no such file exists.
pub async fn deploy(server: &Connect, pipeline: &str) -> Result<(), Failure> {
    let body = if Path::new(pipeline).is_file() {
        let text = std::fs::read_to_string(pipeline)
            .map_err(|err| Failure::Usage(format!("cannot read {pipeline}: {err}")))?;
        json!({ "spec": text })
    } else {
        json!({ "name": pipeline })
    };
    let (deployed, json): (Deployed, Value) = server.call("deploy_pipeline", &body).await?;
    let gates = if deployed.gates.is_empty() {
        String::new()
    } else {
        format!(", gates: {}", deployed.gates.join(", "))
    };
    let said = format!(
        "run {}: {} deployed, {} jobs{gates}",
        deployed.run_id,
        deployed.pipeline,
        deployed.jobs.len()
    );
    server.show(&json, &said);
    Ok(())
}

/// `tollgate runs [--limit N]`: the newest runs first.
pub async fn list(server: &Connect, limit: Option<u32>) -> Result<(), Failure> {
    let (runs, json): (Vec<RunSummary>, Value) =
        server.call("list_runs", &json!({ "limit": limit })).await?;
    server.show(&json, &run_table(&runs));
    Ok(())
}

/// One tab-separated row per run.
fn run_table(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "no runs yet".into();
    }
    let mut table = "RUN\tPIPELINE\tSTATUS\tJOBS DONE\tGATES WAITING\n".to_string();
    for run in runs {
        table.push_str(&format!(
            "{}\t{}\t{}\t{}/{}\t{}\n",
            run.id,
            run.pipeline,
            run.status.as_str(),
            run.done_jobs(),
            run.total_jobs,
            run.waiting_gates
        ));
    }
    table
}

/// `tollgate cancel RUN [JOB]`: the whole run, or one job and what depends on it.
pub async fn cancel(server: &Connect, run: i64, job: Option<&str>) -> Result<(), Failure> {
    let (said, json) = match job {
        None => {
            let (summary, json): (RunSummary, Value) =
                server.call("cancel_run", &json!({ "run_id": run })).await?;
            (format!("run {run} is {}", summary.status.as_str()), json)
        }
        Some(job) => {
            let body = json!({ "run_id": run, "job": job });
            let (view, json): (JobView, Value) = server.call("cancel_job", &body).await?;
            (
                format!("run {run}: {} is {}", view.id, view.status.as_str()),
                json,
            )
        }
    };
    server.show(&json, &said);
    Ok(())
}
