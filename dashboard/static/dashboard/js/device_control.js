// A device's attributes and commands on its page: read and changed through the JSON
// API, and kept current by the live stream's "attributes" and "command" messages
// (a command's state changes as the device takes and answers it).

import { LiveStream } from "../live-stream.js";
import { api, errorMessage } from "./api.js";
import { showToast } from "./toasts.js";

const root = document.querySelector("[data-device-control]");
const OWNER_SCOPES = new Set(["shared", "server"]);
const HISTORY_SIZE = 50;
// A live message can be lost (a send timing out under load, a reconnect): while a
// command is still open, the list is also fetched again this often.
const OPEN_COMMANDS_REFRESH_MS = 5000;

/** JSON if it parses, else the text itself as a string. */
function parseValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function show(value) {
  return JSON.stringify(value);
}

function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

class DeviceControl {
  constructor(element) {
    this.deviceId = Number(element.dataset.deviceId);
    this.base = `/api/devices/${this.deviceId}`;
    this.attributes = { client: {}, shared: {}, server: {} };
    this.commands = new Map();
    this.rows = element.querySelector("[data-attribute-rows]");
    this.attributesEmpty = element.querySelector("[data-attribute-empty]");
    this.list = element.querySelector("[data-command-list]");
    this.commandsEmpty = element.querySelector("[data-command-empty]");
    this.attributeForm = element.querySelector("[data-attribute-form]");
    this.commandForm = element.querySelector("[data-command-form]");
    this.attributeForm.addEventListener("submit", (event) => this.saveAttribute(event));
    this.commandForm.addEventListener("submit", (event) => this.sendCommand(event));
  }

  async load() {
    const [attributes, commands] = await Promise.all([
      api(`${this.base}/attributes/`),
      api(`${this.base}/commands/?limit=${HISTORY_SIZE}`),
    ]);
    if (attributes.ok) this.attributes = { client: {}, shared: {}, server: {}, ...attributes.data };
    if (commands.ok) for (const command of commands.data.results) this.commands.set(command.id, command);
    this.renderAttributes();
    this.renderCommands();
    this.stream = new LiveStream({ onMessage: (message) => this.onLive(message) });
    this.stream.subscribe(this.deviceId);
    setInterval(() => this.refreshOpenCommands(), OPEN_COMMANDS_REFRESH_MS);
  }

  async refreshOpenCommands() {
    if (document.hidden || ![...this.commands.values()].some((command) => command.finished_at === null)) return;
    const response = await api(`${this.base}/commands/?limit=${HISTORY_SIZE}`);
    if (!response.ok) return;
    for (const command of response.data.results) this.commands.set(command.id, command);
    this.renderCommands();
  }

  onLive(message) {
    if (message.device !== this.deviceId) return;
    if (message.type === "attributes") {
      const scope = (this.attributes[message.scope] ||= {});
      Object.assign(scope, message.changed);
      for (const key of message.deleted) delete scope[key];
      this.renderAttributes();
    } else if (message.type === "command") {
      this.commands.set(message.command.id, message.command);
      this.renderCommands();
    }
  }

  renderAttributes() {
    const rows = [];
    for (const scope of ["shared", "server", "client"]) {
      for (const key of Object.keys(this.attributes[scope] || {}).sort()) {
        rows.push(this.attributeRow(scope, key, this.attributes[scope][key]));
      }
    }
    this.rows.replaceChildren(...rows);
    this.attributesEmpty.hidden = rows.length > 0;
  }

