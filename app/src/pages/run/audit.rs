//! The run's audit trail: who deployed, cancelled and decided what, and when. Folded
//! away until opened; while open it follows the run.

use leptos::prelude::*;

use super::RunContext;
use crate::api::{AuditEntry, audit_trail};
use crate::ui::{ErrorMessage, format_time};

#[component]
pub fn AuditPanel() -> impl IntoView {
    let context = expect_context::<RunContext>();
    let run_id = context.run_id;
    let open = RwSignal::new(false);
    let entries = RwSignal::new(None::<Result<Vec<AuditEntry>, crate::api::ApiError>>);
    Effect::new(move |_| {
        context.tick.track();
        if !open.get() {
            return;
        }
        leptos::task::spawn_local(async move {
            let result = audit_trail(Some(run_id)).await.map(|all| {
                // People's actions; Tollgate's own steps are in the graph and the logs.
                all.into_iter()
                    .filter(|e| e.actor.is_some())
                    .collect::<Vec<_>>()
            });
            if entries.try_with_untracked(|known| known.as_ref() != Some(&result)) == Some(true) {
                entries.try_set(Some(result));
            }
        });
    });
    view! {
        <details class="panel audit" on:toggle=move |event| {
            let element: web_sys::HtmlDetailsElement = event_target(&event);
            open.set(element.open());
        }>
            <summary><h2>"Audit trail"</h2></summary>
            {move || match entries.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorMessage error/> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"Nobody has acted on this run yet."</p> }.into_any(),
                Some(Ok(list)) => view! { <AuditTable entries=list/> }.into_any(),
            }}
        </details>
    }
}

#[component]
fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    let rows = entries
        .into_iter()
        .map(|entry| {
            let what = match (&entry.job, &entry.to_status) {
                (Some(job), Some(to)) => format!("{job} → {to}"),
                (None, Some(to)) => format!("{} → {to}", entry.kind),
                _ => entry.kind.clone(),
            };
            view! {
                <tr>
                    <td>{format_time(entry.at_ms)}</td>
                    <td class="mono">{entry.actor.clone().unwrap_or_default()}</td>
                    <td>{what}</td>
                    <td>{entry.detail.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" aria-label="Audit trail">
            <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Detail"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
