//! One node of the run graph: reads only its own job's signals, so a poll that changes
//! another job leaves it alone.

use leptos::prelude::*;

use super::RunContext;
use crate::api::JobProgress;
use crate::domain::{JobStatus, format_duration};
use crate::layout::{NODE_HEIGHT, NODE_WIDTH, PlacedNode};
use crate::ui::now_ms;

#[component]
pub fn GraphNode(
    node: PlacedNode,
    gate: bool,
    progress: RwSignal<JobProgress>,
    status: Memo<JobStatus>,
    selected: Selector<Option<String>>,
) -> impl IntoView {
    let context = expect_context::<RunContext>();
    let id = node.id.clone();
    let key = Some(id.clone());
    let class = move || {
        format!(
            "node status-{}{}{}",
            status.get().as_str().to_lowercase(),
            if gate { " gate" } else { "" },
            if selected.selected(&key) {
                " selected"
            } else {
                ""
            }
        )
    };
    let tooltip = {
        let id = id.clone();
        move || {
            progress.with(|job| {
                let took = job.started_at_ms.map(|start| {
                    let end = job.finished_at_ms.unwrap_or_else(now_ms);
                    format_duration(u64::try_from((end - start) / 1000).unwrap_or(0))
                });
                let mut text = format!("{id}\n{}", job.status);
                if let Some(reason) = &job.reason {
                    text.push_str(&format!("\n{reason}"));
                }
                if let Some(took) = took {
                    text.push_str(&format!("\n{took}"));
                }
                text
            })
        }
    };
    let select = {
        let id = id.clone();
        move || context.selected.set(Some(id.clone()))
    };
    let select_by_key = select.clone();
    let label = id.clone();
    let shape = if gate {
        let (w, h, c) = (NODE_WIDTH, NODE_HEIGHT, 12.0);
        view! {
            <polygon points=format!(
                "{c},0 {},0 {w},{} {w},{} {},{h} {c},{h} 0,{} 0,{}",
                w - c, c, h - c, w - c, h - c, c
            )></polygon>
        }
        .into_any()
    } else {
        view! { <rect width=NODE_WIDTH height=NODE_HEIGHT rx="8"></rect> }.into_any()
    };
    view! {
        <g
            class=class
            transform=format!("translate({:.1},{:.1})", node.x, node.y)
            role="button"
            tabindex="0"
            aria-label=move || format!("{label}: {}", status.get().as_str())
            data-job=id.clone()
            on:click=move |_| select()
            on:keydown=move |event: leptos::ev::KeyboardEvent| {
                if event.key() == "Enter" || event.key() == " " {
                    event.prevent_default();
                    select_by_key();
                }
            }
        >
            <title>{tooltip}</title>
            {shape}
            <text class="node-name" x="14" y="20">{truncate(&id, 20)}</text>
            <text class="node-status" x="14" y="37">
                {move || if gate { format!("HITL · {}", status.get().as_str()) } else { status.get().as_str().to_string() }}
            </text>
        </g>
    }
}

fn truncate(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        text.to_string()
    } else {
        let kept: String = text.chars().take(most - 1).collect();
        format!("{kept}…")
    }
}
