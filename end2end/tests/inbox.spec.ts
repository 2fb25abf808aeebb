// Working through waiting gates (issue 13): the nav's live count and a gate's deep link.
import type { APIRequestContext } from "@playwright/test";
import { test, expect } from "./fixtures";
import { deploy } from "./big-run";

/** The gates `ctx`'s user may decide now, across runs (optionally of one run). */
async function decidable(ctx: APIRequestContext, runId?: number): Promise<number> {
  const response = await ctx.post("/api/pending_gates", {
    data: runId === undefined ? {} : { run_id: runId },
    headers: { accept: "application/json" },
  });
  const gates: { your_access: { may_approve: boolean; may_reject: boolean } }[] = await response.json();
  return gates.filter((g) => g.your_access.may_approve || g.your_access.may_reject).length;
}

test("the nav counts the gates waiting for you and follows them live", async ({ page, request }) => {
  await page.goto("/");
  const before = await decidable(page.request);
  const badge = page.getByRole("link", { name: /^Approvals/ }).locator(".nav-badge");
  const shown = async () => ((await badge.count()) ? Number(await badge.textContent()) : 0);
  await expect.poll(shown).toBe(before);

  const id = await deploy(request, "name: badge\njobs:\n  - {id: ask, run: echo ask, gate: {message: Count me}}\n");
  await expect.poll(shown, { timeout: 15_000 }).toBe(before + 1);
  await expect(badge).toHaveAttribute("aria-label", before + 1 === 1 ? "1 gate waiting for you" : `${before + 1} gates waiting for you`);

  const decided = await page.request.post("/api/decide_gate", {
    data: { run_id: id, gate: "hitl-gate-ask", decision: "approve" },
    headers: { accept: "application/json" },
  });
  expect(decided.status(), await decided.text()).toBe(200);
  await expect.poll(shown, { timeout: 15_000 }).toBe(before);
});

test("a gate's deep link opens its run with that gate in front", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: linked\njobs:\n  - {id: left, run: echo left, gate: {message: Check the left branch}}\n  - {id: right, run: echo right, gate: {message: Check the right branch}}\n",
  );
  await expect.poll(() => decidable(page.request, id), { timeout: 15_000 }).toBe(2);
  await page.goto(`/runs/${id}/gates/hitl-gate-right`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("Check the right branch");
  await expect(banner).toContainText("1 of 2 waiting");
  const log = page.getByRole("complementary", { name: "Job log" });
  await expect(log).toContainText("gate hitl-gate-right is waiting for approval");
  await banner.getByRole("button", { name: "Approve" }).click();
  // Once the linked gate is decided, the banner goes on with the others.
  await expect(banner).toContainText("Check the left branch");
});

test("the inbox filters, decides several gates with one comment, and names each refusal", async ({ page, request }) => {
  const plain = "name: batch\njobs:\n  - {id: ask, run: echo ask, gate: {message: Batch me}}\n";
  const first = await deploy(request, plain);
  const second = await deploy(request, plain);
  // A gate with options cannot be approved without choosing one: refused, and named.
  const choosy = await deploy(
    request,
    "name: batch\njobs:\n  - {id: pick, run: echo pick, gate: {message: Batch me, options: [ship, hold]}}\n",
  );
  await expect.poll(() => decidable(page.request), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
  await page.goto("/approvals");
  await page.getByLabel("Pipeline").selectOption("batch");
  for (const [run, gate] of [[first, "hitl-gate-ask"], [second, "hitl-gate-ask"], [choosy, "hitl-gate-pick"]] as const) {
    await page.getByRole("checkbox", { name: `Select ${gate} of run ${run}` }).check();
  }
  await page.getByLabel("Comment for the selected").fill("release train");
  page.once("dialog", (dialog) => {
    expect(dialog.message()).toBe("Approve 3 gates?");
    void dialog.accept();
  });
  await page.getByRole("button", { name: "Approve selected (3)" }).click();
  await expect(page.getByRole("status")).toHaveText(
    `Approved 2 gates: hitl-gate-ask of run ${first}, hitl-gate-ask of run ${second}.`,
  );
  await expect(page.getByRole("alert", { name: "Not decided" })).toContainText(
    `hitl-gate-pick of run ${choosy}: the decision was not recorded: choose one of the options: ship, hold`,
  );
  // Its form is right under its row: the refusal is marked there; choose and approve.
  const form = page.locator(".gate-form-row");
  await expect(form.getByRole("group", { name: "Option" }).getByRole("alert")).toHaveText(
    "choose one of the options: ship, hold",
  );
  await form.getByRole("radio", { name: "hold" }).check();
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Approve selected (1)" }).click();
  await expect(page.getByRole("status")).toHaveText(`Approved 1 gate: hitl-gate-pick of run ${choosy}.`);
  // Each decision is recorded on its own, with the comment.
  const log = await request.post("/api/job_log", {
    data: { run_id: first, job: "hitl-gate-ask" },
    headers: { accept: "application/json" },
  });
  expect((await log.json()).text).toContain("approved by ana");
  expect((await log.json()).text).toContain("comment: release train");
});

test("j and k move through the inbox, r rejects the focused gate after asking", async ({ page, request }) => {
  // A pipeline of its own, so the filtered inbox holds exactly these two gates.
  const name = `keys-${Date.now()}`;
  const spec = `name: ${name}\njobs:\n  - {id: ask, run: echo ask, gate: {message: Keyboard me}}\n`;
  const first = await deploy(request, spec);
  const second = await deploy(request, spec);
  await expect.poll(() => decidable(page.request), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  await page.goto("/approvals");
  await page.getByLabel("Pipeline").selectOption(name);
  const rows = page.locator("tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveClass(/focused/);
  await page.keyboard.press("j");
  await expect(rows.nth(1)).toHaveClass(/focused/);
  await page.keyboard.press("j");
  await expect(rows.nth(1)).toHaveClass(/focused/);
  await page.keyboard.press("k");
  await expect(rows.nth(0)).toHaveClass(/focused/);
  // Oldest first: whichever gate started waiting first is on top.
  const topText = (await rows.nth(0).textContent()) ?? "";
  const [top, other] = topText.includes(`${name} #${first}`) ? [first, second] : [second, first];
  // Declining the confirmation decides nothing.
  page.once("dialog", (dialog) => void dialog.dismiss());
  await page.keyboard.press("r");
  await expect(rows).toHaveCount(2);
  page.once("dialog", (dialog) => {
    expect(dialog.message()).toBe(`Reject hitl-gate-ask of run ${top}?`);
    void dialog.accept();
  });
  await page.keyboard.press("r");
  await expect(page.getByRole("status")).toHaveText(`Rejected 1 gate: hitl-gate-ask of run ${top}.`);
  await expect(rows).toHaveCount(1);
  await expect(rows.nth(0)).toContainText(`${name} #${other}`);
});
