// The Constructor as a person uses it: mouse to draw, keyboard to type and undo.
import type { Page } from "@playwright/test";
import { test, expect } from "./fixtures";

/** Opens the Constructor on an empty canvas (another test may have left a draft). */
async function freshCanvas(page: Page) {
  page.on("dialog", (dialog) => dialog.accept());
  await page.goto("/constructor");
  await expect(page.getByRole("application", { name: "Pipeline canvas" })).toBeVisible();
  await page.getByRole("button", { name: "New" }).click();
  await expect(page.locator("[data-node]")).toHaveCount(0);
}

function node(page: Page, id: string) {
  return page.locator(`[data-node="${id}"]`);
}

/** Drags from a job's output port onto another job: the second now depends on the first. */
async function connect(page: Page, from: string, to: string) {
  const port = await page.locator(`[data-port="${from}-out"]`).boundingBox();
  const target = await node(page, to).locator("rect").first().boundingBox();
  if (!port || !target) throw new Error(`cannot find ${from} or ${to}`);
  await page.mouse.move(port.x + port.width / 2, port.y + port.height / 2);
  await page.mouse.down();
  await page.mouse.move(target.x + target.width / 2, target.y + target.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** Adds a job and names it through the sidebar. */
async function addJob(page: Page, id: string, run: string) {
  await page.getByRole("button", { name: "Add job" }).click();
  const sidebar = page.getByRole("complementary", { name: "Job settings" });
  await sidebar.getByLabel("Job ID").fill(id);
  await sidebar.getByLabel("Run").fill(run);
  await expect(node(page, id)).toBeVisible();
}

async function buildReviewWorkflow(page: Page) {
  await page.getByLabel("Pipeline name").fill("built-by-hand");
  await addJob(page, "preprocess", "echo rows=10 > preprocessing_report.txt");
  const sidebar = page.getByRole("complementary", { name: "Job settings" });
  await expect(sidebar.getByLabel("Gate Timeout (seconds)")).toHaveValue("172800");
  await expect(sidebar).toContainText("48 hours");
  await sidebar.getByLabel("Gate Message").fill("Review data quality report before training begins");
  await sidebar.getByLabel("Gate Timeout (seconds)").fill("300");
  await addJob(page, "train", "echo training");
  await addJob(page, "evaluate", "echo evaluating");
  await connect(page, "preprocess", "train");
  await connect(page, "train", "evaluate");
  await expect(page.locator("[data-edge]")).toHaveCount(2);
}

test("build the review workflow on the canvas, see its gate, deploy it", async ({ page }) => {
  await freshCanvas(page);
  await buildReviewWorkflow(page);

  await expect(node(page, "preprocess").locator(".c-hitl")).toContainText("HITL");
  await expect(node(page, "train").locator(".c-hitl")).toHaveCount(0);
  const preview = page.getByRole("region", { name: "Preview" });
  await expect(preview.getByLabel("Pipeline YAML")).toContainText("timeout: 300");
  await expect(preview.getByLabel("Pipeline YAML")).toContainText("- preprocess");
  await expect(preview.locator('[data-preview="hitl-gate-preprocess"]')).toBeVisible();

  await page.getByRole("button", { name: "Deploy" }).click();
  await page.getByRole("link", { name: "Open the run" }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  await expect(page.getByRole("heading", { name: "built-by-hand" })).toBeVisible();
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("Review data quality report before training begins");
  await expect(banner).toContainText("hitl-gate-preprocess");
});

test("a cycle blocks deploy and is named", async ({ page }) => {
  await freshCanvas(page);
  await buildReviewWorkflow(page);
  await connect(page, "evaluate", "preprocess");
  await expect(page.getByText(/Deploy is blocked: 1 problem/)).toContainText(
    "preprocess -> train -> evaluate -> preprocess",
  );
  await expect(page.getByRole("button", { name: "Deploy" })).toBeDisabled();
  await expect(page.locator(".c-edge.cycle")).toHaveCount(3);
});

test("invalid fields are marked with the server's messages", async ({ page }) => {
  await freshCanvas(page);
  await addJob(page, "a", "echo a");
  const sidebar = page.getByRole("complementary", { name: "Job settings" });
  await sidebar.getByLabel("Gate Timeout (seconds)").fill("99999999");
  await sidebar.getByLabel("Gate Message").fill("check");
  await expect(sidebar.getByRole("alert")).toHaveText(
    "job `a` has gate timeout 99999999 s: use 1 to 2592000 seconds (30 days)",
  );
  await sidebar.getByLabel("Run").fill("");
  await expect(sidebar).toContainText("job `a` has an empty `run`: give it a shell command or script");
  await expect(page.getByRole("button", { name: "Deploy" })).toBeDisabled();
  await sidebar.getByLabel("Job ID").fill("bad id");
  await expect(sidebar).toContainText("job id `bad id` is not valid");
});

test("the draft survives a reload", async ({ page }) => {
  await freshCanvas(page);
  await buildReviewWorkflow(page);
  await expect(page.getByRole("status").filter({ hasText: "Draft saved" })).toBeVisible({ timeout: 10_000 });
  await page.reload();
  await expect(node(page, "preprocess")).toBeVisible();
  await expect(page.locator("[data-edge]")).toHaveCount(2);
  await expect(page.getByLabel("Pipeline name")).toHaveValue("built-by-hand");
});

test("undo and redo an edge; shortcuts stay out of text fields", async ({ page }) => {
  await freshCanvas(page);
  await buildReviewWorkflow(page);
  await page.locator(".c-background").click({ position: { x: 600, y: 400 } });
  await page.keyboard.press("Control+z");
  await expect(page.locator("[data-edge]")).toHaveCount(1);
  await page.keyboard.press("Control+y");
  await expect(page.locator("[data-edge]")).toHaveCount(2);
  await page.keyboard.press("Control+z");
  await page.keyboard.press("Control+Shift+z");
  await expect(page.locator("[data-edge]")).toHaveCount(2);

  // Backspace in a field edits the field, not the canvas.
  await node(page, "evaluate").click();
  const id = page.getByRole("complementary", { name: "Job settings" }).getByLabel("Job ID");
  await id.click();
  await page.keyboard.press("End");
  await page.keyboard.press("Backspace");
  await expect(node(page, "evaluat")).toBeVisible();
  await node(page, "evaluat").click();
  await page.keyboard.press("Delete");
  await expect(page.locator("[data-node]")).toHaveCount(2);
  await expect(page.locator("[data-edge]")).toHaveCount(1);
  await node(page, "train").click();
  await page.keyboard.press("Control+d");
  await expect(node(page, "train_copy_1")).toBeVisible();
});

test("drag snaps to the grid, box-select, save and load exactly, import, confirm a re-deploy", async ({ page }) => {
  const dialogs: string[] = [];
  await freshCanvas(page);
  page.on("dialog", (dialog) => dialogs.push(dialog.message()));
  await buildReviewWorkflow(page);

  // Drag train somewhere odd: it lands on the 20 px grid.
  const box = await node(page, "train").locator("rect").first().boundingBox();
  if (!box) throw new Error("no train node");
  await page.mouse.move(box.x + 30, box.y + 30);
  await page.mouse.down();
  await page.mouse.move(box.x + 30 + 37, box.y + 30 + 113, { steps: 6 });
  await page.mouse.up();
  const moved = await node(page, "train").getAttribute("transform");
  const [x, y] = (moved ?? "").match(/-?[\d.]+/g)!.map(Number);
  expect(x % 20).toBe(0);
  expect(y % 20).toBe(0);

  // A box around everything selects all three jobs.
  const canvas = await page.getByRole("application", { name: "Pipeline canvas" }).boundingBox();
  if (!canvas) throw new Error("no canvas");
  await page.mouse.move(canvas.x + 5, canvas.y + 5);
  await page.mouse.down();
  await page.mouse.move(canvas.x + canvas.width - 5, canvas.y + canvas.height - 5, { steps: 5 });
  await page.mouse.up();
  await expect(page.locator(".c-node.selected")).toHaveCount(3);

  // Save, clear, load: the same jobs at the same places.
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved pipeline `built-by-hand`.")).toBeVisible();
  await page.getByRole("button", { name: "New" }).click();
  await expect(page.locator("[data-node]")).toHaveCount(0);
  await page.getByRole("button", { name: "Load", exact: true }).click();
  await page.getByRole("button", { name: "Load built-by-hand" }).click();
  await expect(node(page, "train")).toHaveAttribute("transform", moved ?? "");
  await expect(page.locator("[data-edge]")).toHaveCount(2);

  // Loading over a full canvas asked first.
  await page.getByRole("button", { name: "Load", exact: true }).click();
  await page.getByRole("button", { name: "Load built-by-hand" }).click();
  await expect
    .poll(() => dialogs.includes("Replace what is on the canvas with this pipeline?"))
    .toBe(true);

  // Import YAML by pasting it.
  const preview = page.getByRole("region", { name: "Preview" });
  await preview.getByText("Import YAML").click();
  await preview
    .getByLabel("YAML to import")
    .fill("name: imported\njobs:\n  - {id: one, run: echo 1}\n  - {id: two, run: echo 2, depends_on: [one]}\n");
  await preview.getByRole("button", { name: "Import", exact: true }).click();
  await expect(node(page, "one")).toBeVisible();
  await expect(node(page, "two")).toBeVisible();
  await expect(page.getByLabel("Pipeline name")).toHaveValue("imported");

  // Deploying a pipeline that has runs already asks first.
  await page.getByRole("button", { name: "Deploy" }).click();
  await expect(page.getByRole("link", { name: "Open the run" })).toBeVisible();
  await page.getByRole("button", { name: "Deploy" }).click();
  await expect.poll(() => dialogs.some((m) => /^`imported` has \d+ run\(s\) already/.test(m))).toBe(true);
});

test("the sidebar sets who approves a gate, and a bad approver is marked", async ({ page }) => {
  await freshCanvas(page);
  await page.getByLabel("Pipeline name").fill("two-reviewers");
  await addJob(page, "report", "echo ok > report.txt");
  const sidebar = page.getByRole("complementary", { name: "Job settings" });
  await sidebar.getByLabel("Gate Message").fill("Two leads read the report");
  await sidebar.getByLabel("Approvers").fill("ana, group:ml-leads");
  await sidebar.getByLabel("Approvals needed").fill("2");
  await sidebar.getByLabel("Deployer may decide too").check();
  const yaml = page.getByRole("region", { name: "Preview" }).getByLabel("Pipeline YAML");
  await expect(yaml).toContainText("approvals: 2");
  await expect(yaml).toContainText("group:ml-leads");
  await expect(yaml).toContainText("allow_self_approval: true");

  await sidebar.getByLabel("Approvers").fill("ana smith");
  await expect(sidebar).toContainText("job `report` has gate approver `ana smith`, which is neither a username nor `group:<name>`");
  await expect(page.getByRole("button", { name: "Deploy" })).toBeDisabled();
});

test("the sidebar edits a gate's options, inputs and timeout policy", async ({ page }) => {
  await freshCanvas(page);
  await page.getByLabel("Pipeline name").fill("choices");
  await addJob(page, "evaluate", "echo evaluated");
  const sidebar = page.getByRole("complementary", { name: "Job settings" });
  await sidebar.getByLabel("Gate Message").fill("Pick what happens");
  await sidebar.getByLabel("Gate Options").fill("ship, hold");
  await sidebar.getByRole("button", { name: "Add input" }).click();
  await sidebar.getByLabel("Input 1 name").fill("threshold");
  await sidebar.getByLabel("Input 1 type").selectOption("number");
  await sidebar.getByLabel("Input 1 default").fill("0.9");
  await sidebar.getByLabel("Input 1 max").fill("1");
  await sidebar.getByLabel("On Timeout").selectOption("ship");
  const yaml = page.getByRole("region", { name: "Preview" }).getByLabel("Pipeline YAML");
  await expect(yaml).toContainText("options:\n        - ship\n        - hold");
  await expect(yaml).toContainText(
    "        - name: threshold\n          type: number\n          default: 0.9\n          max: 1",
  );
  await expect(yaml).toContainText("on_timeout:\n        option: ship");

  // A default that does not fit is marked, with the job and input named.
  await sidebar.getByLabel("Input 1 default").fill("3");
  await expect(sidebar).toContainText(
    "job `evaluate`, gate threshold: the default of input `threshold` does not fit it: input `threshold` must be at most 1",
  );
  await expect(page.getByRole("button", { name: "Deploy" })).toBeDisabled();
  await sidebar.getByRole("button", { name: "Remove input 1" }).click();
  await expect(yaml).not.toContainText("threshold");
  await expect(page.getByRole("button", { name: "Deploy" })).toBeEnabled();
});

test("the sidebar sets the option a job runs for, and a wrong one is marked", async ({ page }) => {
  await freshCanvas(page);
  await page.getByLabel("Pipeline name").fill("branching");
  await addJob(page, "evaluate", "echo evaluated");
  const sidebar = page.getByRole("complementary", { name: "Job settings" });
  await sidebar.getByLabel("Gate Message").fill("Ship or hold?");
  await sidebar.getByLabel("Gate Options").fill("ship, hold");
  await addJob(page, "ship", "echo shipping");
  await connect(page, "evaluate", "ship");
  await node(page, "ship").click();
  await sidebar.getByLabel("Gate", { exact: true }).fill("hitl-gate-evaluate");
  await sidebar.getByLabel("chose option").fill("shipp");
  await expect(sidebar).toContainText(
    "job `ship` has `when.option: shipp`, which gate `hitl-gate-evaluate` does not offer: use one of ship, hold",
  );
  await expect(page.getByRole("button", { name: "Deploy" })).toBeDisabled();
  await sidebar.getByLabel("chose option").fill("ship");
  const yaml = page.getByRole("region", { name: "Preview" }).getByLabel("Pipeline YAML");
  await expect(yaml).toContainText("    when:\n      gate: hitl-gate-evaluate\n      option: ship");
  await expect(page.getByRole("button", { name: "Deploy" })).toBeEnabled();
});
