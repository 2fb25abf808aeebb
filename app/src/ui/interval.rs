//! Polling as a small hook: a counter that ticks while the component lives.

use leptos::prelude::*;

/// A signal that goes up by one every `period_ms` milliseconds. Key a resource on it to
/// refetch; the loop ends by itself when the component (and so the signal) is gone.
/// On the server it never ticks.
pub fn use_interval(period_ms: u32) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    #[cfg(feature = "csr")]
    leptos::task::spawn_local(async move {
        loop {
            gloo_timers::future::TimeoutFuture::new(period_ms).await;
            if set_tick.try_update(|count| *count += 1).is_none() {
                break;
            }
        }
    });
    #[cfg(not(feature = "csr"))]
    let _ = (period_ms, set_tick);
    tick
}
