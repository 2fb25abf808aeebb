//! The run drawn as an SVG graph: one box per job (gates as yellow-edged diamonds'
//! cousins: cut-corner boxes with a HITL badge), coloured by status, with pan and zoom.

use leptos::prelude::*;

use super::RunContext;
use crate::domain::{RunGraph, format_duration};
use crate::layout::{NODE_HEIGHT, NODE_WIDTH, PlacedNode, layout};
use crate::ui::{ArrowMarker, now_ms};

/// The visible part of the drawing: a translation and a zoom factor.
#[derive(Clone, Copy, Debug, PartialEq)]
struct View {
    x: f64,
    y: f64,
    scale: f64,
}

#[component]
pub fn RunGraphView(shape: RunGraph) -> impl IntoView {
    let context = expect_context::<RunContext>();
    let placed = layout(&shape);
    let gates: Vec<bool> = shape.nodes.iter().map(|node| node.is_gate()).collect();
    let (width, height) = (placed.width.max(200.0), placed.height.max(80.0));

    let view_box = RwSignal::new(View {
        x: 0.0,
        y: 0.0,
        scale: 1.0,
    });
    let drag = RwSignal::new(None::<(f64, f64, View)>);
    let on_wheel = move |event: leptos::ev::WheelEvent| {
        event.prevent_default();
        let factor = if event.delta_y() > 0.0 {
            1.0 / 1.15
        } else {
            1.15
        };
        view_box.update(|v| v.scale = (v.scale * factor).clamp(0.1, 4.0));
    };
    let on_down = move |event: leptos::ev::PointerEvent| {
        drag.set(Some((
            f64::from(event.client_x()),
            f64::from(event.client_y()),
            view_box.get_untracked(),
        )));
    };
    let on_move = move |event: leptos::ev::PointerEvent| {
        if let Some((x0, y0, start)) = drag.get_untracked() {
            let (dx, dy) = (
                f64::from(event.client_x()) - x0,
                f64::from(event.client_y()) - y0,
            );
            view_box.set(View {
                x: start.x + dx,
                y: start.y + dy,
                ..start
            });
        }
    };
    let on_up = move |_| drag.set(None);
    let transform = move || {
        let v = view_box.get();
        format!("translate({:.1},{:.1}) scale({:.3})", v.x, v.y, v.scale)
    };
    let zoom = move |factor: f64| view_box.update(|v| v.scale = (v.scale * factor).clamp(0.1, 4.0));

    let edges = placed
        .edges
        .iter()
        .map(|edge| {
            let (from, to) = (edge.from.clone(), edge.to.clone());
            let class = move || {
                let done = context.status_of(&from).is_terminal();
                let active = context.status_of(&to) != crate::domain::JobStatus::Pending;
                if done && active {
                    "edge edge-done"
                } else {
                    "edge"
                }
            };
            view! { <path class=class d=edge.path.clone() marker-end="url(#arrow)"></path> }
        })
        .collect_view();
    let nodes = placed
        .nodes
        .into_iter()
        .zip(gates)
        .map(|(node, gate)| view! { <GraphNode node gate/> })
        .collect_view();

    view! {
        <div class="graph-frame">
            <div class="graph-tools">
                <button class="button small" aria-label="Zoom in" on:click=move |_| zoom(1.25)>"+"</button>
                <button class="button small" aria-label="Zoom out" on:click=move |_| zoom(0.8)>"−"</button>
                <button
                    class="button small"
                    aria-label="Reset view"
                    on:click=move |_| view_box.set(View { x: 0.0, y: 0.0, scale: 1.0 })
                >
                    "Fit"
                </button>
            </div>
            <svg
                class="graph"
                role="img"
                aria-label="Run graph"
                viewBox=format!("0 0 {width:.0} {height:.0}")
                style=format!("height: {:.0}px", height.min(640.0))
                on:wheel=on_wheel
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointerleave=on_up
            >
                <defs>
                    <ArrowMarker id="arrow"/>
                </defs>
                <g transform=transform>{edges} {nodes}</g>
            </svg>
        </div>
    }
}

#[component]
fn GraphNode(node: PlacedNode, gate: bool) -> impl IntoView {
    let context = expect_context::<RunContext>();
    let id = node.id.clone();
    let status = {
        let id = id.clone();
        Memo::new(move |_| context.status_of(&id))
    };
    let class = {
        let id = id.clone();
        move || {
            let selected = context.selected.with(|s| s.as_deref() == Some(id.as_str()));
            format!(
                "node status-{}{}{}",
                status.get().as_str().to_lowercase(),
                if gate { " gate" } else { "" },
                if selected { " selected" } else { "" }
            )
        }
    };
    let tooltip = {
        let id = id.clone();
        move || {
            let job = context.job(&id);
            let reason = job.as_ref().and_then(|j| j.reason.clone());
            let took = job.as_ref().and_then(|j| {
                let start = j.started_at_ms?;
                let end = j.finished_at_ms.unwrap_or_else(now_ms);
                Some(format_duration(
                    u64::try_from((end - start) / 1000).unwrap_or(0),
                ))
            });
            let mut text = format!("{id}\n{}", status.get());
            if let Some(reason) = reason {
                text.push_str(&format!("\n{reason}"));
            }
            if let Some(took) = took {
                text.push_str(&format!("\n{took}"));
            }
            text
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
