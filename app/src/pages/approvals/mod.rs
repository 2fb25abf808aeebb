//! The approvals inbox: every gate waiting for a person, across all runs, oldest first.
//! Filter by pipeline and age, select several and decide them with one comment, or move
//! through them with the keyboard (`j`/`k`, `a` approve, `r` reject, each confirmed).

mod batch;

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{PendingGate, pending_gates};
use crate::domain::FieldProblem;
use crate::domain::{Decision, format_duration};
use crate::ui::{
    CommentField, ErrorMessage, FormValues, GateFormFields, area_rel, confirm, is_typing, latest,
    now_ms, use_interval,
};
use batch::{BatchOutcome, Target, decide_all};

/// A gate of the inbox: its run and its id.
type GateKey = (i64, String);

fn key_of(gate: &PendingGate) -> GateKey {
    (gate.run_id, gate.gate.clone())
}

/// The age filter's choices: waiting at least this many seconds.
const AGES: [(i64, &str); 4] = [
    (0, "any age"),
    (60 * 60, "waiting over 1 hour"),
    (24 * 60 * 60, "waiting over 1 day"),
    (7 * 24 * 60 * 60, "waiting over 1 week"),
];

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let tick = use_interval(2000);
    // Bumped after a batch, to show its effect before the next tick.
    let decided = RwSignal::new(0u32);
    let gates = latest(move || {
        tick.track();
        decided.track();
        pending_gates(None)
    });
    let pipeline = RwSignal::new(String::new());
    let min_age_secs = RwSignal::new(0i64);
    let selected = RwSignal::new(BTreeSet::<GateKey>::new());
    let focused = RwSignal::new(0usize);
    let comment = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<BatchOutcome>);
    let busy = RwSignal::new(false);
    // What was entered in the forms of gates with options or inputs, by gate, so a poll
    // that redraws the rows keeps it.
    let forms = RwSignal::new(BTreeMap::<GateKey, FormValues>::new());

    let all = Memo::new(move |_| gates.get().and_then(Result::ok).unwrap_or_default());
    let shown = Memo::new(move |_| {
        let (wanted, age) = (pipeline.get(), min_age_secs.get());
        let now = now_ms();
        all.get()
            .into_iter()
            .filter(|gate| wanted.is_empty() || gate.pipeline == wanted)
            .filter(|gate| (now - gate.activated_at_ms) / 1000 >= age)
            .collect::<Vec<_>>()
    });
    let pipelines = move || {
        let names: BTreeSet<String> = all.get().into_iter().map(|g| g.pipeline).collect();
        names
            .into_iter()
            .map(|name| {
                let (value, chosen) = (name.clone(), name.clone());
                view! { <option value=value prop:selected=move || pipeline.get() == chosen>{name}</option> }
            })
            .collect_view()
    };

    // Each gate with what its form holds (the defaults if nobody touched it).
    let target = move |gate: &PendingGate| {
        let key = key_of(gate);
        let (option, inputs) = forms.with_untracked(|all| {
            all.get(&key)
                .cloned()
                .unwrap_or_else(|| FormValues::of(&gate.form))
                .to_request(&gate.form)
        });
        Target {
            run: key.0,
            gate: key.1,
            option,
            inputs,
        }
    };
    let decide = move |targets: Vec<Target>, decision: Decision| {
        if targets.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        let text = comment.get_untracked();
        leptos::task::spawn_local(async move {
            let result = decide_all(targets, decision, text).await;
            selected.update(|keys| keys.retain(|key| !result.decided.contains(key)));
            if result.refused.is_empty() {
                comment.set(String::new());
            }
            outcome.set(Some(result));
            busy.set(false);
            decided.update(|count| *count += 1);
        });
    };
    let decide_selected = move |decision: Decision| {
        let targets: Vec<Target> = shown.with_untracked(|list| {
            selected.with_untracked(|keys| {
                list.iter()
                    .filter(|gate| keys.contains(&key_of(gate)))
                    .map(target)
                    .collect()
            })
        });
        let verb = verb(decision);
        let count = targets.len();
        if count > 0
            && confirm(&format!(
                "{verb} {count} gate{}?",
                if count == 1 { "" } else { "s" }
            ))
        {
            decide(targets, decision);
        }
    };

    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        if is_typing(&event) || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let count = shown.with_untracked(Vec::len);
        // A decision may have removed the highlighted row: stay within the list.
        focused.update(|at| *at = (*at).min(count.saturating_sub(1)));
        match event.key().as_str() {
            "j" if count > 0 => focused.update(|at| *at = (*at + 1).min(count - 1)),
            "k" => focused.update(|at| *at = at.saturating_sub(1)),
            "a" | "r" => {
                let decision = if event.key() == "a" {
                    Decision::Approve
                } else {
                    Decision::Reject
                };
                let at = focused.get_untracked();
                let Some(one) = shown.with_untracked(|list| list.get(at).map(target)) else {
                    return;
                };
                let question = format!("{} {} of run {}?", verb(decision), one.gate, one.run);
                if confirm(&question) {
                    decide(vec![one], decision);
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());

    let all_shown_selected = move || {
        shown.with(|list| {
            !list.is_empty()
                && selected.with(|keys| list.iter().all(|gate| keys.contains(&key_of(gate))))
        })
    };
    let select_all = move |on: bool| {
        let keys: Vec<GateKey> = shown.with_untracked(|list| list.iter().map(key_of).collect());
        selected.update(|chosen| {
            for key in keys {
                if on {
                    chosen.insert(key);
                } else {
                    chosen.remove(&key);
                }
            }
        });
    };
    let count_selected = move || {
        shown.with(|list| {
            selected.with(|keys| list.iter().filter(|g| keys.contains(&key_of(g))).count())
        })
    };

    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Approvals"</h1>
            </header>
            <div class="inbox-tools">
                <label>
                    "Pipeline "
                    <select on:change=move |event| {
                        pipeline.set(event_target_value(&event));
                        focused.set(0);
                    }>
                        <option value="">"all pipelines"</option>
                        {pipelines}
                    </select>
                </label>
                <label>
                    "Age "
                    <select on:change=move |event| {
                        min_age_secs.set(event_target_value(&event).parse().unwrap_or(0));
                        focused.set(0);
                    }>
                        {AGES
                            .into_iter()
                            .map(|(secs, label)| view! { <option value=secs.to_string()>{label}</option> })
                            .collect_view()}
                    </select>
                </label>
                <CommentField label="Comment for the selected" value=comment/>
                <button
                    class="button approve"
                    disabled=move || busy.get() || count_selected() == 0
                    on:click=move |_| decide_selected(Decision::Approve)
                >
                    {move || format!("Approve selected ({})", count_selected())}
                </button>
                <button
                    class="button reject"
                    disabled=move || busy.get() || count_selected() == 0
                    on:click=move |_| decide_selected(Decision::Reject)
                >
                    {move || format!("Reject selected ({})", count_selected())}
                </button>
            </div>
            <p class="help muted">"Keys: j and k move, a approves, r rejects (each asks first)."</p>
            {move || outcome.get().map(|result| view! { <BatchResult result/> })}
            {move || {
                    match gates.get() {
                        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                        Some(Err(error)) => view! { <ErrorMessage error/> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => view! {
                            <div class="empty"><p>"Nothing is waiting for a decision."</p></div>
                        }
                        .into_any(),
                        Some(Ok(_)) => view! {
                            <GatesTable
                                shown
                                selected
                                focused
                                forms
                                refused_fields=Signal::derive(move || {
                                    outcome.with(|o| o.as_ref().map(|o| o.fields.clone()).unwrap_or_default())
                                })
                                all_selected=Signal::derive(all_shown_selected)
                                on_select_all=select_all
                            />
                        }
                        .into_any(),
                    }
            }}
        </section>
    }
}

fn verb(decision: Decision) -> &'static str {
    match decision {
        Decision::Approve => "Approve",
        Decision::Reject => "Reject",
    }
}

