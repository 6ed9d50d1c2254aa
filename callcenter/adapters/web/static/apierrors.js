// JSON calls that keep every reason a request was refused: the message and,
// for validation errors, each field and what is wrong with it (error.problems).
async function request(path, options = {}) {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(path, {
    credentials: 'same-origin',
    ...options,
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': token, ...(options.headers || {}) },
  });
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const error = new Error((body && body.message) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.problems = problemsOf(body);
    throw error;
  }
  return body;
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
