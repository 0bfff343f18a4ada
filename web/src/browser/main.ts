/**
 * The browser app: plain DOM, every call through the typed client generated from the OpenAPI
 * documents. Text goes in with textContent only (never HTML), and every 4xx shows the server's
 * own message.
 */
import { createTicketingClient, errorMessage, type Order, type Ticket, type TicketReplica } from '@ticketing/client';

const PAGE_SIZE = 5;
const api = createTicketingClient();

interface SessionUser {
  id: string;
  email: string;
}

const state = {
  user: null as SessionUser | null,
  devSignIn: false,
  /** The cursor of each page shown so far: the first is undefined. */
  cursors: [undefined] as (string | undefined)[],
  nextCursor: null as string | null,
  tickets: [] as Ticket[],
  replicas: new Map<string, TicketReplica | null>(),
  orders: [] as Order[],
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

function say(text: string, kind: 'error' | 'info' = 'info'): void {
  const message = $('message');
  message.textContent = text;
  message.className = kind;
}

/** An answer that is not a 2xx: its status and the server's message, as the server put it. */
function sayFailure(action: string, status: number, error: unknown): void {
  say(`${action} failed (${status}): ${errorMessage(error)}`, 'error');
}

async function authCall(path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function loadSession(): Promise<void> {
  const { json } = await authCall('/auth/session');
  state.user = json?.user ?? null;
  state.devSignIn = Boolean(json?.devSignIn);
  $('who').textContent = state.user ? `Signed in as ${state.user.email}` : 'Not signed in';
  $('sign-in-form').hidden = state.user !== null;
  $('sign-out').hidden = state.user === null;
}

const price = (text: string): number => (text.trim() === '' ? NaN : Number(text));
/** NaN becomes null in JSON: the server then says the price is required, in its own words. */
const jsonNumber = (n: number): number => (Number.isNaN(n) ? (null as unknown as number) : n);

async function loadTickets(): Promise<void> {
  const cursor = state.cursors[state.cursors.length - 1];
  const { data, error, response } = await api.tickets.GET('/api/tickets', {
    params: { query: { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) } },
  });
  if (!data) return sayFailure('Listing tickets', response.status, error);
  state.tickets = data.tickets;
  state.nextCursor = data.nextCursor;
  renderTickets();
  await loadReplicas();
}

/** Orders' replica of each ticket on the page, to show whether it caught up with the source. */
async function loadReplicas(): Promise<void> {
  await Promise.all(
    state.tickets.map(async (t) => {
      const { data } = await api.orders.GET('/api/orders/tickets/{id}', { params: { path: { id: t.id } } });
      state.replicas.set(t.id, data ?? null);
    }),
  );
  renderTickets();
}

function replicaText(ticket: Ticket): { text: string; caughtUp: boolean } {
  const replica = state.replicas.get(ticket.id);
  if (!replica) return { text: 'orders: not replicated yet', caughtUp: false };
  if (replica.version >= ticket.version) return { text: `orders: v${replica.version} of v${ticket.version}, caught up`, caughtUp: true };
  return { text: `orders: v${replica.version} of v${ticket.version}, behind`, caughtUp: false };
}

function renderTickets(): void {
  const list = $('tickets');
  list.replaceChildren(
    ...state.tickets.map((ticket) => {
      const mine = state.user?.id === ticket.userId;
      const replica = replicaText(ticket);
      const order = el('button', { type: 'button', className: 'order', textContent: 'Order' });
      order.addEventListener('click', () => void orderTicket(ticket));
      const item = el(
        'li',
        {},
        el('span', { className: 'title', textContent: ticket.title }),
        el('span', { className: 'price', textContent: ticket.price.toFixed(2) }),
        el('span', { className: 'version', textContent: `v${ticket.version}` }),
        el('span', { className: `replica ${replica.caughtUp ? 'caught-up' : 'behind'}`, textContent: replica.text }),
        el('span', { className: 'owner', textContent: mine ? 'yours' : '' }),
        order,
      );
      item.dataset.ticketId = ticket.id;
      item.dataset.title = ticket.title;
      if (mine) {
        const edit = el('button', { type: 'button', className: 'edit', textContent: 'Edit' });
        edit.addEventListener('click', () => openEditor(ticket));
        item.append(edit);
      }
      return item;
    }),
  );
  if (state.tickets.length === 0) list.append(el('li', { textContent: 'No free tickets' }));
  ($('next-page') as HTMLButtonElement).disabled = state.nextCursor === null;
  $('page-label').textContent = `page ${state.cursors.length}`;
}

async function createTicket(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const title = ($('create-title') as HTMLInputElement).value;
  const amount = price(($('create-price') as HTMLInputElement).value);
  const { data, error, response } = await api.tickets.POST('/api/tickets', { body: { title, price: jsonNumber(amount) } });
  if (!data) return sayFailure('Creating the ticket', response.status, error);
  say(`Created "${data.title}" (v${data.version})`);
  ($('create-form') as HTMLFormElement).reset();
  state.cursors = [undefined];
  await loadTickets();
}

let editing: Ticket | null = null;

function openEditor(ticket: Ticket): void {
  editing = ticket;
  $('edit-form').hidden = false;
  $('edit-label').textContent = `Editing "${ticket.title}"`;
  ($('edit-title') as HTMLInputElement).value = ticket.title;
  ($('edit-price') as HTMLInputElement).value = String(ticket.price);
  ($('edit-version') as HTMLInputElement).value = String(ticket.version);
  $('edit-current').textContent = '';
}

async function saveEdit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  if (!editing) return;
  const id = editing.id;
  const title = ($('edit-title') as HTMLInputElement).value;
  const amount = price(($('edit-price') as HTMLInputElement).value);
  const version = Number(($('edit-version') as HTMLInputElement).value);
  const { data, error, response } = await api.tickets.PUT('/api/tickets/{id}', {
    params: { path: { id } },
    body: { title, price: jsonNumber(amount), version },
  });
  if (!data) {
    sayFailure('Saving the ticket', response.status, error);
    if (response.status === 409) {
      // someone else saved first: show what is there now, and edit from it if the user retries
      const current = await api.tickets.GET('/api/tickets/{id}', { params: { path: { id } } });
      if (current.data) {
        $('edit-current').textContent = `Current: v${current.data.version}, "${current.data.title}" at ${current.data.price.toFixed(2)}`;
        ($('edit-version') as HTMLInputElement).value = String(current.data.version);
      }
    }
    return;
  }
  say(`Saved "${data.title}" (v${data.version})`);
  $('edit-form').hidden = true;
  editing = null;
  await loadTickets();
}

