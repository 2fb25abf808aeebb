// The run page as a reviewer uses it: the live graph, the banner, files and logs.
import type { Page } from "@playwright/test";
import { test, expect, ensureUser, signIn } from "./fixtures";
import { deploy, deployBig } from "./big-run";

function node(page: Page, job: string) {
  return page.locator(`[data-job="${job}"]`);
}

async function expectStatus(page: Page, job: string, status: string, timeout = 15_000) {
  await expect(node(page, job)).toHaveClass(new RegExp(`status-${status}`), { timeout });
}

test("the review workflow: read the report, approve, training runs", async ({ page }) => {
  await page.goto("/pipelines");
  await page.getByRole("button", { name: "Deploy review-workflow" }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  await expect(page.getByRole("heading", { name: "review-workflow" })).toBeVisible();

  await expectStatus(page, "preprocess", "completed");
  const files = page.getByRole("region", { name: "Workspace Files" });
  await expect(files.getByText("preprocessing_report.txt")).toBeVisible();

  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toBeVisible();
  await expect(banner).toContainText("Review data quality report before training begins");
  await expect(banner).toContainText("hitl-gate-preprocess");
  await expect(banner).toContainText("1 of 1 waiting");
  await expect(banner).toContainText(/waiting \d+s · 1d 23h 59m \d+s left/);
  await expectStatus(page, "hitl-gate-preprocess", "running");
  await expectStatus(page, "train", "pending");

  const download = page.waitForEvent("download");
  await files.getByRole("link", { name: "Download preprocessing_report.txt" }).click();
  const report = await download;
  expect(report.suggestedFilename()).toBe("preprocessing_report.txt");
  const path = await report.path();
  const { readFileSync } = await import("node:fs");
  expect(readFileSync(path, "utf8")).toContain("Data quality report");

  await banner.getByRole("button", { name: "preprocessing_report.txt" }).click();
  const preview = page.getByRole("dialog", { name: "Preview of preprocessing_report.txt" });
  await expect(preview).toBeVisible();
  await expect(preview.frameLocator("iframe").locator("body")).toContainText("rows: 10000");
  await preview.getByRole("button", { name: "Close the preview" }).click();

  await banner.getByRole("textbox").fill("report looks right");
  await banner.getByRole("button", { name: "Approve" }).click();
  await expect(banner).toBeHidden();
  await expectStatus(page, "hitl-gate-preprocess", "completed");
  await expectStatus(page, "train", "completed");
  await expectStatus(page, "evaluate", "completed");
  await expect(page.locator(".run-title")).toContainText("COMPLETED");
});

test("a rejection fails the gate and cancels what comes after it", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: rejected\njobs:\n  - {id: preprocess, run: echo ok > report.txt, gate: {message: Check the report}}\n  - {id: train, run: echo train, depends_on: [preprocess]}\n  - {id: evaluate, run: echo eval, depends_on: [train]}\n",
  );
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("Check the report");
  await banner.getByRole("button", { name: "Reject" }).click();
  await expect(banner).toBeHidden();
  await expectStatus(page, "hitl-gate-preprocess", "failed");
  await expectStatus(page, "train", "cancelled");
  await expectStatus(page, "evaluate", "cancelled");
  await expect(page.locator(".run-title")).toContainText("FAILED");
});

test("a gate with a 2 s timeout fails by itself and says why", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: hurry\njobs:\n  - {id: quick, run: echo quick, gate: {message: Decide fast, timeout: 2}}\n  - {id: after, run: echo after, depends_on: [quick]}\n",
  );
  await page.goto(`/runs/${id}`);
  await expectStatus(page, "hitl-gate-quick", "failed");
  await expectStatus(page, "after", "cancelled");
  await expect(page.getByRole("region", { name: "Approval needed" })).toBeHidden();
  // Hovering shows the id, status, reason and duration (the node's SVG title).
  await expect(node(page, "hitl-gate-quick").locator("title")).toHaveText(
    /^hitl-gate-quick\nFAILED\ntimed out after 2s\n2s$/,
  );
  await node(page, "hitl-gate-quick").click();
  const log = page.getByRole("complementary", { name: "Job log" });
  await expect(log).toContainText("FAILED — timed out after 2s");
  await expect(log).toContainText("timed out after 2s at");
});

