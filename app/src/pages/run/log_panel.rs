//! The log of the selected node, fetched from an offset every 2 s while it runs and
//! following the tail unless the reader scrolled up.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::RunContext;
use crate::api::job_log;
use crate::ui::ErrorMessage;

#[component]
pub fn LogPanel() -> impl IntoView {
    let context = expect_context::<RunContext>();
    move || match context.selected.get() {
        None => view! {
            <aside class="log-panel empty-log" aria-label="Job log">
                <p class="muted">"Click a job or gate in the graph to see its log."</p>
            </aside>
        }
        .into_any(),
        Some(job) => view! { <JobLog job/> }.into_any(),
    }
}

#[component]
fn JobLog(job: String) -> impl IntoView {
    let context = expect_context::<RunContext>();
    let run_id = context.run_id;
    let text = RwSignal::new(String::new());
    let offset = RwSignal::new(0u64);
    let finished = RwSignal::new(false);
    let error = RwSignal::new(None);
    let loading = RwSignal::new(false);
    let pre = NodeRef::<leptos::html::Pre>::new();

    let fetch = {
        let job = job.clone();
        move || {
            if finished.get_untracked() || loading.get_untracked() {
                return;
            }
            loading.set(true);
            let job = job.clone();
            spawn_local(async move {
                // Read page after page until caught up, so a long log shows at once.
                loop {
                    let page =
                        job_log(run_id, job.clone(), Some(offset.get_untracked()), None).await;
                    // Another node was selected meanwhile: this log is gone.
                    if offset.is_disposed() {
                        return;
                    }
                    let page = match page {
                        Ok(page) => page,
                        Err(failure) => {
                            error.set(Some(failure));
                            break;
                        }
                    };
                    let at_bottom = pre.get_untracked().is_none_or(|element| {
                        element.scroll_top() + element.client_height()
                            >= element.scroll_height() - 16
                    });
                    if !page.text.is_empty() {
                        text.update(|all| all.push_str(&page.text));
                    }
                    offset.set(page.next_offset);
                    let caught_up = page.next_offset >= page.total_bytes || page.text.is_empty();
                    finished.set(page.finished && caught_up);
                    error.set(None);
                    if at_bottom && let Some(element) = pre.get_untracked() {
                        request_animation_frame(move || {
                            element.set_scroll_top(element.scroll_height());
                        });
                    }
                    if caught_up {
                        break;
                    }
                }
                loading.set(false);
            });
        }
    };
    Effect::new({
        let fetch = fetch.clone();
        move |_| {
            context.tick.track();
            fetch();
        }
    });

    let title = job.clone();
    let state = {
        let job = job.clone();
        move || {
            context.job(&job).map(|progress| match progress.reason {
                Some(reason) => format!("{} — {reason}", progress.status),
                None => progress.status.to_string(),
            })
        }
    };
    view! {
        <aside class="log-panel" aria-label="Job log">
            <header class="log-header">
                <h2>{title}</h2>
                <a class="button small" href=format!("/logs/{run_id}/{job}") download>
                    "Download log"
                </a>
                <button
                    class="button small"
                    aria-label="Close the log"
                    on:click=move |_| context.selected.set(None)
                >
                    "×"
                </button>
            </header>
            <p class="job-state">{state}</p>
            <pre class="log" node_ref=pre aria-live="polite">
                {move || {
                    let all = text.get();
                    if all.is_empty() && finished.get() { "(no output)".to_string() } else { all }
                }}
            </pre>
            {move || error.get().map(|error| view! { <ErrorMessage error/> })}
        </aside>
    }
}
