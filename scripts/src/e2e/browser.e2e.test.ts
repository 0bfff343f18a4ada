import fs from 'node:fs';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';
import { createTicketingClient } from '@ticketing/client';
import { ordersOpenApi, ticketsOpenApi } from '@ticketing/common';
import { StackContract, waitFor } from '@ticketing/common/testing';
import { startTestStack } from './stack-fixture';

jest.setTimeout(300_000);

/** Debian's chromium, installed by `npm run setup` (infra/local/provision.mjs). */
const CHROMIUM = '/usr/bin/chromium';
// The network is closed: without the background-networking flags chromium keeps trying services it cannot reach.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('the web app in a real browser, against the real local stack', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: Browser;
  // every API answer the app gets in the browser is checked against the OpenAPI documents
  const contract = new StackContract([ticketsOpenApi, ordersOpenApi]);
  const checks: Promise<string[]>[] = [];
  const checkInBrowser = async (response: Response): Promise<string[]> => {
    const request = response.request();
    const url = new URL(response.url());
    if (!url.pathname.startsWith('/api/')) return [];
    let requestHeaders: Record<string, string>;
    let responseHeaders: Record<string, string>;
    try {
      requestHeaders = await request.allHeaders();
      responseHeaders = await response.allHeaders();
    } catch (err) {
      // A page the test closed while this answer was arriving: nothing left to read it from.
      if (String(err).includes('has been closed')) return [];
      throw err;
    }
    // Revalidated from the browser's cache (If-None-Match, answered 304): the page sees the cached
    // 200 with the 304's headers. That 200 was checked when it first arrived.
    if (requestHeaders['if-none-match'] && responseHeaders['content-type'] === undefined) return [];
    return contract.check({
      method: request.method(),
      url: url.pathname + url.search,
      requestHeaders,
      requestBody: request.postDataBuffer() ?? Buffer.alloc(0),
      status: response.status(),
      responseHeaders,
      responseBody: await response.body().catch(() => Buffer.alloc(0)),
    });
  };

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm run setup\` as root (it installs Debian's chromium)`);
    stack = await startTestStack();
    // launch() gives the browser a fresh user-data-dir of its own, removed when it closes
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  afterEach(async () => {
    const violations = (await Promise.all(checks.splice(0))).flat();
    expect(violations).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A user of their own (own cookies), signed in through the development sign-in. */
  async function signedInPage(email: string): Promise<Page> {
    const context = await browser.newContext();
    // waits only: on a loaded 2-core machine a step can take long, and a wait ends as soon as it holds
    context.setDefaultTimeout(90_000);
    context.on('response', (response) => checks.push(checkInBrowser(response)));
    const page = await context.newPage();
    page.on('pageerror', (err) => process.stderr.write(`browser (${email}): ${err.message}\n`));
    await page.goto(stack.url, { waitUntil: 'domcontentloaded' });
    await page.locator('#who', { hasText: 'Not signed in' }).waitFor();
    await page.fill('#email', email);
    await page.click('#sign-in-form button');
    await page.locator('#who', { hasText: `Signed in as ${email}` }).waitFor();
    return page;
  }

  const ticketRow = (page: Page, title: string) => page.locator(`#tickets li[data-title="${title}"]`);
  const message = (page: Page) => page.locator('#message');

  it('signs in, creates, edits, orders and cancels, shows the replica catching up and the server messages for a 400 and a 409', async () => {
    const alice = await signedInPage('alice@example.dev');
    const cookies = await alice.context().cookies();
    expect(cookies.find((c) => c.name === 'session')).toEqual(expect.objectContaining({ httpOnly: true, sameSite: 'Lax', path: '/' }));

    // a 400: the server's own message, naming the field
    await alice.fill('#create-title', 'Concert');
    await alice.fill('#create-price', '0');
    await alice.click('#create-form button');
    await message(alice).filter({ hasText: 'Creating the ticket failed (400): price: Price must be greater than 0' }).waitFor();

    // create: it is listed, and orders' replica catches up with version 0
    await alice.fill('#create-price', '25');
    await alice.click('#create-form button');
    await message(alice).filter({ hasText: 'Created "Concert" (v0)' }).waitFor();
    const row = ticketRow(alice, 'Concert');
    await row.locator('.version', { hasText: 'v0' }).waitFor();
    await row.locator('.owner', { hasText: 'yours' }).waitFor();
    await row.locator('.replica', { hasText: 'orders: v0 of v0, caught up' }).waitFor();

    // edit: version 1, and the replica follows
    await row.locator('.edit').click();
    await alice.fill('#edit-price', '30');
    await alice.click('#edit-form button[type=submit]');
    await message(alice).filter({ hasText: 'Saved "Concert" (v1)' }).waitFor();
    await ticketRow(alice, 'Concert').locator('.replica', { hasText: 'orders: v1 of v1, caught up' }).waitFor();
    expect(await ticketRow(alice, 'Concert').locator('.price').textContent()).toBe('30.00');

    // a stale edit: another tab saves first; this one shows the 409 and the current version
    await ticketRow(alice, 'Concert').locator('.edit').click();
    const otherTab = await alice.context().newPage();
    await otherTab.goto(stack.url, { waitUntil: 'domcontentloaded' });
    await ticketRow(otherTab, 'Concert').locator('.edit').click();
    await otherTab.fill('#edit-title', 'Concert (moved)');
    await otherTab.click('#edit-form button[type=submit]');
    await message(otherTab).filter({ hasText: 'Saved "Concert (moved)" (v2)' }).waitFor();
    await alice.fill('#edit-price', '35');
    await alice.click('#edit-form button[type=submit]');
    await message(alice)
      .filter({ hasText: 'Saving the ticket failed (409): The ticket is at version 2, not 1: reload it and retry' })
      .waitFor();
    await alice.locator('#edit-current', { hasText: 'Current: v2, "Concert (moved)" at 30.00' }).waitFor();

    // order it as bob: held for him, with the time left
    const bob = await signedInPage('bob@example.dev');
    await ticketRow(bob, 'Concert (moved)').locator('.order').click();
    await message(bob).filter({ hasText: 'Ordered "Concert (moved)"' }).waitFor();
    const order = bob.locator('#orders li[data-title="Concert (moved)"]');
    await order.locator('.status', { hasText: 'created' }).waitFor();
    expect(await order.locator('.time-left').textContent()).toMatch(/^1[45]:\d\d left$/);

    // alice's page still lists it as she last loaded it: ordering a held ticket shows the 409
    await ticketRow(alice, 'Concert').locator('.order').click();
    await message(alice)
      .filter({ hasText: /Ordering "Concert" failed \(409\): .+/ })
      .waitFor();

    // cancel: the ticket is free again (version 4: reserved, then freed) and the replica catches up
    await order.locator('.cancel').click();
    await message(bob).filter({ hasText: 'Cancelled the order of "Concert (moved)"' }).waitFor();
    await order.locator('.status', { hasText: 'cancelled' }).waitFor();
    await waitFor(async () => {
      await bob.click('#refresh');
      return (await ticketRow(bob, 'Concert (moved)').locator('.version', { hasText: 'v4' }).count()) === 1;
    });
    await ticketRow(bob, 'Concert (moved)').locator('.replica', { hasText: 'orders: v4 of v4, caught up' }).waitFor();
  });

  it('pages through the free tickets', async () => {
    // six more tickets through the typed client, so that there are three pages of five
    const { tickets } = createTicketingClient({ baseUrl: stack.url, token: stack.token });
    for (let i = 1; i <= 6; i++)
      expect((await tickets.POST('/api/tickets', { body: { title: `Paged ${i}`, price: i } })).response.status).toBe(201);
    const page = await signedInPage('carol@example.dev');
    const titles = () => page.locator('#tickets li .title').allTextContents();
    await page.locator('#tickets li[data-title="Paged 6"]').waitFor();
    expect(await titles()).toEqual(['Paged 6', 'Paged 5', 'Paged 4', 'Paged 3', 'Paged 2']);
    await page.click('#next-page');
    await page.locator('#page-label', { hasText: 'page 2' }).waitFor();
    expect(await titles()).toEqual(['Paged 1', 'Concert (moved)']);
    expect(await page.locator('#next-page').isDisabled()).toBe(true);
    await page.click('#first-page');
    await page.locator('#page-label', { hasText: 'page 1' }).waitFor();
    expect(await titles()).toEqual(['Paged 6', 'Paged 5', 'Paged 4', 'Paged 3', 'Paged 2']);
  });
});
