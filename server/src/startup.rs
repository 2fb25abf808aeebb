//! Starting the server: open the store, load pipeline files, listen, stop on a signal.

use std::sync::Arc;

use app::domain::{Pipeline, check_run_size, validate};
use tokio::net::TcpListener;

use crate::backend::StoreBackend;
use crate::clock::now_ms;
use crate::config::Config;
use crate::http::{AppState, router};
use crate::metrics::Metrics;
use crate::scheduler::{Scheduler, Settings};
use crate::single_instance::lock_data_dir;
use crate::store::Store;
use crate::workspace::Workspaces;

/// Runs Tollgate until SIGINT or SIGTERM. An error is one line saying what to fix.
pub async fn start(config: Config) -> Result<(), String> {
    let postgres = config.postgres_url()?;
    let auth_settings = config.auth_settings()?;
    let endpoints = config.notify_endpoints()?;
    std::fs::create_dir_all(&config.data_dir).map_err(|err| {
        format!(
            "cannot create the data directory {}: {err}; set TOLLGATE_DATA_DIR to a writable folder",
            config.data_dir.display()
        )
    })?;
    let _lock = match postgres {
        None => Some(lock_data_dir(&config.data_dir)?),
        Some(_) => None,
    };
    crate::sandbox::close_the_server_to_jobs();
    crate::auth::hashing::give_big_buffers_back();
    crate::sandbox::log_at_start(&config.data_dir);
    crate::sandbox::extra_paths::set_extra_paths(crate::sandbox::extra_paths::ExtraPaths::new(
        &config.job_read_paths,
        &config.job_write_paths,
        &config.data_dir,
    )?);
    match crate::leftovers::become_subreaper() {
        Ok(()) => crate::leftovers::reap_exited_orphans(),
        Err(error) => tracing::warn!(
            %error,
            "cannot become the child subreaper: processes a job leaves running after its \
             shell exits are not stopped"
        ),
    }
    let store = Store::open(postgres, &config.data_dir)
        .await
        .map_err(|err| match postgres {
            Some(_) => format!("cannot open the Postgres database in DATABASE_URL: {err}"),
            None => format!(
                "cannot open the SQLite database in {}: {err}",
                config.data_dir.display()
            ),
        })?;
    crate::auth::ensure_first_admin(&store, &config.data_dir, config.admin_password.as_deref())
        .await?;
    for path in &config.pipelines {
        load_pipeline_file(&store, path, config.max_jobs_per_run.get()).await?;
    }
    for area in app::area::Area::ALL {
        let index = config.dist.join(area.folder()).join("index.html");
        if !index.is_file() {
            tracing::warn!(
                page = %index.display(),
                "the web client's {area:?} bundle is not built: run `./run.sh` (or `scripts/build.sh`) so its pages can be served"
            );
        }
    }

    let workspaces = Workspaces::new(&config.data_dir);
    let metrics = Metrics::default();
    let replica = Settings::new_replica_id();
    let store = store.with_origin(&replica).with_endpoints(&endpoints);
    let settings = Settings {
        max_jobs: config.max_jobs(),
        lease: std::time::Duration::from_secs(config.lease_secs.max(1)),
        replica: replica.clone(),
        rescan: std::time::Duration::from_millis(config.rescan_ms.max(1)),
    };
    // Bound before any job can start (the recovery below may start some), so that the
    // jobs' network rules know the server's own port; served further down.
    let listener = TcpListener::bind(config.bind).await.map_err(|err| {
        format!(
            "cannot listen on {}: {err}; set TOLLGATE_BIND to a free address",
            config.bind
        )
    })?;
    let address = listener
        .local_addr()
        .map_err(|err| format!("cannot read the listening address: {err}"))?;
    set_job_network(&config, address.port())?;
    let scheduler = Scheduler::start(store.clone(), workspaces.clone(), settings, metrics.clone())
        .await
        .map_err(|err| format!("cannot resume the runs left by the last start: {err}"))?;
    if let Some(days) = config.retain_days {
        crate::retention::spawn(store.clone(), workspaces.clone(), days);
    }
    if let Some(url) = postgres {
        tokio::spawn(crate::wakeups::listen(
            url.to_string(),
            replica,
            scheduler.clone(),
        ));
    }
    if auth_settings.public_origin.is_none() && !auth_settings.loopback_only {
        tracing::warn!(
            "listening beyond loopback without --public-url: any Host header is accepted; set TOLLGATE_PUBLIC_URL to the address people use"
        );
    }
    let auth_settings_origin = auth_settings.public_origin.clone();
    let auth = crate::auth::Authenticator::new(store.clone(), auth_settings);
    let state = AppState {
        auth: auth.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        workspaces: workspaces.clone(),
        backend: Arc::new(StoreBackend::new(
            store.clone(),
            scheduler.clone(),
            workspaces,
            metrics,
            auth,
            config.max_jobs_per_run.get(),
            config.notify_allow_link_local,
        )),
    };
    // Before the server says it listens: a stop signal that came before the handlers
    // were in place would kill the process outright, with no shutdown.
    let stop_signal = stop_signal()?;
    tracing::info!(
        %address,
        store = ?store.backend(),
        max_jobs = config.max_jobs(),
        "Tollgate is listening on http://{address}"
    );
    let public_url = auth_settings_origin.unwrap_or_else(|| format!("http://{address}"));
    crate::webhooks::Webhooks::new(
        store.clone(),
        config.notify_secret.as_deref(),
        public_url,
        config.notify_allow_link_local,
    )?
    .spawn();
    if !endpoints.is_empty() && config.notify_secret.is_none() {
        tracing::warn!(
            "webhook notifications are sent unsigned: set TOLLGATE_NOTIFY_SECRET so endpoints can check they come from Tollgate"
        );
    }
    let app =
        router(state, &config.dist).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop_signal.await;
        stop.send_replace(true);
    });
    let mut serving = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(signalled(stopping.clone()))
            .into_future(),
    );
    tokio::select! {
        // The signal first: once it came, the HTTP server ends by design.
        biased;
        () = signalled(stopping) => {}
        ended = &mut serving => {
            return Err(match ended {
                Ok(Err(err)) => format!("the HTTP server failed: {err}"),
                _ => "the HTTP server stopped unexpectedly".to_string(),
            });
        }
    }
    // From the signal on no job starts; running jobs and open requests share the grace
    // period, and a connection still open at its end (a slow download) is closed.
    let grace = std::time::Duration::from_secs(config.shutdown_grace);
    let http = async {
        if tokio::time::timeout(grace, &mut serving).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "HTTP connections still open after the grace period: closing them"
            );
            serving.abort();
        }
    };
    tokio::join!(scheduler.shutdown(grace), http);
    let stray = crate::leftovers::sweep().await;
    if stray > 0 {
        tracing::warn!(stray, "stopped processes that jobs left behind");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The TCP ports jobs may connect to: `--job-connect-ports`, never the server's own
/// port nor the store's. Said at start, with a warning when any port is allowed.
fn set_job_network(config: &Config, server_port: u16) -> Result<(), String> {
    use crate::sandbox::network::{NetworkPolicy, set_policy};
    let mut control = vec![(server_port, "this Tollgate server".to_string())];
    if let Some(port) = config.store_port() {
        control.push((port, "Tollgate's store (Postgres)".to_string()));
    }
    let policy = match &config.job_connect_ports {
        Some(ports) => NetworkPolicy::new(ports, control)?,
        None => NetworkPolicy::by_default(control),
    };
    let abi = crate::sandbox::support().abi();
    let said = policy.describe(abi);
    if policy.default.is_some() && abi.is_some_and(|abi| abi >= 4) {
        tracing::info!(network = %said, "jobs' TCP connections are limited");
    } else {
        tracing::warn!(
            network = %said,
            "jobs may open TCP connections to any port, Tollgate's own and its store's included"
        );
    }
    set_policy(policy);
    Ok(())
}

/// Reads, validates and saves one `--pipeline` file, held to the same jobs-per-run limit
/// as a pipeline saved through the API (it could not be deployed otherwise).
async fn load_pipeline_file(
    store: &Store,
    path: &std::path::Path,
    max_jobs_per_run: usize,
) -> Result<(), String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read pipeline file {shown}: {err}"))?;
    let pipeline = Pipeline::parse(&text).map_err(|err| format!("{shown}: {err}"))?;
    check_run_size(&pipeline, max_jobs_per_run)
        .and_then(|()| validate(&pipeline))
        .and_then(|()| crate::gate_patterns::check(&pipeline))
        .map_err(|errors| format!("{shown}: {errors}"))?;
    let spec = serde_json::to_string(&pipeline)
        .map_err(|err| format!("{shown}: cannot store the pipeline: {err}"))?;
    let layout = match store.get_pipeline(&pipeline.name).await {
        // Unchanged since the last start: no new version.
        Ok(Some(saved)) if saved.spec == spec => return Ok(()),
        Ok(Some(saved)) => saved.layout,
        _ => "{}".to_string(),
    };
    store
        .save_pipeline(&pipeline.name, &spec, &layout, now_ms(), None)
        .await
        .map_err(|err| format!("{shown}: cannot save the pipeline: {err}"))?;
    tracing::info!(pipeline = %pipeline.name, file = %shown, "pipeline loaded");
    Ok(())
}

/// Resolves once the stop signal was received.
async fn signalled(mut stopping: tokio::sync::watch::Receiver<bool>) {
    // An error means the sender is gone, which happens only after it signalled.
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// SIGTERM or SIGINT, listened for from the moment this returns (the handlers are
/// installed here, not when the future is first polled).
fn stop_signal() -> Result<impl Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind).map_err(|err| format!("cannot listen for {name}: {err}"))
    };
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut interrupt = listen(SignalKind::interrupt(), "SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!("shutting down");
    })
}
