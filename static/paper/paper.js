// Paper Exchange: the live mark price, the price field's state, and the order's confirmation.
// Handwritten, no dependencies. Everything works without it (two plain POSTs and a redirect);
// with it the confirmation is drawn here from the form's values and the confirm is one fetch
// POST whose answer (the notice, open orders and balances) is put into the page: no reload.
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
    sendConfirmByFetch(dialog);
  }

  // Decimals as the server takes them; anything else goes to the server, which explains it.
  var DECIMAL = /^(\d{1,18})(?:\.(\d{1,10}))?$/;
  var CLIENT_ORDER_ID = /^[A-Za-z0-9._:@-]{1,64}$/;

  function decimal(text) {
    var match = DECIMAL.exec(text);
    if (!match) return null;
    var fraction = match[2] || "";
    return { units: BigInt(match[1] + fraction), scale: fraction.length };
  }

  function plain(number) {
    var digits = number.units.toString().padStart(number.scale + 1, "0");
    var whole = digits.slice(0, digits.length - number.scale);
    var fraction = digits.slice(digits.length - number.scale).replace(/0+$/, "");
    return fraction ? whole + "." + fraction : whole;
  }

  function timesToCents(a, b) {
    // Exact: integers scaled by 10^scale, rounded half to even like the server's Decimal.
    var units = a.units * b.units;
    var drop = a.scale + b.scale - 2;
    if (drop <= 0) return plain({ units: units * 10n ** BigInt(-drop), scale: 2 });
    var divisor = 10n ** BigInt(drop);
    var cents = units / divisor;
    var rest = (units % divisor) * 2n;
    if (rest > divisor || (rest === divisor && cents % 2n === 1n)) cents += 1n;
    return plain({ units: cents, scale: 2 });
  }

  function orderValues(form) {
    var side = form.querySelector("input[name=side]:checked");
    var type = form.querySelector("[name=order_type]");
    var qtyField = form.querySelector("[name=qty]");
    var priceField = form.querySelector("[name=price]");
    var clientField = form.querySelector("[name=client_order_id]");
    if (!side || !type || !qtyField || !priceField || !clientField) return null;
    var values = { side: side.value, order_type: type.value, client_order_id: clientField.value.trim() };
    var qty = decimal(qtyField.value.trim());
    if (!qty || qty.units === 0n) return null;
    if (values.client_order_id && !CLIENT_ORDER_ID.test(values.client_order_id)) return null;
    values.qty = plain(qty);
    var price;
    if (values.order_type === "LIMIT") {
      price = decimal(priceField.value.trim());
      if (!price || price.units === 0n) return null;
      values.price = plain(price);
    } else if (values.order_type === "MARKET") {
      var mark = document.getElementById("mark-price");
      price = mark && decimal(mark.getAttribute("data-price") || "");
      if (!price) return null;
      values.price = "";
      values.mark = plain(price);
    } else {
      return null;
    }
    values.total = timesToCents(qty, price);
    return values;
  }

  function buildDialog(template, values) {
    var fragment = template.content.cloneNode(true);
    fragment.querySelectorAll("[data-ref]").forEach(function (el) {
      el.id = el.getAttribute("data-ref");
      el.setAttribute("data-testid", el.id);
      el.removeAttribute("data-ref");
    });
    var dialog = fragment.querySelector("dialog");
    ["side", "order_type", "price", "qty", "client_order_id"].forEach(function (name) {
      dialog.querySelector("input[name=" + name + "]").value = values[name];
    });
    if (!values.price) dialog.querySelector("input[name=price]").remove();
    var shown = {
      side: values.side,
      "side-lower": values.side.toLowerCase(),
      order_type: values.order_type,
      price: values.price || "Market (mark " + values.mark + ")",
      qty: values.qty,
      total: values.total,
      client_order_id: values.client_order_id,
    };
    Object.keys(shown).forEach(function (name) {
      var el = dialog.querySelector("[data-field=" + name + "]");
      if (el) el.textContent = shown[name];
    });
    dialog.querySelector("[data-testid=confirm-side]").className = "side-" + values.side.toLowerCase();
    if (!values.client_order_id) {
      dialog.querySelector("[data-field=client-order-id-label]").remove();
      dialog.querySelector("[data-testid=confirm-client-order-id]").remove();
    }
    return dialog;
  }

  function closeDialog(dialog) {
    if (dialog.open) dialog.close();
    dialog.remove();
  }

  function confirmInPage() {
    var form = document.getElementById("order-form");
    var template = document.getElementById("confirm-template");
    if (!form || !template || !window.fetch || !window.BigInt) return;
    var probe = document.createElement("dialog");
    if (typeof probe.showModal !== "function") return;
    form.addEventListener("submit", function (event) {
      var values = orderValues(form);
      if (!values) return; // the server answers with what is wrong, field by field
      event.preventDefault();
      var previous = document.getElementById("confirm-dialog");
      if (previous) closeDialog(previous);
      var dialog = buildDialog(template, values);
      document.body.appendChild(dialog);
      dialog.showModal();
      dialog.addEventListener("cancel", function () {
        closeDialog(dialog);
      });
      dialog.querySelector("#cancel-confirm").addEventListener("click", function (click) {
        click.preventDefault();
        closeDialog(dialog);
      });
      sendConfirmByFetch(dialog);
    });
  }

  function sendConfirmByFetch(dialog) {
    var form = dialog.querySelector("form");
    if (!form || !window.fetch) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("[type=submit]");
      if (button.disabled) return; // one order per confirm, however often it is clicked
      // Form-encoded, as the browser itself would post the form.
      var body = new URLSearchParams(new FormData(form));
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        cache: "no-store",
        headers: { "X-Requested-With": "fetch", Accept: "text/html" },
      })
        .then(function (response) {
          return response.text().then(function (html) {
            showAnswer(response, html, dialog);
          });
        })
        .catch(function () {
          closeDialog(dialog);
          showNetworkError();
        });
    });
  }

  function showAnswer(response, html, dialog) {
    if (response.headers.get("X-Paper-Fragment") === "trade-update") {
      var parts = document.createElement("template");
      parts.innerHTML = html;
      parts.content.querySelectorAll("[data-part]").forEach(function (part) {
        var target = document.getElementById(part.getAttribute("data-part"));
        if (target) target.innerHTML = part.innerHTML;
      });
      closeDialog(dialog);
      return;
    }
    if (response.status === 401 && response.headers.get("X-Paper-Login")) {
      closeDialog(dialog);
      showSessionEnded(response.headers.get("X-Paper-Login"));
      return;
    }
    if (response.redirected) {
      window.location.assign(response.url); // e.g. the session ended: the login page
      return;
    }
    // A whole page (a challenge, a gateway timeout, the form's errors): shown as it came.
    var page = new DOMParser().parseFromString(html, "text/html");
    document.title = page.title;
    document.body.replaceWith(document.adoptNode(page.body));
  }

  function showSessionEnded(loginUrl) {
    var area = document.getElementById("notice-area");
    if (!area) return;
    var notice = document.createElement("div");
    notice.className = "notice err";
    notice.id = "session-ended";
    notice.setAttribute("data-testid", "session-ended");
    notice.setAttribute("role", "alert");
    notice.textContent = "Your session has ended; nothing was placed. ";
    var link = document.createElement("a");
    link.href = loginUrl;
    link.textContent = "Log in again";
    notice.appendChild(link);
    area.replaceChildren(notice);
  }

  function showNetworkError() {
    // Not an order error: the order may have been placed; the Orders page says.
    var area = document.getElementById("notice-area");
    if (!area) return;
    area.innerHTML =
      '<div class="notice err" id="network-error" data-testid="network-error" role="alert">' +
      "The exchange did not answer. Check your orders before placing it again: it may have been placed.</div>";
  }

  document.addEventListener("DOMContentLoaded", function () {
    startTicker();
    syncPriceField();
    makeDialogModal();
    confirmInPage();
  });
})();
