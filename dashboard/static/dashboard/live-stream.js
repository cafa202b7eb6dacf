// The live stream shared by every page that plots as readings arrive.
//
//   const stream = new LiveStream({ onMessage, onStatus });
//   stream.subscribe(deviceId);          // or "*"
//   merged = mergeReadings(data, message.readings, { series, maxPoints });
//
// It reconnects after any drop with exponential backoff and jitter (so a restarted
// server is not hit by every browser at once), sends its subscriptions again on
// every new connection, and stops for good on close() or when the page unloads.
// One timer at most: the pending reconnect.

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const CLOSE_UNAUTHENTICATED = 4401;

export function liveUrl(path = "/ws/live/") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class LiveStream {
  constructor({ url = liveUrl(), onMessage = () => {}, onStatus = () => {} } = {}) {
    this.url = url;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.subscriptions = new Set();
    this.sticky = new Map(); // other messages to repeat on every connection, by action
    this.socket = null;
    this.timer = null;
    this.attempts = 0;
    this.closed = false;
    this.unload = () => this.close();
    window.addEventListener("pagehide", this.unload);
    this.connect();
  }

  connect() {
    this.timer = null;
    if (this.closed) return;
    this.onStatus("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempts = 0;
      this.onStatus("open");
      for (const device of this.subscriptions) this.sendNow({ action: "subscribe", device });
      for (const message of this.sticky.values()) this.sendNow(message);
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closed) return;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        // Retrying will not help until the person logs in again.
        this.onStatus("unauthenticated");
        return;
      }
      this.onStatus("reconnecting");
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempts);
    this.attempts += 1;
    // "Full jitter": anywhere from half the ceiling to all of it.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  sendNow(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  // Messages with an action that must hold on every connection (the demo's rate).
  sendSticky(message) {
    this.sticky.set(message.action, message);
    this.sendNow(message);
  }

  subscribe(device) {
    this.subscriptions.add(device);
    this.sendNow({ action: "subscribe", device });
  }

  unsubscribe(device) {
    this.subscriptions.delete(device);
    this.sendNow({ action: "unsubscribe", device });
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = null;
    window.removeEventListener("pagehide", this.unload);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
    this.onStatus("closed");
  }
}

// Merge readings ({sensor, ts, value}) into uPlot columns [xs, ys1, ys2, ...] in
// place: `series` maps a sensor key to its column (1, 2, ...), or to several (a
// bucketed plot's avg, min and max all take a live reading's value). Times are seconds.
// Readings of the same instant share a row; a row arriving out of order is put in
// its place. Only the newest `maxPoints` rows are kept, and with `windowSeconds`
// only those that recent, so a page open for hours holds a bounded buffer.
export function mergeReadings(data, readings, { series, maxPoints = 2000, windowSeconds = null }) {
  const xs = data[0];
  for (const reading of readings) {
    const columns = series[reading.sensor];
    if (columns === undefined) continue;
    const x = Date.parse(reading.ts) / 1000;
    let row = xs.length;
    if (row > 0 && x <= xs[row - 1]) {
      row = lowerBound(xs, x);
    }
    if (xs[row] !== x) {
      xs.splice(row, 0, x);
      for (let index = 1; index < data.length; index += 1) data[index].splice(row, 0, null);
    }
    for (const column of [].concat(columns)) data[column][row] = reading.value;
  }
  let drop = Math.max(0, xs.length - maxPoints);
  if (windowSeconds != null && xs.length > 0) {
    const oldest = xs[xs.length - 1] - windowSeconds;
    drop = Math.max(drop, lowerBound(xs, oldest));
  }
  if (drop > 0) for (const column of data) column.splice(0, drop);
  return data;
}

function lowerBound(sorted, value) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
