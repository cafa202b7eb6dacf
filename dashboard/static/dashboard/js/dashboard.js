// The device cards: rename in place, the details panel, the QR and token dialog,
// gauges with their alert bounds, displays, and online/stale status that follows the
// clock (offline while a "no data" alert fires).
import { api, errorMessage } from "./api.js";
import { gaugeSvg } from "./gauge.js";
import { displayText, sevenSegmentSvg } from "./seven_segment.js";
import { showToast } from "./toasts.js";
import { renderTimes } from "./time.js";

const REFRESH_MS = 15_000;
// Dispatched on document by chrome.js (the page's shared script) for each alert pushed.
const ALERT_EVENT = "iotsite:alert";
const STATUS_TEXT = { online: "Online", stale: "Stale", never: "Never seen", offline: "Offline" };
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
const onlineWindowMs = Number(document.querySelector("[data-online-window]").dataset.onlineWindow) * 1000;

function optionalNumber(text) {
  return text === undefined || text === "" ? null : Number(text);
}

function drawGauges(root = document) {
  for (const holder of root.querySelectorAll("[data-gauge]")) {
    const { min, max, unit, value, lower, upper } = holder.dataset;
    holder.replaceChildren(
      gaugeSvg({
        min: Number(min), max: Number(max), unit, value: optionalNumber(value),
        lower: optionalNumber(lower), upper: optionalNumber(upper),
      }),
    );
  }
}

function drawDisplays(root = document) {
  for (const holder of root.querySelectorAll("[data-seven-segment]")) {
    const { sevenSegment, decimals, digits } = holder.dataset;
    const text = displayText(Number(sevenSegment), { decimals: optionalNumber(decimals), digits: optionalNumber(digits) });
    const unit = holder.nextElementSibling?.textContent || "";
    holder.replaceChildren(sevenSegmentSvg(text, { label: `Display reads ${text.trim()}${unit ? ` ${unit}` : ""}` }));
  }
}

function formatNumbers(root = document) {
  for (const element of root.querySelectorAll("[data-number]")) {
    element.textContent = numberFormat.format(Number(element.dataset.number));
  }
}

function updateStatus(card) {
  const lastSeen = card.dataset.lastSeen ? new Date(card.dataset.lastSeen) : null;
  let state = lastSeen === null ? "never" : Date.now() - lastSeen <= onlineWindowMs ? "online" : "stale";
  if (card.dataset.offline === "true") state = "offline";
  const badge = card.querySelector("[data-status]");
  badge.className = `status status-${state}`;
  badge.querySelector(".status-text").textContent = STATUS_TEXT[state];
}

// A "no data" alert firing or resolving turns its card offline or back at once.
function followSilenceAlerts() {
  document.addEventListener(ALERT_EVENT, ({ detail: message }) => {
    if (message.kind !== "silence") return;
    const card = document.querySelector(`.device-card[data-device-id="${Number(message.device)}"]`);
    if (!card) return;
    card.dataset.offline = String(message.state === "firing");
    updateStatus(card);
  });
}

// Rename: success, unchanged (warning, field turns orange) or refused (error);
// in every case the field keeps the focus and what was typed.
function wireRename(card) {
  const form = card.querySelector("[data-rename]");
  const input = form.elements.name;
  const errorText = card.querySelector(".rename-error");

  const clearState = () => {
    input.classList.remove("is-unchanged", "is-invalid");
    input.removeAttribute("aria-invalid");
    errorText.textContent = "";
  };
  const refuse = (message) => {
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
    errorText.textContent = message;
    showToast(message, "error");
  };

  input.addEventListener("input", clearState);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearState();
    const name = input.value.trim();
    input.focus();
    if (!name) {
      refuse("A device needs a name.");
      return;
    }
    if (name === card.dataset.name) {
      input.classList.add("is-unchanged");
      showToast(`The name is unchanged: it is already “${name}”.`, "warning");
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const { ok, data } = await api(`/api/devices/${card.dataset.deviceId}/`, { method: "PATCH", body: { name } });
    submit.disabled = false;
    input.focus();
    if (!ok) {
      refuse(errorMessage(data, "name"));
      return;
    }
    card.dataset.name = data.name;
    input.value = data.name;
    showToast(`Renamed to “${data.name}”.`, "success");
  });
}

function wireConfigPanel(card) {
  const toggle = card.querySelector("[data-config-toggle]");
  const panel = card.querySelector("[data-config-panel]");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide details" : "Details";
    panel.classList.toggle("open", open);
  });
}

function wireDelete(card) {
  const ask = card.querySelector("[data-delete-ask]");
  const confirmBox = card.querySelector("[data-delete-confirm]");
  ask.addEventListener("click", () => {
    card.querySelector("[data-device-name]").textContent = card.dataset.name;
    confirmBox.hidden = false;
    ask.hidden = true;
    confirmBox.querySelector("[data-delete-cancel]").focus();
  });
  confirmBox.querySelector("[data-delete-cancel]").addEventListener("click", () => {
    confirmBox.hidden = true;
    ask.hidden = false;
    ask.focus();
  });
  confirmBox.querySelector("[data-delete-yes]").addEventListener("click", async () => {
    const { ok, data } = await api(`/api/devices/${card.dataset.deviceId}/`, { method: "DELETE" });
    if (!ok) {
      showToast(errorMessage(data), "error");
      return;
    }
    const name = card.dataset.name;
    const next = card.nextElementSibling || card.previousElementSibling;
    card.remove();
    if (!next) {
      // The last device: the page shows its empty state.
      window.location.reload();
      return;
    }
    next.querySelector("input").focus();
    showToast(`“${name}” is deleted.`, "success");
  });
}

