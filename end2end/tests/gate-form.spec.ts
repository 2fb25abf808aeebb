// A gate with options and inputs (issue 13): the banner shows them as a form, the
// server's refusals appear next to their fields, and the jobs after the gate get what
// was chosen.
import { test, expect } from "./fixtures";
import { deploy } from "./big-run";

const RELEASE = `name: release
jobs:
  - id: evaluate
    run: echo evaluated
    gate:
      message: Pick what happens to the model
      options: [retrain, ship, rollback]
      inputs:
        - {name: threshold, type: number, min: 0, max: 1, default: 0.9}
        - {name: ticket, type: string, required: true}
        - {name: region, type: enum, values: [eu, us]}
        - {name: notify, type: boolean}
  - id: act
    run: echo "option=$TOLLGATE_GATE_EVALUATE_OPTION threshold=$TOLLGATE_GATE_EVALUATE_THRESHOLD ticket=$TOLLGATE_GATE_EVALUATE_TICKET region=$TOLLGATE_GATE_EVALUATE_REGION notify=$TOLLGATE_GATE_EVALUATE_NOTIFY"
    depends_on: [evaluate]
`;

test("the banner's form sends the option and inputs, and names what does not fit", async ({ page, request }) => {
  const id = await deploy(request, RELEASE);
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("Pick what happens to the model");
  const options = banner.getByRole("group", { name: "Option" });
  await expect(options.getByRole("radio")).toHaveCount(3);
  const threshold = banner.getByRole("spinbutton", { name: "threshold" });
  await expect(threshold).toHaveValue("0.9");

  // Nothing chosen, the required ticket blank, the threshold out of range: refused,
  // each field says why, and the gate still waits.
  await threshold.fill("3");
  await banner.getByRole("button", { name: "Approve" }).click();
  await expect(options.getByRole("alert")).toHaveText(
    "choose one of the options: retrain, ship, rollback",
  );
  await expect(banner.getByRole("alert").filter({ hasText: "input `ticket` is required" })).toBeVisible();
  await expect(threshold).toHaveAttribute("aria-invalid", "true");
  await expect(banner).toBeVisible();

  await options.getByRole("radio", { name: "rollback" }).check();
  await threshold.fill("0.25");
  await banner.getByRole("textbox", { name: "ticket (required)" }).fill("OPS-7");
  await banner.getByRole("combobox", { name: "region" }).selectOption("eu");
  await banner.getByRole("checkbox", { name: "notify" }).check();
  await banner.getByRole("button", { name: "Approve" }).click();
  await expect(banner).toBeHidden();
  await expect(page.locator('[data-job="act"]')).toHaveClass(/status-completed/, { timeout: 15_000 });

  const log = await request.post("/api/job_log", {
    data: { run_id: id, job: "act" },
    headers: { accept: "application/json" },
  });
  expect((await log.json()).text).toBe(
    "option=rollback threshold=0.25 ticket=OPS-7 region=eu notify=true\n",
  );
});

test("the banner says what a timeout will do before anyone decides", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: unattended\njobs:\n  - {id: nightly, run: echo ok, gate: {message: Hold the release?, options: [ship, hold], on_timeout: {option: ship}}}\n  - {id: release, run: echo released, depends_on: [nightly]}\n",
  );
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText(
    "If nobody decides in time, the gate goes on with option ship and the defaults.",
  );
});

test("a choice in the banner takes its branch; the other is drawn as skipped", async ({ page, request }) => {
  const id = await deploy(
    request,
    `name: branches
jobs:
  - id: evaluate
    run: echo evaluated
    gate: {message: Ship or roll back?, options: [ship, rollback]}
  - id: ship
    run: echo shipping
    depends_on: [evaluate]
    when: {gate: hitl-gate-evaluate, option: ship}
  - id: rollback
    run: echo rolling back
    depends_on: [evaluate]
    when: {gate: hitl-gate-evaluate, option: rollback}
`,
  );
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await banner.getByRole("group", { name: "Option" }).getByRole("radio", { name: "rollback" }).check();
  await banner.getByRole("button", { name: "Approve" }).click();
  await expect(page.locator('[data-job="rollback"]')).toHaveClass(/status-completed/, { timeout: 15_000 });
  const ship = page.locator('[data-job="ship"]');
  await expect(ship).toHaveClass(/status-skipped/);
  await expect(ship).toContainText("SKIPPED");
  await expect(page.locator(".run-header")).toContainText("COMPLETED");
  await expect(page.locator(".run-header")).toContainText("4/4 done");
  await expect(page.locator(".run-header")).toContainText("1 skipped");
  // Its reason is the first thing its log panel says.
  await ship.click();
  await expect(page.getByRole("complementary", { name: "Job log" })).toContainText(
    "hitl-gate-evaluate chose rollback; this job runs for ship",
  );
});
