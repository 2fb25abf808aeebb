//! The approval banner: appears by itself when a gate waits, one gate at a time in the
//! order they started waiting, with the source job's files one click away.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::RunContext;
use super::files::{FilePreview, PreviewTarget};
use crate::api::{
    ApiError, JobView, PendingGate, WorkspaceFile, decide_gate, list_files, pending_gates,
};
use crate::domain::{Decision, FieldProblem, GateDecision, GateForm, format_duration};
use crate::ui::{
    Call, CommentField, DatabaseHealth, ErrorMessage, FormValues, GateFormFields, now_ms,
};

/// What happened to the last decision made from this banner.
#[derive(Clone, Debug)]
enum Outcome {
    /// What was decided, e.g. `hitl-gate-preprocess approved.`
    Decided(String),
    Refused(ApiError),
}

/// The gate the banner shows: the deep-linked one while it waits, else the one that
/// has waited longest.
fn in_front<'a>(waiting: &'a [PendingGate], linked: Option<&str>) -> Option<&'a PendingGate> {
    linked
        .and_then(|linked| waiting.iter().find(|gate| gate.gate == linked))
        .or_else(|| waiting.first())
}

fn decided(gate: &JobView) -> String {
    let verb = gate
        .gate
        .as_ref()
        .and_then(|g| g.decision)
        .map_or("decided", |decision| match decision {
            GateDecision::Approved => "approved",
            GateDecision::Rejected => "rejected",
            GateDecision::TimedOut => "timed out",
        });
    format!("{} {verb}.", gate.id)
}

#[component]
pub fn ApprovalBanner() -> impl IntoView {
    let context = expect_context::<RunContext>();
    let run_id = context.run_id;
    let gates = RwSignal::new(Vec::<PendingGate>::new());
    let files = RwSignal::new(Vec::<WorkspaceFile>::new());
    let outcome = RwSignal::new(None::<Outcome>);
    let preview = RwSignal::new(None::<PreviewTarget>);
    // Lives here, not in the card, so a refresh of the card keeps what was typed.
    let draft = RwSignal::new(String::new());
    // What was entered in the form of the gate in front; it starts again at the
    // defaults when another gate comes to the front.
    let values = RwSignal::new(FormValues::default());
    let values_of = RwSignal::new(String::new());
    Effect::new(move |_| {
        let linked = context.linked_gate.get();
        let front = gates
            .with(|all| in_front(all, linked.as_deref()).map(|g| (g.gate.clone(), g.form.clone())));
        if let Some((gate, form)) = front
            && values_of.with_untracked(|shown| *shown != gate)
        {
            values_of.set(gate);
            values.set(FormValues::of(&form));
        }
    });
    let problems = Signal::derive(move || match outcome.get() {
        Some(Outcome::Refused(ApiError::InvalidInput { fields, .. })) => fields,
        _ => Vec::<FieldProblem>::new(),
    });

    let health = DatabaseHealth::current();
    let load = move || {
        spawn_local(async move {
            let answer = pending_gates(Some(run_id)).await;
            health.note(&answer);
            if let Ok(waiting) = answer {
                let any = !waiting.is_empty();
                if gates.with_untracked(|known| *known != waiting) {
                    gates.set(waiting);
                }
                if any
                    && let Ok(listed) = list_files(run_id).await
                    && files.with_untracked(|known| *known != listed)
                {
                    files.set(listed);
                }
            }
        });
    };
    Effect::new(move |_| {
        context.tick.track();
        if !context.finished() || !gates.with_untracked(Vec::is_empty) {
            load();
        }
    });

    let decide = Call::new();
    let send = move |gate: String,
                     decision: Decision,
                     comment: String,
                     overriding: bool,
                     form: GateForm| {
        let overriding = overriding.then_some(true);
        // A rejection sends no choice: the server refuses one.
        let (option, inputs) = match decision {
            Decision::Approve => {
                let (option, inputs) = values.with_untracked(|v| v.to_request(&form));
                (option, (!inputs.is_empty()).then_some(inputs))
            }
            Decision::Reject => (None, None),
        };
        decide.start(async move {
            let comment = (!comment.trim().is_empty()).then_some(comment);
            let result = decide_gate(
                run_id, gate, decision, None, comment, overriding, option, inputs,
            )
            .await;
            if result.is_ok() {
                draft.set(String::new());
            }
            outcome.set(Some(match result {
                Ok(view) => Outcome::Decided(decided(&view)),
                Err(error) => Outcome::Refused(error),
            }));
            load();
            context.refresh();
        });
    };

    view! {
        {move || {
            let linked = context.linked_gate.get();
            gates
                .with(|all| in_front(all, linked.as_deref()).cloned().map(|gate| (gate, all.len())))
                .map(|(gate, waiting)| {
                    let source_files: Vec<WorkspaceFile> = files.with(|all| {
                        all.iter()
                            .filter(|file| file.written_by.as_deref() == Some(gate.source.as_str()))
                            .cloned()
                            .collect()
                    });
                    view! {
                        <GateCard
                            gate
                            waiting
                            source_files
                            pending=Signal::derive(move || decide.pending())
                            on_decide=send
                            preview
                            comment=draft
                            values
                            problems
                        />
                    }
                })
        }}
        {move || {
            outcome
                .get()
                .map(|outcome| match outcome {
                    Outcome::Decided(message) => {
                        view! { <p class="outcome" role="status">{message}</p> }.into_any()
                    }
                    Outcome::Refused(error) => view! { <ErrorMessage error/> }.into_any(),
                })
        }}
        <FilePreview target=preview/>
    }
}

