// Every page: the phone menu, the toasts Django rendered, local times.
import { wireServerToasts } from "./toasts.js";
import { renderTimes } from "./time.js";

function wireMenu() {
  const toggle = document.querySelector(".menu-toggle");
  const nav = document.getElementById("site-nav");
  if (!toggle || !nav) return;
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
}

function closeUserMenuOnOutsideClick() {
  const menu = document.querySelector(".user-menu");
  if (!menu) return;
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
}

wireMenu();
closeUserMenuOnOutsideClick();
wireServerToasts();
renderTimes();
setInterval(renderTimes, 30_000);
