//! The canvas: nodes to drag (snapping to the grid), ports to draw dependencies from,
//! box and shift-click selection.

use leptos::prelude::*;

use crate::ui::ArrowMarker;

use super::Editor;
use crate::constructor::{Draft, DraftEdge, DraftNode};

pub const NODE_W: f64 = 170.0;
pub const NODE_H: f64 = 56.0;

/// What the pointer is doing.
#[derive(Clone, Debug, PartialEq)]
enum Gesture {
    /// Dragging nodes; `before` is the draft when the drag began (one undo step).
    Move {
        start: (f64, f64),
        keys: Vec<u32>,
        before: Draft,
    },
    /// Drawing a dependency from a node's output port.
    Connect { from: u32, at: (f64, f64) },
    /// Dragging a selection box.
    Select { start: (f64, f64), at: (f64, f64) },
}

fn point(svg: &NodeRef<leptos::svg::Svg>, event: &leptos::ev::PointerEvent) -> (f64, f64) {
    let (x, y) = (f64::from(event.client_x()), f64::from(event.client_y()));
    match svg.get_untracked() {
        Some(element) => {
            let bounds = element.get_bounding_client_rect();
            (x - bounds.left(), y - bounds.top())
        }
        None => (x, y),
    }
}

/// The node under a point, topmost first.
fn node_at(draft: &Draft, (x, y): (f64, f64)) -> Option<u32> {
    draft
        .nodes
        .iter()
        .rev()
        .find(|n| x >= n.x && x <= n.x + NODE_W && y >= n.y && y <= n.y + NODE_H)
        .map(|n| n.key)
}

/// An edge's curve from the right of one node to the left of another.
fn curve(from: (f64, f64), to: (f64, f64)) -> String {
    let bend = ((to.0 - from.0).abs() / 2.0).max(30.0);
    format!(
        "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
        from.0,
        from.1,
        from.0 + bend,
        from.1,
        to.0 - bend,
        to.1,
        to.0,
        to.1
    )
}