#[component]
fn GateCard(
    gate: PendingGate,
    waiting: usize,
    source_files: Vec<WorkspaceFile>,
    pending: Signal<bool>,
    on_decide: impl Fn(String, Decision, String, bool, GateForm) + Clone + Send + Sync + 'static,
    preview: RwSignal<Option<PreviewTarget>>,
    comment: RwSignal<String>,
    values: RwSignal<FormValues>,
    problems: Signal<Vec<FieldProblem>>,
) -> impl IntoView {
    let context = expect_context::<RunContext>();
    let run_id = context.run_id;
    let (activated, deadline) = (gate.activated_at_ms, gate.deadline_at_ms);
    let clock = move || {
        context.tick.track();
        let now = now_ms();
        let waited = format_duration(u64::try_from((now - activated) / 1000).unwrap_or(0));
        let left = format_duration(u64::try_from((deadline - now) / 1000).unwrap_or(0));
        format!("waiting {waited} · {left} left")
    };
    let overriding = RwSignal::new(false);
    let answer = |decision: Decision| {
        let (on_decide, id, form) = (on_decide.clone(), gate.gate.clone(), gate.form.clone());
        move |_| {
            let comment = comment.get_untracked();
            on_decide(
                id.clone(),
                decision,
                comment,
                overriding.get_untracked(),
                form.clone(),
            )
        }
    };
    let (approve, reject) = (answer(Decision::Approve), answer(Decision::Reject));
    let form = (!gate.form.is_empty())
        .then(|| view! { <GateFormFields form=gate.form.clone() values problems/> });
    let access = gate.your_access.clone();
    let (may_approve, may_reject) = (access.may_approve, access.may_reject);
    let can_override = access.may_override && access.reason.is_some();
    let approve_blocked = move || pending.get() || !(may_approve || overriding.get());
    let reject_blocked = move || pending.get() || !(may_reject || overriding.get());
    let reason = access.reason.clone();
    let progress = (gate.approvals_required > 1).then(|| {
        let names: Vec<String> = gate
            .approvals
            .iter()
            .map(|a| {
                if a.overriding {
                    format!("{} (override)", a.by)
                } else {
                    a.by.clone()
                }
            })
            .collect();
        let names = if names.is_empty() {
            "none yet".to_string()
        } else {
            names.join(", ")
        };
        format!(
            "{} of {} approvals: {names} · may approve: {}",
            gate.approvals.len(),
            gate.approvals_required,
            gate.approvers
        )
    });
    let deployed_by = gate
        .deployed_by
        .clone()
        .map(|who| format!("deployed by {who}"));
    // Whose rules these are: set by admins, not by the pipeline.
    let environment = gate.environment.clone().map(|name| {
        format!(
            "environment {name}: {} approval(s) from {}, set by admins",
            gate.approvals_required.max(1),
            gate.approvers
        )
    });
    let files = source_files
        .into_iter()
        .map(|file| {
            let path = file.path.clone();
            let href = format!("/files/{run_id}/{path}");
            view! {
                <li>
                    <button
                        class="link"
                        on:click={
                            let path = path.clone();
                            move |_| preview.set(Some(PreviewTarget { run_id, path: path.clone() }))
                        }
                    >
                        {path.clone()}
                    </button>
                    <a class="muted" href=href download aria-label=format!("Download {path}")>
                        "download"
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="banner" role="region" aria-label="Approval needed">
            <div class="banner-main">
                <div class="banner-head">
                    <span class="badge hitl">"HITL"</span>
                    <strong class="mono gate-id">{gate.gate.clone()}</strong>
                    <span class="muted">{format!("1 of {waiting} waiting")}</span>
                    <span class="muted">{clock}</span>
                </div>
                <p class="gate-message">{gate.message.clone()}</p>
                {progress.map(|text| view! { <p class="approvals-progress">{text}</p> })}
                {deployed_by.map(|text| view! { <p class="muted">{text}</p> })}
                {environment
                    .map(|text| view! { <p class="muted" aria-label="Environment">{text}</p> })}
                <ul class="gate-files" aria-label=format!("Files written by {}", gate.source)>
                    {files}
                </ul>
                {form}
            </div>
            <div class="banner-actions">
                <CommentField label="Comment (optional)" value=comment/>
                <button class="button approve" disabled=approve_blocked on:click=approve>
                    "Approve"
                </button>
                <button class="button reject" disabled=reject_blocked on:click=reject>
                    "Reject"
                </button>
                {reason.map(|why| view! { <p class="access-reason" role="note">{why}</p> })}
                {can_override.then(|| view! {
                    <label class="override">
                        <input
                            type="checkbox"
                            prop:checked=move || overriding.get()
                            on:change=move |event| overriding.set(event_target_checked(&event))
                        />
                        <span>"Override as admin (recorded; give a comment)"</span>
                    </label>
                })}
            </div>
        </section>
    }
}