test("two gates on parallel branches are decided one at a time", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: branches\njobs:\n  - {id: left, run: echo left, gate: {message: Check the left branch}}\n  - {id: left_next, run: echo left next, depends_on: [left]}\n  - {id: right, run: sleep 0.5 && echo right, gate: {message: Check the right branch}}\n  - {id: right_next, run: echo right next, depends_on: [right]}\n",
  );
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("1 of 2 waiting");
  await expect(banner).toContainText("Check the left branch");
  await banner.getByRole("button", { name: "Approve" }).click();
  await expect(banner).toContainText("Check the right branch");
  await expect(banner).toContainText("1 of 1 waiting");
  await banner.getByRole("button", { name: "Reject" }).click();
  await expect(banner).toBeHidden();
  await expectStatus(page, "left_next", "completed");
  await expectStatus(page, "right_next", "cancelled");
});

test("clicking a node shows its log, and a running job's log grows", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: chatty\njobs:\n  - id: talk\n    run: for i in 1 2 3 4 5 6; do echo line $i; sleep 1; done\n",
  );
  await page.goto(`/runs/${id}`);
  await expectStatus(page, "talk", "running");
  await node(page, "talk").click();
  const log = page.getByRole("complementary", { name: "Job log" });
  await expect(log).toContainText("line 1");
  await expect(log).not.toContainText("line 5");
  await expect(log).toContainText("line 5", { timeout: 10_000 });
  await expectStatus(page, "talk", "completed");
  await expect(log).toContainText("line 6");
});

test("someone else deciding first is shown, not swallowed", async ({ page, request, admin, playwright, baseURL }) => {
  const id = await deploy(
    request,
    "name: contested\njobs:\n  - {id: report, run: echo ok, gate: {message: Two reviewers look at this}}\n  - {id: next, run: echo next, depends_on: [report]}\n",
  );
  await page.goto(`/runs/${id}`);
  const banner = page.getByRole("region", { name: "Approval needed" });
  await expect(banner).toContainText("Two reviewers look at this");
  // Hold the banner's polling so it still offers the gate after the other decision.
  await page.route("**/api/pending_gates", () => {});
  await ensureUser(admin, "dana");
  const dana = await playwright.request.newContext({ baseURL });
  await signIn(dana, "dana");
  const other = await dana.post("/api/decide_gate", {
    data: { run_id: id, gate: "hitl-gate-report", decision: "reject" },
    headers: { accept: "application/json" },
  });
  expect(other.status(), await other.text()).toBe(200);
  await dana.dispose();
  await banner.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("alert")).toContainText(
    "gate `hitl-gate-report` was already rejected by dana at",
  );
  await page.unroute("**/api/pending_gates");
  await expect(banner).toBeHidden();
  await expectStatus(page, "next", "cancelled");
});

test("the page is usable from the keyboard", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: keyboard\njobs:\n  - {id: first, run: echo typed, gate: {message: Approve with the keyboard}}\n  - {id: second, run: echo done, depends_on: [first]}\n",
  );
  await page.goto(`/runs/${id}`);
  await expectStatus(page, "first", "completed");
  await node(page, "first").focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("complementary", { name: "Job log" })).toContainText("typed");
  const approve = page.getByRole("region", { name: "Approval needed" }).getByRole("button", { name: "Approve" });
  await approve.focus();
  await page.keyboard.press("Enter");
  await expectStatus(page, "second", "completed");
  await expect(node(page, "hitl-gate-first")).toHaveAttribute("aria-label", "hitl-gate-first: COMPLETED");
});

