//! The run drawn as an SVG graph: one box per job (gates as cut-corner boxes with a HITL
//! badge), coloured by status, with pan and zoom, a search box and jumps to the nodes
//! that need attention.
//!
//! Every node and edge reads its own jobs' signals, so a poll re-renders only what
//! changed. A big graph opens at a readable scale around what is running or waiting
//! rather than shrunk to dots, and only what is in or near the frame is in the page:
//! creating thousands of SVG nodes nobody sees was most of a big run's load time.

use leptos::prelude::*;

use super::RunContext;
use super::finder::{Finder, GraphIndex};
use super::graph_node::GraphNode;
use super::viewport::{READABLE, Sizes, View};
use crate::api::JobProgress;
use crate::domain::{JobStatus, RunGraph};
use crate::layout::grid::Grid;
use crate::layout::{NODE_HEIGHT, NODE_WIDTH, PlacedEdge, PlacedNode, layout};
use crate::ui::ArrowMarker;

/// The frame's height at most, in CSS pixels.
const FRAME_HEIGHT: f64 = 640.0;
/// The side of the grid's cells, in drawing units: what is drawn changes only when the
/// frame (with a margin of half a frame around it) reaches another cell.
const CELL: f64 = 512.0;

/// What the drawing needs of each node and edge, by position.
struct Drawing {
    nodes: Vec<PlacedNode>,
    edges: Vec<PlacedEdge>,
    gates: Vec<bool>,
    progress: Vec<RwSignal<JobProgress>>,
    statuses: Vec<Memo<JobStatus>>,
}

