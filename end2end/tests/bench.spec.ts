// Benchmark, not a test: how long a big run page takes from navigation to the first
// frame painted with the graph drawn. It asserts no time (these machines are shared),
// it prints the figures README's Benchmarks section gives. Left out of the default run
// (playwright.config.ts); run it with
//   TOLLGATE_E2E_BENCH=1 npx playwright test bench
// (with TOLLGATE_BIN pointing at a release server for README's figures).
import { test, expect } from "./fixtures";
import { deployBig, loadToDrawn } from "./big-run";

test("benchmark: a big run page loads, lays out and draws (1,000 and 5,000 nodes, three loads each)", async ({ page, request }) => {
  test.setTimeout(240_000);
  for (const nodes of [1_000, 5_000]) {
    const id = await deployBig(request, nodes);
    const times: number[] = [];
    let drawn = 0;
    for (let load = 0; load < 3; load++) {
      [times[load], drawn] = await loadToDrawn(page, id);
      await expect(page.locator(".counts")).toContainText("2 failed");
    }
    const range = `${Math.min(...times)}–${Math.max(...times)} ms`;
    console.log(
      `run page, ${nodes} nodes: load to drawn ${range} (loads in order: ${times.join(", ")} ms; ${drawn} nodes in the page)`,
    );
  }
});
