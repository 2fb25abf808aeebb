// Fixtures every browser test uses:
// - `page` fails the test on any browser error (a wasm client that does not start
//   leaves an empty page and no other sign) and is signed in as `ana`, a reviewer;
// - `request` is an API client signed in as `olaf`, who deploys. Two different people,
//   so the two-person rule lets `ana` decide what `olaf` deployed.
import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

/// The first admin's password on the test server (playwright.config.ts sets it).
export const ADMIN_PASSWORD = "e2e-admin-password";

export const passwordOf = (user: string) => `password-of-${user}`;

/// Creates `user` (once) with the given roles, through the admin account.
export async function ensureUser(
  admin: APIRequestContext,
  user: string,
  roles: string[] = ["operator", "approver"],
  groups: string[] = [],
) {
  const response = await admin.post("/api/create_user", {
    data: { username: user, password: passwordOf(user), roles, groups },
  });
  expect([200, 409], await response.text()).toContain(response.status());
}

/// Signs `ctx` (a page's request context shares the page's cookies) in as `user`.
export async function signIn(ctx: APIRequestContext, user: string, password = passwordOf(user)) {
  const response = await ctx.post("/api/login", { data: { username: user, password } });
  expect(response.status(), await response.text()).toBe(200);
}

/// Watches a page for browser errors; returns the list to check at the end.
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    // A refused request (e.g. a 409 for a gate decided by someone else, or the 401 that
    // shows the sign-in form) is shown to the user by the page itself; the browser also
    // logs it, which is not a fault.
    const refused = /^Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === "error" && !refused.test(text)) errors.push(`console error: ${text}`);
  });
  return errors;
}

type Fixtures = { admin: APIRequestContext };

export const test = base.extend<Fixtures>({
  admin: async ({ playwright, baseURL }, use) => {
    const admin = await playwright.request.newContext({ baseURL });
    await signIn(admin, "admin", ADMIN_PASSWORD);
    await use(admin);
    await admin.dispose();
  },
  request: async ({ playwright, baseURL, admin }, use) => {
    await ensureUser(admin, "olaf");
    const olaf = await playwright.request.newContext({ baseURL });
    await signIn(olaf, "olaf");
    await use(olaf);
    await olaf.dispose();
  },
  page: async ({ page, admin }, use) => {
    const errors = collectErrors(page);
    await ensureUser(admin, "ana");
    await signIn(page.request, "ana");
    await use(page);
    expect(errors, "the browser reported errors").toEqual([]);
  },
});

export { expect };
