//! Finding a node in a big graph: a search box (a job by id) and counts of the running,
//! waiting and failed nodes that, clicked, go to the next such node in turn. Either way
//! the node is centred and selected, so its log opens as after a click.

use leptos::prelude::*;

use super::RunContext;
use crate::domain::JobStatus;

/// What a graph's nodes are called and where they are, for finding them.
pub struct GraphIndex {
    pub ids: Vec<String>,
    /// The middle of each node, in drawing coordinates.
    pub centres: Vec<(f64, f64)>,
    pub gates: Vec<bool>,
    pub statuses: Vec<Memo<JobStatus>>,
}

impl GraphIndex {
    fn status(&self, at: usize) -> JobStatus {
        self.statuses
            .get(at)
            .map_or(JobStatus::Pending, |status| status.get_untracked())
    }

    /// The next node after `after` (in graph order, wrapping round) that is `kind`.
    pub fn next(&self, kind: Attention, after: Option<usize>) -> Option<usize> {
        next_matching(self.ids.len(), after, |at| {
            kind.matches(
                self.status(at),
                self.gates.get(at).copied().unwrap_or(false),
            )
        })
    }

    /// Where a person looks first: the first gate that waits, else the first running job.
    pub fn first_needing_attention(&self) -> Option<usize> {
        self.next(Attention::Waiting, None)
            .or_else(|| self.next(Attention::Running, None))
    }
}

/// The kinds of node the counts jump between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attention {
    /// A task whose process runs.
    Running,
    /// A gate waiting for a person.
    Waiting,
    Failed,
}

impl Attention {
    const ALL: [Attention; 3] = [Attention::Running, Attention::Waiting, Attention::Failed];

    pub fn matches(self, status: JobStatus, gate: bool) -> bool {
        match self {
            Attention::Running => status == JobStatus::Running && !gate,
            Attention::Waiting => status == JobStatus::Running && gate,
            Attention::Failed => status == JobStatus::Failed,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Attention::Running => "running",
            Attention::Waiting => "waiting",
            Attention::Failed => "failed",
        }
    }
}

/// The first position after `after` (wrapping round; from the start when `None`) of
/// `count` positions where `matches` holds.
pub fn next_matching(
    count: usize,
    after: Option<usize>,
    matches: impl Fn(usize) -> bool,
) -> Option<usize> {
    let start = after.map_or(0, |at| at + 1);
    (0..count)
        .map(|step| (start + step) % count)
        .find(|&at| matches(at))
}

/// The job called `query` (surrounding blanks ignored), else the first in graph order
/// whose id contains it, ignoring case.
pub fn find(ids: &[String], query: &str) -> Option<usize> {
    let query = query.trim();
    if query.is_empty() {
        return None;
    }
    ids.iter().position(|id| id == query).or_else(|| {
        let lower = query.to_lowercase();
        ids.iter().position(|id| id.to_lowercase().contains(&lower))
    })
}

#[component]
pub fn Finder(index: StoredValue<GraphIndex>, go_to: Callback<usize>) -> impl IntoView {
    let context = expect_context::<RunContext>();
    let counts = context.jobs.counts();
    let query = RwSignal::new(String::new());
    let missing = RwSignal::new(None::<String>);
    // Where each count's last jump went, so the next click goes on from there.
    let cursors = StoredValue::new([None::<usize>; 3]);

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let text = query.get_untracked();
        match index.with_value(|index| find(&index.ids, &text)) {
            Some(at) => {
                missing.set(None);
                go_to.run(at);
            }
            None => missing.set(Some(text.trim().to_string())),
        }
    };
    let jumps = Attention::ALL
        .into_iter()
        .enumerate()
        .map(|(slot, kind)| {
            let count = move || {
                counts.with(|counts| match kind {
                    Attention::Running => counts.running_tasks(),
                    Attention::Waiting => counts.waiting_gates(),
                    Attention::Failed => counts.of(JobStatus::Failed),
                })
            };
            let jump = move |_| {
                let after = cursors.with_value(|cursors| cursors[slot]);
                if let Some(at) = index.with_value(|index| index.next(kind, after)) {
                    cursors.update_value(|cursors| cursors[slot] = Some(at));
                    go_to.run(at);
                }
            };
            view! {
                <button
                    class=format!("button small jump jump-{}", kind.name())
                    title=format!("Go to the next {} node", kind.name())
                    disabled=move || count() == 0
                    on:click=jump
                >
                    {move || format!("{} {}", count(), kind.name())}
                </button>
            }
        })
        .collect_view();

    view! {
        <div class="graph-find">
            <form role="search" aria-label="Find a job" on:submit=on_submit>
                <input
                    type="search"
                    placeholder="Find a job by id"
                    aria-label="Job id"
                    prop:value=move || query.get()
                    on:input=move |event| query.set(event_target_value(&event))
                />
            </form>
            {jumps}
            {move || {
                missing
                    .get()
                    .map(|text| view! { <span class="muted" role="status">{format!("No job matches “{text}”")}</span> })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests;