// One dialog serves every card: it is filled for the card that opened it.
function qrDialog() {
  const dialog = document.getElementById("qr-dialog");
  const image = dialog.querySelector("[data-qr-image]");
  const revokedNote = dialog.querySelector("[data-qr-revoked]");
  const tokenValue = dialog.querySelector("[data-token-value]");
  const revealButton = dialog.querySelector("[data-token-reveal]");
  const rotateAsk = dialog.querySelector("[data-rotate-ask]");
  const revokeAsk = dialog.querySelector("[data-revoke-ask]");
  const MASK = "••••••••••••••••";
  let card = null;

  const deviceUrl = (suffix) => `/api/devices/${card.dataset.deviceId}/${suffix}`;
  const hideConfirms = () => dialog.querySelectorAll("[data-confirm]").forEach((box) => (box.hidden = true));
  const hideToken = () => {
    tokenValue.textContent = MASK;
    revealButton.textContent = "Show token";
    revealButton.setAttribute("aria-pressed", "false");
  };
  const showToken = (token) => {
    tokenValue.textContent = token;
    revealButton.textContent = "Hide token";
    revealButton.setAttribute("aria-pressed", "true");
  };
  const render = () => {
    const hasToken = card.dataset.hasToken === "true";
    image.hidden = !hasToken;
    revokedNote.hidden = hasToken;
    if (hasToken) image.src = `${deviceUrl("qr.svg")}?v=${Date.now()}`;
    else image.removeAttribute("src");
    dialog.querySelector("[data-token-box]").hidden = !hasToken;
    revokeAsk.hidden = !hasToken;
    rotateAsk.textContent = hasToken ? "Rotate token" : "Issue a new token";
    hideToken();
    hideConfirms();
  };

  const open = (forCard) => {
    card = forCard;
    dialog.querySelector("#qr-title").textContent = `Connect “${card.dataset.name}”`;
    dialog.querySelector("[data-connect-link]").href = `/devices/${card.dataset.deviceId}/connect/`;
    render();
    dialog.showModal();
  };

  revealButton.addEventListener("click", async () => {
    if (revealButton.getAttribute("aria-pressed") === "true") {
      hideToken();
      return;
    }
    const { ok, data } = await api(`/devices/${card.dataset.deviceId}/token.json`);
    if (!ok || !data.token) {
      showToast(ok ? "This device has no token." : errorMessage(data), "error");
      return;
    }
    showToken(data.token);
  });
  rotateAsk.addEventListener("click", () => {
    hideConfirms();
    dialog.querySelector('[data-confirm="rotate"]').hidden = false;
    dialog.querySelector("[data-rotate-confirm]").focus();
  });
  revokeAsk.addEventListener("click", () => {
    hideConfirms();
    dialog.querySelector('[data-confirm="revoke"]').hidden = false;
    dialog.querySelector("[data-revoke-confirm]").focus();
  });
  dialog.querySelectorAll("[data-confirm-cancel]").forEach((button) =>
    button.addEventListener("click", () => {
      hideConfirms();
      rotateAsk.focus();
    }),
  );
  dialog.querySelector("[data-rotate-confirm]").addEventListener("click", async () => {
    const { ok, data } = await api(deviceUrl("token/"), { method: "POST" });
    if (!ok) {
      showToast(errorMessage(data), "error");
      return;
    }
    card.dataset.hasToken = "true";
    render();
    showToken(data.token);
    rotateAsk.focus();
    showToast("New token issued. The old one no longer works: give the device this one.", "success");
  });
  dialog.querySelector("[data-revoke-confirm]").addEventListener("click", async () => {
    const { ok, data } = await api(deviceUrl("token/"), { method: "DELETE" });
    if (!ok) {
      showToast(errorMessage(data), "error");
      return;
    }
    card.dataset.hasToken = "false";
    render();
    rotateAsk.focus();
    showToast("Token revoked. The device can no longer send.", "success");
  });
  dialog.querySelector("[data-dialog-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    hideToken();
    card?.querySelector("[data-qr-open]").focus();
  });
  return { open };
}

// Each card's latest reading, rendered by the server with the page's own template.
async function refreshCards() {
  if (document.hidden) return;
  const cards = document.querySelectorAll(".device-card");
  const { ok, data } = await api("/cards.json");
  if (!ok) return;
  const byId = new Map(data.cards.map((entry) => [String(entry.id), entry]));
  for (const card of cards) {
    const entry = byId.get(card.dataset.deviceId);
    if (!entry) continue;
    card.dataset.lastSeen = entry.last_seen_at || "";
    card.dataset.offline = String(entry.offline);
    const reading = card.querySelector("[data-reading]");
    if (reading.dataset.html !== entry.reading_html) {
      reading.dataset.html = entry.reading_html;
      reading.innerHTML = entry.reading_html;
      formatNumbers(reading);
      drawGauges(reading);
      drawDisplays(reading);
    }
    updateStatus(card);
  }
  renderTimes();
}

function main() {
  formatNumbers();
  drawGauges();
  drawDisplays();
  const cards = document.querySelectorAll(".device-card");
  if (cards.length === 0) return;
  followSilenceAlerts();
  const dialog = qrDialog();
  for (const card of cards) {
    wireRename(card);
    wireConfigPanel(card);
    wireDelete(card);
    updateStatus(card);
    card.querySelector("[data-qr-open]").addEventListener("click", () => dialog.open(card));
  }
  setInterval(refreshCards, REFRESH_MS);
}

main();
