//! The approvals inbox: every gate waiting for a person, across all runs, oldest first.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{PendingGate, pending_gates};
use crate::domain::format_duration;
use crate::ui::{list_view, now_ms, use_interval};

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let tick = use_interval(2000);
    let gates = LocalResource::new(move || {
        tick.track();
        pending_gates(None)
    });
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Approvals"</h1>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    gates
                        .get()
                        .map(|result| {
                            list_view(
                                result,
                                || view! { <div class="empty"><p>"Nothing is waiting for a decision."</p></div> }.into_any(),
                                |list| view! { <GatesTable gates=list/> }.into_any(),
                            )
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn GatesTable(gates: Vec<PendingGate>) -> impl IntoView {
    let now = now_ms();
    let since = move |ms: i64| format_duration(u64::try_from((now - ms) / 1000).unwrap_or(0));
    let until = move |ms: i64| format_duration(u64::try_from((ms - now) / 1000).unwrap_or(0));
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th>"Gate"</th>
                    <th>"Message"</th>
                    <th>"Run"</th>
                    <th>"Waiting"</th>
                    <th>"Time left"</th>
                    <th>"Approvals"</th>
                    <th>"You"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {gates
                    .into_iter()
                    .map(|gate| {
                        let href = format!("/runs/{}/gates/{}", gate.run_id, gate.gate);
                        let approvals = format!(
                            "{} of {}",
                            gate.approvals.len(),
                            gate.approvals_required.max(1)
                        );
                        // The same words the banner and the server's 403 use.
                        let you = if gate.your_access.may_approve {
                            "may decide".to_string()
                        } else {
                            gate.your_access.reason.clone().unwrap_or_default()
                        };
                        view! {
                            <tr>
                                <td class="mono">{gate.gate.clone()}</td>
                                <td>{gate.message.clone()}</td>
                                <td>{format!("{} #{}", gate.pipeline, gate.run_id)}</td>
                                <td>{since(gate.activated_at_ms)}</td>
                                <td>{until(gate.deadline_at_ms)}</td>
                                <td>{approvals}</td>
                                <td class="muted">{you}</td>
                                <td>
                                    <A href=href attr:aria-label=format!("Review {} of run {}", gate.gate, gate.run_id)>
                                        "Review"
                                    </A>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
