// What every console page shares (base.html loads it before the page's own script):
// JSON calls with the CSRF token that keep every reason a request was refused,
// the live event stream, the server's clock, and how durations, percentages and
// elements are made. Text always goes in with textContent, never as HTML.
'use strict';

const DASH = '–'; // a figure with no value (yet)

// -- JSON calls --------------------------------------------------------------------------
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

// The answer's JSON; a refusal throws an Error with the server's message, the
// status, and for validation errors each field and what is wrong with it (.problems).
async function request(path, options = {}) {
  const response = await fetch(path, {
    credentials: 'same-origin',
    ...options,
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf(), ...(options.headers || {}) },
  });
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const reason = (body && body.message) || '';
    const error = new Error(reason || `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.reason = reason || response.statusText;
    error.problems = problemsOf(body);
    throw error;
  }
  return body;
}

// The same call, for pages that show a refusal as "<status> <message>".
async function api(path, options = {}) {
  try {
    return await request(path, options);
  } catch (error) {
    if (error.status) error.message = `${error.status} ${error.reason}`;
    throw error;
  }
}

function problemsOf(body) {
  if (!body) return [];
  if (Array.isArray(body.problems)) return body.problems;
  const found = [];
  // APIFlask's validation errors: {detail: {json|query: {"field.path": ["message", ...]}}}
  for (const where of Object.values(body.detail || {})) {
    if (!where || typeof where !== 'object') continue;
    for (const [field, messages] of Object.entries(where)) {
      for (const raw of [].concat(messages)) {
        const message = String(raw).replace(/^Value error, /, '');
        const named = field === '_schema' || message.startsWith(`${field}:`);
        found.push(named ? message : `${field}: ${message}`);
      }
    }
  }
  return found;
}

function describeError(error) {
  const lines = error.problems && error.problems.length ? error.problems : [];
  return lines.length ? `${error.message}:\n• ${lines.join('\n• ')}` : error.message;
}

// -- live updates ------------------------------------------------------------------------
function live(topics, onMessage, onResync) {
  // EventSource reconnects by itself (retry: 2000 from the server); after any
  // reconnect or overflow we reload a full snapshot, so nothing is missed.
  const source = new EventSource(`/api/events?topics=${topics.join(',')}`);
  source.addEventListener('open', onResync);
  source.addEventListener('resync', onResync);
  for (const topic of topics) source.addEventListener(topic, (e) => onMessage(topic, JSON.parse(e.data)));
  return source;
}

// The server's clock as seen from this page (epoch seconds), so times counted
// here do not depend on the PC's clock: sync() with a "now" the server sent.
function serverClock() {
  let skew = 0; // server minus browser, seconds
  return {
    sync(serverNow) { skew = serverNow - Date.now() / 1000; },
    now: () => Date.now() / 1000 + skew,
  };
}

// -- formatting --------------------------------------------------------------------------
// Seconds as h:mm:ss, or m:ss under an hour. round: to the nearest second (figures)
// rather than down (running clocks); hours: 'always' (a table column) or 'never'
// (minutes past 59); padMinutes: mm:ss under an hour. No value: a dash.
function duration(seconds, { round = false, hours = 'auto', padMinutes = false } = {}) {
  if (seconds === null || seconds === undefined) return DASH;
  const s = Math.max(0, round ? Math.round(seconds) : Math.floor(seconds));
  const two = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  if (hours === 'never') return `${Math.floor(s / 60)}:${two(s % 60)}`;
  const m = Math.floor((s % 3600) / 60);
  if (h || hours === 'always') return `${h}:${two(m)}:${two(s % 60)}`;
  return `${padMinutes ? two(m) : m}:${two(s % 60)}`;
}

// A rate (0-1) as a percentage with ``digits`` decimals. No value: a dash.
function percent(rate, digits = 0) {
  if (rate === null || rate === undefined) return DASH;
  return `${digits ? (rate * 100).toFixed(digits) : Math.round(rate * 100)} %`;
}

// -- elements ----------------------------------------------------------------------------
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}, text = undefined) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// -- forms -------------------------------------------------------------------------------
// A form's submit runs ``action`` in the page; an error (a refusal) goes to ``refused``.
function onSubmit(form, action, refused) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    try {
      await action(event);
    } catch (error) {
      refused(error);
    }
  });
}

// A <dl> of label/value pairs; pairs with no value are left out.
function fillDefinitions(list, pairs) {
  list.replaceChildren();
  for (const [label, value] of pairs) {
    if (value === '' || value === null || value === undefined) continue;
    list.append(el('dt', { textContent: label }), el('dd', { textContent: String(value) }));
  }
}
