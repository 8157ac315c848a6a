// The REST API, as the signed-in user. Tokens live in sessionStorage: gone when the tab closes.
const SESSION = "mocki.session";

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export function signedIn() {
  return sessionStorage.getItem(SESSION) !== null;
}

export function remember(tokens) {
  sessionStorage.setItem(SESSION, JSON.stringify(tokens));
}

export function forget() {
  sessionStorage.removeItem(SESSION);
}

// The signed-in role, read from the access token, only to choose what to show: the API checks every request.
export function role() {
  const current = tokens();
  if (!current) return null;
  try {
    const payload = current.access_token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    return JSON.parse(atob(payload)).role || null;
  } catch {
    return null;
  }
}

function tokens() {
  return JSON.parse(sessionStorage.getItem(SESSION) || "null");
}

async function refreshed() {
  const current = tokens();
  if (!current) return false;
  const response = await fetch("/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: current.refresh_token }),
  });
  if (!response.ok) {
    forget();
    return false;
  }
  remember(await response.json());
  return true;
}

export async function api(method, path, body, retried = false) {
  const headers = { Accept: "application/json" };
  const current = tokens();
  if (current) headers.Authorization = `Bearer ${current.access_token}`;
  const form = body instanceof FormData; // an upload: the browser sets its multipart boundary
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  const payload = body === undefined || form ? body : JSON.stringify(body);
  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 401 && current && !retried && (await refreshed())) return api(method, path, body, true);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && (data.detail || data.message);
    throw new ApiError(response.status, detail || `${response.status} ${response.statusText}`, response.headers.get("Retry-After"));
  }
  return data;
}

// A job (answer, hint, review): accepted with 202, then long-polled until it completes or fails.
export async function job(path, body) {
  const accepted = await api("POST", path, body);
  for (;;) {
    const polled = await api("GET", `${path}/${accepted.job_id}?wait=20`);
    if (polled.status === "completed") return polled.result;
    if (polled.status === "failed") throw new ApiError(422, polled.error || "the job failed");
  }
}
