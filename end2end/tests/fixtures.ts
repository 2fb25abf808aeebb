// A `page` that fails the test on any browser error: a wasm client that does not start
// leaves an empty page and no other sign.
import { test as base, expect } from "@playwright/test";

export const test = base.extend({
  page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console error: ${message.text()}`);
    });
    await use(page);
    expect(errors, "the browser reported errors").toEqual([]);
  },
});

export { expect };
