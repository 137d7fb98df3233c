/* The positions page, live: every order event (/ws/orders) makes the page fetch the positions
 * as the server renders them now, at most one fetch at a time and one more if events arrived
 * meanwhile. After a dropped socket the page reads them again when it reconnects. */
(function () {
  "use strict";

  var RECONNECT_MIN_MS = 250;
  var RECONNECT_MAX_MS = 5000;
  var PING_EVERY_MS = 20000;
  var SESSION_ENDED = 4401;

  function start(box) {
    var fetching = false;
    var again = false;
    var delay = RECONNECT_MIN_MS;
    var pinger = null;

    function refresh() {
      if (fetching) {
        again = true;
        return;
      }
      fetching = true;
      fetch(box.dataset.fragmentUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (response) {
          if (response.status === 401 || response.status === 403) {
            window.location.assign("/login/?next=" + encodeURIComponent(window.location.pathname));
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== undefined) {
            box.innerHTML = html;
            box.dispatchEvent(new CustomEvent("positions:updated", { bubbles: true }));
          }
        })
        .catch(function () {})
        .then(function () {
          fetching = false;
          if (again) {
            again = false;
            refresh();
          }
        });
    }

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + box.dataset.livePositions);
      socket.onopen = function () {
        delay = RECONNECT_MIN_MS;
        document.documentElement.dataset.live = "up";
        refresh(); // whatever changed while the socket was not connected
        pinger = setInterval(function () {
          if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
        }, PING_EVERY_MS);
      };
      socket.onmessage = function (message) {
        var event;
        try {
          event = JSON.parse(message.data);
        } catch (error) {
          return;
        }
        if (event && event.type !== "pong") refresh();
      };
      socket.onclose = function (closed) {
        document.documentElement.dataset.live = "down";
        if (pinger) clearInterval(pinger);
        if (closed.code === SESSION_ENDED) {
          window.location.assign("/login/?next=" + encodeURIComponent(window.location.pathname));
          return;
        }
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      };
    }

    connect();
  }

  function ready() {
    var box = document.getElementById("positions");
    if (box && box.dataset.livePositions) start(box);
  }

  if (document.readyState !== "loading") ready();
  else document.addEventListener("DOMContentLoaded", ready);
})();
