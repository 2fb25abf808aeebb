//! The shipped `compose.yaml`, read as Compose would (no container engine runs on the
//! build machines): it must carry no fixed database password, and the commands it runs
//! to make and use a generated one must work.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn compose() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compose.yaml");
    let text = std::fs::read_to_string(&path).expect("read compose.yaml");
    serde_saphyr::from_str(&text).expect("compose.yaml is YAML")
}

/// A service's command list joined back into a shell script, `$$` unescaped as
/// Compose does, with the secrets directory moved to `dir`.
fn script(service: &Value, key: &str, dir: &Path) -> String {
    let parts: Vec<&str> = service[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is a list"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let at = parts.iter().position(|p| *p == "-c").expect("sh -c");
    parts[at + 1]
        .replace("$$", "$")
        .replace("/run/tollgate-secrets", &dir.display().to_string())
}

#[test]
fn no_password_is_written_in_the_compose_file() {
    let compose = compose();
    let services = compose["services"].as_object().expect("services");
    for (name, service) in services {
        let env = service["environment"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert!(
            !env.contains_key("POSTGRES_PASSWORD"),
            "{name} sets POSTGRES_PASSWORD"
        );
        for (key, value) in env {
            let value = value.as_str().unwrap_or_default();
            let fixed = value.contains("://tollgate:tollgate@")
                || (key.contains("PASSWORD") && !key.ends_with("_FILE"));
            assert!(!fixed, "{name}: {key}={value}");
        }
    }
    assert_eq!(
        services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"],
        "/run/tollgate-secrets/db-password"
    );
    let mounting: Vec<&str> = services
        .iter()
        .filter(|(_, service)| {
            service["volumes"].as_array().is_some_and(|volumes| {
                volumes
                    .iter()
                    .any(|v| v.as_str().is_some_and(|v| v.starts_with("secrets:")))
            })
        })
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(mounting, ["postgres", "secrets", "tollgate"]);
}

#[test]
fn the_password_is_generated_once_and_reaches_the_server_only() {
    let compose = compose();
    let dir = std::env::temp_dir().join(format!("tollgate-compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let generate = script(&compose["services"]["secrets"], "command", &dir);
    let generated = || {
        let status = Command::new("sh")
            .args(["-c", &generate])
            .status()
            .expect("sh");
        assert!(status.success());
        std::fs::read_to_string(dir.join("db-password")).expect("generated")
    };
    let password = generated();
    assert_eq!(generated(), password, "a second start keeps it");
    assert_eq!(password.len(), 40, "{password}");
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));

    // The server's entrypoint, with `env` standing in for the server.
    let start = script(&compose["services"]["tollgate"], "entrypoint", &dir)
        .replace("exec tollgate", "exec env");
    let out = Command::new("sh")
        .args(["-c", &start, "tollgate"])
        .output()
        .expect("sh");
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(
        env.lines().any(|line| line
            == format!("DATABASE_URL=postgres://tollgate:{password}@postgres:5432/tollgate")),
        "{env}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
