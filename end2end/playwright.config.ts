// Playwright drives Debian's Chromium (never a downloaded browser) against a real
// Tollgate server started for this run on a fresh SQLite data directory.
import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "..");
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, "target");
const binary = process.env.TOLLGATE_BIN ?? join(targetDir, "debug", "tollgate");
const port = Number(process.env.TOLLGATE_E2E_PORT ?? 3100);
const dataDir = mkdtempSync(join(tmpdir(), "tollgate-e2e-"));

export default defineConfig({
  testDir: "tests",
  // Benchmarks print figures and assert no time: only with TOLLGATE_E2E_BENCH=1
  // (`TOLLGATE_E2E_BENCH=1 npx playwright test bench`).
  testIgnore: process.env.TOLLGATE_E2E_BENCH ? [] : ["**/bench.spec.ts"],
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: [
      binary,
      `--bind 127.0.0.1:${port}`,
      `--data-dir ${dataDir}`,
      `--dist ${join(root, "dist")}`,
      `--pipeline ${join(root, "server/pipelines/review-workflow.yaml")}`,
    ].join(" "),
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      RUST_LOG: "warn",
      DATABASE_URL: process.env.TOLLGATE_E2E_DATABASE_URL ?? "",
      // fixtures.ts signs in with it
      TOLLGATE_ADMIN_PASSWORD: "e2e-admin-password",
    },
  },
});
