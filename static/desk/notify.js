/* In-page notifications for desk staff, from the desk's own sockets (/ws/signals, /ws/orders):
 * a toast for each new signal, an order's outcome (filled, failed, needs review, canceled) and a
 * follower paused by an error; an unread count in the header until the trader looks at them.
 * Sound and desktop notifications are off until the trader turns them on (the browser asks).
 *
 * "Filled" is said only when the venue says so (venue_state FILLED): an order the venue accepted
 * may still be resting, and an order whose outcome is unknown is never called filled.
 */
(function () {
  "use strict";

  var TOAST_MS = 8000;
  var MAX_TOASTS = 5;
  var unread = 0;
  var told = {}; /* one toast per order and outcome, however many events repeat it */
  var audio = null;

  function prefs() {
    try {
      return JSON.parse(localStorage.getItem("desk:notify") || "{}");
    } catch (e) {
      return {};
    }
  }

  function savePrefs(value) {
    localStorage.setItem("desk:notify", JSON.stringify(value));
  }

  function paintUnread() {
    var badge = document.getElementById("unread-count");
    if (!badge) return;
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
    var title = document.title.replace(/^\(\d+\) /, "");
    document.title = unread ? "(" + unread + ") " + title : title;
  }

  function markRead() {
    unread = 0;
    paintUnread();
  }

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.05;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.12);
    } catch (e) { /* no audio here: the toast is enough */ }
  }

  function desktop(title, text) {
    if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
    try { new Notification(title, { body: text, tag: title }); } catch (e) { /* not allowed here */ }
  }

  function toast(kind, title, text, key) {
    if (key) {
      if (told[key]) return;
      told[key] = true;
    }
    var box = document.getElementById("toasts");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "toast toast-" + kind;
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.dataset.kind = kind;
    var head = document.createElement("strong");
    head.textContent = title;
    var body = document.createElement("span");
    body.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "✕";
    close.addEventListener("click", function () { item.remove(); });
    item.append(head, " ", body, close);
    box.prepend(item);
    while (box.children.length > MAX_TOASTS) box.lastElementChild.remove();
    // Errors stay until dismissed; the rest fade after a while (the unread count remembers them).
    if (kind !== "error") setTimeout(function () { item.remove(); }, TOAST_MS);
    unread += 1;
    paintUnread();
    var settings = prefs();
    if (settings.sound) beep();
    if (settings.desktop) desktop(title, text);
  }

  function qty(value) {
    if (value === null || value === undefined || value === "") return "";
    var parts = String(value).split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return parts.join(".");
  }

  function onSignal(event) {
    if (event.type !== "signal_created" || !event.data) return;
    var s = event.data;
    toast(
      "info",
      "New signal #" + s.id,
      s.side + " " + qty(s.suggest_qty) + " " + s.symbol + (s.suggest_price ? " at " + qty(s.suggest_price) : " at market") +
        " · " + s.strategy_name,
      "signal-" + s.id
    );
  }

  function onOrder(event) {
    if (!event.data) return;
    var o = event.data;
    if (event.type === "follower_paused") {
      toast("warning", "Follower " + o.follower + " paused", o.error_type + ": " + o.message, "pause-" + o.trade_error_id);
      return;
    }
    if (event.type !== "order_updated") return;
    var what = o.side + " " + qty(o.qty) + " " + o.symbol;
    if (o.needs_review) {
      toast("warning", "Order #" + o.id + " needs review", what + ": the venue's answer is not certain; settle it on the orders page.", "review-" + o.id);
    } else if (o.status === "FAILED") {
      toast("error", "Order #" + o.id + " failed", what + ": " + (o.error_code || "") + " " + (o.error_message || ""), "failed-" + o.id);
    } else if (o.venue_state === "FILLED") {
      toast("success", "Order #" + o.id + " filled", what + (o.avg_fill_price ? " at " + qty(o.avg_fill_price) : ""), "filled-" + o.id);
    } else if (o.status === "CANCELED" || o.venue_state === "CANCELED") {
      toast("info", "Order #" + o.id + " canceled", what, "canceled-" + o.id);
    } else if (o.status === "UNKNOWN") {
      toast("warning", "Order #" + o.id + " outcome unknown", what + ": being looked up at the venue.", "unknown-" + o.id);
    }
  }

  function setupMenu() {
    var bell = document.getElementById("notify-bell");
    var menu = document.getElementById("notify-menu");
    if (!bell || !menu) return;
    var sound = document.getElementById("notify-sound");
    var desktopBox = document.getElementById("notify-desktop");
    var settings = prefs();
    sound.checked = !!settings.sound;
    desktopBox.checked = !!settings.desktop && "Notification" in window && Notification.permission === "granted";
    bell.addEventListener("click", function () {
      menu.hidden = !menu.hidden;
      bell.setAttribute("aria-expanded", String(!menu.hidden));
      markRead();
    });
    sound.addEventListener("change", function () {
      var value = prefs();
      value.sound = sound.checked;
      savePrefs(value);
      if (sound.checked) beep(); /* a click is the gesture browsers want before any sound */
    });
    desktopBox.addEventListener("change", function () {
      var value = prefs();
      if (!desktopBox.checked || !("Notification" in window)) {
        value.desktop = false;
        savePrefs(value);
        if (!("Notification" in window)) desktopBox.checked = false;
        return;
      }
      // Asked for only now, because the trader ticked the box; a refusal leaves it off.
      Notification.requestPermission().then(function (answer) {
        var latest = prefs();
        latest.desktop = answer === "granted";
        desktopBox.checked = latest.desktop;
        savePrefs(latest);
      });
    });
    document.getElementById("toasts").addEventListener("click", markRead);
    document.addEventListener("visibilitychange", function () { if (!document.hidden && menu.hidden === false) markRead(); });
  }

  function keepToastsReachable() {
    // A modal dialog makes the rest of the page inert: while one is open the toasts live inside
    // it (still fixed to the corner), so they stay readable and can be dismissed.
    var box = document.getElementById("toasts");
    var home = box && box.parentNode;
    document.querySelectorAll("dialog").forEach(function (dialog) {
      new MutationObserver(function () {
        if (dialog.open) dialog.appendChild(box);
        else if (box.parentNode === dialog) home.appendChild(box);
      }).observe(dialog, { attributes: true, attributeFilter: ["open"] });
    });
  }

  desk.onReady(function () {
    if (!document.body.dataset.deskRole) return; /* toasts are for desk staff */
    keepToastsReachable();
    setupMenu();
    desk.listen("/ws/signals", onSignal);
    desk.listen("/ws/orders", onOrder);
    window.deskNotify = { toast: toast, unread: function () { return unread; } };
  });
})();