test("the header deploys the same pipeline again and cancels a run", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: again\njobs:\n  - {id: slow, run: sleep 20}\n  - {id: after, run: echo never, depends_on: [slow]}\n",
  );
  await page.goto(`/runs/${id}`);
  await expectStatus(page, "slow", "running");
  await page.getByRole("button", { name: "Deploy again" }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/(?!${id}$)\\d+$`));
  await expect(page.getByRole("heading", { name: "again" })).toBeVisible();
  await expectStatus(page, "slow", "running");
  await page.getByRole("button", { name: "Cancel run" }).click();
  await expectStatus(page, "slow", "cancelled");
  await expectStatus(page, "after", "cancelled");
  await expect(page.locator(".run-title")).toContainText("CANCELLED");
  await page.goto(`/runs/${id}`);
  await page.getByRole("button", { name: "Cancel run" }).click();
  await expectStatus(page, "slow", "cancelled");
});

test("the files panel filters by path", async ({ page, request }) => {
  const id = await deploy(
    request,
    "name: files\njobs:\n  - {id: write, run: mkdir -p out && echo a > out/alpha.txt && echo bb > beta.csv}\n",
  );
  await page.goto(`/runs/${id}`);
  const files = page.getByRole("region", { name: "Workspace Files" });
  await expect(files.getByText("out/alpha.txt")).toBeVisible();
  await expect(files.getByText("beta.csv")).toBeVisible();
  await expect(files.getByRole("row", { name: /beta\.csv/ })).toContainText("3 B");
  await files.getByRole("searchbox", { name: "Filter files" }).fill("alpha");
  await expect(files.getByText("beta.csv")).toBeHidden();
  await expect(files.getByText("out/alpha.txt")).toBeVisible();
});

test("a 500-job graph lays out and renders", async ({ page, request }) => {
  const lines = ["name: big", "jobs:"];
  for (let chain = 0; chain < 50; chain++) {
    for (let step = 0; step < 10; step++) {
      const depends = step === 0 ? "" : `, depends_on: [c${chain}_${step - 1}]`;
      lines.push(`  - {id: c${chain}_${step}, run: 'true'${depends}}`);
    }
  }
  const id = await deploy(request, lines.join("\n") + "\n");
  await page.goto(`/runs/${id}`);
  // Too tall to read whole: it opens at 1:1 (on its first nodes, or on what runs),
  // drawing only what is near.
  await expect(page.locator("[data-job]").first()).toBeVisible({ timeout: 20_000 });
  expect((await page.locator("[data-job]").first().boundingBox())?.width).toBeGreaterThan(100);
  expect(await page.locator("[data-job]").count()).toBeLessThan(500);
  await page.getByRole("button", { name: "Fit the whole graph" }).click();
  await expect(page.locator("[data-job]")).toHaveCount(500);
  await expect.poll(() => inFrame(page, "c49_9")).toBe(true);
  await page.getByRole("button", { name: "Zoom in" }).click();
  await expect.poll(() => inFrame(page, "c49_9")).toBe(false);
});

test("a settled 1,000-job run: every node drawn, each with its status", async ({ page, request }) => {
  test.setTimeout(90_000);
  const id = await deployBig(request, 1_000);
  await page.goto(`/runs/${id}`);
  // What is waiting is what the page opens on.
  await expect.poll(() => inFrame(page, "hitl-gate-root"), { timeout: 20_000 }).toBe(true);
  await expect(page.locator(".counts")).toContainText("2 failed");
  await page.getByRole("button", { name: "Fit the whole graph" }).click();
  await expect(page.locator("[data-job]")).toHaveCount(1_000);
  // 993 jobs in chains wait behind the gate of `root`; at the end of the graph two jobs
  // failed (one with a cancelled dependent) and a second gate waits.
  await expect(page.locator("[data-job].status-pending")).toHaveCount(993);
  await expect(page.locator("[data-job].status-running")).toHaveCount(2);
  await expect(page.locator("[data-job].status-completed")).toHaveCount(2);
  await expect(page.locator("[data-job].status-failed")).toHaveCount(2);
  await expect(page.locator("[data-job].status-cancelled")).toHaveCount(1);
  for (const [job, status] of [
    ["root", "COMPLETED"],
    ["hitl-gate-root", "RUNNING"],
    ["c0_0", "PENDING"],
    ["c98_2", "PENDING"],
    ["broken_a", "FAILED"],
    ["after_a", "CANCELLED"],
    ["side", "COMPLETED"],
    ["hitl-gate-side", "RUNNING"],
    ["broken_b", "FAILED"],
  ]) {
    await expect(node(page, job)).toHaveAttribute("aria-label", `${job}: ${status}`);
  }
});

/// Whether job's node is drawn inside the graph's frame, where a person sees it.
async function inFrame(page: Page, job: string): Promise<boolean> {
  return page.evaluate((job) => {
    const frame = document.querySelector("svg.graph")?.getBoundingClientRect();
    const box = document.querySelector(`[data-job="${job}"]`)?.getBoundingClientRect();
    if (!frame || !box) return false;
    return box.left >= frame.left && box.right <= frame.right && box.top >= frame.top && box.bottom <= frame.bottom;
  }, job);
}

/// How many chains' first jobs (`c<n>_0`) are drawn inside the graph's frame.
async function firstJobsInFrame(page: Page): Promise<number> {
  return page.evaluate(() => {
    const frame = document.querySelector("svg.graph")?.getBoundingClientRect();
    if (!frame) return 0;
    return [...document.querySelectorAll('[data-job^="c"][data-job$="_0"]')].filter((node) => {
      const box = node.getBoundingClientRect();
      return box.left >= frame.left && box.right <= frame.right && box.top >= frame.top && box.bottom <= frame.bottom;
    }).length;
  });
}

async function expectShown(page: Page, job: string) {
  await expect.poll(() => inFrame(page, job), { message: `${job} is in the frame` }).toBe(true);
  await expect(node(page, job)).toHaveClass(/selected/);
  await expect(page.getByRole("complementary", { name: "Job log" }).getByRole("heading")).toHaveText(job);
}

test("a 5,000-job run: readable at once, search, jumps to what needs attention, live statuses", async ({ page, request }) => {
  test.setTimeout(120_000);
  const id = await deployBig(request, 5_000);
  await page.goto(`/runs/${id}`);
  const tools = page.locator(".graph-tools");
  await expect(tools.getByRole("button", { name: "2 failed" })).toBeVisible({ timeout: 30_000 });
  await expect(tools.getByRole("button", { name: "2 waiting" })).toBeVisible();
  await expect(tools.getByRole("button", { name: "0 running" })).toBeDisabled();

  await test.step("it opens at a readable scale on the first waiting gate", async () => {
    await expect.poll(() => inFrame(page, "hitl-gate-root")).toBe(true);
    const box = await node(page, "hitl-gate-root").boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    // The gate is centred on its 500 chains: the frame shows it with its source and
    // the chains' first jobs around it.
    expect(await inFrame(page, "root")).toBe(true);
    expect(await firstJobsInFrame(page)).toBeGreaterThanOrEqual(3);
    // What is far from the frame is not drawn until it comes near.
    await expect(node(page, "c450_5")).toHaveCount(0);
    await expect(page.locator(".counts")).toContainText("2 failed");
  });

  await test.step("the search box centres and selects a job", async () => {
    const search = page.getByRole("search", { name: "Find a job" }).getByRole("searchbox", { name: "Job id" });
    await search.fill("c450_5");
    await search.press("Enter");
    await expectShown(page, "c450_5");
    await search.fill("no-such-job");
    await search.press("Enter");
    await expect(tools.getByRole("status")).toHaveText("No job matches “no-such-job”");
  });

  await test.step("the counts jump to each failed, then each waiting node in turn", async () => {
    await tools.getByRole("button", { name: "2 failed" }).click();
    await expectShown(page, "broken_a");
    await expect(page.getByRole("complementary", { name: "Job log" })).toContainText("FAILED");
    await tools.getByRole("button", { name: "2 failed" }).click();
    await expectShown(page, "broken_b");
    await tools.getByRole("button", { name: "2 waiting" }).click();
    await expectShown(page, "hitl-gate-root");
    await tools.getByRole("button", { name: "2 waiting" }).click();
    await expectShown(page, "hitl-gate-side");
  });

  await test.step("a decision made elsewhere shows on the node with the next poll", async () => {
    await expect(node(page, "hitl-gate-side")).toHaveAttribute("aria-label", "hitl-gate-side: RUNNING");
    const decided = await page.request.post("/api/decide_gate", {
      data: { run_id: id, gate: "hitl-gate-side", decision: "approve" },
      headers: { accept: "application/json" },
    });
    expect(decided.status(), await decided.text()).toBe(200);
    await expect(node(page, "hitl-gate-side")).toHaveAttribute("aria-label", "hitl-gate-side: COMPLETED");
    await expectStatus(page, "hitl-gate-side", "completed");
    await expect(tools.getByRole("button", { name: "1 waiting" })).toBeVisible();
  });
});
