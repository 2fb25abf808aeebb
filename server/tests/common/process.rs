//! The real `tollgate` binary, started for one test on a free port and killed after it.

#![allow(dead_code)] // shared by the tests and the latency benchmark, each using a part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The first admin's password in every test server.
pub const ADMIN_PASSWORD: &str = "admin-test-password";

pub struct ServerProcess {
    child: Child,
    /// Session cookies of the people signed in so far, by username.
    sessions: std::sync::Mutex<std::collections::HashMap<String, String>>,
    pub base_url: String,
    /// The id this server gave itself in the `replicas` table.
    pub replica: String,
    pub data_dir: PathBuf,
}

/// The repository's sample pipeline.
pub fn sample_pipeline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/review-workflow.yaml")
}

/// A command for the binary with a fresh data directory and the given extra arguments.
pub fn tollgate(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .arg("--bind")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("TOLLGATE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    command
}

impl ServerProcess {
    /// Starts the server and waits until it says where it listens.
    pub fn start(data_dir: &Path, args: &[&str], database_url: Option<&str>) -> ServerProcess {
        ServerProcess::start_with_env(data_dir, args, database_url, &[])
    }

    /// Like [`ServerProcess::start`], with extra variables in the server's environment.
    pub fn start_with_env(
        data_dir: &Path,
        args: &[&str],
        database_url: Option<&str>,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        let mut command = tollgate(data_dir, args);
        command.envs(env.iter().copied());
        if let Some(url) = database_url {
            command.env("DATABASE_URL", url);
        }
        ServerProcess::spawn(command, data_dir)
    }

    /// Like [`ServerProcess::start`] on SQLite, without `TOLLGATE_ADMIN_PASSWORD`: a first
    /// start writes a random admin password to `<data dir>/initial-admin-password`.
    pub fn start_without_admin_password(data_dir: &Path, args: &[&str]) -> ServerProcess {
        let mut command = tollgate(data_dir, args);
        command.env_remove("TOLLGATE_ADMIN_PASSWORD");
        ServerProcess::spawn(command, data_dir)
    }

    /// Starts `command` (from [`tollgate`]) and waits until it says where it listens.
    fn spawn(mut command: Command, data_dir: &Path) -> ServerProcess {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tollgate");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("replica=") {
                    let id = line[at + "replica=".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = sender.send(format!("replica {id}"));
                }
                if let Some(at) = line.find("listening on http://") {
                    let url = line[at + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = sender.send(url);
                }
            }
        });
        let mut replica = String::new();
        let base_url = loop {
            let line = receiver
                .recv_timeout(Duration::from_secs(30))
                .expect("tollgate did not start listening within 30 s");
            match line.strip_prefix("replica ") {
                Some(id) => replica = id.to_string(),
                None => break line,
            }
        };
        ServerProcess {
            sessions: Default::default(),
            child,
            base_url,
            replica,
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// POSTs JSON to an API path as `admin` and returns the status and the JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_as("admin", path, body).await
    }

    /// POSTs JSON as `user`, signing them in first (a user other than `admin` is created
    /// on first use with the operator and approver roles).
    pub async fn post_as(&self, user: &str, path: &str, body: Value) -> (u16, Value) {
        let cookie = self.session(user).await;
        self.send(Some(&cookie), path, body).await
    }

    /// POSTs JSON with no credentials at all.
    pub async fn post_anonymous(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(None, path, body).await
    }

    async fn send(&self, cookie: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.base_url))
            .header("accept", "application/json")
            .json(&body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    /// The session cookie of `user` (`tollgate_session=...`), signing in if needed.
    pub async fn session(&self, user: &str) -> String {
        if let Some(cookie) = self.cached_session(user) {
            return cookie;
        }
        let password = if user == "admin" {
            ADMIN_PASSWORD.to_string()
        } else {
            let password = format!("password-of-{user}");
            let (status, body) = Box::pin(self.post(
                "/api/create_user",
                serde_json::json!({"username": user, "password": password, "roles": ["operator", "approver"]}),
            ))
            .await;
            assert!(
                status == 200 || status == 409,
                "create {user}: {status} {body}"
            );
            password
        };
        let cookie = self.sign_in(user, &password).await.expect("sign in");
        self.sessions
            .lock()
            .expect("sessions")
            .insert(user.to_string(), cookie.clone());
        cookie
    }

    fn cached_session(&self, user: &str) -> Option<String> {
        self.sessions.lock().expect("sessions").get(user).cloned()
    }

    /// Signs in with a password; `Ok(cookie)` or `Err((status, body))`.
    pub async fn sign_in(&self, user: &str, password: &str) -> Result<String, (u16, Value)> {
        let response = reqwest::Client::new()
            .post(format!("{}/api/login", self.base_url))
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
            .await
            .expect("login");
        let status = response.status().as_u16();
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        let text = response.text().await.expect("body");
        match (status, cookie) {
            (200, Some(cookie)) => Ok(cookie),
            _ => Err((
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )),
        }
    }

    /// GETs a path as `admin`.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let cookie = self.session("admin").await;
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.base_url))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}

impl ServerProcess {
    /// Sends a GET with `path` exactly as written (no client-side normalising of `..`
    /// or `%2e`) and returns the status code and the body.
    pub fn raw_get(&self, path: &str) -> (u16, String) {
        let address = self.base_url.trim_start_matches("http://").to_string();
        let cookie = self.cached_session("admin").unwrap_or_default();
        self.raw_request("GET", path, &address, &[("cookie", &cookie)], "")
    }

    /// Sends one HTTP/1.1 request over a plain socket, so the path and the `Host`
    /// header are exactly as given (a client library would normalise the path and write
    /// the URL's host). Returns the status and the body.
    pub fn raw_request(
        &self,
        method: &str,
        path: &str,
        host: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        use std::io::{Read, Write};
        let address = self.base_url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(head.as_bytes()).expect("send");
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        let status = reply
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
        let chunked = head
            .lines()
            .any(|line| line.eq_ignore_ascii_case("transfer-encoding: chunked"));
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, body)
    }
}

impl ServerProcess {
    /// The server's process id (the benchmark reads its memory from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM, as a container runtime does to stop the server.
    pub fn terminate(&self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child's pid; no memory is touched.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }

    /// Waits up to `limit` for the process to exit and returns its exit code.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<i32> {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The payload of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
