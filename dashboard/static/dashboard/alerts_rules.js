// A device's alert rules: add, enable or disable, delete; and notification channels.
import { api, errorMessage } from "./js/api.js";
import { showToast } from "./js/toasts.js";

const panel = document.querySelector("[data-rules]");
const deviceId = Number(panel.dataset.deviceId);
const ruleForm = document.querySelector("[data-rule-form]");
const channelForm = document.querySelector("[data-channel-form]");

function showKind() {
  const silence = ruleForm.elements.kind.value === "silence";
  for (const element of ruleForm.querySelectorAll("[data-bounds-only]")) element.hidden = silence;
  for (const element of ruleForm.querySelectorAll("[data-silence-only]")) element.hidden = !silence;
}
ruleForm.elements.kind.addEventListener("change", showKind);
showKind();

function showErrors(form, data) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  let placed = false;
  for (const [field, messages] of Object.entries(data || {})) {
    const slot = form.querySelector(`[data-error-for="${field}"]`);
    if (slot && Array.isArray(messages)) {
      slot.textContent = messages[0];
      placed = true;
    }
  }
  if (!placed) showToast(errorMessage(data), "error");
}

function numberOrNull(input) {
  return input.value.trim() === "" ? null : Number(input.value);
}

ruleForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const { kind, sensor, lower, upper, hysteresis, duration_s: duration } = ruleForm.elements;
  const body = {
    device: deviceId,
    kind: kind.value,
    sensor: sensor.value.trim(),
    duration_s: Number(duration.value || 0),
    channels: [...ruleForm.querySelectorAll('input[name="channels"]:checked')].map((box) => Number(box.value)),
  };
  if (kind.value === "bounds") {
    Object.assign(body, { lower: numberOrNull(lower), upper: numberOrNull(upper), hysteresis: Number(hysteresis.value || 0) });
  }
  const { ok, data } = await api("/api/alert-rules/", { method: "POST", body });
  if (!ok) {
    showErrors(ruleForm, data);
    return;
  }
  window.location.reload();
});

panel.addEventListener("change", async (event) => {
  const box = event.target.closest("[data-rule-enabled]");
  if (!box) return;
  const row = box.closest("[data-rule-id]");
  const { ok, data } = await api(`/api/alert-rules/${row.dataset.ruleId}/`, { method: "PATCH", body: { enabled: box.checked } });
  if (!ok) {
    box.checked = !box.checked;
    showToast(errorMessage(data), "error");
    return;
  }
  showToast(box.checked ? "Rule enabled." : "Rule disabled.", "success");
});

panel.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-rule-delete]");
  if (!button) return;
  const row = button.closest("[data-rule-id]");
  if (!window.confirm("Delete this rule? Its past alerts stay in the history.")) return;
  const { ok, data } = await api(`/api/alert-rules/${row.dataset.ruleId}/`, { method: "DELETE" });
  if (!ok) {
    showToast(errorMessage(data), "error");
    return;
  }
  row.remove();
  showToast("Rule deleted.", "success");
});

const channelLabel = channelForm.querySelector("[data-channel-label]");
channelForm.elements.kind.addEventListener("change", () => {
  channelLabel.textContent = channelForm.elements.kind.value === "email" ? "Email address" : "Webhook URL";
});

channelForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const { kind, target } = channelForm.elements;
  const field = kind.value === "email" ? "address" : "url";
  const { ok, data } = await api("/api/notification-channels/", { method: "POST", body: { kind: kind.value, [field]: target.value.trim() } });
  if (!ok) {
    const message = data && Array.isArray(data[field]) ? { target: data[field] } : data;
    showErrors(channelForm, message);
    return;
  }
  window.location.reload();
});