#[component]
pub fn Canvas() -> impl IntoView {
    let editor = expect_context::<Editor>();
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let gesture = RwSignal::new(None::<Gesture>);

    let on_background_down = move |event: leptos::ev::PointerEvent| {
        let at = point(&svg, &event);
        if !event.shift_key() {
            editor.selected.set(Vec::new());
            editor.selected_edges.set(Vec::new());
        }
        gesture.set(Some(Gesture::Select { start: at, at }));
    };
    let on_move = move |event: leptos::ev::PointerEvent| {
        let at = point(&svg, &event);
        match gesture.get_untracked() {
            Some(Gesture::Move {
                start,
                keys,
                before,
            }) => {
                let mut moved = before.clone();
                moved.move_nodes(&keys, at.0 - start.0, at.1 - start.1);
                editor.draft.set(moved);
            }
            Some(Gesture::Connect { from, .. }) => gesture.set(Some(Gesture::Connect { from, at })),
            Some(Gesture::Select { start, .. }) => gesture.set(Some(Gesture::Select { start, at })),
            None => {}
        }
    };
    let on_up = move |event: leptos::ev::PointerEvent| {
        let at = point(&svg, &event);
        match gesture.get_untracked() {
            Some(Gesture::Move { before, .. }) if editor.draft.with_untracked(|d| *d != before) => {
                editor.record(before);
            }
            Some(Gesture::Connect { from, .. }) => {
                let target = editor.draft.with_untracked(|d| node_at(d, at));
                let allowed = |to: u32| {
                    editor.draft.with_untracked(|d| {
                        to != from && !d.edges.contains(&DraftEdge { from, to })
                    })
                };
                if let Some(to) = target
                    && allowed(to)
                {
                    editor.edit(|draft| {
                        draft.connect(from, to);
                    });
                }
            }
            Some(Gesture::Select { start, at })
                if (start.0 - at.0).abs() > 4.0 || (start.1 - at.1).abs() > 4.0 =>
            {
                let inside = editor
                    .draft
                    .with_untracked(|d| d.nodes_in(start, at, NODE_W, NODE_H));
                editor.selected.update(|selected| {
                    for key in inside {
                        if !selected.contains(&key) {
                            selected.push(key);
                        }
                    }
                });
            }
            _ => {}
        }
        gesture.set(None);
    };

    let start_move = move |key: u32, event: leptos::ev::PointerEvent| {
        event.stop_propagation();
        let shift = event.shift_key();
        editor.selected_edges.set(Vec::new());
        editor.selected.update(|selected| {
            if shift {
                if let Some(at) = selected.iter().position(|k| *k == key) {
                    selected.remove(at);
                } else {
                    selected.push(key);
                }
            } else if !selected.contains(&key) {
                *selected = vec![key];
            }
        });
        let keys = editor.selected.get_untracked();
        if keys.contains(&key) {
            gesture.set(Some(Gesture::Move {
                start: point(&svg, &event),
                keys,
                before: editor.draft.get_untracked(),
            }));
        }
    };
    let start_connect = move |key: u32, event: leptos::ev::PointerEvent| {
        event.stop_propagation();
        gesture.set(Some(Gesture::Connect {
            from: key,
            at: point(&svg, &event),
        }));
    };

    let cycle_edges = Memo::new(move |_| {
        editor.check.with(|check| {
            check
                .errors
                .iter()
                .filter_map(|error| match error {
                    crate::domain::ValidationError::Cycle { cycle } => Some(cycle.clone()),
                    _ => None,
                })
                .flat_map(|cycle| {
                    cycle
                        .windows(2)
                        .map(|pair| (pair[0].clone(), pair[1].clone()))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<(String, String)>>()
        })
    });

    let edges = move || {
        let draft = editor.draft.get();
        draft
            .edges
            .iter()
            .filter_map(|edge| {
                let (from, to) = (draft.node(edge.from)?, draft.node(edge.to)?);
                Some((*edge, from.clone(), to.clone()))
            })
            .map(|(edge, from, to)| {
                let in_cycle = cycle_edges.with(|pairs| pairs.contains(&(from.id.clone(), to.id.clone())));
                let selected = editor.selected_edges.with(|s| s.contains(&edge));
                let class = format!(
                    "c-edge{}{}",
                    if in_cycle { " cycle" } else { "" },
                    if selected { " selected" } else { "" }
                );
                let path = curve((from.x + NODE_W, from.y + NODE_H / 2.0), (to.x, to.y + NODE_H / 2.0));
                let label = format!("Dependency {} to {}", from.id, to.id);
                view! {
                    <g class=class>
                        <path class="c-edge-hit" d=path.clone()
                            on:pointerdown=move |event: leptos::ev::PointerEvent| {
                                event.stop_propagation();
                                editor.selected.set(Vec::new());
                                if event.shift_key() {
                                    editor.selected_edges.update(|s| s.push(edge));
                                } else {
                                    editor.selected_edges.set(vec![edge]);
                                }
                            }
                        >
                            <title>{label.clone()}</title>
                        </path>
                        <path class="c-edge-line" d=path marker-end="url(#c-arrow)" aria-label=label data-edge=format!("{}->{}", from.id, to.id)></path>
                    </g>
                }
            })
            .collect_view()
    };
    let nodes = move || {
        editor
            .draft
            .get()
            .nodes
            .into_iter()
            .map(|node| view! { <CanvasNode node on_move=start_move on_connect=start_connect/> })
            .collect_view()
    };
    let overlay = move || {
        match gesture.get() {
        Some(Gesture::Connect { from, at }) => editor.draft.with(|d| {
            d.node(from).map(|n| {
                view! { <path class="c-edge-draft" d=curve((n.x + NODE_W, n.y + NODE_H / 2.0), at)></path> }
                    .into_any()
            })
        }),
        Some(Gesture::Select { start, at }) => Some(
            view! {
                <rect
                    class="c-select-box"
                    x=start.0.min(at.0)
                    y=start.1.min(at.1)
                    width=(start.0 - at.0).abs()
                    height=(start.1 - at.1).abs()
                ></rect>
            }
            .into_any(),
        ),
        _ => None,
    }
    };
    view! {
        <div class="canvas-frame">
            <svg
                class="canvas"
                node_ref=svg
                role="application"
                aria-label="Pipeline canvas"
                on:pointerdown=on_background_down
                on:pointermove=on_move
                on:pointerup=on_up
            >
                <defs>
                    <pattern id="c-grid" width="20" height="20" patternUnits="userSpaceOnUse">
                        <circle cx="1" cy="1" r="1" class="c-grid-dot"></circle>
                    </pattern>
                    <ArrowMarker id="c-arrow"/>
                </defs>
                <rect class="c-background" width="100%" height="100%" fill="url(#c-grid)"></rect>
                {edges}
                {nodes}
                {overlay}
            </svg>
            {move || {
                editor
                    .draft
                    .with(|d| d.nodes.is_empty())
                    .then(|| view! { <p class="canvas-hint muted">"Add a job to start, then drag from its right-hand port to another job to make that job depend on it."</p> })
            }}
        </div>
    }
}

#[component]
fn CanvasNode(
    node: DraftNode,
    on_move: impl Fn(u32, leptos::ev::PointerEvent) + Copy + Send + Sync + 'static,
    on_connect: impl Fn(u32, leptos::ev::PointerEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let editor = expect_context::<Editor>();
    let key = node.key;
    let selected = move || editor.selected.with(|s| s.contains(&key));
    let invalid = {
        let id = node.id.clone();
        move || {
            editor.check.with(|check| {
                check.fields.iter().any(|f| f.node == key)
                    || check.errors.iter().any(|e| e.job() == Some(id.as_str()))
            })
        }
    };
    let class = move || {
        format!(
            "c-node{}{}",
            if selected() { " selected" } else { "" },
            if invalid() { " invalid" } else { "" }
        )
    };
    let label = format!("Job {}", node.id);
    view! {
        <g
            class=class
            transform=format!("translate({},{})", node.x, node.y)
            data-node=node.id.clone()
            aria-label=label
            on:pointerdown=move |event| on_move(key, event)
        >
            <rect width=NODE_W height=NODE_H rx="8"></rect>
            <text class="c-node-id" x="12" y="22">{node.id.clone()}</text>
            <text class="c-node-run muted" x="12" y="42">
                {node.run.lines().next().unwrap_or("(no command)").chars().take(22).collect::<String>()}
            </text>
            {node.has_gate().then(|| view! {
                <g class="c-hitl" transform=format!("translate({},{})", NODE_W - 44.0, -9.0)>
                    <rect width="40" height="18" rx="9"></rect>
                    <text x="20" y="13">"HITL"</text>
                </g>
            })}
            <circle class="c-port c-port-in" cx="0" cy=NODE_H / 2.0 r="5"></circle>
            <circle
                class="c-port c-port-out"
                cx=NODE_W
                cy=NODE_H / 2.0
                r="7"
                data-port=format!("{}-out", node.id)
                on:pointerdown=move |event| on_connect(key, event)
            ></circle>
        </g>
    }
}
