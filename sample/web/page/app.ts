// The sample's web page: the bookstore's handlers called from the browser over Connect or
// gRPC-Web with @connectrpc/connect-web, no proxy. Bundled by sample/web/bundle-page.ts.
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import type { Interceptor, Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-web';
import { AuthController, BookController } from '../gen/bookstore_pb';
import type { Book } from '../gen/bookstore_pb';
import { BadRequestSchema } from '../gen/google/rpc/error_details_pb';

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const protocol = element<HTMLSelectElement>('protocol');
const bookForm = element<HTMLFormElement>('book');
const listForm = element<HTMLFormElement>('list');
const rows = element<HTMLTableSectionElement>('books');
const stop = element<HTMLButtonElement>('stop');

let token = '';
/** Sends the bearer token from Login with every call, as `authorization` metadata. */
const withToken: Interceptor = (next) => (request) => {
  if (token) request.header.set('authorization', `Bearer ${token}`);
  return next(request);
};

function transport(): Transport {
  const baseUrl = location.origin;
  if (protocol.value === 'grpc-web') return createGrpcWebTransport({ baseUrl, interceptors: [withToken] });
  return createConnectTransport({ baseUrl, useBinaryFormat: protocol.value === 'connect-proto', interceptors: [withToken] });
}

const books = () => createClient(BookController, transport());

function show(text: string): void {
  element('status').textContent = `${text} (${protocol.selectedOptions[0].text})`;
}

/** Shows a failed call: its code and message, and each field violation next to its field. */
function showError(method: string, error: unknown): void {
  const failure = ConnectError.from(error);
  show(`${method}: ${Code[failure.code]}: ${failure.rawMessage}`);
  for (const badRequest of failure.findDetails(BadRequestSchema)) {
    for (const violation of badRequest.fieldViolations) {
      const slot = bookForm.querySelector(`[data-error="${violation.field}"]`);
      if (slot) slot.textContent = violation.description;
    }
  }
}

function clearErrors(): void {
  for (const slot of bookForm.querySelectorAll('[data-error]')) slot.textContent = '';
}

function field(name: string): HTMLInputElement {
  return bookForm.elements.namedItem(name) as HTMLInputElement;
}

function editing(book?: Book): void {
  field('id').value = book ? String(book.id) : '';
  field('title').value = book?.title ?? '';
  field('isbn').value = book?.isbn ?? '';
  field('author').value = book?.author?.name ?? '';
  field('published').value = book?.published ? timestampDate(book.published).toISOString().slice(0, 10) : '';
  field('price').value = book?.price ?? '';
  field('in_stock').checked = book?.inStock ?? false;
  element('form-title').textContent = book ? `Book ${book.id}` : 'New book';
  element('save').textContent = book ? 'Update' : 'Create';
  clearErrors();
}

function row(book: Book): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.id = String(book.id);
  const published = book.published ? timestampDate(book.published).toISOString().slice(0, 10) : '';
  for (const text of [String(book.id), book.title, book.author?.name ?? '', published, book.price]) {
    tr.insertCell().textContent = text;
  }
  const actions = tr.insertCell();
  const edit = document.createElement('button');
  edit.textContent = 'Edit';
  edit.onclick = () => void retrieve(book.id);
  const remove = document.createElement('button');
  remove.textContent = 'Delete';
  remove.onclick = () => void destroy(book.id, tr);
  actions.append(edit, ' ', remove);
  return tr;
}

async function retrieve(id: number): Promise<void> {
  try {
    editing(await books().retrieve({ id }));
    show(`Retrieve: OK, book ${id}`);
  } catch (error) {
    showError('Retrieve', error);
  }
}

async function destroy(id: number, tr: HTMLTableRowElement): Promise<void> {
  try {
    await books().destroy({ id });
    tr.remove();
    show(`Destroy: OK, book ${id}`);
  } catch (error) {
    showError('Destroy', error);
  }
}

async function save(): Promise<void> {
  clearErrors();
  const published = field('published').value;
  const book = {
    title: field('title').value,
    isbn: field('isbn').value,
    author: { name: field('author').value },
    published: published ? timestampFromDate(new Date(published)) : undefined,
    price: field('price').value,
    inStock: field('in_stock').checked,
  };
  const id = Number(field('id').value);
  const method = id ? 'Update' : 'Create';
  try {
    const saved = id ? await books().update({ ...book, id }) : await books().create(book);
    editing(saved);
    show(`${method}: OK, book ${saved.id}`);
  } catch (error) {
    showError(method, error);
  }
}

let listing: AbortController | undefined;

/** Lists the matching books as the stream delivers them; Stop aborts the fetch, which cancels the call. */
async function list(): Promise<void> {
  listing?.abort();
  const abort = (listing = new AbortController());
  const filter = (listForm.elements.namedItem('filter') as HTMLInputElement).value;
  rows.textContent = '';
  stop.disabled = false;
  let received = 0;
  try {
    for await (const book of books().list({ filter }, { signal: abort.signal })) {
      rows.append(row(book));
      received++;
    }
    show(`List: OK, ${received} books`);
  } catch (error) {
    if (abort.signal.aborted) show(`List: stopped after ${received} books`);
    else showError('List', error);
  } finally {
    if (listing === abort) stop.disabled = true;
  }
}

element<HTMLFormElement>('login').onsubmit = async (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const email = (form.elements.namedItem('email') as HTMLInputElement).value;
  const password = (form.elements.namedItem('password') as HTMLInputElement).value;
  try {
    const response = await createClient(AuthController, transport()).login({ email, password });
    token = response.token;
    element('who').textContent = `as ${response.member?.name || email}`;
    show('Login: OK');
  } catch (error) {
    showError('Login', error);
  }
};
bookForm.onsubmit = (event) => {
  event.preventDefault();
  void save();
};
listForm.onsubmit = (event) => {
  event.preventDefault();
  void list();
};
element('new').onclick = () => editing();
stop.onclick = () => listing?.abort();
