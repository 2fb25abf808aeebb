// Who may do what, as people meet it in the browser: signing in and out, a viewer and a
// deployer who see why they cannot decide, a gate that needs two people, and an admin
// adding a user and a token, and seeing how each webhook delivery went.
import type { Browser, Page } from "@playwright/test";
import { test, expect, ensureUser, signIn, collectErrors, passwordOf, ADMIN_PASSWORD } from "./fixtures";
import { freePort } from "./free-port";

/// A page in a browser context of its own, signed in as `user`.
async function pageAs(browser: Browser, baseURL: string | undefined, user: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await signIn(page.request, user);
  return { page, errors };
}

const gated = (name: string, extra = "") =>
  `name: ${name}\njobs:\n  - {id: report, run: echo ok > report.txt, gate: {message: Read the report${extra}}}\n  - {id: next, run: echo next, depends_on: [report]}\n`;

test("signing in with the form, and signing out ends the session", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in to Tollgate" })).toBeVisible();
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("wrong username or password");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Runs" })).toBeVisible();
  await expect(page.getByText("Administrator")).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Tollgate" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in to Tollgate" })).toBeVisible();
  const whoami = await page.request.post("/api/whoami", { data: {} });
  expect(whoami.status()).toBe(401);
  expect(errors).toEqual([]);
  await context.close();
});

test("a viewer sees the banner with the buttons disabled and the reason", async ({ browser, baseURL, request, admin }) => {
  await ensureUser(admin, "vic", ["viewer"]);
  const deployed = await request.post("/api/deploy_pipeline", { data: { spec: gated("viewed") } });
  expect(deployed.status(), await deployed.text()).toBe(200);
  const id = (await deployed.json()).run_id;
  const { page, errors } = await pageAs(browser, baseURL, "vic");
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("Read the report");
  await expect(banner.getByRole("button", { name: "Approve" })).toBeDisabled();
  await expect(banner.getByRole("button", { name: "Reject" })).toBeDisabled();
  await expect(banner.getByRole("note")).toHaveText(
    "deciding gates needs the approver role, which vic does not have; ask an admin",
  );
  expect(errors).toEqual([]);
  await page.context().close();
});

test("whoever deployed a run cannot approve its gate", async ({ page }) => {
  const deployed = await page.request.post("/api/deploy_pipeline", { data: { spec: gated("mine") } });
  expect(deployed.status(), await deployed.text()).toBe(200);
  const id = (await deployed.json()).run_id;
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("deployed by ana");
  await expect(banner.getByRole("button", { name: "Approve" })).toBeDisabled();
  await expect(banner.getByRole("note")).toHaveText("you deployed this run; another approver must decide");
  const forced = await page.request.post("/api/decide_gate", {
    data: { run_id: id, gate: "hitl-gate-report", decision: "approve" },
  });
  expect(forced.status()).toBe(403);
  await expect(page.locator('[data-job="hitl-gate-report"]')).toHaveClass(/status-running/);
});

test("a two-approval gate needs two different people", async ({ page, request, browser, baseURL, admin }) => {
  const deployed = await request.post("/api/deploy_pipeline", {
    data: { spec: gated("two-people", ", approvals: 2") },
  });
  expect(deployed.status(), await deployed.text()).toBe(200);
  const id = (await deployed.json()).run_id;
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("0 of 2 approvals: none yet");
  await banner.getByRole("button", { name: "Approve" }).click();
  await expect(banner).toContainText("1 of 2 approvals: ana");
  await expect(banner.getByRole("button", { name: "Approve" })).toBeDisabled();
  await expect(banner.getByRole("note")).toContainText("you approved this gate already");
  await expect(page.locator('[data-job="next"]')).toHaveClass(/status-pending/);

  await ensureUser(admin, "bea");
  const second = await pageAs(browser, baseURL, "bea");
  await second.page.goto(`/runs/${id}`);
  const hers = second.page.getByRole("region", { name: "Approval needed" });
  await expect(hers).toContainText("1 of 2 approvals: ana");
  await hers.getByRole("button", { name: "Approve" }).click();
  await expect(second.page.locator('[data-job="hitl-gate-report"]')).toHaveClass(/status-completed/);
  await expect(page.locator('[data-job="next"]')).toHaveClass(/status-completed/, { timeout: 15_000 });
  expect(second.errors).toEqual([]);
  await second.page.context().close();
});

test("an admin adds a user and creates a token for them", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await signIn(page.request, "admin", ADMIN_PASSWORD);
  await page.goto("/users");
  // A name of its own, so the test holds on a server that ran it before.
  const carl = `carl-${Math.random().toString(36).slice(2, 8)}`;
  const form = page.getByRole("form", { name: "Add user" });
  await form.getByLabel("Username").fill(carl);
  await form.getByLabel("Display name").fill("Carl Reviewer");
  await form.getByLabel("Password", { exact: true }).fill(passwordOf(carl));
  await form.getByLabel(/^Roles/).fill("approver");
  await form.getByLabel(/^Groups/).fill("ml-leads");
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(form.getByRole("status")).toHaveText(`Added ${carl}.`);
  const users = page.getByRole("table", { name: "Users" });
  await expect(users.getByRole("row", { name: new RegExp(carl) })).toContainText("ml-leads");

  const tokens = page.getByRole("form", { name: "Create token" });
  await tokens.getByLabel("Token name").fill(`${carl}-ci`);
  await tokens.getByLabel(/^For user/).fill(carl);
  await tokens.getByRole("button", { name: "Create token" }).click();
  const secret = await tokens.locator(".token-secret").textContent();
  expect(secret).toMatch(/^tg_[0-9a-f]{64}$/);
  await expect(page.getByRole("table", { name: "API tokens" })).toContainText(`${carl}-ci`);

  const asCarl = await page.request.post("/api/whoami", {
    data: {},
    headers: { authorization: `Bearer ${secret}` },
  });
  expect(asCarl.status()).toBe(200);
  expect((await asCarl.json()).username).toBe(carl);
  expect(errors).toEqual([]);
  await context.close();
});

test("an admin sees each webhook delivery and why it failed", async ({ browser, baseURL, admin }) => {
  // The pipeline's endpoint is a port nobody listens on: every attempt is refused.
  const port = await freePort();
  const spec = `name: hooked\nnotify: [http://127.0.0.1:${port}/hook]\njobs:\n  - {id: ask, run: 'true', gate: {message: Hear about it}}\n`;
  const deployed = await admin.post("/api/deploy_pipeline", { data: { spec } });
  expect(deployed.status()).toBe(200);
  const { run_id } = await deployed.json();
  const eventId = `${run_id}/hitl-gate-ask/waiting`;
  // The first attempt is made within a second of the gate starting to wait.
  await expect
    .poll(async () => {
      const list = await (await admin.post("/api/notifications", { data: {} })).json();
      return list.find((n: { event_id: string }) => n.event_id === eventId)?.attempts ?? 0;
    })
    .toBeGreaterThan(0);

  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await signIn(page.request, "admin", ADMIN_PASSWORD);
  await page.goto("/users");
  const table = page.getByRole("table", { name: "Webhook notifications" });
  const row = table.getByRole("row").filter({ has: page.getByRole("cell", { name: eventId, exact: true }) });
  await expect(row).toContainText(`http://127.0.0.1:${port}/hook`);
  await expect(row).toContainText(/retrying at|given up/);
  await expect(row).toContainText("cannot connect");
  expect(errors).toEqual([]);
  await context.close();
});
