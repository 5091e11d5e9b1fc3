// REST calls of the labeling loop: next item, submit (which returns the next item), an earlier
// answer to change, progress.
// Session auth: the CSRF token comes from the form on the page (or the cookie).
// A submit that may not have reached the server (network error, 429, 502–504) is retried with
// the same Idempotency-Key, so the server stores the answer once however often it arrives.

const RETRY_DELAYS_MS = [400, 1200, 3000];
const TRANSIENT = [0, 429, 502, 503, 504];

function csrfToken(cookieName) {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (field && field.value) return field.value;
  const match = document.cookie.match(new RegExp(`(?:^|; )${cookieName}=([^;]+)`));
  return match ? decodeURIComponent(match[1]) : "";
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// The API's error body is {"error": {"code", "message", "fields"}}: made one readable sentence.
export function describe(status, body) {
  const error = body && body.error;
  if (status === 0) return "The server cannot be reached (network problem).";
  if (!error || !error.message) return `The server answered ${status}.`;
  const details = Object.values(error.fields || {})
    .flatMap((messages) => [].concat(messages))
    .map(String)
    .filter((text) => text && !error.message.includes(text));
  return details.length ? `${error.message} ${details.join(" ")}` : error.message;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
    this.code = body && body.error ? body.error.code : "";
  }

  get transient() { return TRANSIENT.includes(this.status); }

  get sessionExpired() {
    return this.status === 401 || ["not_authenticated", "authentication_failed"].includes(this.code)
      || (this.status === 403 && /CSRF/i.test(this.message));
  }
}

export class Api {
  constructor(urls, cookieName = "csrftoken") {
    this.urls = urls;
    this.cookieName = cookieName;
  }

  // → {status, data}; data is null for 204. Throws ApiError for anything but 2xx.
  async request(url, { method = "GET", body, headers = {} } = {}) {
    let response;
    try {
      response = await fetch(url, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          "X-CSRFToken": csrfToken(this.cookieName),
          ...headers,
        },
      });
    } catch (_) {
      throw new ApiError(0, null);
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (_) { data = null; }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return { status: response.status, data };
  }

  async withRetries(call, onRetry) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof ApiError) || !error.transient || attempt >= RETRY_DELAYS_MS.length) throw error;
        if (onRetry) onRetry(attempt + 1, error);
        await sleep(RETRY_DELAYS_MS[attempt]);
      }
    }
  }

  // The next item, or null when nothing is left for the caller (204).
  async next(onRetry) {
    const { data } = await this.withRetries(() => this.request(this.urls.next), onRetry);
    return data;
  }

  // An item the caller answered, with their current answer: {item, annotation}.
  async myAnswer(itemId) {
    const { data } = await this.request(this.urls.myAnswer.replace("{id}", String(itemId)));
    return data;
  }

  async progress() {
    const { data } = await this.request(this.urls.progress);
    return data;
  }

  // → {created, annotation, next}
  async submit(itemId, payload, idempotencyKey, onRetry) {
    const url = this.urls.submit.replace("{id}", String(itemId));
    const headers = { "Idempotency-Key": idempotencyKey };
    const { status, data } = await this.withRetries(
      () => this.request(url, { method: "POST", body: payload, headers }),
      onRetry,
    );
    return { created: status === 201, annotation: data.annotation, next: data.next };
  }
}
