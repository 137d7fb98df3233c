/* TradeDesk pages: the modal, live tables over /ws/signals and /ws/orders, countdowns.
 *
 * A live table (data-live="/ws/...") keeps its rows in step with the server: each event makes
 * the page fetch that one row as the server renders it now (with the page's filters), so the
 * server stays the only place that decides what a row shows and who may act on it. After a
 * dropped socket the page fetches all its rows again before it trusts events again.
 */
(function () {
  "use strict";

  var RECONNECT_MIN_MS = 250;
  var RECONNECT_MAX_MS = 5000;
  var PING_EVERY_MS = 20000;
  var PONG_TIMEOUT_MS = 10000;
  var SESSION_ENDED = 4401; /* the server's close code when the login has ended */

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  /* ---- htmx: refusals (409, 422) carry a form or a message to show; 401 goes to login ---- */
  function configureHtmx() {
    if (!window.htmx) return;
    // htmx wires up swapped-in content when it settles; with no settle delay that is at once, so
    // a form is live the moment it is on screen (no CSS transitions here need the delay).
    htmx.config.defaultSettleDelay = 0;
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "401", swap: false },
      { code: "(400|409|422)", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
    document.body.addEventListener("htmx:responseError", function (event) {
      var status = event.detail.xhr.status;
      showFlash(
        status === 403
          ? "Your role does not allow this action; nothing was changed."
          : "The desk answered " + status + "; nothing was changed. Try again.",
        "error"
      );
    });
    document.body.addEventListener("htmx:sendError", function () {
      showFlash("The desk did not answer; check the connection and try again.", "error");
    });
  }

  function showFlash(text, level) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var box = document.createElement("div");
    box.className = "flash flash-" + (level || "error");
    box.setAttribute("role", "alert");
    box.textContent = text + " ";
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "link";
    dismiss.setAttribute("data-dismiss", "");
    dismiss.textContent = "Dismiss";
    box.appendChild(dismiss);
    flash.replaceChildren(box);
  }

  /* ---- the modal ---- */
  function modal() {
    return document.getElementById("modal");
  }

  function setupModal() {
    var dialog = modal();
    if (!dialog) return;
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "modal-body" && !dialog.open) {
        dialog.showModal();
      }
      if (event.detail.target) {
        updateClocks(event.detail.target);
        applyKnownOrders(event.detail.target);
      }
    });
    document.body.addEventListener("desk:closeModal", function () {
      setTimeout(function () { if (dialog.open) dialog.close(); }, 600);
    });
    dialog.addEventListener("close", function () {
      document.getElementById("modal-body").replaceChildren();
    });
    document.addEventListener("click", function (event) {
      var target = event.target;
      if (target.closest("[data-close]")) {
        dialog.close();
      } else if (target.closest("[data-dismiss]")) {
        target.closest(".flash").remove();
      } else if (target === dialog) {
        dialog.close(); // a click on the backdrop
      }
    });
  }

  /* ---- filters submit themselves ---- */
  function setupFilters() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function () { form.requestSubmit(); });
    });
  }

  /* ---- the order form: MARKET has no price ---- */
  function setupOrderForm() {
    document.body.addEventListener("change", function (event) {
      if (event.target.id !== "order-type") return;
      var price = document.getElementById("order-price");
      if (!price) return;
      var market = event.target.value === "MARKET";
      price.disabled = market;
      price.placeholder = market ? "market" : "limit price";
      if (market) {
        price.dataset.kept = price.value;
        price.value = "";
      } else if (!price.value && price.dataset.kept) {
        price.value = price.dataset.kept;
      }
    });
    // A refusal answers the values that were sent: once the trader changes one, it is stale
    // (the preview below says at once whether the new values pass the risk checks).
    document.body.addEventListener("input", function (event) {
      var form = event.target.closest && event.target.closest("#order-form");
      if (!form) return;
      var refusal = document.getElementById("order-error");
      if (refusal) refusal.remove();
      form.querySelectorAll('.field-error[data-field="' + event.target.name + '"]').forEach(function (error) {
        error.remove();
      });
    });
    document.body.addEventListener("htmx:afterSwap", function () {
      var type = document.getElementById("order-type");
      var price = document.getElementById("order-price");
      if (type && price) price.disabled = type.value === "MARKET";
    });
  }

  /* ---- clocks: age and time left, from the server's clock ---- */
  var clockOffsetMs = 0;

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (hours) return hours + "h " + pad(minutes) + "m";
    return minutes ? minutes + "m " + pad(secs) + "s" : secs + "s";
  }

  function updateClocks(root) {
    var now = Date.now() + clockOffsetMs;
    (root || document).querySelectorAll("tr[data-created]").forEach(function (row) {
      var age = row.querySelector(".age");
      if (age) age.textContent = duration((now - Date.parse(row.dataset.created)) / 1000);
      if (!row.dataset.deadline) return;
      var left = (Date.parse(row.dataset.deadline) - now) / 1000;
      var cell = row.querySelector(".expires");
      if (cell) cell.textContent = left > 0 ? duration(left) : "expired";
      row.classList.toggle("expiring", left > 0 && left <= 30);
      if (left <= 0 && !row.classList.contains("expired")) {
        // The server cancels it (and refuses it) anyway; don't offer what it will refuse.
        row.classList.add("expired");
        row.querySelectorAll("[data-action]").forEach(function (button) { button.disabled = true; });
      }
    });
    (root || document).querySelectorAll("[data-deadline].expires-inline").forEach(function (span) {
      var left = (Date.parse(span.dataset.deadline) - now) / 1000;
      var line = span.closest("[data-expiry]");
      if (left > 0) {
        span.textContent = duration(left);
      } else if (line) {
        line.textContent = "Expired: the desk refuses orders for it now.";
        line.classList.add("warn");
      } else {
        span.textContent = "now (expired)";
      }
      if (left <= 0) {
        // An open order form for a signal that just expired: the server would refuse it anyway.
        var confirm = document.getElementById("order-confirm");
        if (confirm) confirm.disabled = true;
      }
    });
  }

  /* ---- live connection status ---- */
  var sockets = [];

  function renderLiveStatus() {
    var badge = document.getElementById("live-status");
    if (!badge || !sockets.length) return;
    var up = sockets.every(function (s) { return s.isOpen(); });
    badge.hidden = false;
    badge.textContent = up ? "live" : "reconnecting…";
    badge.className = "live " + (up ? "live-up" : "live-down");
    document.documentElement.dataset.live = up ? "up" : "down";
  }

  /* A socket that reconnects by itself with backoff, pings to find a dead connection, and
   * calls onOpen(isReconnect) every time it opens. */
  function DeskSocket(path, onEvent, onOpen) {
    var ws = null;
    var delay = RECONNECT_MIN_MS;
    var opened = false;
    var pingTimer = null;
    var pongTimer = null;
    var self = this;

    function url() {
      return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    }

    function connect() {
      try {
        ws = new WebSocket(url());
      } catch (e) {
        ws = null;
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        return;
      }
      ws.onopen = function () {
        delay = RECONNECT_MIN_MS;
        var again = opened;
        opened = true;
        renderLiveStatus();
        onOpen(again);
        pingTimer = setInterval(ping, PING_EVERY_MS);
      };
      ws.onmessage = function (message) {
        var event;
        try { event = JSON.parse(message.data); } catch (e) { return; }
        if (event.type === "pong") { clearTimeout(pongTimer); return; }
        onEvent(event);
      };
      ws.onclose = function (event) {
        clearInterval(pingTimer);
        clearTimeout(pongTimer);
        if (event.code === SESSION_ENDED) {
          // The login ended since the socket opened (logged out elsewhere, expired, role taken away).
          goToLogin("/login/?next=" + encodeURIComponent(location.pathname + location.search));
          return;
        }
        renderLiveStatus();
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      };
    }

    function ping() {
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: "ping" }));
      pongTimer = setTimeout(function () { ws.close(); }, PONG_TIMEOUT_MS);
    }

    self.isOpen = function () { return !!ws && ws.readyState === WebSocket.OPEN; };
    self.drop = function () { if (ws) ws.close(); }; // used by tests to simulate a dropped link
    self.ping = ping; // used by tests: the check a page makes every PING_EVERY_MS
    connect();
  }

  /* Once: a page has several sockets (and fetches) that each learn the login ended; a second
     navigation would abort the first one. */
  var leaving = false;
  function goToLogin(url) {
    if (leaving) return;
    leaving = true;
    location.href = url;
  }

  /* ---- live tables ---- */
  function fetchHtml(url) {
    return fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) {
        goToLogin(response.headers.get("HX-Redirect") || "/login/");
        throw new Error("logged out");
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    });
  }

  function parseRow(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var row = template.content.firstElementChild;
    return row && row.tagName === "TR" ? row : null;
  }

  function LiveTable(table) {
    var tbody = table.tBodies[0];
    var limit = parseInt(table.dataset.limit || "200", 10);
    var prefix = table.id === "orders-table" ? "order-" : "signal-";
    var sequence = {};
    var syncing = null;
    var syncAgain = false;
    var heldDuringSync = {};

    function rowUrl(id) {
      return table.dataset.rowUrl.replace("__id__", encodeURIComponent(id));
    }

    function place(id, html) {
      var existing = document.getElementById(prefix + id);
      var row = parseRow(html);
      if (!row) {
        if (existing) existing.remove();
        showEmpty();
      } else if (existing) {
        existing.replaceWith(row);
      } else {
        // Rows are newest first: a row that is new to the page goes on top.
        var empty = tbody.querySelector("tr.empty");
        if (empty) empty.remove();
        tbody.insertBefore(row, tbody.firstElementChild);
        row.classList.add("fresh");
        while (tbody.rows.length > limit) tbody.deleteRow(-1);
      }
      if (row) {
        htmx.process(row);
        applyKnownOrders(row);
        updateClocks(row.parentNode || tbody);
      }
      table.dispatchEvent(new CustomEvent("desk:row", { detail: { id: id, present: !!row }, bubbles: true }));
      document.body.dispatchEvent(new CustomEvent("desk:queueChanged"));
    }

    function showEmpty() {
      // The last row left live: the same text a reload would show, not bare table headers.
      if (tbody.querySelector("tr") || !table.dataset.emptyText) return;
      var row = tbody.insertRow();
      row.className = "empty";
      var cell = row.insertCell();
      cell.colSpan = table.tHead ? table.tHead.rows[0].cells.length : 1;
      cell.textContent = table.dataset.emptyText;
    }

    function refresh(id) {
      if (syncing) {
        // The full read under way may have been rendered before this change: fetch the row after it.
        heldDuringSync[id] = true;
        return syncing;
      }
      // Only the newest answer for a row counts: two quick events must not land out of order.
      var mine = (sequence[id] = (sequence[id] || 0) + 1);
      return fetchHtml(rowUrl(id)).then(function (html) {
        if (sequence[id] === mine) place(id, html);
      }).catch(function () {});
    }

    function resync() {
      if (syncing) {
        // Another socket opened while a read was under way: read once more after it.
        syncAgain = true;
        return syncing;
      }
      heldDuringSync = {};
      syncing = fetchHtml(table.dataset.rowsUrl).then(function (html) {
        tbody.innerHTML = html;
        htmx.process(tbody);
        applyKnownOrders(tbody);
        updateClocks(tbody);
        table.dispatchEvent(new CustomEvent("desk:resynced", { bubbles: true }));
        document.body.dispatchEvent(new CustomEvent("desk:queueChanged"));
      }).catch(function () {}).then(function () {
        syncing = null;
        var held = Object.keys(heldDuringSync);
        heldDuringSync = {};
        if (syncAgain) {
          syncAgain = false;
          resync();
        } else {
          held.forEach(refresh);
        }
      });
      return syncing;
    }

    this.refresh = refresh;
    this.resync = resync;
  }

  /* The newest status seen for each order: a fragment rendered before an event arrived (the
   * order form's answer, a row fetched a moment earlier) must not show an older status. */
  var knownOrders = {};
  var STATUS_RANK = { SUBMITTING: 0, UNKNOWN: 1, SUCCESS: 2, FAILED: 2, CANCELED: 2 };

  function paintBadge(badge, id, status) {
    var current = badge.textContent.trim();
    var withId = current.charAt(0) === "#";
    var shown = withId ? current.split(" ").pop() : current;
    if ((STATUS_RANK[shown] || 0) > (STATUS_RANK[status] || 0)) return;
    badge.textContent = withId ? "#" + id + " " + status : status;
    badge.className = "badge badge-" + status.toLowerCase();
  }

  function updateOrderBadges(order) {
    var known = knownOrders[order.id];
    if (!known || (STATUS_RANK[order.status] || 0) >= (STATUS_RANK[known] || 0)) knownOrders[order.id] = order.status;
    document.querySelectorAll('[data-order-status="' + order.id + '"]').forEach(function (badge) {
      paintBadge(badge, order.id, knownOrders[order.id]);
    });
  }

  function applyKnownOrders(root) {
    (root || document).querySelectorAll("[data-order-status]").forEach(function (badge) {
      var id = badge.getAttribute("data-order-status");
      if (knownOrders[id]) paintBadge(badge, id, knownOrders[id]);
    });
  }

  /* One socket per path for the whole page: the live table, the toasts and anything else
   * listen to the same connection. */
  var channels = {};

  function channel(path) {
    if (channels[path]) return channels[path];
    var entry = { listeners: [], openers: [] };
    channels[path] = entry;
    entry.socket = new DeskSocket(path, function (event) {
      entry.listeners.forEach(function (listener) { listener(event); });
    }, function (again) {
      entry.openers.forEach(function (opener) { opener(again); });
    });
    sockets.push(entry.socket);
    renderLiveStatus();
    return entry;
  }

  function listen(path, onEvent, onOpen) {
    var entry = channel(path);
    if (onEvent) entry.listeners.push(onEvent);
    if (onOpen) entry.openers.push(onOpen);
    return entry.socket;
  }

  var TABLE_EVENTS = { signal_created: true, signal_updated: true, order_updated: true };

  function setupLiveTables() {
    var table = document.querySelector("table[data-live]");
    if (!table) return;
    var live = new LiveTable(table);
    var isOrders = table.id === "orders-table";
    window.deskLive = { table: live, sockets: sockets };

    function onOpen() {
      // Whatever happened while the socket was not connected (down, or not yet up after the page
      // was rendered) is read again from the server; events that arrive meanwhile are applied after.
      live.resync();
    }

    listen(table.dataset.live, function (event) {
      if (!TABLE_EVENTS[event.type] || !event.data || event.data.id === undefined) return;
      if (isOrders) updateOrderBadges(event.data);
      live.refresh(event.data.id);
    }, onOpen);

    if (table.dataset.alsoLive) {
      // The signals page also follows orders: the "last order" column and an open order modal.
      listen(table.dataset.alsoLive, function (event) {
        if (event.type !== "order_updated" || !event.data || event.data.id === undefined) return;
        updateOrderBadges(event.data);
        if (event.data.signal_id) live.refresh(event.data.signal_id);
      }, onOpen);
    }
    document.body.addEventListener("desk:bulkDone", function () { live.resync(); });
    renderLiveStatus();
  }

  /* What the other desk scripts (queue.js, notify.js, chart.js) use. */
  window.desk = {
    listen: listen,
    showFlash: showFlash,
    onReady: onReady,
    updateClocks: function (root) { updateClocks(root); },
  };

  onReady(function () {
    var table = document.querySelector("table[data-server-now]");
    if (table) clockOffsetMs = Date.parse(table.dataset.serverNow) - Date.now();
    configureHtmx();
    setupModal();
    setupFilters();
    setupOrderForm();
    setupLiveTables();
    setInterval(updateClocks, 1000);
  });
})();
