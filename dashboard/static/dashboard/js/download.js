// Download: the export link, with the chosen local times sent as UTC instants and
// empty filters left out.
import { showToast } from "./toasts.js";

const form = document.querySelector("[data-export]");

function exportUrl() {
  const query = new URLSearchParams();
  const { device, sensor, start, end } = form.elements;
  if (device.value) query.set("device", device.value);
  if (sensor.value.trim()) query.set("sensor", sensor.value.trim());
  if (start.value) query.set("start", new Date(start.value).toISOString());
  if (end.value) query.set("end", new Date(end.value).toISOString());
  const suffix = query.toString();
  return suffix ? `${form.action}?${suffix}` : form.action;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const { start, end } = form.elements;
  if (start.value && end.value && new Date(start.value) >= new Date(end.value)) {
    end.setCustomValidity("The end must come after the start.");
    end.reportValidity();
    return;
  }
  end.setCustomValidity("");
  window.location.assign(exportUrl());
  showToast("Your download is starting.", "info");
});
form.elements.end.addEventListener("input", () => form.elements.end.setCustomValidity(""));
