// The Pipelines page: a saved pipeline's versions, what changed between two, and the
// version a run ran.
import { test, expect } from "./fixtures";

test("a pipeline's history shows who saved each version and what changed", async ({ page, request }) => {
  const name = `history-${Date.now()}`;
  for (const word of ["one", "two"]) {
    const saved = await request.post("/api/save_pipeline", {
      data: { spec: `name: ${name}\njobs:\n  - {id: a, run: 'echo ${word}'}\n` },
    });
    expect(saved.status(), await saved.text()).toBe(200);
  }

  await page.goto("/pipelines");
  const row = page.getByRole("row", { name: new RegExp(name) });
  await row.getByRole("button", { name: "View" }).click();
  await expect(page.getByRole("heading", { name: `${name} v2` })).toBeVisible();
  const history = page.getByRole("article", { name: "Pipeline history" });
  await expect(history.getByRole("row", { name: /v2 olaf/ })).toBeVisible();
  await expect(history.getByRole("row", { name: /v1 olaf/ })).toBeVisible();

  await history.getByRole("button", { name: "Changes in v2" }).click();
  const changes = history.getByLabel("Changes");
  await expect(changes.locator(".diff-removed")).toHaveText(/run: echo one/);
  await expect(changes.locator(".diff-added")).toHaveText(/run: echo two/);

  await row.getByRole("button", { name: `Deploy ${name}` }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  await expect(page.getByLabel("Pipeline version")).toHaveText(/^v2 · sha256 [0-9a-f]{12}$/);
});
