//! The navigation's live count of gates the signed-in person may decide now, polled
//! every 2 s like the banner, so a waiting gate is noticed from any page.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::use_interval;
use crate::api::pending_gates;

#[component]
pub fn ApprovalsBadge() -> impl IntoView {
    let tick = use_interval(2000);
    let count = RwSignal::new(0usize);
    Effect::new(move |_| {
        tick.track();
        spawn_local(async move {
            // A failed poll keeps the last count; the database banner says why.
            if let Ok(gates) = pending_gates(None).await {
                let mine = gates
                    .iter()
                    .filter(|g| g.your_access.may_approve || g.your_access.may_reject)
                    .count();
                if !count.is_disposed() && count.get_untracked() != mine {
                    count.set(mine);
                }
            }
        });
    });
    move || {
        let waiting = count.get();
        (waiting > 0).then(|| {
            let label = if waiting == 1 {
                "1 gate waiting for you".to_string()
            } else {
                format!("{waiting} gates waiting for you")
            };
            view! { <span class="nav-badge" aria-label=label.clone() title=label>{waiting}</span> }
        })
    }
}
