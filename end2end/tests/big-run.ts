// Helpers shared by the run-page tests (run-page.spec.ts) and the run-page benchmark
// (bench.spec.ts).
import { expect, type APIRequestContext, type Page } from "@playwright/test";

/// Deploys the pipeline `spec` and returns the new run's id.
export async function deploy(request: APIRequestContext, spec: string): Promise<number> {
  const response = await request.post("/api/deploy_pipeline", {
    data: { spec },
    headers: { accept: "application/json" },
  });
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()).run_id;
}

/// A pipeline of exactly `nodes` nodes (gates included) that stays still once it has
/// settled: chains of 10 behind the gate of `root`, then at the end of the graph two
/// failed jobs (one with a cancelled dependent) and a second waiting gate.
export function bigPipeline(nodes: number): string {
  const lines = [
    "name: big",
    "jobs:",
    "  - {id: root, run: 'true', gate: {message: Hold the big run}}",
  ];
  const tail = [
    "  - {id: broken_a, run: 'exit 3'}",
    "  - {id: after_a, run: 'true', depends_on: [broken_a]}",
    "  - {id: side, run: 'true', gate: {message: Side check}}",
    "  - {id: broken_b, run: 'exit 4'}",
  ];
  const chained = nodes - 2 - 5;
  for (let i = 0; i < chained; i++) {
    const [chain, step] = [Math.floor(i / 10), i % 10];
    const after = step === 0 ? "root" : `c${chain}_${step - 1}`;
    lines.push(`  - {id: c${chain}_${step}, run: 'true', depends_on: [${after}]}`);
  }
  return [...lines, ...tail].join("\n") + "\n";
}

/// Deploys `bigPipeline(nodes)` and waits until it has settled.
export async function deployBig(request: APIRequestContext, nodes: number): Promise<number> {
  const id = await deploy(request, bigPipeline(nodes));
  await expect
    .poll(async () => {
      const response = await request.post("/api/run_statuses", {
        data: { run_id: id },
        headers: { accept: "application/json" },
      });
      const jobs: { id: string; status: string }[] = (await response.json()).jobs;
      const of = (job: string) => jobs.find((j) => j.id === job)?.status;
      return [of("broken_b"), of("after_a"), of("hitl-gate-root"), of("hitl-gate-side")];
    }, { timeout: 30_000 })
    .toEqual(["FAILED", "CANCELLED", "RUNNING", "RUNNING"]);
  return id;
}

/// Opens the run page and returns the time from navigation to the first frame painted
/// with the graph drawn (the page's own clock: the node of the waiting gate is in the
/// page, then one more animation frame), and how many nodes the page holds then (only
/// those in or near the frame: the rest are drawn when they come near).
export async function loadToDrawn(page: Page, id: number): Promise<[number, number]> {
  await page.goto(`/runs/${id}`, { waitUntil: "commit" });
  return page.evaluate(
    () =>
      new Promise<[number, number]>((resolve) => {
        const check = () => {
          if (document.querySelector('[data-job="hitl-gate-root"]')) {
            const drawn = document.querySelectorAll("[data-job]").length;
            requestAnimationFrame(() => resolve([Math.round(performance.now()), drawn]));
          } else {
            requestAnimationFrame(check);
          }
        };
        check();
      }),
  );
}
