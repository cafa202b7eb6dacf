// Connect page: copy the token.
import { showToast } from "./toasts.js";

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.copy).textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
      showToast("Token copied.", "success");
    } catch {
      showToast("Copy is blocked here: select the token and copy it by hand.", "warning");
    }
  });
}
