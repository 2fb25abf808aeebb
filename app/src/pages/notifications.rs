//! The webhook outbox, for admins: each notification, where it went, how many
//! attempts it took, and whether it was delivered, is retried or was given up.

use leptos::prelude::*;

use crate::api::{NotificationView, notifications};
use crate::ui::{format_time, latest, list_view, use_interval};

#[component]
pub fn NotificationsPanel() -> impl IntoView {
    let tick = use_interval(5000);
    let listed = latest(move || {
        tick.track();
        notifications()
    });
    view! {
        <h2>"Webhook notifications"</h2>
        {move || {
            list_view(
                listed.get(),
                "Loading…",
                || {
                    view! {
                        <p class="muted">
                            "None yet. Start the server with " <code>"--notify-url"</code>
                            " to be told when a gate waits, is decided or times out, and when a run finishes."
                        </p>
                    }
                        .into_any()
                },
                |list| view! { <NotificationsTable list/> }.into_any(),
            )
        }}
    }
}

#[component]
fn NotificationsTable(list: Vec<NotificationView>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|n| {
            let outcome = match (n.state.as_str(), n.delivered_at_ms, n.next_attempt_at_ms) {
                ("delivered", Some(at), _) => format!("delivered {}", format_time(at)),
                ("retrying", _, Some(at)) => format!("retrying at {}", format_time(at)),
                _ => "given up".to_string(),
            };
            view! {
                <tr class=format!("notification-{}", n.state)>
                    <td>{format_time(n.created_at_ms)}</td>
                    <td class="mono">{n.event_id}</td>
                    <td class="mono">{n.endpoint}</td>
                    <td>{n.attempts}</td>
                    <td>{outcome}</td>
                    <td class="muted">{n.last_error.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" aria-label="Webhook notifications">
            <thead>
                <tr>
                    <th>"Queued"</th><th>"Event"</th><th>"Endpoint"</th><th>"Attempts"</th>
                    <th>"Outcome"</th><th>"Last error"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
