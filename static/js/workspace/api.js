// REST calls of the labeling loop. Session auth: the CSRF token comes from the cookie.
function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function request(url, { method = "GET", body, headers = {} } = {}) {
  const response = await fetch(url, {
    method,
    body,
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken(), ...headers },
  });
  if (response.status === 204) return { status: 204, body: null };
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  return { status: response.status, body: data };
}

export function errorMessage(result) {
  const error = result.body && result.body.error;
  if (!error) return `The server answered ${result.status}.`;
  const fields = Object.entries(error.fields || {}).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`);
  return fields.length ? `${error.message} (${fields.join("; ")})` : error.message;
}

export const api = {
  next: (urls) => request(urls.next),
  progress: (urls) => request(urls.progress),
  submit: (urls, itemId, payload, key) =>
    request(urls.submit.replace("{id}", String(itemId)), {
      method: "POST",
      body: JSON.stringify(payload),
      headers: { "Idempotency-Key": key },
    }),
};
