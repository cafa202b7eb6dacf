// Toasts: short messages that screen readers announce. Errors use role="alert"
// (interrupting); everything else role="status" (polite).

const AUTO_DISMISS_MS = 8000;

function region() {
  return document.querySelector(".toasts");
}

export function dismissToast(toast) {
  toast.remove();
}

function wire(toast, { sticky }) {
  toast.querySelector(".toast-close").addEventListener("click", () => dismissToast(toast));
  if (!sticky) {
    setTimeout(() => dismissToast(toast), AUTO_DISMISS_MS);
  }
}

/** kind: "success" | "info" | "warning" | "error" */
export function showToast(message, kind = "info") {
  const toast = document.createElement("div");
  toast.className = `toast toast-${kind}`;
  toast.setAttribute("role", kind === "error" ? "alert" : "status");
  const text = document.createElement("p");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  toast.append(text, close);
  region().append(toast);
  wire(toast, { sticky: kind === "error" || kind === "warning" });
  return toast;
}

export function wireServerToasts() {
  for (const toast of document.querySelectorAll(".toast[data-server-message]")) {
    wire(toast, { sticky: toast.getAttribute("role") === "alert" });
  }
}
