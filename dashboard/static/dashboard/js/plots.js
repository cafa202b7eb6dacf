// Plots: one uPlot per sensor, fed by the bucketed readings API, so a sensor with
// millions of readings still loads about one point per pixel. Zooming asks the
// server again for the narrower range; a range that ends now refreshes itself.
import { api, errorMessage } from "./api.js";
import { LiveStream, mergeReadings } from "../live-stream.js";
import { formatLocal } from "./time.js";

// A range that ends now is asked for again about every 1/360 of its length
// (10 s for the last hour, 5 min for the week): roughly a pixel's worth of time.
function refreshDelay({ start, end }) {
  return Math.min(300_000, Math.max(10_000, (end - start) / 360));
}
const MAX_POINTS = 1000;
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
// Day and week buckets start at local midnight; a zone the server does not know
// (some browsers report "Etc/Unknown") falls back to UTC buckets.
let zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const list = document.querySelector(".plot-list");
const picker = document.querySelector("[data-range-picker]");
const customRange = picker && picker.querySelector("[data-custom-range]");
const zoomReset = document.querySelector("[data-zoom-reset]");

let zoom = null; // {start, end} as Dates while zoomed in
let shown = null; // the range on screen: a custom range starts from it
let refreshTimer = null;
const plots = new Map(); // card element → uPlot instance

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function toLocalInput(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function pickedRange() {
  const choice = picker.elements.range.value;
  if (choice === "custom") {
    const start = new Date(picker.elements.start.value);
    const end = new Date(picker.elements.end.value);
    return { start, end, endsNow: false };
  }
  const end = new Date();
  return { start: new Date(end - Number(choice) * 1000), end, endsNow: true };
}

function currentRange() {
  return zoom ? { ...zoom, endsNow: false } : pickedRange();
}

function seriesUrl(sensor, { start, end }, points) {
  const query = new URLSearchParams({ sensor, start: start.toISOString(), end: end.toISOString(), points: String(points) });
  if (zone) query.set("tz", zone);
  return `/api/devices/${list.dataset.deviceId}/readings/?${query}`;
}

function toColumns(series) {
  const seconds = series.points.map((point) => Date.parse(point.ts) / 1000);
  if (series.kind === "raw") return [seconds, series.points.map((point) => point.value)];
  return [
    seconds,
    series.points.map((point) => point.avg),
    series.points.map((point) => point.min),
    series.points.map((point) => point.max),
  ];
}

function describe(series) {
  const count = series.points.length;
  if (series.kind === "raw") return `${count} reading${count === 1 ? "" : "s"}, as sent.`;
  const width = series.bucket_seconds;
  const label =
    width % 86400 === 0 ? `${width / 86400} day` : width % 3600 === 0 ? `${width / 3600} h` : width % 60 === 0 ? `${width / 60} min` : `${width} s`;
  return `${count} buckets of ${label}: the line is the average, the band spans min to max.`;
}

function plotHeight(width) {
  return width < 500 ? 220 : 280;
}

function plotOptions(card, series, { start, end, endsNow }, width) {
  const accent = cssVar("--accent");
  const muted = cssVar("--muted");
  const grid = cssVar("--border");
  const unit = card.dataset.unit;
  const format = (u, value) => (value == null ? "–" : `${numberFormat.format(value)}${unit ? ` ${unit}` : ""}`);
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const seriesList = [{ value: (u, ts) => (ts == null ? "–" : formatLocal(new Date(ts * 1000))) }];
  seriesList.push({ label: series.kind === "raw" ? card.dataset.sensor : "avg", stroke: accent, width: 2, value: format, points: { show: series.kind === "raw" && series.points.length < 60, fill: cssVar("--surface") } });
  const options = {
    width,
    height: plotHeight(width),
    series: seriesList,
    // A range that ends now slides along with the live readings merged into it.
    scales: { x: { time: true, range: () => (endsNow ? [(Date.now() - (end - start)) / 1000, Date.now() / 1000] : [start / 1000, end / 1000]) } },
    axes: [{ ...axis }, { ...axis, size: 60, values: (u, values) => values.map((v) => numberFormat.format(v)) }],
    cursor: {
      drag: { x: true, y: false, setScale: false },
      bind: {
        dblclick: () => () => {
          resetZoom();
          return null;
        },
      },
    },
    hooks: { setSelect: [onSelect] },
  };
  if (series.kind === "buckets") {
    const faint = `color-mix(in srgb, ${accent} 35%, transparent)`;
    seriesList.push({ label: "min", stroke: faint, width: 1, value: format });
    seriesList.push({ label: "max", stroke: faint, width: 1, value: format });
    options.bands = [{ series: [3, 2], fill: `color-mix(in srgb, ${accent} 15%, transparent)` }];
  }
  return options;
}

function onSelect(u) {
  if (u.select.width < 5) return;
  const start = new Date(u.posToVal(u.select.left, "x") * 1000);
  const end = new Date(u.posToVal(u.select.left + u.select.width, "x") * 1000);
  u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
  zoom = { start, end };
  zoomReset.hidden = false;
  loadAll();
}

function resetZoom() {
  if (!zoom) return;
  zoom = null;
  zoomReset.hidden = true;
  loadAll();
}

async function loadPlot(card, range) {
  const area = card.querySelector("[data-plot]");
  const note = card.querySelector("[data-plot-note]");
  const width = area.clientWidth;
  const points = Math.min(MAX_POINTS, Math.max(60, width));
  let { ok, data } = await api(seriesUrl(card.dataset.sensor, range, points));
  if (!ok && data && data.tz && zone) {
    zone = null;
    ({ ok, data } = await api(seriesUrl(card.dataset.sensor, range, points)));
  }
  plots.get(card)?.destroy();
  plots.delete(card);
  if (!ok) {
    area.replaceChildren();
    note.textContent = errorMessage(data);
    return;
  }
  card.dataset.kind = data.kind;
  card.dataset.points = String(data.points.length);
  if (data.points.length === 0) {
    const empty = document.createElement("div");
    empty.className = "plot-empty";
    empty.textContent = `No readings from ${formatLocal(range.start)} to ${formatLocal(range.end)}.`;
    area.replaceChildren(empty);
    note.textContent = "";
    return;
  }
  area.replaceChildren();
  plots.set(card, new window.uPlot(plotOptions(card, data, range, width), toColumns(data), area));
  note.textContent = describe(data);
}

function loadAll() {
  const range = currentRange();
  if (Number.isNaN(range.start.getTime()) || Number.isNaN(range.end.getTime()) || range.start >= range.end) {
    return;
  }
  clearTimeout(refreshTimer);
  shown = range;
  const cards = [...list.querySelectorAll(".plot-card")];
  Promise.all(cards.map((card) => loadPlot(card, range))).then(() => {
    if (range.endsNow && !document.hidden) refreshTimer = setTimeout(loadAll, refreshDelay(range));
  });
}

function wirePicker() {
  picker.addEventListener("change", (event) => {
    if (event.target.name !== "range") return;
    const custom = event.target.value === "custom";
    customRange.hidden = !custom;
    if (custom) {
      const { start, end } = shown;
      picker.elements.start.value = toLocalInput(start);
      picker.elements.end.value = toLocalInput(end);
      picker.elements.start.focus();
      return;
    }
    zoom = null;
    zoomReset.hidden = true;
    loadAll();
  });
  picker.addEventListener("submit", (event) => {
    event.preventDefault();
    const { start, end } = pickedRange();
    const endInput = picker.elements.end;
    endInput.setCustomValidity(start < end ? "" : "The end must come after the start.");
    if (!endInput.reportValidity()) return;
    zoom = null;
    zoomReset.hidden = true;
    loadAll();
  });
  zoomReset.addEventListener("click", resetZoom);
}

// Plots follow their card's width (a phone turned sideways, a window resized).
const resizeObserver = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const plot = plots.get(entry.target.closest(".plot-card"));
    const width = Math.floor(entry.contentRect.width);
    if (plot && width > 0 && width !== plot.width) plot.setSize({ width, height: plotHeight(width) });
  }
});

