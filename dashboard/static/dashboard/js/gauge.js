// An analog gauge in SVG: a 270° dial from 7:30 to 4:30 (as most pressure gauges),
// the needle at the latest value, red arcs past the alert bounds when there are any.

const SVG = "http://www.w3.org/2000/svg";
const START_DEG = 225; // clockwise from 12 o'clock
const SWEEP_DEG = 270;
const CX = 60;
const CY = 60;
const R = 48;

function point(deg, radius) {
  const rad = (deg * Math.PI) / 180;
  return [CX + radius * Math.sin(rad), CY - radius * Math.cos(rad)];
}

function arcPath(fromDeg, toDeg, radius) {
  const [x0, y0] = point(fromDeg, radius);
  const [x1, y1] = point(toDeg, radius);
  const large = toDeg - fromDeg > 180 ? 1 : 0;
  return `M ${x0.toFixed(2)} ${y0.toFixed(2)} A ${radius} ${radius} 0 ${large} 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
}

function el(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

function formatTick(value) {
  return Number.isInteger(value) ? String(value) : value.toPrecision(3).replace(/\.?0+$/, "");
}

/** An <svg> of the dial. value may be null (no reading yet: no needle). */
export function gaugeSvg({ min, max, value, unit, lower = null, upper = null }) {
  const angleOf = (v) => START_DEG + (SWEEP_DEG * (clamp(v, min, max) - min)) / (max - min);
  const end = START_DEG + SWEEP_DEG;
  const svg = el("svg", { viewBox: "0 0 120 120", role: "img" });
  const label = value === null ? `Gauge from ${min} to ${max} ${unit}, no reading yet` : `Gauge at ${value} ${unit}, scale ${min} to ${max}`;
  svg.setAttribute("aria-label", label);

  svg.append(el("circle", { class: "gauge-face", cx: CX, cy: CY, r: R + 8, "stroke-width": 1 }));
  svg.append(el("path", { class: "gauge-track", d: arcPath(START_DEG, end, R), fill: "none", "stroke-width": 6, "stroke-linecap": "round" }));
  if (value !== null) {
    svg.append(el("path", { class: "gauge-band", d: arcPath(START_DEG, angleOf(value), R), fill: "none", "stroke-width": 6, "stroke-linecap": "round" }));
  }
  if (lower !== null && lower > min) {
    svg.append(el("path", { class: "gauge-alert", d: arcPath(START_DEG, angleOf(lower), R - 7), fill: "none", "stroke-width": 3 }));
  }
  if (upper !== null && upper < max) {
    svg.append(el("path", { class: "gauge-alert", d: arcPath(angleOf(upper), end, R - 7), fill: "none", "stroke-width": 3 }));
  }
  for (let i = 0; i <= 10; i += 1) {
    const deg = START_DEG + (SWEEP_DEG * i) / 10;
    const [x0, y0] = point(deg, R - 12);
    const [x1, y1] = point(deg, i % 5 === 0 ? R - 20 : R - 16);
    svg.append(el("line", { class: "gauge-tick", x1: x0, y1: y0, x2: x1, y2: y1, "stroke-width": i % 5 === 0 ? 2 : 1 }));
  }
  for (const [v, anchor] of [[min, "start"], [max, "end"]]) {
    const [x, y] = point(angleOf(v), R - 4);
    const text = el("text", { class: "gauge-label", x: anchor === "start" ? x - 4 : x + 4, y: y + 14, "text-anchor": anchor });
    text.textContent = formatTick(v);
    svg.append(text);
  }
  const unitText = el("text", { class: "gauge-label", x: CX, y: CY + 30, "text-anchor": "middle" });
  unitText.textContent = unit;
  svg.append(unitText);
  if (value !== null) {
    const [nx, ny] = point(angleOf(value), R - 10);
    svg.append(el("line", { class: "gauge-needle", x1: CX, y1: CY, x2: nx, y2: ny, "stroke-width": 3, "stroke-linecap": "round", "data-angle": angleOf(value).toFixed(1) }));
  }
  svg.append(el("circle", { class: "gauge-hub", cx: CX, cy: CY, r: 5 }));
  return svg;
}
