// The live demo: the server samples a cosine and a noisy sine every 50 ms and sends
// them as often as the refresh-rate control says. The plot keeps the last 30 s
// (bounded buffers), redraws once per message, and uses no timer of its own.
import { LiveStream, liveUrl, mergeReadings } from "./live-stream.js";

const WINDOW_SECONDS = 30;
const MAX_POINTS = 1000; // 30 s at 20 points a second, with room
const RATES = [0.05, 0.1, 0.25, 0.5, 1, 2, 5]; // seconds; the slider picks one

const area = document.querySelector("[data-live-plot]");
const rateInput = document.querySelector("[data-rate]");
const rateLabel = document.querySelector("[data-rate-label]");
const status = document.querySelector("[data-live-status]");
const dot = document.querySelector("[data-live-dot]");
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function plotHeight(width) {
  return width < 500 ? 240 : 320;
}

function describeRate(seconds) {
  return seconds < 1 ? `every ${Math.round(seconds * 1000)} ms` : `every ${seconds} s`;
}

const STATUS_TEXT = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Connection lost; reconnecting…",
  closed: "Stopped",
};

function start() {
  const data = [[], [], []];
  const width = Math.floor(area.clientWidth);
  const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--border"), width: 1 }, ticks: { stroke: cssVar("--border"), width: 1 } };
  const format = (u, value) => (value == null ? "–" : numberFormat.format(value));
  const plot = new window.uPlot(
    {
      width,
      height: plotHeight(width),
      series: [
        {},
        { label: "cosine", stroke: cssVar("--accent"), width: 2, value: format },
        { label: "noisy sine", stroke: "#d97706", width: 1.5, value: format },
      ],
      scales: { y: { range: [-1.2, 1.2] } },
      axes: [{ ...axis }, { ...axis, size: 50 }],
      cursor: { drag: { x: false, y: false } },
    },
    data,
    area,
  );
  let messages = 0;

  const stream = new LiveStream({
    url: liveUrl("/ws/live/demo/"),
    onStatus: (state) => {
      status.textContent = STATUS_TEXT[state] ?? state;
      status.dataset.state = state;
      dot.className = `status ${state === "open" ? "status-online" : "status-stale"}`;
    },
    onMessage: (message) => {
      if (message.type !== "demo") return;
      mergeReadings(data, message.readings, {
        series: { cosine: 1, noisy_sine: 2 },
        maxPoints: MAX_POINTS,
        windowSeconds: WINDOW_SECONDS,
      });
      plot.setData(data);
      messages += 1;
      // Read by the browser test and handy in devtools: how many updates, how many points.
      area.dataset.messages = String(messages);
      area.dataset.points = String(data[0].length);
      area.dataset.lastX = String(data[0][data[0].length - 1] ?? "");
    },
  });

  function applyRate() {
    const seconds = RATES[Number(rateInput.value)];
    rateLabel.textContent = describeRate(seconds);
    rateInput.setAttribute("aria-valuetext", describeRate(seconds));
    stream.sendSticky({ action: "rate", interval: seconds });
  }
  rateInput.addEventListener("input", applyRate);
  applyRate();

  const resizeObserver = new ResizeObserver(([entry]) => {
    const newWidth = Math.floor(entry.contentRect.width);
    if (newWidth > 0 && newWidth !== plot.width) plot.setSize({ width: newWidth, height: plotHeight(newWidth) });
  });
  resizeObserver.observe(area);

  window.addEventListener(
    "pagehide",
    () => {
      stream.close();
      resizeObserver.disconnect();
      plot.destroy();
    },
    { once: true },
  );
}

if (area) {
  if (window.uPlot) start();
  else status.textContent = "The plotting library is missing on the server (run `make static`).";
}

// Back from the back-forward cache, the stream closed on pagehide: start afresh.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) location.reload();
});
