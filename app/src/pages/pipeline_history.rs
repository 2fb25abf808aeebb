//! A saved pipeline's versions (who saved each, when, its spec's digest) and, for the
//! one picked, the lines of YAML that changed since the version before it.

use leptos::prelude::*;

use crate::api::{DiffLine, PipelineVersion, pipeline_diff, pipeline_history};
use crate::ui::{ErrorMessage, format_time, latest};

#[component]
pub fn PipelineHistory(name: String) -> impl IntoView {
    let history = {
        let name = name.clone();
        latest(move || pipeline_history(name.clone()))
    };
    let (compared, set_compared) = signal(None::<i64>);
    let diff = latest(move || {
        let name = name.clone();
        let to = compared.get();
        async move {
            match to {
                Some(to) => Some(pipeline_diff(name, to - 1, to).await),
                None => None,
            }
        }
    });
    view! {
        <article class="panel" aria-label="Pipeline history">
            <h2>"History"</h2>
            {move || match history.get() {
                None => view! { <p class="muted">"Loading the history…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorMessage error/> }.into_any(),
                Some(Ok(versions)) => {
                    view! { <VersionsTable versions on_compare=set_compared/> }.into_any()
                }
            }}
            {move || {
                diff.get()
                    .flatten()
                    .map(|answer| match answer {
                        Ok(lines) => view! { <Diff lines to=compared.get().unwrap_or(0)/> }.into_any(),
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                    })
            }}
        </article>
    }
}

#[component]
fn VersionsTable(
    versions: Vec<PipelineVersion>,
    on_compare: WriteSignal<Option<i64>>,
) -> impl IntoView {
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th>"Version"</th>
                    <th>"Saved by"</th>
                    <th>"Saved"</th>
                    <th>"SHA-256"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {versions
                    .into_iter()
                    .map(|version| {
                        let number = version.version;
                        let digest = version
                            .spec_sha256
                            .as_deref()
                            .map(|digest| digest.chars().take(12).collect::<String>())
                            .unwrap_or_else(|| "-".to_string());
                        view! {
                            <tr>
                                <td>{format!("v{number}")}</td>
                                <td>{version.saved_by.unwrap_or_else(|| "a pipeline file".to_string())}</td>
                                <td>{format_time(version.saved_at_ms)}</td>
                                <td>
                                    <code title=version.spec_sha256.clone().unwrap_or_default()>
                                        {digest}
                                    </code>
                                </td>
                                <td class="actions">
                                    {(number > 1)
                                        .then(|| {
                                            view! {
                                                <button
                                                    class="button"
                                                    aria-label=format!("Changes in v{number}")
                                                    on:click=move |_| on_compare.set(Some(number))
                                                >
                                                    {format!("Changes since v{}", number - 1)}
                                                </button>
                                            }
                                        })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// The changed lines in red and green, the rest plain.
#[component]
fn Diff(lines: Vec<DiffLine>, to: i64) -> impl IntoView {
    view! {
        <h3>{format!("v{} to v{to}", to - 1)}</h3>
        <pre class="code diff" aria-label="Changes">
            {lines
                .into_iter()
                .map(|line| {
                    let class = match line.change {
                        '+' => "diff-added",
                        '-' => "diff-removed",
                        _ => "diff-same",
                    };
                    view! { <span class=class>{format!("{} {}\n", line.change, line.text)}</span> }
                })
                .collect_view()}
        </pre>
    }
}
