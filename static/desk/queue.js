/* The signal queue at speed: several rows at once (accept all, reject all with one reason) and
 * keyboard shortcuts. Every action still goes to the server, which checks the role and writes
 * the audit for each signal; this file only chooses rows and presses the page's own buttons.
 */
(function () {
  "use strict";

  var selected = {}; /* signal id -> true; survives a row being re-rendered by a live event */

  function rows() {
    var body = document.getElementById("signal-rows");
    return body ? Array.prototype.slice.call(body.querySelectorAll("tr[data-id]")) : [];
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function modalOpen() {
    var dialog = document.getElementById("modal");
    return !!(dialog && dialog.open);
  }

  /* ---- selection and the bulk bar ---- */
  function selectedIds() {
    // Only rows still in the queue: a row that left (decided elsewhere, expired) is not sent.
    return rows().map(function (row) { return row.dataset.id; }).filter(function (id) { return selected[id]; });
  }

  function paintSelection() {
    rows().forEach(function (row) {
      var box = row.querySelector(".pick-row");
      var on = !!selected[row.dataset.id];
      if (box) box.checked = on;
      row.classList.toggle("picked", on);
    });
    var ids = selectedIds();
    var count = document.getElementById("bulk-count");
    if (!count) return;
    count.textContent = ids.length ? ids.length + " selected" : "None selected";
    document.getElementById("bulk-accept").disabled = !ids.length;
    document.getElementById("bulk-reject").disabled = !ids.length;
    document.getElementById("bulk-clear").hidden = !ids.length;
    var all = document.getElementById("pick-all");
    if (all) all.checked = ids.length > 0 && ids.length === rows().length;
  }

  function toggle(id, on) {
    if (on === undefined) on = !selected[id];
    if (on) selected[id] = true;
    else delete selected[id];
    paintSelection();
  }

  function clearSelection() {
    selected = {};
    paintSelection();
  }

  function bulkAccept() {
    var bar = document.getElementById("bulk-bar");
    var ids = selectedIds();
    if (!bar || !ids.length) return;
    htmx.ajax("POST", bar.dataset.bulkUrl, {
      source: document.body,
      target: "#flash",
      swap: "innerHTML",
      values: { action: "accept", ids: ids.join(",") },
    });
  }

  function bulkReject() {
    var bar = document.getElementById("bulk-bar");
    var ids = selectedIds();
    if (!bar || !ids.length) return;
    htmx.ajax("GET", bar.dataset.bulkRejectUrl + "?ids=" + encodeURIComponent(ids.join(",")), {
      source: document.body,
      target: "#modal-body",
    });
  }

  function setupBulk() {
    var bar = document.getElementById("bulk-bar");
    if (!bar) return;
    document.addEventListener("change", function (event) {
      if (event.target.classList.contains("pick-row")) {
        toggle(event.target.value, event.target.checked);
      } else if (event.target.id === "pick-all") {
        var on = event.target.checked;
        rows().forEach(function (row) {
          if (on) selected[row.dataset.id] = true;
          else delete selected[row.dataset.id];
        });
        paintSelection();
      }
    });
    document.getElementById("bulk-accept").addEventListener("click", bulkAccept);
    document.getElementById("bulk-reject").addEventListener("click", bulkReject);
    document.getElementById("bulk-clear").addEventListener("click", clearSelection);
    document.body.addEventListener("desk:bulkDone", clearSelection);
    document.body.addEventListener("desk:queueChanged", paintSelection);
    paintSelection();
  }

  /* ---- keyboard ---- */
  function currentRow() {
    var body = document.getElementById("signal-rows");
    return body ? body.querySelector("tr.current[data-id]") : null;
  }

  function setCurrent(row) {
    var old = currentRow();
    if (old) old.classList.remove("current");
    if (!row) return;
    row.classList.add("current");
    row.scrollIntoView({ block: "nearest" });
    sessionStorage.setItem("desk:current", row.dataset.id);
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(currentRow());
    var next = index < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(Math.max(index + step, 0), list.length - 1);
    setCurrent(list[next]);
  }

  function press(action) {
    var row = currentRow();
    if (!row) {
      move(1);
      row = currentRow();
    }
    var button = row && row.querySelector('[data-action="' + action + '"]');
    if (button && !button.disabled) button.click();
  }

  function confirmModal() {
    // Ctrl/Cmd+Enter sends the open form: the order (Confirm), a rejection, the bulk rejection.
    var body = document.getElementById("modal-body");
    var button = body && body.querySelector("form button[type=submit]");
    if (button && !button.disabled) button.click();
  }

  function help() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  function onKey(event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      if (modalOpen()) {
        event.preventDefault();
        confirmModal();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "Enter" && /^(BUTTON|A)$/.test(event.target.tagName)) return; /* its own click */
    if (event.key === "?") {
      event.preventDefault();
      help();
      return;
    }
    var shortcuts = document.getElementById("shortcuts");
    if (modalOpen() || (shortcuts && shortcuts.open) || !document.getElementById("signal-rows")) return;
    var actions = {
      j: function () { move(1); },
      ArrowDown: function () { move(1); },
      k: function () { move(-1); },
      ArrowUp: function () { move(-1); },
      a: function () { press("accept"); },
      r: function () { press("reject"); },
      o: function () { press("order"); },
      Enter: function () { press("order"); },
      x: function () { var row = currentRow(); if (row) toggle(row.dataset.id); },
      A: bulkAccept,
      R: bulkReject,
    };
    if (actions[event.key]) {
      event.preventDefault();
      actions[event.key]();
    }
  }

  function setupKeyboard() {
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", function (event) {
      if (event.target.closest("[data-close-shortcuts]")) document.getElementById("shortcuts").close();
    });
    document.body.addEventListener("desk:queueChanged", function () {
      // The current row may have been re-rendered (same id, new element) or have left the queue.
      if (currentRow()) return;
      var id = sessionStorage.getItem("desk:current");
      var row = id && document.getElementById("signal-" + id);
      if (row) row.classList.add("current");
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      // A form opened from the keyboard is ready to type into (and Ctrl+Enter confirms it).
      if (!event.detail.target || event.detail.target.id !== "modal-body") return;
      var field = document.getElementById("order-qty") || document.getElementById("bulk-reason") ||
        event.detail.target.querySelector("textarea");
      if (field) field.focus();
    });
  }

  desk.onReady(function () {
    setupBulk();
    setupKeyboard();
  });
})();
