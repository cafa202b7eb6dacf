// Every page: the phone menu, the toasts Django rendered, local times, and alerts as
// they happen (the nav's badge and a toast).
import { LiveStream } from "../live-stream.js";
import { api } from "./api.js";
import { showToast, wireServerToasts } from "./toasts.js";
import { renderTimes } from "./time.js";

// Dispatched on document for every alert pushed, so a page can follow them too (and
// call preventDefault() to say its own toast); dashboard.js and alerts.js listen.
const ALERT_EVENT = "iotsite:alert";

function wireMenu() {
  const toggle = document.querySelector(".menu-toggle");
  const nav = document.getElementById("site-nav");
  if (!toggle || !nav) return;
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
}

function closeUserMenuOnOutsideClick() {
  const menu = document.querySelector(".user-menu");
  if (!menu) return;
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
}

/** The badge counts firing alerts nobody has acknowledged: a new firing adds one; a
 * resolved event leaves the firing one it closes unacknowledged, so it adds nothing. */
export function badgeCountAfter(count, message) {
  return message.type === "alert" && message.state === "firing" ? count + 1 : count;
}

function setBadge(badge, count) {
  badge.textContent = String(count);
  badge.hidden = count === 0;
}

function alertToast(message) {
  const what = message.kind === "silence" ? "no data" : `${message.sensor} = ${message.value}`;
  const firing = message.state === "firing";
  showToast(`${message.device_name}: ${what} — ${firing ? "alert" : "resolved"}.`, firing ? "warning" : "info");
}

// Pages with the badge (signed in) listen on /ws/live/: alerts go to every connection
// of their owner, whatever it watches. After a dropped connection the count is asked
// again, since alerts pushed meanwhile were missed.
function followAlerts() {
  const badge = document.querySelector("[data-alerts-badge]");
  if (!badge || !("WebSocket" in window)) return;
  let missed = false;
  const catchUp = async () => {
    const { ok, data } = await api("/api/alerts/?limit=1");
    if (ok && Number.isInteger(data?.unacknowledged)) setBadge(badge, data.unacknowledged);
  };
  new LiveStream({
    onMessage: (message) => {
      if (message.type !== "alert") return;
      setBadge(badge, badgeCountAfter(Number(badge.textContent) || 0, message));
      const event = new CustomEvent(ALERT_EVENT, { detail: message, cancelable: true });
      if (document.dispatchEvent(event)) alertToast(message);
    },
    onStatus: (status) => {
      badge.dataset.live = status; // for whoever needs to know the badge is live (tests)
      if (status === "reconnecting") missed = true;
      if (status === "open" && missed) {
        missed = false;
        catchUp();
      }
    },
  });
}

wireMenu();
closeUserMenuOnOutsideClick();
followAlerts();
wireServerToasts();
renderTimes();
setInterval(renderTimes, 30_000);