// A tab in the background stops refreshing; it catches up when shown again.
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && list && window.uPlot && currentRange().endsNow) loadAll();
});

// Readings pushed over /ws/live/ join the plots of a range that ends now, between
// the reloads above (a live reading is its own bucket: avg, min and max alike).
function mergeLive(message) {
  if (message.type !== "reading" || !currentRange().endsNow) return;
  const { start, end } = currentRange();
  for (const [card, plot] of plots) {
    const readings = message.readings.filter((reading) => reading.sensor === card.dataset.sensor);
    if (readings.length === 0) continue;
    const columns = card.dataset.kind === "raw" ? 1 : [1, 2, 3];
    mergeReadings(plot.data, readings, { series: { [card.dataset.sensor]: columns }, maxPoints: 2 * MAX_POINTS, windowSeconds: (end - start) / 1000 });
    plot.setData(plot.data);
    card.dataset.points = String(plot.data[0].length);
  }
}

// uPlot is a classic script loaded with `defer`; module scripts run after it.
if (list) {
  if (!window.uPlot) {
    for (const note of document.querySelectorAll("[data-plot-note]")) {
      note.textContent = "The plotting library is missing on the server (run `make static`).";
    }
  } else {
    wirePicker();
    list.querySelectorAll("[data-plot]").forEach((area) => resizeObserver.observe(area));
    loadAll();
    new LiveStream({ onMessage: mergeLive }).subscribe(Number(list.dataset.deviceId));
  }
}
