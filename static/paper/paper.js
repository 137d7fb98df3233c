// Paper Exchange: the live mark price, the price field's state, and the modal confirmation.
// Handwritten, no dependencies. Everything works without it; it only makes the page livelier.
(function () {
  "use strict";

  function startTicker() {
    var mark = document.getElementById("mark-price");
    if (!mark || !window.fetch) return;
    var url = mark.getAttribute("data-price-url");
    var time = document.getElementById("mark-time");
    var busy = false;
    setInterval(function () {
      if (busy) return;
      busy = true;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          var before = mark.getAttribute("data-price");
          // Number() only picks the colour of the move; the price shown is the server's text.
          if (before !== data.price) {
            var up = Number(data.price) > Number(before);
            mark.classList.toggle("up", up);
            mark.classList.toggle("down", !up);
          }
          mark.textContent = data.price;
          mark.setAttribute("data-price", data.price);
          mark.removeAttribute("data-stale");
          if (time) {
            time.setAttribute("datetime", data.time);
            time.textContent = data.time.slice(11, 19) + " UTC";
          }
        })
        .catch(function () {
          mark.setAttribute("data-stale", "true");
        })
        .finally(function () {
          busy = false;
        });
    }, 1000);
  }

  function syncPriceField() {
    var type = document.getElementById("order-type");
    var price = document.querySelector("#order-form .js-price");
    if (!type || !price) return;
    var update = function () {
      price.disabled = type.value === "MARKET";
    };
    type.addEventListener("change", update);
    update();
  }

  function makeDialogModal() {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    // Rendered open by the server (so it shows without script); made modal here.
    dialog.close();
    dialog.showModal();
    dialog.addEventListener("cancel", function () {
      window.location.href = document.getElementById("cancel-confirm").href;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startTicker();
    syncPriceField();
    makeDialogModal();
  });
})();
