//! `tollgate user ...`, `tollgate token ...` and `tollgate env ...`: account and
//! environment chores for operators, done on the store directly (the same `DATABASE_URL` or data directory as the server), so they work
//! before the first sign-in, when every admin is locked out, and from scripts.

use std::io::BufRead;

use app::domain::Role;
use app::domain::environment::EnvironmentRules;
use clap::Subcommand;

use crate::auth::{rules, secrets};
use crate::clock::now_ms;
use crate::config::Config;
use crate::store::{AccountEvent, NewUser, Store, UserChange};

/// Who the audit trail names for what these commands do.
const CLI_ACTOR: &str = "cli";

#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Add, change or list accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Create API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Set, list or delete environments (approval rules gates may name).
    #[command(subcommand)]
    Env(EnvCommand),
    /// Writes `NAME.gz` and `NAME.br` beside each file of the built web client (a build
    /// step: `scripts/build.sh` runs it on `dist/`), so it is served compressed.
    Precompress {
        /// The folder, e.g. `dist`.
        dir: std::path::PathBuf,
    },
    #[command(flatten)]
    Remote(crate::client::RemoteCommand),
}

#[derive(Clone, Debug, Subcommand)]
pub enum UserCommand {
    /// Adds an account. The password is read from standard input (one line) with
    /// `--password-stdin`, else a random one is printed.
    Add {
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Comma-separated: viewer, operator, approver, admin.
        #[arg(long, default_value = "viewer")]
        roles: String,
        /// Comma-separated group names.
        #[arg(long, default_value = "")]
        groups: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sets a new password (ends the account's sessions); read from standard input with
    /// `--password-stdin`, else a random one is printed.
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disables an account: it can no longer sign in, its sessions and tokens stop.
    Disable { username: String },
    /// Enables a disabled account again.
    Enable { username: String },
    /// Lists the accounts.
    List,
}

#[derive(Clone, Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates an API token for a user and prints its secret (shown only this once).
    Create {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[derive(Clone, Debug, Subcommand)]
pub enum EnvCommand {
    /// Creates or replaces an environment's rules, given as JSON, e.g.
    /// `'{"approvers": ["ana", "group:sre"], "approvals": 2}'`.
    Set { name: String, rules: String },
    /// Lists the environments, one per line: the name, then the rules as JSON.
    List,
    /// Deletes an environment.
    Delete { name: String },
}

/// Runs one command and returns its exit code; an error is printed as one line saying
/// what to fix.
pub async fn run(config: &Config, command: Command) -> i32 {
    let result = match command {
        Command::Remote(remote) => return crate::client::run(remote).await,
        // A build step: it needs no store.
        Command::Precompress { dir } => crate::precompress::run(&dir),
        command => on_store(config, command).await,
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("tollgate: {message}");
            1
        }
    }
}

/// A command that opens the store, acts on it and closes it.
async fn on_store(config: &Config, command: Command) -> Result<(), String> {
    let store = Store::open(config.postgres_url()?, &config.data_dir)
        .await
        .map_err(|err| format!("cannot open the store: {err}"))?;
    let result = match command {
        Command::User(command) => user(&store, command).await,
        Command::Env(command) => environment(&store, command).await,
        Command::Token(TokenCommand::Create {
            user,
            name,
            expires_in_days,
        }) => create_token(&store, &user, &name, expires_in_days).await,
        // Run without the store (see `run`).
        Command::Precompress { .. } | Command::Remote(_) => Ok(()),
    };
    store.close().await;
    result
}

async fn user(store: &Store, command: UserCommand) -> Result<(), String> {
    let failed = |err: crate::store::StoreError| err.to_string();
    match command {
        UserCommand::Add {
            username,
            display_name,
            roles,
            groups,
            password_stdin,
        } => {
            rules::check_username(&username)?;
            let roles = Role::parse_list(&roles)?;
            let groups: Vec<String> = groups
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect();
            rules::check_groups(&groups)?;
            let (password, shown) = password(password_stdin)?;
            let hash = secrets::hash_password(&password)?;
            let display = display_name.unwrap_or_else(|| username.clone());
            let new = NewUser {
                username: &username,
                display_name: &display,
                password_hash: Some(&hash),
                roles: &roles,
            };
            store.create_user(new, now_ms()).await.map_err(failed)?;
            let change = UserChange {
                groups: Some(groups),
                ..UserChange::default()
            };
            store
                .update_user(&username, &change, now_ms())
                .await
                .map_err(failed)?;
            audit(
                store,
                "user_created",
                format!("`{username}` with roles {}", Role::join(&roles)),
            )
            .await;
            println!("added {username} ({})", Role::join(&roles));
            if shown {
                println!("password: {password}");
            }
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let (password, shown) = password(password_stdin)?;
            let hash = secrets::hash_password(&password)?;
            store
                .set_password(&username, &hash, now_ms())
                .await
                .map_err(failed)?;
            audit(
                store,
                "password_changed",
                format!("of `{username}`; its sessions and tokens ended"),
            )
            .await;
            println!("password of {username} changed; its sessions and tokens ended");
            if shown {
                println!("password: {password}");
            }
        }
        UserCommand::Disable { username } => {
            set_disabled(store, &username, true).await?;
            println!("{username} is disabled");
        }
        UserCommand::Enable { username } => {
            set_disabled(store, &username, false).await?;
            println!("{username} is enabled");
        }
        UserCommand::List => {
            for user in store.list_users().await.map_err(failed)? {
                let groups = store.groups_of(&user.username).await.map_err(failed)?;
                let state = if user.disabled != 0 {
                    "disabled"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    user.username,
                    user.display_name,
                    user.roles,
                    groups.join(",")
                );
            }
        }
    }
    Ok(())
}

async fn set_disabled(store: &Store, username: &str, disabled: bool) -> Result<(), String> {
    let change = UserChange {
        disabled: Some(disabled),
        ..UserChange::default()
    };
    store
        .update_user(username, &change, now_ms())
        .await
        .map_err(|err| err.to_string())?;
    let what = if disabled {
        "disabled; its sessions and tokens ended"
    } else {
        "enabled"
    };
    audit(store, "user_changed", format!("`{username}`: {what}")).await;
    Ok(())
}

async fn create_token(
    store: &Store,
    user: &str,
    name: &str,
    expires_in_days: Option<u32>,
) -> Result<(), String> {
    if store.user(user).await.map_err(|e| e.to_string())?.is_none() {
        return Err(format!(
            "there is no user `{user}`: add it with `tollgate user add {user}`"
        ));
    }
    let (name, expires_at) = rules::token_terms(name, expires_in_days, now_ms())?;
    let name = name.as_str();
    let now = now_ms();
    let token = secrets::new_token();
    let record = store
        .create_token(user, name, &secrets::digest(&token), now, expires_at)
        .await
        .map_err(|e| e.to_string())?;
    audit(
        store,
        "token_created",
        format!("`{name}` (id {}) for `{user}`", record.id),
    )
    .await;
    println!("{token}");
    Ok(())
}

async fn environment(store: &Store, command: EnvCommand) -> Result<(), String> {
    let failed = |err: crate::store::StoreError| err.to_string();
    let parse = |name: &str, text: &str| {
        serde_json::from_str::<EnvironmentRules>(text).map_err(|err| {
            format!("the rules of environment `{name}` are not valid JSON rules: {err}")
        })
    };
    match command {
        EnvCommand::Set { name, rules } => {
            let rules = parse(&name, &rules)?;
            rules.check_as(&name)?;
            let before = match store.environment(&name).await.map_err(failed)? {
                Some(record) => Some(parse(&name, &record.rules)?),
                None => None,
            };
            let text = serde_json::to_string(&rules).map_err(|err| err.to_string())?;
            store
                .save_environment(&name, &text, CLI_ACTOR, now_ms())
                .await
                .map_err(failed)?;
            let detail = format!("`{name}`: {}", rules.changes_from(before.as_ref()));
            audit(store, "environment_saved", detail.clone()).await;
            println!("environment {detail}");
        }
        EnvCommand::List => {
            for record in store.environments().await.map_err(failed)? {
                println!("{}\t{}", record.name, record.rules);
            }
        }
        EnvCommand::Delete { name } => {
            if !store.delete_environment(&name).await.map_err(failed)? {
                return Err(format!("there is no environment `{name}`"));
            }
            audit(store, "environment_deleted", format!("`{name}`")).await;
            println!("environment `{name}` deleted");
        }
    }
    Ok(())
}

/// The password to set: one line from standard input, or a random one to show.
fn password(from_stdin: bool) -> Result<(String, bool), String> {
    if !from_stdin {
        return Ok((secrets::new_password(), true));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|err| format!("cannot read the password from standard input: {err}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    secrets::check_password(&password)?;
    Ok((password, false))
}

async fn audit(store: &Store, kind: &str, detail: String) {
    let event = AccountEvent {
        run: None,
        kind,
        actor: Some(CLI_ACTOR),
        detail: Some(detail),
    };
    if let Err(error) = store.record_event(event, now_ms()).await {
        eprintln!("tollgate: could not record the event in the audit trail: {error}");
    }
}
