//! Prometheus metrics at `/metrics`: what runs and waits (counted from the store at
//! each scrape, so every replica reports the same), and what this server measured
//! (decision handling, job durations, scheduler wake-ups).

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::{Store, StoreError};

type Labels = Vec<(String, String)>;

/// The metrics of one server; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    runs: Family<Labels, Gauge>,
    jobs: Family<Labels, Gauge>,
    gates_waiting: Gauge,
    /// From a decision's arrival to its downstream jobs being released.
    pub decision_seconds: Histogram,
    pub job_seconds: Histogram,
    pub wakeups: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("tollgate");
        let runs = Family::<Labels, Gauge>::default();
        registry.register("runs", "Runs by status", runs.clone());
        let jobs = Family::<Labels, Gauge>::default();
        registry.register("jobs", "Jobs and gates by status", jobs.clone());
        let gates_waiting = Gauge::default();
        registry.register(
            "gates_waiting",
            "Gates waiting for a decision",
            gates_waiting.clone(),
        );
        let decision_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "decision_seconds",
            "Time to record a gate decision and release what follows it",
            decision_seconds.clone(),
        );
        let job_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 20));
        registry.register(
            "job_duration_seconds",
            "How long job processes ran",
            job_seconds.clone(),
        );
        let wakeups = Counter::default();
        registry.register(
            "scheduler_wakeups",
            "Times the scheduler was woken",
            wakeups.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                runs,
                jobs,
                gates_waiting,
                decision_seconds,
                job_seconds,
                wakeups,
            }),
        }
    }
}

impl Metrics {
    pub fn decision(&self, seconds: f64) {
        self.inner.decision_seconds.observe(seconds);
    }

    pub fn job_finished(&self, seconds: f64) {
        self.inner.job_seconds.observe(seconds);
    }

    pub fn woken(&self) {
        self.inner.wakeups.inc();
    }

    /// The text exposition, with the store's counts read now.
    pub async fn render(&self, store: &Store) -> Result<String, StoreError> {
        let counts = store.status_counts().await?;
        for (family, rows) in [
            (&self.inner.runs, &counts.runs),
            (&self.inner.jobs, &counts.jobs),
        ] {
            family.clear();
            for (status, count) in rows {
                family
                    .get_or_create(&vec![("status".to_string(), status.clone())])
                    .set(*count);
            }
        }
        self.inner.gates_waiting.set(counts.gates_waiting);
        let mut text = String::new();
        encode(&mut text, &self.inner.registry)
            .map_err(|err| StoreError::Corrupt(format!("metrics: {err}")))?;
        Ok(text)
    }
}
