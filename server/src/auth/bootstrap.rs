//! The first start: an empty store gets the `admin` account, so there is always someone
//! who can sign in and create the others.

use std::io::Write;
use std::path::Path;

use app::domain::Role;

use super::secrets;
use crate::clock::now_ms;
use crate::store::{AccountEvent, NewUser, Store, StoreError};

/// The file the generated first password is written to, in the data directory.
pub const INITIAL_PASSWORD_FILE: &str = "initial-admin-password";

/// Creates `admin` when the store has no user. Its password is `preset`
/// (`TOLLGATE_ADMIN_PASSWORD`) or a random one written once to
/// `<data dir>/initial-admin-password` (mode 0600). Several replicas starting at once
/// create it once: the losers see the name taken and do nothing.
pub async fn ensure_first_admin(
    store: &Store,
    data_dir: &Path,
    preset: Option<&str>,
) -> Result<(), String> {
    let failed = |err: StoreError| format!("cannot create the first user: {err}");
    if store.count_users().await.map_err(failed)? > 0 {
        return Ok(());
    }
    let generated = preset.is_none();
    let password = match preset {
        Some(password) => {
            secrets::check_password(password)
                .map_err(|why| format!("TOLLGATE_ADMIN_PASSWORD: {why}"))?;
            password.to_string()
        }
        None => secrets::new_password(),
    };
    let hash = super::hashing::hash(&password)
        .await
        .map_err(|err| format!("cannot hash the first password: {err}"))??;
    let user = NewUser {
        username: "admin",
        display_name: "Administrator",
        password_hash: Some(&hash),
        roles: &[Role::Admin],
    };
    // The password is on disk before the user exists, so a crash in between cannot leave
    // an admin whose password nobody knows. It goes to a file of this process first and
    // is renamed once the user is created: replicas sharing a data directory and racing
    // to create `admin` cannot overwrite the winner's password.
    let path = data_dir.join(INITIAL_PASSWORD_FILE);
    let pending = data_dir.join(format!("{INITIAL_PASSWORD_FILE}.{}", std::process::id()));
    if generated {
        write_private(&pending, &password).map_err(|err| {
            format!(
                "cannot write the first admin password to {}: {err}",
                pending.display()
            )
        })?;
    }
    match store.create_user(user, now_ms()).await {
        Ok(()) => {}
        Err(StoreError::UserExists(_)) => {
            let _ = std::fs::remove_file(&pending);
            return Ok(());
        }
        Err(other) => return Err(failed(other)),
    }
    if generated {
        std::fs::rename(&pending, &path).map_err(|err| {
            format!(
                "the first admin password is in {}; it could not be renamed to {}: {err}",
                pending.display(),
                path.display()
            )
        })?;
    }
    let event = AccountEvent {
        run: None,
        kind: "user_created",
        actor: None,
        detail: Some("`admin` (first start)".into()),
    };
    if let Err(error) = store.record_event(event, now_ms()).await {
        tracing::warn!(%error, "could not record the first user's creation");
    }
    if generated {
        tracing::warn!(
            file = %path.display(),
            "created the first user `admin`; its password is in {} (sign in, then change it)",
            path.display()
        );
    } else {
        tracing::info!(
            "created the first user `admin` with the password in TOLLGATE_ADMIN_PASSWORD"
        );
    }
    Ok(())
}

/// Writes `text` to a new file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(file, "{text}")
}
