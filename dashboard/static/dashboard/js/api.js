// The JSON API with the session cookie and Django's CSRF header.

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

/** Resolves to {ok, status, data}; data is the parsed JSON body or null. */
export async function api(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, data: { detail: "The server cannot be reached. Check your connection." } };
  }
  const isJson = (response.headers.get("Content-Type") || "").includes("json");
  const data = isJson ? await response.json().catch(() => null) : null;
  return { ok: response.ok, status: response.status, data };
}

/** The first message of an API error body: {"field": ["..."]} or {"detail": "..."}. */
export function errorMessage(data, field) {
  if (!data) return "Something went wrong. Try again.";
  if (field && Array.isArray(data[field])) return data[field][0];
  if (typeof data.detail === "string") return data.detail;
  for (const value of Object.values(data)) {
    if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  }
  return "Something went wrong. Try again.";
}
