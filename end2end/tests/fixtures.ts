// A `page` that fails the test on any browser error: a wasm client that does not start
// leaves an empty page and no other sign.
import { test as base, expect } from "@playwright/test";

export const test = base.extend({
  page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      const text = message.text();
      // A refused request (e.g. a 409 for a gate decided by someone else) is shown to the
      // user by the page itself; the browser also logs it, which is not a fault.
      const refused = /^Failed to load resource: the server responded with a status of 4\d\d/;
      if (message.type() === "error" && !refused.test(text)) errors.push(`console error: ${text}`);
    });
    await use(page);
    expect(errors, "the browser reported errors").toEqual([]);
  },
});

export { expect };
