// The client shell: both pages load from the release bundle and show real data.
import { test, expect } from "./fixtures";

test("the runs list loads", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Runs" })).toBeVisible();
  // Other test files may have deployed runs already on this server.
  await expect(page.getByText("No runs yet.").or(page.getByRole("table"))).toBeVisible();
  await expect(page.getByRole("link", { name: "Pipelines" }).first()).toBeVisible();
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
  const row = page.getByRole("row", { name: /Sign the release notes/ });
  await expect(row).toBeVisible({ timeout: 10_000 });
  await expect(row).toContainText("hitl-gate-ask");
  await expect(row).toContainText("0 of 1");
  await expect(row).toContainText("may decide");
  await row.getByRole("link", { name: `Review hitl-gate-ask of run ${run_id}` }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${run_id}$`));
  await expect(page.getByRole("region", { name: "Approval needed" })).toContainText("Sign the release notes");
});