#[component]
pub fn RunGraphView(shape: RunGraph) -> impl IntoView {
    let context = expect_context::<RunContext>();
    let placed = layout(&shape);
    let (width, height) = (placed.width.max(200.0), placed.height.max(80.0));
    let frame_height = height.clamp(160.0, FRAME_HEIGHT);

    let progress: Vec<RwSignal<JobProgress>> = placed
        .nodes
        .iter()
        .map(|node| {
            context.jobs.progress(&node.id).unwrap_or_else(|| {
                RwSignal::new(JobProgress {
                    id: node.id.clone(),
                    status: JobStatus::Pending,
                    reason: None,
                    started_at_ms: None,
                    finished_at_ms: None,
                    log_bytes: 0,
                })
            })
        })
        .collect();
    let statuses: Vec<Memo<JobStatus>> = progress
        .iter()
        .map(|&job| Memo::new(move |_| job.with(|job| job.status)))
        .collect();
    let index = StoredValue::new(GraphIndex {
        ids: placed.nodes.iter().map(|node| node.id.clone()).collect(),
        centres: placed
            .nodes
            .iter()
            .map(|node| (node.x + NODE_WIDTH / 2.0, node.y + NODE_HEIGHT / 2.0))
            .collect(),
        gates: shape.nodes.iter().map(|node| node.is_gate()).collect(),
        statuses: statuses.clone(),
    });

    let svg = NodeRef::<leptos::svg::Svg>::new();
    let view_box = RwSignal::new(View::IDENTITY);
    let frame = RwSignal::new((800.0, frame_height));
    // Reads the frame's size now (it follows the window's width).
    let sizes = move || {
        if let Some(element) = svg.get_untracked() {
            let measured = (
                f64::from(element.client_width()),
                f64::from(element.client_height()),
            );
            // A frame not laid out yet measures 0: keep the last size rather than none.
            if measured.0 > 0.0 && measured.1 > 0.0 && frame.get_untracked() != measured {
                frame.set(measured);
            }
        }
        Sizes {
            frame: frame.get_untracked(),
            graph: (width, height),
        }
    };
    // Once drawn, open on the whole graph if it is readable so, else 1:1 around the
    // first gate that waits or job that runs.
    Effect::new(move |opened: Option<bool>| {
        if opened == Some(true) || svg.get().is_none() {
            return opened == Some(true);
        }
        let focus = index.with_value(GraphIndex::first_needing_attention);
        let point = focus.map(|at| index.with_value(|index| index.centres[at]));
        view_box.set(View::initial(sizes(), point));
        true
    });
    // A wider window shows more of the drawing: draw what comes into the frame.
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        sizes();
    });
    on_cleanup(move || resize.remove());
    let go_to = Callback::new(move |at: usize| {
        let Some((id, point)) =
            index.with_value(|index| Some((index.ids.get(at)?.clone(), index.centres[at])))
        else {
            return;
        };
        let current = view_box.get_untracked().scale;
        let scale = if current < READABLE { 1.0 } else { current };
        view_box.set(View::centred_on(point, scale, sizes()));
        context.selected.set(Some(id));
    });

    let drag = RwSignal::new(None::<(f64, f64, View)>);
    let on_wheel = move |event: leptos::ev::WheelEvent| {
        event.prevent_default();
        let factor = if event.delta_y() > 0.0 {
            1.0 / 1.15
        } else {
            1.15
        };
        let (x, y) = (f64::from(event.client_x()), f64::from(event.client_y()));
        let about = svg.get_untracked().map_or((0.0, 0.0), |element| {
            let bounds = element.get_bounding_client_rect();
            (x - bounds.left(), y - bounds.top())
        });
        view_box.update(|v| *v = v.zoomed(factor, about));
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
    let zoom = move |factor: f64| {
        let (w, h) = sizes().frame;
        view_box.update(|v| *v = v.zoomed(factor, (w / 2.0, h / 2.0)));
    };

    let grid = StoredValue::new(Grid::new(&placed, CELL));
    let range = Memo::new(move |_| {
        let (left, top, right, bottom) = view_box.get().visible(frame.get());
        let (across, down) = ((right - left) / 2.0, (bottom - top) / 2.0);
        grid.with_value(|grid| {
            grid.range((left - across, top - down, right + across, bottom + down))
        })
    });
    let shown_nodes = Memo::new(move |_| grid.with_value(|grid| grid.nodes_in(range.get())));
    let shown_edges = Memo::new(move |_| grid.with_value(|grid| grid.edges_in(range.get())));
    let drawing = StoredValue::new(Drawing {
        gates: shape.nodes.iter().map(|node| node.is_gate()).collect(),
        nodes: placed.nodes,
        edges: placed.edges,
        progress,
        statuses,
    });
    let edge = move |at: usize| {
        let (path, from, to) = drawing.with_value(|drawing| {
            let edge = &drawing.edges[at];
            let (from, to) = edge.ends;
            (
                edge.path.clone(),
                drawing.statuses[from],
                drawing.statuses[to],
            )
        });
        let class = move || {
            if from.get().is_terminal() && to.get() != JobStatus::Pending {
                "edge edge-done"
            } else {
                "edge"
            }
        };
        view! { <path class=class d=path marker-end="url(#arrow)"></path> }
    };
    let selected = Selector::new(move || context.selected.get());
    let node = move |at: usize| {
        let (node, gate, progress, status) = drawing.with_value(|drawing| {
            (
                drawing.nodes[at].clone(),
                drawing.gates[at],
                drawing.progress[at],
                drawing.statuses[at],
            )
        });
        let selected = selected.clone();
        view! { <GraphNode node gate progress status selected/> }
    };

    view! {
        <div class="graph-frame">
            <div class="graph-tools">
                <Finder index go_to/>
                <button class="button small" aria-label="Zoom in" on:click=move |_| zoom(1.25)>"+"</button>
                <button class="button small" aria-label="Zoom out" on:click=move |_| zoom(0.8)>"−"</button>
                <button
                    class="button small"
                    aria-label="Fit the whole graph"
                    title="Fit the whole graph (nodes stay visible: very big graphs need scrolling)"
                    on:click=move |_| view_box.set(View::fit(sizes()))
                >
                    "Fit"
                </button>
            </div>
            <svg
                class="graph"
                role="img"
                aria-label="Run graph"
                node_ref=svg
                style=format!("height: {frame_height:.0}px")
                on:wheel=on_wheel
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointerleave=on_up
            >
                <defs>
                    <ArrowMarker id="arrow"/>
                </defs>
                <g transform=transform>
                    <g class="edges">
                        <For each=move || shown_edges.get() key=|at| *at children=edge/>
                    </g>
                    <g class="nodes">
                        <For each=move || shown_nodes.get() key=|at| *at children=node/>
                    </g>
                </g>
            </svg>
        </div>
    }
}
