// Paper Pro: the order ticket, the orders panel and the live price. Handwritten, no dependencies.
// The page's element ids come from the server in #__APP_STATE__ (they change with the layout).
(function () {
  "use strict";

  var stateNode = document.getElementById("__APP_STATE__");
  if (!stateNode) return;
  var S = JSON.parse(stateNode.textContent);
  var byId = function (key) { return S.ids[key] ? document.getElementById(S.ids[key]) : null; };
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // ---- numbers: "66000.5" -> "66,000.5" while typing, the caret kept on the same digit ----
  function formatNumber(raw, decimals) {
    var s = String(raw).replace(/[^0-9.]/g, "");
    var dot = s.indexOf(".");
    var whole = dot >= 0 ? s.slice(0, dot) : s;
    var frac = dot >= 0 ? s.slice(dot + 1).replace(/\./g, "").slice(0, decimals) : null;
    whole = whole.replace(/^0+(?=\d)/, "");
    if (whole === "" && frac !== null) whole = "0";
    var grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return frac !== null && decimals > 0 ? grouped + "." + frac : grouped;
  }
  function plain(text) { return String(text).replace(/,/g, ""); }
  function significant(text) { return text.replace(/[^0-9.]/g, "").length; }
  function groupedFixed(number, decimals) {
    return formatNumber((isFinite(number) ? number : 0).toFixed(decimals), decimals);
  }

  // ---- talking to the server ----
  function request(url, options) {
    options = options || {};
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 20000) : null;
    var headers = { Accept: "application/json", "X-Requested-With": "XMLHttpRequest", "X-Page-Path": location.pathname };
    if (options.body) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = csrf;
    }
    return fetch(url, {
      method: options.method || "GET",
      headers: headers,
      body: options.body,
      credentials: "same-origin",
      cache: "no-store",
      signal: controller ? controller.signal : undefined,
    }).finally(function () { if (timer) clearTimeout(timer); });
  }
  function readJson(response) {
    return response.text().then(function (text) {
      try { return JSON.parse(text); } catch (e) { return null; }
    });
  }

  var captcha = document.querySelector(".css-cpm01");
  if (captcha) captcha.querySelector("button").addEventListener("click", function () { captcha.hidden = true; });

  // Session ended or a challenge: the same for every call. True when handled.
  function intercepted(response, body) {
    if (response.status === 401) {
      location.assign((body && body.login_url) || S.urls.login + "?next=" + encodeURIComponent(location.pathname));
      return true;
    }
    if (response.status === 403 && body && body.code === "CAPTCHA_REQUIRED") {
      if (captcha) captcha.hidden = false;
      return true;
    }
    return false;
  }

  function toast(text) {
    var box = document.querySelector(".css-to0s1");
    var item = document.createElement("div");
    item.setAttribute("role", "status");
    item.className = "css-to0s2";
    item.textContent = text;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, S.toastMs);
  }

  // ---- the orders panel: tabs, pages and Cancel buttons (trade page and orders page) ----
  var panel = byId("panel");
  var panelTabs = panel ? document.querySelectorAll('[aria-controls="' + S.ids.panel + '"]') : [];
  var currentTab = S.tab || "open";

  function loadPanel(tab, page) {
    if (!panel) return;
    var url = S.urls.panel.replace("TAB", tab) + "?page=" + page;
    request(url).then(function (response) {
      if (!response.ok) return readJson(response).then(function (data) { intercepted(response, data); });
      var count = response.headers.get("X-Open-Orders");
      if (count !== null && panelTabs.length) panelTabs[0].textContent = "Open orders (" + count + ")";
      return response.text().then(function (html) {
        currentTab = tab;
        panel.innerHTML = html;
        each(panelTabs, function (item) { item.setAttribute("aria-selected", String(item.value === tab)); });
      });
    }).catch(function () {});
  }

  if (panel) {
    each(panelTabs, function (tab) {
      tab.addEventListener("click", function () { loadPanel(tab.value, 1); });
    });
    panel.addEventListener("click", function (event) {
      var link = event.target.closest("nav a");
      if (link) {
        event.preventDefault();
        loadPanel(currentTab, new URL(link.href, location.href).searchParams.get("page") || "1");
        return;
      }
      var cancel = event.target.closest('button[name="cancel"]');
      if (!cancel) return;
      cancel.disabled = true;
      request(S.urls.cancel.replace("/0/", "/" + cancel.value + "/"), { method: "POST", body: "{}" })
        .then(function (response) {
          return readJson(response).then(function (data) {
            if (intercepted(response, data)) return;
            if (data) toast(data.toast || data.message);
            loadPanel(currentTab, 1);
            refreshBalances();
          });
        })
        .catch(function () { cancel.disabled = false; });
    });
  }

  // ---- the order ticket (trade page only) ----
  var form = byId("form");
  var price = byId("price");
  var amount = byId("amount");
  var submit = byId("submit");
  var total = byId("total");
  var available = byId("available");
  var errors = byId("errors");
  var typeButton = byId("type_button");
  var typeList = byId("type_list");
  var sideTabs = byId("side_tabs");
  var modal = document.querySelector(".css-md0b1");
  var side = "BUY";
  var type = "LIMIT";
  var lastPrice = S.lastPrice;
  var busy = false;

  function updateTotal() {
    if (!form) return;
    var p = type === "MARKET" ? Number(lastPrice) : Number(plain(price.value));
    var a = Number(plain(amount.value));
    total.textContent = groupedFixed(p && a ? p * a : 0, S.priceDecimals);
  }
  function clearError() { if (errors) errors.textContent = ""; }
  function showError(message) {
    clearError();
    var alert = document.createElement("div");
    alert.setAttribute("role", "alert");
    alert.className = "css-e7l3u";
    alert.textContent = message;
    errors.appendChild(alert);
  }

  function bindNumber(input, decimals) {
    input.addEventListener("input", function () {
      var caret = input.selectionStart == null ? input.value.length : input.selectionStart;
      var keep = significant(input.value.slice(0, caret));
      var formatted = formatNumber(input.value, decimals);
      input.value = formatted;
      var position = 0;
      for (var seen = 0; position < formatted.length && seen < keep; position++) {
        if (/[0-9.]/.test(formatted[position])) seen++;
      }
      try { input.setSelectionRange(position, position); } catch (e) { /* not focused */ }
      updateTotal();
      clearError();
    });
  }

  function setSide(next) {
    side = next;
    each(sideTabs.querySelectorAll('[role="tab"]'), function (tab, index) {
      tab.setAttribute("aria-selected", String((index === 0) === (next === "BUY")));
    });
    submit.textContent = next === "BUY" ? S.words.buy : S.words.sell;
    submit.classList.toggle(S.css.buy, next === "BUY");
    submit.classList.toggle(S.css.sell, next === "SELL");
    available.textContent = S.available[next];
    available.nextElementSibling.textContent = next === "BUY" ? S.quote : S.base;
    clearError();
  }

  // The custom order-type dropdown: a button that opens a listbox of options.
  function openList(open) {
    typeList.hidden = !open;
    typeButton.setAttribute("aria-expanded", String(open));
    if (open) typeList.focus();
  }
  function chooseType(option) {
    type = option.textContent.trim().toUpperCase();
    each(typeList.querySelectorAll('[role="option"]'), function (item) {
      item.setAttribute("aria-selected", String(item === option));
    });
    typeButton.textContent = option.textContent.trim();
    byId("price_row").hidden = type === "MARKET";
    byId("market_row").hidden = type !== "MARKET";
    openList(false);
    updateTotal();
    clearError();
  }

  function confirmOrder() {
    modal.querySelector(".css-md0s1").textContent = side === "BUY" ? "Buy" : "Sell";
    modal.querySelector(".css-md0s2").textContent = type === "MARKET" ? "Market" : "Limit";
    modal.querySelector(".css-md0s3").textContent = type === "MARKET" ? "Market" : price.value + " " + S.quote;
    modal.querySelector(".css-md0s4").textContent = amount.value + " " + S.base;
    modal.querySelector(".css-md0s5").textContent = total.textContent + " " + S.quote;
    modal.hidden = false;
    modal.querySelector(".css-md0c2").focus();
  }

  function send() {
    busy = true;
    submit.disabled = true;
    submit.setAttribute("aria-busy", "true");
    var body = { symbol: S.pair, side: side, type: type, quantity: plain(amount.value) };
    if (type === "LIMIT") body.price = plain(price.value);
    request(S.urls.place, { method: "POST", body: JSON.stringify(body) })
      .then(function (response) {
        return readJson(response).then(function (data) {
          if (intercepted(response, data)) return;
          if (!data) return showError("Something went wrong (HTTP " + response.status + "). Please check your orders.");
          if (data.toast) toast(data.toast);
          if (data.success) {
            amount.value = "";
            updateTotal();
            refreshBalances();
            loadPanel(currentTab, 1);
          } else if (!data.toast) {
            showError(response.status === 504 ? "Network timeout. Please check your orders before retrying." : data.message);
          }
        });
      })
      .catch(function () { showError("Network error. Please check your orders before retrying."); })
      .finally(function () {
        busy = false;
        submit.disabled = false;
        submit.removeAttribute("aria-busy");
      });
  }

  function refreshBalances() {
    if (!form) return;
    request(S.urls.balances).then(function (response) {
      return readJson(response).then(function (data) {
        if (intercepted(response, data) || !data || !data.success) return;
        S.available = { BUY: data.data.quote, SELL: data.data.base };
        available.textContent = S.available[side];
      });
    }).catch(function () {});
  }

  if (form) {
    each(sideTabs.querySelectorAll('[role="tab"]'), function (tab, index) {
      tab.addEventListener("click", function () { setSide(index === 0 ? "BUY" : "SELL"); });
    });
    typeButton.addEventListener("click", function (event) {
      event.stopPropagation();
      openList(typeList.hidden);
    });
    each(typeList.querySelectorAll('[role="option"]'), function (option) {
      option.addEventListener("click", function (event) {
        event.stopPropagation();
        chooseType(option);
      });
    });
    typeList.addEventListener("keydown", function (event) {
      var options = Array.prototype.slice.call(typeList.querySelectorAll('[role="option"]'));
      var current = options.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
      if (event.key === "Escape") openList(false);
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        var next = options[(current + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length];
        options.forEach(function (o) { o.setAttribute("aria-selected", String(o === next)); });
        event.preventDefault();
      }
      if (event.key === "Enter") chooseType(options[current]);
    });
    document.addEventListener("click", function () { if (!typeList.hidden) openList(false); });
    bindNumber(price, S.priceDecimals);
    bindNumber(amount, S.amountDecimals);

    modal.querySelector(".css-md0c1").addEventListener("click", function () { modal.hidden = true; });
    modal.querySelector(".css-md0c2").addEventListener("click", function () {
      modal.hidden = true;
      send();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !modal.hidden) modal.hidden = true;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      clearError();
      if (type === "LIMIT" && !(Number(plain(price.value)) > 0)) return showError("Please enter a price");
      if (!(Number(plain(amount.value)) > 0)) return showError("Please enter an amount");
      confirmOrder();
    });

    // The live price.
    var last = document.querySelector(".css-pa1r3");
    setInterval(function () {
      request(S.urls.ticker).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (data) {
        if (!data) return;
        lastPrice = data.price;
        last.textContent = data.display;
        document.title = data.display + " " + S.pair.replace("_", "/") + " | Paper Pro";
        if (type === "MARKET") updateTotal();
      }).catch(function () {});
    }, S.tickerMs || 5000);
    updateTotal();
  }
})();
