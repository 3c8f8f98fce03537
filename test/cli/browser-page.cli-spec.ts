import { execFileSync } from 'node:child_process';
import { Browser, chromium, Locator, Page } from 'playwright-core';
import { GrpcClient, makeClient, unary } from '../utils/sample-app';
import { SampleProcess, startSampleProcess } from '../utils/sample-process';

/** Debian's chromium (`.ci/run` installs it), or CHROMIUM_PATH. */
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('The browser test needs Chromium: `apt-get install -y chromium`, or set CHROMIUM_PATH.');
  }
}

const BOOKS_TO_STREAM = 3000;

describe('the sample web page, in headless Chromium (npm run sample)', () => {
  let sample: SampleProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [sample, browser] = await Promise.all([
      startSampleProcess(),
      chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] }),
    ]);
    page = await browser.newPage();
    await page.goto(`http://${sample.webAddress}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sample?.stop();
  });

  const status = () => page.locator('#status');
  const field = (name: string) => page.locator(`#book [name="${name}"]`);

  async function fillBook(book: { title: string; isbn: string; author: string; published: string; price: string }): Promise<void> {
    for (const [name, value] of Object.entries(book)) await field(name).fill(value);
  }

  describe.each([
    ['connect-json', 'Connect, JSON'],
    ['connect-proto', 'Connect, binary'],
    ['grpc-web', 'gRPC-Web, binary'],
  ])('over %s', (protocol, label) => {
    const isbn = `97800000${String(protocol.length).padStart(2, '0')}${protocol.charCodeAt(protocol.length - 1)}`.slice(0, 13);

    it('logs in, then shows a validation error next to its field', async () => {
      await page.selectOption('#protocol', protocol);
      await page.click('#login button');
      await expectText(status(), `Login: OK (${label})`);

      await page.click('#new');
      await fillBook({ title: '', isbn, author: 'Nobody', published: '2020-01-01', price: '12.50' });
      await page.click('#save');
      await expectText(status(), `Create: InvalidArgument: title: This field may not be blank. (${label})`);
      await expectText(page.locator('[data-error="title"]'), 'This field may not be blank.');
    });

    it('creates, lists (streamed, filtered), retrieves, updates and deletes a book', async () => {
      const title = `Browser book ${protocol}`;
      await fillBook({ title, isbn, author: 'Ada Palmer', published: '2016-05-10', price: '12.50' });
      await page.click('#save');
      await expectText(status(), /Create: OK, book \d+/);
      expect(await page.locator('[data-error="title"]').textContent()).toBe('');
      const id = /book (\d+)/.exec((await status().textContent())!)![1];

      await page.fill('#list [name="filter"]', `title:"${title}"`);
      await page.click('#list-books');
      await expectText(status(), `List: OK, 1 books (${label})`);
      const row = page.locator(`#books tr[data-id="${id}"]`);
      await expectText(row, title);
      await expectText(row, 'Ada Palmer');
      await expectText(row, '2016-05-10');

      await row.locator('button', { hasText: 'Edit' }).click();
      await expectText(status(), `Retrieve: OK, book ${id} (${label})`);
      await expectValue(field('title'), title);
      await expectValue(field('published'), '2016-05-10');

      await field('title').fill(`${title}, revised`);
      await page.click('#save');
      await expectText(status(), `Update: OK, book ${id} (${label})`);

      await page.fill('#list [name="filter"]', `title:"${title}, revised"`);
      await page.click('#list-books');
      await expectText(status(), `List: OK, 1 books (${label})`);
      await row.locator('button', { hasText: 'Delete' }).click();
      await expectText(status(), `Destroy: OK, book ${id} (${label})`);
      await eventually(
        () => row.count(),
        (count) => count === 0,
      );

      await page.click('#list-books');
      await expectText(status(), `List: OK, 0 books (${label})`);
    });

    it('stops a streamed List when Stop aborts the fetch', async () => {
      if (protocol === 'connect-json') await seedBooks(sample.address, BOOKS_TO_STREAM);
      await page.fill('#list [name="filter"]', '');
      // A slow network (50 kB/s), so the stream is still arriving when Stop is pressed.
      const network = await page.context().newCDPSession(page);
      await network.send('Network.enable');
      await network.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: 50_000,
        uploadThroughput: -1,
      });
      try {
        await page.click('#list-books');
        await page.locator('#books tr').first().waitFor();
        await page.click('#stop');
        await expectText(status(), 'List: stopped after');
      } finally {
        await network.detach();
      }
      const shown = Number(/after (\d+) books/.exec((await status().textContent())!)![1]);
      expect(shown).toBeGreaterThan(0);
      expect(shown).toBeLessThan(BOOKS_TO_STREAM);
    });
  });
});

/**
 * Waits until `read()` gives a value that passes `check` (the page updates after its call
 * answers), then asserts on the last value read so a failure shows it.
 */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

/** The element's text becomes `expected` (a string: contained in it; a RegExp: matching it). */
async function expectText(locator: Locator, expected: string | RegExp): Promise<void> {
  const matches = (text: string) => (typeof expected === 'string' ? text.includes(expected) : expected.test(text));
  const text = await eventually(async () => (await locator.textContent()) ?? '', matches);
  if (typeof expected === 'string') expect(text).toContain(expected);
  else expect(text).toMatch(expected);
}

async function expectValue(locator: Locator, expected: string): Promise<void> {
  expect(
    await eventually(
      () => locator.inputValue(),
      (value) => value === expected,
    ),
  ).toBe(expected);
}

/** Creates `count` books over native gRPC (BulkCreate, as staff), so a List streams long enough to stop. */
async function seedBooks(address: string, count: number): Promise<void> {
  const auth = makeClient<GrpcClient>(address, 'bookstore.AuthController');
  const { token } = await unary<{ token: string }>(auth, 'Login', { email: 'staff@bookstore.example', password: 'staff-password' });
  auth.close();
  const books = makeClient<GrpcClient>(address, 'bookstore.BookController', token);
  await new Promise<void>((resolve, reject) => {
    const call = books.BulkCreate((error: Error | null) => (error ? reject(error) : resolve()));
    for (let i = 0; i < count; i++) {
      call.write({
        title: `Stream ${i}`,
        isbn: `979${String(i).padStart(10, '0')}`,
        author: { name: 'Prolific' },
        published: { seconds: 0 },
        price: '1.00',
      });
    }
    call.end();
  });
  books.close();
}
