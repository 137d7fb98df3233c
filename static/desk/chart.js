/* The price chart on the order form and the signal details (TradingView lightweight-charts,
 * vendored in static/vendor): the venue's recent prices of the symbol, with the signal's
 * suggested price, the limits of its orders (and the limit being typed in the form) as price
 * lines, and the signal and its fills as markers. Data: GET /signals/<id>/chart/ (JSON).
 */
(function () {
  "use strict";

  function css(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function colors() {
    return {
      text: css("--muted", "#5f6b7a"),
      line: css("--line", "#dde1e6"),
      panel: css("--panel", "#fff"),
      price: css("--accent", "#1f5fbf"),
      buy: css("--buy", "#0a7a43"),
      sell: css("--sell", "#b42318"),
      warn: css("--warn", "#b54708"),
    };
  }

  function decimals(points) {
    var most = 0;
    points.forEach(function (point) {
      var frac = String(point.value).split(".")[1] || "";
      most = Math.max(most, frac.length);
    });
    return Math.min(most, 8);
  }

  function nearest(points, time) {
    // A marker sits on a bar: the point closest in time to the event it marks.
    var best = points[0].time;
    points.forEach(function (point) {
      if (Math.abs(point.time - time) < Math.abs(best - time)) best = point.time;
    });
    return best;
  }

  function grouped(value) {
    var parts = String(value).split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return parts.join(".");
  }

  function draw(box, data) {
    var LWC = window.LightweightCharts;
    var holder = box.querySelector(".chart-box");
    var note = box.querySelector(".chart-note");
    if (!data.points.length) {
      holder.hidden = true;
      box.querySelector(".legend").hidden = true;
      note.hidden = false;
      note.textContent = data.note || "No price history from " + data.source + ".";
      box.dataset.state = "empty";
      return;
    }
    var c = colors();
    var chart = LWC.createChart(holder, {
      autoSize: true,
      layout: { background: { color: c.panel }, textColor: c.text, attributionLogo: true },
      grid: { vertLines: { color: c.line }, horzLines: { color: c.line } },
      timeScale: { timeVisible: true, secondsVisible: true, borderColor: c.line },
      rightPriceScale: { borderColor: c.line },
      localization: { priceFormatter: function (price) { return grouped(price.toFixed(decimals(data.points))); } },
    });
    var places = decimals(data.points);
    var series = chart.addSeries(LWC.LineSeries, {
      color: c.price,
      lineWidth: 2,
      priceFormat: { type: "price", precision: places, minMove: Math.pow(10, -places) },
    });
    var points = data.points.map(function (point) { return { time: point.time, value: Number(point.value) }; });
    series.setData(points);
    var lines = [];
    if (data.suggest_price) {
      series.createPriceLine({ price: Number(data.suggest_price), color: c.warn, lineStyle: 2, lineWidth: 1, title: "suggested" });
      lines.push("suggested");
    }
    data.orders.forEach(function (order) {
      series.createPriceLine({ price: Number(order.limit), color: c.text, lineStyle: 1, lineWidth: 1, title: "limit #" + order.id });
      lines.push("limit #" + order.id);
    });
    var markers = [{
      time: nearest(points, data.signal_time), position: "inBar", color: c.warn, shape: "circle", text: "signal",
    }];
    data.fills.forEach(function (fill) {
      var buy = fill.side === "BUY";
      markers.push({
        time: nearest(points, fill.time),
        position: buy ? "belowBar" : "aboveBar",
        color: buy ? c.buy : c.sell,
        shape: buy ? "arrowUp" : "arrowDown",
        text: "fill " + grouped(fill.qty) + " @ " + grouped(fill.price),
      });
    });
    markers.sort(function (a, b) { return a.time - b.time; });
    LWC.createSeriesMarkers(series, markers);
    chart.timeScale().fitContent();

    // On the order form: the limit being typed, as a line that follows the price field.
    var typed = null;
    function followLimit() {
      var input = document.getElementById("order-price");
      var type = document.getElementById("order-type");
      if (!input || !box.closest("#modal-body") || !document.getElementById("order-form")) return;
      if (typed) { series.removePriceLine(typed); typed = null; }
      var value = Number(String(input.value).replace(/,/g, ""));
      if (type && type.value === "LIMIT" && value > 0) {
        typed = series.createPriceLine({ price: value, color: c.price, lineStyle: 0, lineWidth: 1, title: "your limit" });
      }
      box.dataset.typedLimit = typed ? String(value) : "";
    }
    followLimit();
    box.addEventListener("desk:limit", followLimit);

    box.dataset.state = "ready";
    box.dataset.points = String(points.length);
    box.dataset.markers = markers.map(function (m) { return m.text; }).join("|");
    box.dataset.lines = lines.join("|");
    box._chart = chart;
  }

  function load(box) {
    if (box.dataset.state) return;
    box.dataset.state = "loading";
    fetch(box.dataset.chartUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) { draw(box, data); })
      .catch(function () {
        box.dataset.state = "error";
        var note = box.querySelector(".chart-note");
        note.hidden = false;
        note.textContent = "The price history could not be read; the form works without it.";
      });
  }

  function scan(root) {
    if (!window.LightweightCharts) return;
    (root || document).querySelectorAll("[data-chart-url]").forEach(load);
  }

  desk.onReady(function () {
    scan(document);
    document.body.addEventListener("htmx:afterSwap", function (event) { scan(event.detail.target); });
    document.body.addEventListener("input", function (event) {
      if (event.target.id !== "order-price") return;
      document.querySelectorAll("[data-chart-url]").forEach(function (box) { box.dispatchEvent(new CustomEvent("desk:limit")); });
    });
    document.body.addEventListener("change", function (event) {
      if (event.target.id !== "order-type") return;
      document.querySelectorAll("[data-chart-url]").forEach(function (box) { box.dispatchEvent(new CustomEvent("desk:limit")); });
    });
    document.addEventListener("desk:theme", function () {
      var c = colors();
      document.querySelectorAll("[data-chart-url]").forEach(function (box) {
        if (!box._chart) return;
        box._chart.applyOptions({
          layout: { background: { color: c.panel }, textColor: c.text },
          grid: { vertLines: { color: c.line }, horzLines: { color: c.line } },
        });
      });
    });
  });
})();
