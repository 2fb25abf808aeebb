//! Looking at one run: its graph with each job's status, a job's log, its files.

use std::time::Duration;

use app::api::{LogPage, RunDetail, WorkspaceFile};
use serde_json::{Value, json};

use super::{Connect, Failure};

/// How often `logs --follow` asks for more while the job runs.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// `tollgate run ID`: the run, then each job in dependency order with its status, what
/// it waits for, and why it is in its status.
pub async fn show_run(server: &Connect, run: i64) -> Result<(), Failure> {
    let (detail, json): (RunDetail, Value) =
        server.call("get_run", &json!({ "run_id": run })).await?;
    let summary = &detail.run;
    let mut text = format!(
        "run {}  {}  {}  {}/{} jobs done\n",
        summary.id,
        summary.pipeline,
        summary.status.as_str(),
        summary.done_jobs(),
        summary.total_jobs
    );
    let width = detail
        .jobs
        .iter()
        .map(|job| job.id.len())
        .max()
        .unwrap_or(0);
    for job in &detail.jobs {
        let after = if job.depends_on.is_empty() {
            String::new()
        } else {
            format!("  after {}", job.depends_on.join(", "))
        };
        let reason = job
            .reason
            .as_deref()
            .map(|reason| format!("  ({reason})"))
            .unwrap_or_default();
        text.push_str(&format!(
            "  {:<9}  {:<width$}{after}{reason}\n",
            job.status.as_str(),
            job.id
        ));
    }
    server.show(&json, &text);
    Ok(())
}

/// `tollgate logs RUN JOB [--follow]`: the whole log as it is, page by page; with
/// `--follow`, what the job still writes, until it finishes. With `--json`, each page
/// as the API gives it, one per line.
pub async fn logs(server: &Connect, run: i64, job: &str, follow: bool) -> Result<(), Failure> {
    let mut offset = 0;
    loop {
        let body = json!({ "run_id": run, "job": job, "offset": offset });
        let (page, json): (LogPage, Value) = server.call("job_log", &body).await?;
        if server.json {
            println!("{json}");
        } else {
            print!("{}", super::terminal::for_stdout(&page.text));
        }
        let more = page.next_offset < page.total_bytes;
        offset = page.next_offset;
        if more {
            continue;
        }
        if !follow || page.finished {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// `tollgate files RUN`: what the run's jobs wrote to its workspace.
pub async fn files(server: &Connect, run: i64) -> Result<(), Failure> {
    let (files, json): (Vec<WorkspaceFile>, Value) =
        server.call("list_files", &json!({ "run_id": run })).await?;
    let mut text = if files.is_empty() {
        "the workspace is empty\n".to_string()
    } else {
        "SIZE\tWRITTEN BY\tPATH\n".to_string()
    };
    for file in &files {
        text.push_str(&format!(
            "{}\t{}\t{}\n",
            file.size,
            file.written_by.as_deref().unwrap_or("-"),
            file.path
        ));
    }
    server.show(&json, &text);
    Ok(())
}