async function orderTicket(ticket: Ticket): Promise<void> {
  const { data, error, response } = await api.orders.POST('/api/orders', { body: { ticketId: ticket.id } });
  if (!data) return sayFailure(`Ordering "${ticket.title}"`, response.status, error);
  say(`Ordered "${data.ticket.title}": held until ${new Date(data.expiresAt).toLocaleTimeString()}`);
  await Promise.all([loadOrders(), loadTickets()]);
}

async function loadOrders(): Promise<void> {
  if (!state.user) {
    state.orders = [];
    return renderOrders();
  }
  const { data, error, response } = await api.orders.GET('/api/orders');
  if (!data) return sayFailure('Listing your orders', response.status, error);
  state.orders = data;
  renderOrders();
}

function timeLeft(order: Order): string {
  if (order.status !== 'created') return '';
  const seconds = Math.max(0, Math.round((Date.parse(order.expiresAt) - Date.now()) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} left`;
}

function renderOrders(): void {
  const list = $('orders');
  list.replaceChildren(
    ...state.orders.map((order) => {
      const item = el(
        'li',
        {},
        el('span', { className: 'title', textContent: order.ticket.title }),
        el('span', { className: 'price', textContent: order.ticket.price.toFixed(2) }),
        el('span', { className: 'status', textContent: order.status }),
        el('span', { className: 'time-left', textContent: timeLeft(order) }),
      );
      item.dataset.orderId = order.id;
      item.dataset.title = order.ticket.title;
      if (order.status === 'created' || order.status === 'awaiting:payment') {
        const cancel = el('button', { type: 'button', className: 'cancel', textContent: 'Cancel' });
        cancel.addEventListener('click', () => void cancelOrder(order));
        item.append(cancel);
      }
      return item;
    }),
  );
  if (state.orders.length === 0) list.append(el('li', { textContent: state.user ? 'No orders' : 'Sign in to see your orders' }));
}

async function cancelOrder(order: Order): Promise<void> {
  const { data, error, response } = await api.orders.DELETE('/api/orders/{id}', { params: { path: { id: order.id } } });
  if (!data) return sayFailure('Cancelling the order', response.status, error);
  say(`Cancelled the order of "${data.ticket.title}"`);
  await Promise.all([loadOrders(), loadTickets()]);
}

async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const { status, json } = await authCall('/auth/dev-sign-in', { email: ($('email') as HTMLInputElement).value });
  if (status !== 200) return sayFailure('Signing in', status, json);
  await refreshAll();
  say(`Signed in as ${json.user.email}`);
}

async function signOut(): Promise<void> {
  await authCall('/auth/sign-out', {});
  await refreshAll();
  say('Signed out');
}

async function refreshAll(): Promise<void> {
  await loadSession();
  await Promise.all([loadTickets(), loadOrders()]);
}

function start(): void {
  $('sign-in-form').addEventListener('submit', (e) => void signIn(e as SubmitEvent));
  $('sign-out').addEventListener('click', () => void signOut());
  $('create-form').addEventListener('submit', (e) => void createTicket(e as SubmitEvent));
  $('edit-form').addEventListener('submit', (e) => void saveEdit(e as SubmitEvent));
  $('edit-cancel').addEventListener('click', () => {
    $('edit-form').hidden = true;
    editing = null;
  });
  $('next-page').addEventListener('click', () => {
    if (state.nextCursor) state.cursors.push(state.nextCursor);
    void loadTickets();
  });
  $('first-page').addEventListener('click', () => {
    state.cursors = [undefined];
    void loadTickets();
  });
  $('refresh').addEventListener('click', () => void refreshAll());
  // the time left ticks; replicas behind their source are looked at again until they catch up
  setInterval(() => {
    renderOrders();
    if (state.tickets.some((t) => !replicaText(t).caughtUp)) void loadReplicas();
  }, 1000);
  refreshAll().catch((err) => say(`The app could not load: ${String(err)}`, 'error'));
}

start();
