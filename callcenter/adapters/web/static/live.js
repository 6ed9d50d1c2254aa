// Shared helpers: JSON calls with the CSRF token, and a live event stream that reconnects.
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: 'same-origin',
    ...options,
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf(), ...(options.headers || {}) },
  });
  if (!response.ok) throw new Error(`${response.status} ${(await response.json()).message}`);
  return response.json();
}

function live(topics, onMessage, onResync) {
  // EventSource reconnects by itself (retry: 2000 from the server); after any
  // reconnect or overflow we reload a full snapshot, so nothing is missed.
  const source = new EventSource(`/api/events?topics=${topics.join(',')}`);
  source.addEventListener('open', onResync);
  source.addEventListener('resync', onResync);
  for (const topic of topics) source.addEventListener(topic, (e) => onMessage(topic, JSON.parse(e.data)));
  return source;
}
