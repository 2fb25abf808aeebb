//! Users and API tokens, for admins: who can sign in with which roles and groups, and
//! the tokens scripts use (each secret shown once).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{
    NewToken, TokenView, UserView, create_token, create_user, list_tokens, list_users,
    revoke_token, update_user,
};
use crate::domain::Role;
use crate::ui::{Call, ErrorMessage, format_time, latest, list_view};

#[component]
pub fn UsersPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let users = latest(move || {
        version.track();
        list_users()
    });
    let tokens = latest(move || {
        version.track();
        list_tokens(Some(true))
    });
    let changed = move || version.update(|v| *v += 1);
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Users"</h1>
            </header>
            {move || list_view(
                users.get(),
                "Loading…",
                || view! { <p class="muted">"No users."</p> }.into_any(),
                move |list| view! { <UsersTable users=list on_change=changed/> }.into_any(),
            )}
            <AddUser on_change=changed/>
            <h2>"API tokens"</h2>
            {move || list_view(
                tokens.get(),
                "Loading…",
                || view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                move |list| view! { <TokensTable tokens=list on_change=changed/> }.into_any(),
            )}
            <AddToken on_change=changed/>
            <super::NotificationsPanel/>
        </section>
    }
}

fn role_names(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits a comma-separated field into its non-blank parts.
fn parts(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[component]
fn UsersTable(
    users: Vec<UserView>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let error = RwSignal::new(None);
    let toggle = move |name: String, disable: bool| {
        spawn_local(async move {
            match update_user(name, None, None, None, Some(disable)).await {
                Ok(_) => on_change(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let rows = users
        .into_iter()
        .map(|user| {
            let name = user.username.clone();
            let disabled = user.disabled;
            view! {
                <tr>
                    <td class="mono">{user.username.clone()}</td>
                    <td>{user.display_name.clone()}</td>
                    <td>{role_names(&user.roles)}</td>
                    <td>{user.groups.join(", ")}</td>
                    <td>{if disabled { "disabled" } else { "active" }}</td>
                    <td>
                        <button class="button" on:click=move |_| toggle(name.clone(), !disabled)>
                            {if disabled { "Enable" } else { "Disable" }}
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" aria-label="Users">
            <thead><tr><th>"Username"</th><th>"Name"</th><th>"Roles"</th><th>"Groups"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {move || error.get().map(|error| view! { <ErrorMessage error/> })}
    }
}

#[component]
fn AddUser(on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let display = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let roles = RwSignal::new("approver".to_string());
    let groups = RwSignal::new(String::new());
    let add = Call::new();
    let submit = move || {
        let name = username.get_untracked();
        let display = Some(display.get_untracked()).filter(|d| !d.trim().is_empty());
        let secret = password.get_untracked();
        let role_list = Role::parse_list(&roles.get_untracked());
        let group_list = parts(&groups.get_untracked());
        add.start(async move {
            let role_list = role_list.map_err(crate::api::ApiError::bad_request)?;
            let user =
                create_user(name, secret, display, Some(role_list), Some(group_list)).await?;
            username.set(String::new());
            password.set(String::new());
            on_change();
            Ok::<UserView, crate::api::ApiError>(user)
        });
    };
    view! {
        <form class="inline-form" aria-label="Add user" on:submit=move |event| {
            event.prevent_default();
            submit();
        }>
            <h2>"Add user"</h2>
            <Field label="Username" value=username kind="text"/>
            <Field label="Display name" value=display kind="text"/>
            <Field label="Password" value=password kind="password"/>
            <Field label="Roles (viewer, operator, approver, admin)" value=roles kind="text"/>
            <Field label="Groups (comma-separated)" value=groups kind="text"/>
            <button class="button primary" type="submit">"Add user"</button>
            {move || add.answer().map(|result| match result {
                Ok(user) => view! { <p role="status">{format!("Added {}.", user.username)}</p> }.into_any(),
                Err(error) => view! { <ErrorMessage error/> }.into_any(),
            })}
        </form>
    }
}

#[component]
fn Field(label: &'static str, value: RwSignal<String>, kind: &'static str) -> impl IntoView {
    view! {
        <label>
            <span>{label}</span>
            <input
                type=kind
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
        </label>
    }
}

#[component]
fn TokensTable(
    tokens: Vec<TokenView>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let error = RwSignal::new(None);
    let revoke = move |id: i64| {
        spawn_local(async move {
            match revoke_token(id).await {
                Ok(_) => on_change(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let when = |ms: Option<i64>| ms.map(format_time).unwrap_or_else(|| "—".into());
    let rows = tokens
        .into_iter()
        .map(|token| {
            let id = token.id;
            let live = token.revoked_at_ms.is_none();
            view! {
                <tr>
                    <td>{token.name.clone()}</td>
                    <td class="mono">{token.username.clone()}</td>
                    <td>{format_time(token.created_at_ms)}</td>
                    <td>{when(token.expires_at_ms)}</td>
                    <td>{when(token.last_used_at_ms)}</td>
                    <td>
                        {if live {
                            view! { <button class="button reject" on:click=move |_| revoke(id)>"Revoke"</button> }.into_any()
                        } else {
                            view! { <span class="muted">"revoked"</span> }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" aria-label="API tokens">
            <thead><tr><th>"Name"</th><th>"User"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {move || error.get().map(|error| view! { <ErrorMessage error/> })}
    }
}

#[component]
fn AddToken(on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_string());
    let create = Call::new();
    let submit = move || {
        let token_name = name.get_untracked();
        let for_user = Some(owner.get_untracked()).filter(|o| !o.trim().is_empty());
        let expiry = days.get_untracked().trim().parse::<u32>().ok();
        create.start(async move {
            let created = create_token(token_name, expiry, for_user).await?;
            name.set(String::new());
            on_change();
            Ok::<NewToken, crate::api::ApiError>(created)
        });
    };
    view! {
        <form class="inline-form" aria-label="Create token" on:submit=move |event| {
            event.prevent_default();
            submit();
        }>
            <h2>"Create token"</h2>
            <Field label="Token name" value=name kind="text"/>
            <Field label="For user (blank: you)" value=owner kind="text"/>
            <Field label="Expires in days (blank: never)" value=days kind="text"/>
            <button class="button primary" type="submit">"Create token"</button>
            {move || create.answer().map(|result| match result {
                Ok(created) => view! {
                    <p role="status">
                        "Token " <strong>{created.view.name.clone()}</strong>
                        " (copy it now, it is not shown again): "
                        <code class="token-secret">{created.token.clone()}</code>
                    </p>
                }.into_any(),
                Err(error) => view! { <ErrorMessage error/> }.into_any(),
            })}
        </form>
    }
}
