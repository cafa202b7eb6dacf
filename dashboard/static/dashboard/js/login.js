// Log-in page: show/hide the new password, and focus the form that has errors.

for (const toggle of document.querySelectorAll("[data-password-toggle]")) {
  const input = document.getElementById(toggle.getAttribute("aria-controls"));
  toggle.addEventListener("click", () => {
    const showing = input.type === "text";
    input.type = showing ? "password" : "text";
    toggle.textContent = showing ? "Show" : "Hide";
    toggle.setAttribute("aria-pressed", String(!showing));
  });
}

const firstInvalid = document.querySelector(".field-error input");
if (firstInvalid) firstInvalid.focus();
