//! The Workspace Files panel, and the preview overlay the banner opens.

use leptos::prelude::*;

use super::RunContext;
use crate::api::{WorkspaceFile, list_files};
use crate::ui::{format_bytes, format_time};

/// A file to show in the preview overlay.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewTarget {
    pub run_id: i64,
    pub path: String,
}

#[component]
pub fn FilesPanel() -> impl IntoView {
    let context = expect_context::<RunContext>();
    let run_id = context.run_id;
    let files = RwSignal::new(Vec::<WorkspaceFile>::new());
    let filter = RwSignal::new(String::new());
    // Poll while the run goes on, and once more after it finished.
    let last_seen_finished = RwSignal::new(false);
    Effect::new(move |_| {
        context.tick.track();
        let finished = context.finished();
        if last_seen_finished.get_untracked() {
            return;
        }
        last_seen_finished.set(finished);
        leptos::task::spawn_local(async move {
            if let Ok(listed) = list_files(run_id).await
                && files.with_untracked(|known| *known != listed)
            {
                files.set(listed);
            }
        });
    });
    let shown = move || {
        let needle = filter.get().to_lowercase();
        files
            .get()
            .into_iter()
            .filter(|file| needle.is_empty() || file.path.to_lowercase().contains(&needle))
            .collect::<Vec<_>>()
    };
    let empty = Memo::new(move |_| files.with(Vec::is_empty));
    view! {
        <section class="panel files-panel" aria-label="Workspace Files">
            <header class="files-header">
                <h2>"Workspace Files"</h2>
                <input
                    type="search"
                    placeholder="Filter files"
                    aria-label="Filter files"
                    prop:value=move || filter.get()
                    on:input=move |event| filter.set(event_target_value(&event))
                />
            </header>
            {move || {
                if empty.get() {
                    view! { <p class="muted">"No files yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="table">
                            <thead>
                                <tr>
                                    <th>"Path"</th>
                                    <th>"Size"</th>
                                    <th>"Modified"</th>
                                    <th>"Job"</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>
                                <For
                                    each=shown
                                    key=|file| (file.path.clone(), file.size, file.modified_at_ms, file.written_by.clone())
                                    let:file
                                >
                                    <FileRow run_id file/>
                                </For>
                            </tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// A text file shown over the page, with a download link beside it.
#[component]
pub fn FilePreview(target: RwSignal<Option<PreviewTarget>>) -> impl IntoView {
    move || {
        target.get().map(|file| {
            let url = format!("/files/{}/{}", file.run_id, file.path);
            view! {
                <div class="overlay" role="dialog" aria-modal="true" aria-label=format!("Preview of {}", file.path)>
                    <div class="overlay-box">
                        <header class="overlay-header">
                            <strong class="mono">{file.path.clone()}</strong>
                            <a class="button small" href=url.clone() download>"Download"</a>
                            <button class="button small" aria-label="Close the preview" on:click=move |_| target.set(None)>
                                "×"
                            </button>
                        </header>
                        <iframe class="preview" title=file.path.clone() src=format!("{url}?inline=1")></iframe>
                    </div>
                </div>
            }
        })
    }
}

#[component]
fn FileRow(run_id: i64, file: WorkspaceFile) -> impl IntoView {
    let href = format!("/files/{run_id}/{}", file.path);
    view! {
        <tr>
            <td class="mono">{file.path.clone()}</td>
            <td>{format_bytes(file.size)}</td>
            <td>{format_time(file.modified_at_ms)}</td>
            <td>{file.written_by.clone().unwrap_or_else(|| "—".into())}</td>
            <td>
                <a href=href download aria-label=format!("Download {}", file.path)>
                    "Download"
                </a>
            </td>
        </tr>
    }
}