/// What a batch did: each decision on its own, each refusal with its reason.
#[component]
fn BatchResult(result: BatchOutcome) -> impl IntoView {
    let decided = (!result.decided.is_empty()).then(|| {
        let count = result.decided.len();
        let verb = match result.decision {
            Decision::Approve => "Approved",
            Decision::Reject => "Rejected",
        };
        let plural = if count == 1 { "" } else { "s" };
        let names: Vec<String> = result
            .decided
            .iter()
            .map(|(run, gate)| format!("{gate} of run {run}"))
            .collect();
        view! {
            <p class="outcome" role="status">
                {format!("{verb} {count} gate{plural}: {}.", names.join(", "))}
            </p>
        }
    });
    let refused = (!result.refused.is_empty()).then(|| {
        view! {
            <ul class="refusals" role="alert" aria-label="Not decided">
                {result
                    .refused
                    .into_iter()
                    .map(|(gate, why)| view! { <li><span class="mono">{gate}</span>": "{why}</li> })
                    .collect_view()}
            </ul>
        }
    });
    view! {
        {decided}
        {refused}
    }
}

#[component]
fn GatesTable(
    shown: Memo<Vec<PendingGate>>,
    selected: RwSignal<BTreeSet<GateKey>>,
    focused: RwSignal<usize>,
    forms: RwSignal<BTreeMap<GateKey, FormValues>>,
    refused_fields: Signal<Vec<(GateKey, Vec<FieldProblem>)>>,
    all_selected: Signal<bool>,
    on_select_all: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let since = move |ms: i64| format_duration(u64::try_from((now_ms() - ms) / 1000).unwrap_or(0));
    let until = move |ms: i64| format_duration(u64::try_from((ms - now_ms()) / 1000).unwrap_or(0));
    let rows = move || {
        shown
            .get()
            .into_iter()
            .enumerate()
            .map(|(at, gate)| {
                let key = key_of(&gate);
                let href = format!("/runs/{}/gates/{}", gate.run_id, gate.gate);
                let approvals = format!(
                    "{} of {}{}",
                    gate.approvals.len(),
                    gate.approvals_required.max(1),
                    gate.environment
                        .as_deref()
                        .map(|name| format!(" · {name}"))
                        .unwrap_or_default()
                );
                // The same words the banner and the server's 403 use.
                let you = if gate.your_access.may_approve {
                    "may decide".to_string()
                } else {
                    gate.your_access.reason.clone().unwrap_or_default()
                };
                let checked = {
                    let key = key.clone();
                    move || selected.with(|keys| keys.contains(&key))
                };
                let toggle = move |event: leptos::ev::Event| {
                    let on = event_target_checked(&event);
                    let key = key.clone();
                    selected.update(|keys| {
                        if on {
                            keys.insert(key);
                        } else {
                            keys.remove(&key);
                        }
                    });
                };
                let label = format!("Select {} of run {}", gate.gate, gate.run_id);
                let form = (!gate.form.is_empty()).then(|| {
                    view! { <InboxForm key=key_of(&gate) form=gate.form.clone() forms refused_fields/> }
                });
                view! {
                    <tr class:focused=move || focused.get() == at>
                        <td><input type="checkbox" aria-label=label prop:checked=checked on:change=toggle/></td>
                        <td class="mono">{gate.gate.clone()}</td>
                        <td>{gate.message.clone()}</td>
                        <td>{format!("{} #{}", gate.pipeline, gate.run_id)}</td>
                        <td>{since(gate.activated_at_ms)}</td>
                        <td>{until(gate.deadline_at_ms)}</td>
                        <td>{approvals}</td>
                        <td class="muted">{you}</td>
                        <td>
                            <A href=href attr:rel=area_rel("/runs/") attr:aria-label=format!("Review {} of run {}", gate.gate, gate.run_id)>
                                "Review"
                            </A>
                        </td>
                    </tr>
                    {form}
                }
            })
            .collect_view()
    };
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th>
                        <input
                            type="checkbox"
                            aria-label="Select every gate shown"
                            prop:checked=move || all_selected.get()
                            on:change=move |event| on_select_all(event_target_checked(&event))
                        />
                    </th>
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
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The form of a gate with options or inputs, under its row: what is entered here goes
/// with the gate when it is approved from the inbox.
#[component]
fn InboxForm(
    key: GateKey,
    form: crate::domain::GateForm,
    forms: RwSignal<BTreeMap<GateKey, FormValues>>,
    refused_fields: Signal<Vec<(GateKey, Vec<FieldProblem>)>>,
) -> impl IntoView {
    let entered = forms
        .with_untracked(|all| all.get(&key).cloned())
        .unwrap_or_else(|| FormValues::of(&form));
    let values = RwSignal::new(entered);
    let kept = key.clone();
    Effect::new(move |_| {
        let now = values.get();
        forms.update_untracked(|all| {
            all.insert(kept.clone(), now);
        });
    });
    let problems = Signal::derive(move || {
        refused_fields.with(|all| {
            all.iter()
                .find(|(gate, _)| *gate == key)
                .map(|(_, fields)| fields.clone())
                .unwrap_or_default()
        })
    });
    view! {
        <tr class="gate-form-row">
            <td></td>
            <td colspan="8"><GateFormFields form values problems/></td>
        </tr>
    }
}
