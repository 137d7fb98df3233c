/* Dark or light: the system setting (prefers-color-scheme) unless the trader chose one with the
 * toggle, which is remembered. Loaded in <head>, before the page paints, so it never flashes. */
(function () {
  "use strict";
  var KEY = "desk:theme";
  var root = document.documentElement;
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function chosen() {
    var value = localStorage.getItem(KEY);
    return value === "dark" || value === "light" ? value : "";
  }

  function apply() {
    var theme = chosen() || (query && query.matches ? "dark" : "light");
    root.dataset.theme = theme;
    root.style.colorScheme = theme;
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.setAttribute("aria-pressed", String(theme === "dark"));
      toggle.textContent = theme === "dark" ? "☀ Light" : "☾ Dark";
      toggle.title = chosen() ? "Your choice (the system says " + (query && query.matches ? "dark" : "light") + ")" : "Following the system setting";
    }
    document.dispatchEvent(new CustomEvent("desk:theme", { detail: { theme: theme } }));
  }

  apply();
  if (query && query.addEventListener) query.addEventListener("change", apply);
  document.addEventListener("DOMContentLoaded", function () {
    apply();
    var toggle = document.getElementById("theme-toggle");
    if (!toggle) return;
    toggle.addEventListener("click", function () {
      var next = root.dataset.theme === "dark" ? "light" : "dark";
      var system = query && query.matches ? "dark" : "light";
      // Back to the system setting when the choice matches it, so a later system change is followed.
      if (next === system) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, next);
      apply();
    });
  });
})();
