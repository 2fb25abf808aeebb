// The database stops while a person looks at the approvals inbox: one banner says so,
// instead of an empty list that would claim nothing waits, and it goes away by itself
// once the database answers again. This test runs a Tollgate server of its own on a
// Postgres server of its own (initdb and pg_ctl on a spare port), so stopping the
// database disturbs no other test.
import { test, expect } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./free-port";

const root = resolve(__dirname, "..", "..");
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, "target");
const binary = process.env.TOLLGATE_BIN ?? join(targetDir, "debug", "tollgate");
const ADMIN_PASSWORD = "outage-admin-password";
const BANNER = "The database does not answer; nothing is lost, retrying.";

/// Postgres refuses to run as root: as root, its programs run as `postgres`.
class PrivateCluster {
  readonly dir = mkdtempSync(join(tmpdir(), "tollgate-e2e-pg-"));
  private readonly bin: string;

  constructor(readonly port: number) {
    const versions = readdirSync("/usr/lib/postgresql").sort();
    this.bin = join("/usr/lib/postgresql", versions[versions.length - 1], "bin");
    if (process.getuid?.() === 0) {
      const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
      chownSync(this.dir, id("-u"), id("-g"));
    }
    this.run("initdb", ["-D", this.data, "-A", "trust", "-U", "postgres", "--no-sync"]);
    this.start();
  }

  get data() {
    return join(this.dir, "data");
  }

  get url() {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  start() {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.run("pg_ctl", ["-D", this.data, "-o", options, "-l", join(this.dir, "log"), "-w", "start"]);
  }

  stop(mode = "fast") {
    this.run("pg_ctl", ["-D", this.data, "-m", mode, "-w", "stop"]);
  }

  private run(program: string, args: string[]) {
    const path = join(this.bin, program);
    const [command, all] =
      process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", path, ...args]] : [path, args];
    execFileSync(command, all, { cwd: "/", stdio: "pipe" });
  }
}

let cluster: PrivateCluster;
let server: ChildProcess;
let base: string;
const dataDir = mkdtempSync(join(tmpdir(), "tollgate-e2e-outage-"));

test.beforeAll(async () => {
  cluster = new PrivateCluster(await freePort());
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(
    binary,
    ["--bind", `127.0.0.1:${port}`, "--data-dir", dataDir, "--dist", join(root, "dist")],
    {
      env: {
        ...process.env,
        DATABASE_URL: cluster.url,
        TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        RUST_LOG: "error",
      },
      stdio: "ignore",
    },
  );
  await expect
    .poll(async () => (await fetch(`${base}/healthz`).catch(() => null))?.status, { timeout: 60_000 })
    .toBe(200);
});

test.afterAll(() => {
  server?.kill("SIGKILL");
  try {
    cluster?.stop("immediate");
  } catch {
    // already stopped
  }
  rmSync(cluster.dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test("a database outage shows one banner instead of an empty inbox, then it goes", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    // The 503s while the database is down are the page's to show, and it does.
    const answered = /^Failed to load resource: the server responded with a status of (4\d\d|503)/;
    if (message.type() === "error" && !answered.test(message.text())) errors.push(message.text());
  });
  const signedIn = await page.request.post(`${base}/api/login`, {
    data: { username: "admin", password: ADMIN_PASSWORD },
  });
  expect(signedIn.status(), await signedIn.text()).toBe(200);
  await page.goto(`${base}/approvals`);
  const empty = page.getByText("Nothing is waiting for a decision.");
  await expect(empty).toBeVisible();
  const banner = page.locator(".database-banner");
  await expect(banner).toBeHidden();

  cluster.stop();
  // A request waits for the pool's acquire timeout (10 s) before it gives up.
  await expect(banner).toHaveText(BANNER, { timeout: 40_000 });
  await expect(empty).toBeHidden();

  cluster.start();
  await expect(banner).toBeHidden({ timeout: 30_000 });
  await expect(empty).toBeVisible({ timeout: 30_000 });
  expect(errors, "the browser reported errors").toEqual([]);
});
