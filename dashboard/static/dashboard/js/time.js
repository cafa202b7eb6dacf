// Times in the browser's own zone, with a relative hint ("2 min ago").

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

const STEPS = [
  [60, "second", 1],
  [3600, "minute", 60],
  [86400, "hour", 3600],
  [7 * 86400, "day", 86400],
  [30 * 86400, "week", 7 * 86400],
  [365 * 86400, "month", 30 * 86400],
  [Infinity, "year", 365 * 86400],
];

export function formatLocal(date) {
  return dateTime.format(date);
}

export function timeAgo(date, now = new Date()) {
  const seconds = (date - now) / 1000;
  const size = Math.abs(seconds);
  if (size < 45) return "just now";
  const [, unit, divisor] = STEPS.find(([limit]) => size < limit);
  return relative.format(Math.round(seconds / divisor), unit);
}

/** Fill every <time data-local> with the local time and its relative hint. */
export function renderTimes(root = document) {
  for (const element of root.querySelectorAll("time[data-local]")) {
    const date = new Date(element.dateTime);
    if (Number.isNaN(date.getTime())) continue;
    const hint = element.dataset.local === "relative" ? ` (${timeAgo(date)})` : "";
    element.textContent = formatLocal(date) + hint;
    element.title = date.toISOString();
  }
}
