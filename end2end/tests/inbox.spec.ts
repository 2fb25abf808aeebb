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