  attributeRow(scope, key, value) {
    const row = document.createElement("tr");
    row.dataset.scope = scope;
    row.dataset.key = key;
    const keyCell = document.createElement("td");
    keyCell.className = "kv-key";
    keyCell.textContent = key;
    const valueCell = document.createElement("td");
    valueCell.className = "kv-value";
    const code = document.createElement("code");
    code.textContent = show(value);
    valueCell.append(code);
    const scopeCell = document.createElement("td");
    scopeCell.className = "kv-scope";
    scopeCell.textContent = scope;
    const actions = document.createElement("td");
    actions.className = "kv-actions";
    if (OWNER_SCOPES.has(scope)) {
      const edit = document.createElement("button");
      edit.type = "button";
      edit.className = "button button-small";
      edit.textContent = "Edit";
      edit.setAttribute("aria-label", `Edit ${scope} attribute ${key}`);
      edit.addEventListener("click", () => this.editAttribute(scope, key, value));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-small button-danger";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", `Delete ${scope} attribute ${key}`);
      remove.addEventListener("click", () => this.deleteAttribute(scope, key));
      const buttons = document.createElement("div");
      buttons.className = "kv-buttons";
      buttons.append(edit, remove);
      actions.append(buttons);
    }
    row.append(keyCell, valueCell, scopeCell, actions);
    return row;
  }

  editAttribute(scope, key, value) {
    const form = this.attributeForm;
    form.elements.scope.value = scope;
    form.elements.key.value = key;
    form.elements.value.value = typeof value === "string" ? value : show(value);
    form.elements.value.focus();
  }

  async saveAttribute(event) {
    event.preventDefault();
    const form = this.attributeForm;
    const error = form.querySelector("[data-attribute-error]");
    const key = form.elements.key.value.trim();
    form.querySelector("[data-attribute-status]").textContent = "";
    if (!key || !form.elements.value.value.trim()) {
      error.textContent = "Give the attribute a key and a value.";
      return;
    }
    const scope = form.elements.scope.value;
    const response = await api(`${this.base}/attributes/`, {
      method: "POST",
      body: { scope, attributes: { [key]: parseValue(form.elements.value.value.trim()) } },
    });
    if (!response.ok) {
      const perKey = response.data && response.data.attributes && response.data.attributes[key];
      error.textContent = Array.isArray(perKey) ? perKey[0] : errorMessage(response.data);
      return;
    }
    error.textContent = "";
    this.attributes[scope] = { ...this.attributes[scope], ...response.data[scope] };
    this.renderAttributes();
    form.elements.key.value = "";
    form.elements.value.value = "";
    // Said in place, not in a toast: on a phone a toast would cover this very form.
    form.querySelector("[data-attribute-status]").textContent = `Saved ${scope} attribute ${key}.`;
  }

  async deleteAttribute(scope, key) {
    const query = new URLSearchParams({ scope, keys: key });
    const response = await api(`${this.base}/attributes/?${query}`, { method: "DELETE" });
    if (!response.ok) {
      showToast(errorMessage(response.data), "error");
      return;
    }
    delete this.attributes[scope][key];
    this.renderAttributes();
  }

  async sendCommand(event) {
    event.preventDefault();
    const form = this.commandForm;
    const error = form.querySelector("[data-command-error]");
    const paramsText = form.elements.params.value.trim();
    let params = {};
    if (paramsText) {
      try {
        params = JSON.parse(paramsText);
      } catch {
        error.textContent = "Params must be JSON, e.g. {\"seconds\": 30}.";
        return;
      }
    }
    const timeout = form.elements.timeout_s.value.trim();
    const body = {
      method: form.elements.method.value.trim(),
      params,
      timeout_s: timeout === "" ? null : Number(timeout),
      persistent: form.elements.persistent.checked,
      oneway: form.elements.oneway.checked,
    };
    if (timeout !== "" && !Number.isInteger(body.timeout_s)) {
      error.textContent = "Expires after: a whole number of seconds.";
      return;
    }
    const response = await api(`${this.base}/commands/`, { method: "POST", body });
    if (!response.ok) {
      error.textContent = errorMessage(response.data);
      return;
    }
    error.textContent = "";
    this.commands.set(response.data.id, response.data);
    this.renderCommands();
    form.elements.method.value = "";
    form.elements.params.value = "";
  }

  renderCommands() {
    const newest = [...this.commands.values()].sort((a, b) => b.id - a.id).slice(0, HISTORY_SIZE);
    this.list.replaceChildren(...newest.map((command) => this.commandItem(command)));
    this.commandsEmpty.hidden = newest.length > 0;
  }

  commandItem(command) {
    const item = document.createElement("li");
    item.className = "command-item";
    item.dataset.commandId = command.id;
    const head = document.createElement("div");
    head.className = "command-head";
    const method = document.createElement("code");
    method.textContent = command.method;
    const state = document.createElement("span");
    state.className = `command-state command-state-${command.state}`;
    state.dataset.commandState = "";
    state.textContent = command.state;
    head.append(method, state);
    const details = document.createElement("p");
    details.className = "muted";
    const kind = [command.oneway ? "one-way" : "", command.persistent ? "persistent" : ""].filter(Boolean).join(", ");
    details.textContent = `#${command.id} · ${formatTime(command.created_at)}${kind ? ` · ${kind}` : ""} · params ${show(command.params)}`;
    item.append(head, details);
    if (command.response !== null && command.response !== undefined) {
      const answer = document.createElement("p");
      answer.dataset.commandResponse = "";
      answer.textContent = `Response: ${show(command.response)}`;
      item.append(answer);
    }
    return item;
  }
}

if (root) new DeviceControl(root).load();
