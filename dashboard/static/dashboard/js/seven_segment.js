// A value drawn as a seven-segment display shows it: slanted segments, the unlit ones
// faintly visible as on a real LCD or LED panel, a decimal point in the digit's corner.

const SVG = "http://www.w3.org/2000/svg";
const DIGIT_W = 10; // segment centre lines: x 0..10, y 0..20
const DIGIT_H = 20;
const THICK = 2.6;
const JOIN_GAP = 0.5; // the hairline between segments that real displays have
const PITCH = 17; // one digit cell, its decimal point included
const SLANT = 0.14; // tan of the 8° italic of most panels
const MARGIN = 3;

// Segments as (x1, y1) → (x2, y2) centre lines: a top, b/c right, d bottom, e/f left, g middle.
const SEGMENTS = {
  a: [0, 0, DIGIT_W, 0],
  b: [DIGIT_W, 0, DIGIT_W, DIGIT_H / 2],
  c: [DIGIT_W, DIGIT_H / 2, DIGIT_W, DIGIT_H],
  d: [0, DIGIT_H, DIGIT_W, DIGIT_H],
  e: [0, DIGIT_H / 2, 0, DIGIT_H],
  f: [0, 0, 0, DIGIT_H / 2],
  g: [0, DIGIT_H / 2, DIGIT_W, DIGIT_H / 2],
};
const LIT = {
  0: "abcdef", 1: "bc", 2: "abdeg", 3: "abcdg", 4: "bcfg",
  5: "acdfg", 6: "acdefg", 7: "abc", 8: "abcdefg", 9: "abcdfg",
  "-": "g", " ": "",
};

function el(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

// A hexagon along a centre line: pointed ends so neighbouring segments meet at a mitre.
function segmentPoints([x1, y1, x2, y2]) {
  const h = THICK / 2;
  if (y1 === y2) {
    const [a, b] = [x1 + JOIN_GAP, x2 - JOIN_GAP];
    return [[a, y1], [a + h, y1 - h], [b - h, y1 - h], [b, y1], [b - h, y1 + h], [a + h, y1 + h]];
  }
  const [a, b] = [y1 + JOIN_GAP, y2 - JOIN_GAP];
  return [[x1, a], [x1 + h, a + h], [x1 + h, b - h], [x1, b], [x1 - h, b - h], [x1 - h, a + h]];
}

/** The display's cells: one per digit, minus or blank, each with its decimal point. */
export function displayCells(text) {
  const cells = [];
  for (const character of text) {
    if (character === "." && cells.length > 0 && !cells[cells.length - 1].point) {
      cells[cells.length - 1].point = true;
    } else if (character === ".") {
      cells.push({ glyph: " ", point: true });
    } else if (character in LIT) {
      cells.push({ glyph: character, point: false });
    }
  }
  return cells;
}

/** What the display shows for a value: fixed decimals when its calibration says, else
 * up to three; values that need an exponent are out of a display's reach ("----"). */
export function displayText(value, { decimals = null, digits = null } = {}) {
  if (!Number.isFinite(value)) return "----";
  const text = decimals === null ? String(Number(value.toFixed(3))) : value.toFixed(decimals);
  if (/e/i.test(text)) return "----";
  // Blank leading positions, as a panel with more digits than the value needs shows them.
  const used = text.replace(".", "").length;
  return digits !== null && used < digits ? " ".repeat(digits - used) + text : text;
}

/** An <svg> of the text as a seven-segment display would show it. */
export function sevenSegmentSvg(text, { label = text } = {}) {
  const cells = displayCells(text);
  const width = MARGIN * 2 + cells.length * PITCH + SLANT * DIGIT_H;
  const height = MARGIN * 2 + DIGIT_H + THICK;
  const svg = el("svg", { viewBox: `0 0 ${width.toFixed(1)} ${height.toFixed(1)}`, role: "img", class: "seven-segment" });
  svg.setAttribute("aria-label", label);
  cells.forEach((cell, index) => {
    const x = MARGIN + THICK / 2 + index * PITCH + SLANT * DIGIT_H;
    const y = MARGIN + THICK / 2;
    const digit = el("g", { transform: `translate(${x.toFixed(2)} ${y.toFixed(2)}) skewX(-8)`, "data-glyph": cell.glyph });
    for (const [name, line] of Object.entries(SEGMENTS)) {
      const on = LIT[cell.glyph].includes(name);
      const points = segmentPoints(line).map(([px, py]) => `${px.toFixed(2)},${py.toFixed(2)}`).join(" ");
      digit.append(el("polygon", { points, class: on ? "segment-on" : "segment-off", "data-segment": name }));
    }
    digit.append(
      el("circle", { cx: DIGIT_W + THICK + 1.2, cy: DIGIT_H, r: 1.5, class: cell.point ? "segment-on" : "segment-off", "data-segment": "dp" }),
    );
    svg.append(digit);
  });
  return svg;
}
