// Alert history: local-time filters sent as UTC instants, acknowledge in place.
import { api, errorMessage } from "./js/api.js";
import { renderTimes } from "./js/time.js";
import { showToast } from "./js/toasts.js";

const form = document.querySelector("[data-alert-filter]");

function toLocalInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

for (const input of form.querySelectorAll("[data-local-for]")) {
  const hidden = form.elements[input.dataset.localFor];
  if (hidden.value) input.value = toLocalInput(hidden.value);
}

form.addEventListener("submit", () => {
  for (const input of form.querySelectorAll("[data-local-for]")) {
    form.elements[input.dataset.localFor].value = input.value ? new Date(input.value).toISOString() : "";
  }
  // Empty filters stay out of the address.
  for (const element of form.elements) {
    if (element.name && !element.value) element.disabled = true;
  }
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-ack]");
  if (!button) return;
  const row = button.closest("[data-alert-id]");
  button.disabled = true;
  const { ok, data } = await api(`/api/alerts/${row.dataset.alertId}/ack/`, { method: "POST" });
  if (!ok) {
    button.disabled = false;
    showToast(errorMessage(data), "error");
    return;
  }
  const done = document.createElement("span");
  done.className = "muted";
  done.dataset.acked = "";
  done.textContent = "Acknowledged";
  button.replaceWith(done);
  const badge = document.querySelector("[data-alerts-badge]");
  if (badge) {
    const left = Math.max(0, Number(badge.textContent) - 1);
    badge.textContent = String(left);
    badge.hidden = left === 0;
  }
  showToast("Alert acknowledged.", "success");
});

renderTimes();

// In-app alerts as they happen: chrome.js counts them on the badge; this page's toast
// says the list is behind.
document.addEventListener("iotsite:alert", (event) => {
  event.preventDefault();
  const message = event.detail;
  const what = message.kind === "silence" ? "no data" : `${message.sensor} = ${message.value}`;
  showToast(`${message.device_name}: ${what} — ${message.state}. Reload to see it in the list.`, message.state === "firing" ? "warning" : "info");
});
