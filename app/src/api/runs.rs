//! Server functions about runs: deploy, read, cancel.

use leptos::prelude::*;

use super::{ApiError, Deployed, JobView, PipelineSource, RunDetail, RunProgress, RunSummary};

/// `POST /api/list_runs` `{"limit": 100}` (optional): the newest runs, newest first.
#[server(prefix = "/api", endpoint = "list_runs", input = server_fn::codec::Json)]
pub async fn list_runs(limit: Option<u32>) -> Result<Vec<RunSummary>, ApiError> {
    use super::backend::{actor, backend, reply};
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    reply(async { backend()?.list_runs(&actor()?, limit).await }.await)
}

/// `POST /api/deploy_pipeline` `{"spec": "<YAML or JSON text, or a pipeline object>"}`,
/// `{"name": "<saved pipeline>"}` or `{"run_id": 1}` (the same pipeline as that run):
/// validates, injects the gates and starts a new run.
#[server(prefix = "/api", endpoint = "deploy_pipeline", input = server_fn::codec::Json)]
pub async fn deploy_pipeline(
    spec: Option<PipelineSource>,
    name: Option<String>,
    run_id: Option<i64>,
) -> Result<Deployed, ApiError> {
    use super::backend::{actor, backend, reply};
    let result = async {
        let backend = backend()?;
        let actor = actor()?;
        let (pipeline, version) = match (spec, name, run_id) {
            (Some(spec), None, None) => (spec.into_pipeline()?, None),
            (None, Some(name), None) => {
                let (pipeline, version) = backend.saved_pipeline(&actor, &name).await?;
                (pipeline, Some(version))
            }
            (None, None, Some(run)) => backend.run_pipeline(&actor, run).await?,
            _ => {
                return Err(ApiError::bad_request(
                    "give exactly one of `spec` (the pipeline), `name` (a saved pipeline) or `run_id` (deploy that run's pipeline again)",
                ));
            }
        };
        backend.deploy(&actor, pipeline, version).await
    };
    reply(result.await)
}

/// `POST /api/get_run` `{"run_id": 1}`: the run, its jobs (statuses, reasons, gate
/// fields) and its edges.
#[server(prefix = "/api", endpoint = "get_run", input = server_fn::codec::Json)]
pub async fn get_run(run_id: i64) -> Result<RunDetail, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.get_run(&actor()?, run_id).await }.await)
}

/// `POST /api/run_statuses` `{"run_id": 1, "since": 41}`: the run's progress and each
/// job's status, reason, times and log size (what the run page polls). With `since`
/// (the `version` of an earlier answer) only the jobs changed after it are listed.
#[server(prefix = "/api", endpoint = "run_statuses", input = server_fn::codec::Json)]
pub async fn run_statuses(run_id: i64, since: Option<i64>) -> Result<RunProgress, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.run_statuses(&actor()?, run_id, since).await }.await)
}

/// `POST /api/cancel_run` `{"run_id": 1}`: kills running jobs, cancels pending jobs and
/// waiting gates; finished jobs keep their status. Recorded under the signed-in user.
#[server(prefix = "/api", endpoint = "cancel_run", input = server_fn::codec::Json)]
pub async fn cancel_run(run_id: i64, by: Option<String>) -> Result<RunSummary, ApiError> {
    use super::backend::{actor, backend, reply};
    let result = async {
        super::refuse_by(by)?;
        backend()?.cancel_run(&actor()?, run_id).await
    };
    reply(result.await)
}

/// `POST /api/cancel_job` `{"run_id": 1, "job": "train"}`: cancels one job (killing it
/// if it runs) and everything downstream of it.
#[server(prefix = "/api", endpoint = "cancel_job", input = server_fn::codec::Json)]
pub async fn cancel_job(run_id: i64, job: String, by: Option<String>) -> Result<JobView, ApiError> {
    use super::backend::{actor, backend, reply};
    let result = async {
        super::refuse_by(by)?;
        backend()?.cancel_job(&actor()?, run_id, &job).await
    };
    reply(result.await)
}
