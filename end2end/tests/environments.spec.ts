// A gate under an environment's rules, as the reviewer sees it: the banner and the
// inbox say whose rules they are.
import { test, expect } from "./fixtures";
import { deploy } from "./big-run";

test("the banner and the inbox name the environment whose rules a gate follows", async ({ page, request, admin }) => {
  const name = `prod-${Date.now()}`;
  const saved = await admin.post("/api/save_environment", {
    data: { name, rules: { approvers: ["ana"], approvals: 1 } },
  });
  expect(saved.status(), await saved.text()).toBe(200);
  const run = await deploy(
    request,
    `name: guarded\njobs:\n  - {id: build, run: 'true', gate: {message: Ship it?, environment: ${name}}}\n  - {id: ship, run: 'echo shipped', depends_on: [build]}\n`,
  );

  await page.goto("/approvals");
  const row = page.getByRole("row", { name: new RegExp(`guarded #${run}`) });
  await expect(row).toContainText(`0 of 1 · ${name}`);

  await page.goto(`/runs/${run}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner.getByLabel("Environment")).toHaveText(
    `environment ${name}: 1 approval(s) from ana, set by admins`,
  );
  await banner.getByRole("button", { name: "Approve" }).click();
  await expect(banner).toBeHidden();
  await expect(page.locator(".run-title")).toContainText("COMPLETED");
});
