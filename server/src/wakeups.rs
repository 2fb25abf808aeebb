//! Wake-ups between replicas: every change to a run is announced on Postgres with
//! `NOTIFY`, sent by a trigger on the run's row (Postgres migration 0008); each server listens and wakes its scheduler
//! for that run, so a decision made through one replica releases jobs on another at
//! once. A notification can be lost while the listener reconnects, so the scheduler
//! also looks at every running run on a slow tick (`scheduler.rs`).

use sqlx::postgres::PgListener;

use crate::scheduler::Scheduler;
use crate::store::RUN_CHANNEL;

/// Listens for run changes announced by the other replicas (this server's own changes
/// already woke its scheduler directly) until the process ends.
pub async fn listen(url: String, replica: String, scheduler: Scheduler) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(error) = listener.listen(RUN_CHANNEL).await {
                    tracing::warn!(%error, "cannot listen for run changes");
                } else {
                    loop {
                        match listener.recv().await {
                            Ok(notification) => {
                                let mut parts = notification.payload().split(' ');
                                let run = parts.next().and_then(|run| run.parse::<i64>().ok());
                                let origin = parts.next().unwrap_or_default();
                                if let Some(run) = run
                                    && origin != replica
                                {
                                    scheduler.wake(run);
                                }
                            }
                            Err(error) => {
                                tracing::warn!(%error, "run-change listener lost its connection");
                                break;
                            }
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot connect the run-change listener"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}
