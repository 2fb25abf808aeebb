// The client shell: both pages load from the release bundle and show real data.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ADMIN_PASSWORD, signIn, test, expect } from "./fixtures";
import { freePort } from "./free-port";

const root = resolve(__dirname, "..", "..");
const binary = process.env.TOLLGATE_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "debug", "tollgate");
const FRESH_ADMIN_PASSWORD = "fresh-admin-password";

/// A Tollgate server of the test's own on a new, empty SQLite data directory.
async function startFreshServer(): Promise<{ base: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "tollgate-e2e-fresh-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(binary, ["--bind", `127.0.0.1:${port}`, "--data-dir", dataDir, "--dist", join(root, "dist")], {
    env: { ...process.env, DATABASE_URL: "", TOLLGATE_ADMIN_PASSWORD: FRESH_ADMIN_PASSWORD, RUST_LOG: "error" },
    stdio: "ignore",
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async () => {
    child.kill("SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await expect
      .poll(async () => (await fetch(`${base}/healthz`).catch(() => null))?.status, { timeout: 30_000 })
      .toBe(200);
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, stop };
}

test("the runs list shows a deployed run in its row", async ({ page, request }) => {
  const response = await request.post("/api/deploy_pipeline", {
    data: { spec: "name: listed\njobs:\n  - {id: only, run: 'true'}\n" },
    headers: { accept: "application/json" },
  });
  expect(response.status(), await response.text()).toBe(200);
  const { run_id } = await response.json();
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Runs" })).toBeVisible();
  const table = page.getByRole("table");
  await expect(table).toBeVisible();
  await expect(page.getByText("No runs yet.")).toBeHidden();
  const row = table.getByRole("row").filter({ has: page.getByRole("link", { name: `#${run_id}`, exact: true }) });
  await expect(row).toHaveCount(1);
  const cells = row.getByRole("cell");
  await expect(cells.nth(0)).toHaveText("listed");
  await expect(cells.nth(1)).toHaveText(`#${run_id}`);
  // The list polls by itself: the run is shown as it finishes.
  await expect(cells.nth(2)).toHaveText("COMPLETED", { timeout: 15_000 });
  await expect(cells.nth(3)).toHaveText("1/1");
  await row.getByRole("link", { name: "listed", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${run_id}$`));
});

test("the runs list of a store with no runs says so", async ({ page }) => {
  // The shared server has runs from other tests: this one starts its own, on an empty
  // SQLite data directory, and stops it at the end.
  const server = await startFreshServer();
  try {
    const signedIn = await page.request.post(`${server.base}/api/login`, {
      data: { username: "admin", password: FRESH_ADMIN_PASSWORD },
    });
    expect(signedIn.status(), await signedIn.text()).toBe(200);
    await page.goto(`${server.base}/`);
    await expect(page.getByRole("heading", { name: "Runs" })).toBeVisible();
    await expect(page.getByText("No runs yet.")).toBeVisible();
    await expect(page.getByRole("table")).toHaveCount(0);
    const pipelines = page.locator(".empty").getByRole("link", { name: "Pipelines" });
    await expect(pipelines).toBeVisible();
    await pipelines.click();
    await expect(page).toHaveURL(/\/pipelines$/);
  } finally {
    // The page polls its server (the runs list, the nav's count): leave it before the
    // server goes, or a poll meeting a closed port is a browser error.
    await page.goto("about:blank");
    await server.stop();
  }
});

test("the pipelines page lists the sample pipeline and shows its YAML", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("navigation").getByRole("link", { name: "Pipelines" }).click();
  await expect(page).toHaveURL(/\/pipelines$/);
  const row = page.getByRole("row", { name: /review-workflow/ });
  await expect(row).toBeVisible();
  await expect(row.getByText("HITL")).toBeVisible();
  await expect(row.getByRole("cell", { name: "3", exact: true })).toBeVisible();

  await row.getByRole("button", { name: "View", exact: true }).click();
  const definition = page.getByRole("article", { name: "Pipeline definition" });
  await expect(definition).toContainText("Review data quality report before training begins");
  await expect(definition).toContainText("depends_on");
});

test("a deep link opens the app and an unknown page says so", async ({ page }) => {
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await page.getByRole("link", { name: "Go to the runs list" }).click();
  await expect(page.getByRole("heading", { name: "Runs" })).toBeVisible();
});

test("a deployed run is listed and waits at its gate", async ({ page, request }) => {
  const response = await request.post("/api/deploy_pipeline", {
    data: { name: "review-workflow" },
    headers: { accept: "application/json" },
  });
  expect(response.status()).toBe(200);
  await page.goto("/");
  const row = page.getByRole("row", { name: /review-workflow/ }).first();
  await expect(row).toBeVisible();
  // preprocess runs for about two seconds, then the gate waits; the list polls by itself.
  await expect(row.getByText("1 gate waiting")).toBeVisible({ timeout: 15_000 });
  await expect(row.getByText("1/4")).toBeVisible();
});

test("the approvals inbox lists waiting gates across runs", async ({ page, request }) => {
  const response = await request.post("/api/deploy_pipeline", {
    data: { spec: "name: inbox\njobs:\n  - {id: ask, run: echo ask, gate: {message: Sign the release notes}}\n" },
    headers: { accept: "application/json" },
  });
  const { run_id } = await response.json();
  await page.goto("/approvals");
  const row = page.getByRole("row", { name: new RegExp(`of run ${run_id} .*Sign the release notes`) });
  await expect(row).toBeVisible({ timeout: 10_000 });
  await expect(row).toContainText("hitl-gate-ask");
  await expect(row).toContainText("0 of 1");
  await expect(row).toContainText("may decide");
  await row.getByRole("link", { name: `Review hitl-gate-ask of run ${run_id}` }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${run_id}/gates/hitl-gate-ask$`));
  await expect(page.getByRole("region", { name: "Approval needed" })).toContainText("Sign the release notes");
});

test("each area of the UI downloads its own bundle, and the nav moves between them", async ({ page }) => {
  // An admin, whose nav also has Users.
  await signIn(page.request, "admin", ADMIN_PASSWORD);
  // Which wasm bundles the browser fetched, by file name.
  const bundles: string[] = [];
  page.on("request", (request) => {
    const name = new URL(request.url()).pathname.split("/").pop() ?? "";
    if (name.endsWith(".wasm")) bundles.push(name.replace(/-[0-9a-f]+_bg\.wasm$/, ""));
  });
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Runs" })).toBeVisible();
  expect(bundles).toEqual(["frontend"]);

  const nav = page.getByRole("navigation");
  const heading = (name: string) => page.getByRole("heading", { name, exact: true });
  for (const [link, shown, bundle] of [
    ["Constructor", page.getByRole("application", { name: "Pipeline canvas" }), "constructor"],
    ["Approvals", heading("Approvals"), "approvals"],
    ["Pipelines", heading("Pipelines"), "manage"],
    ["Users", heading("Users"), "manage"],
    ["Runs", heading("Runs"), "frontend"],
  ] as const) {
    await nav.getByRole("link", { name: link }).click();
    await expect(shown).toBeVisible();
    expect(bundles.at(-1), `${link} is drawn by the ${bundle} bundle`).toBe(bundle);
  }
  // Pipelines to Users stays in one bundle: the router moved without a new download.
  expect(bundles).toEqual(["frontend", "constructor", "approvals", "manage", "frontend"]);
});
