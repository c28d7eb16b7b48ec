// Vigil console: keyboard navigation, queue selection, uPlot charts and the
// cytoscape graph. No inline scripts: pages carry their data in
// <script type="application/json"> blocks and data- attributes.
(function () {
  "use strict";

  // ---- keyboard -----------------------------------------------------------
  var pendingG = false;

  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  }

  function current() {
    return document.querySelector("tr[data-href].cursor");
  }

  function move(delta) {
    var rs = rows();
    if (!rs.length) return;
    var i = rs.indexOf(current());
    var next = rs[Math.max(0, Math.min(rs.length - 1, i < 0 ? 0 : i + delta))];
    rs.forEach(function (r) { r.classList.remove("cursor"); });
    next.classList.add("cursor");
    next.scrollIntoView({ block: "nearest" });
  }

  function focusSearch() {
    var el = document.getElementById("search-q") || document.getElementById("global-search");
    if (el) { el.focus(); el.select(); }
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (pendingG) {
      pendingG = false;
      var go = { a: "/alerts", o: "/", s: "/search", g: "/graph", r: "/rules" }[e.key];
      if (go) { location.href = go; e.preventDefault(); }
      return;
    }
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": {
        var c = current();
        if (!c) return;
        location.href = c.getAttribute("data-href");
        break;
      }
      case "x": {
        var cb = current() && current().querySelector("input[type=checkbox]");
        if (cb) { cb.checked = !cb.checked; updateSelection(); }
        break;
      }
      case "/": focusSearch(); break;
      case "g": pendingG = true; return;
      default: return;
    }
    e.preventDefault();
  });

  // A click on a row (not on its links or inputs) opens it.
  document.addEventListener("click", function (e) {
    var tr = e.target.closest && e.target.closest("tr[data-href]");
    if (!tr || e.target.closest("a, input, button, select, label, summary")) return;
    location.href = tr.getAttribute("data-href");
  });

  // ---- alert queue --------------------------------------------------------
  function selected() {
    return document.querySelectorAll("#queue-body input[name=id]:checked").length;
  }

  function updateSelection() {
    var n = selected();
    var el = document.getElementById("selected-count");
    if (el) el.textContent = n + " selected";
    document.body.classList.toggle("has-selection", n > 0);
  }

  document.addEventListener("change", function (e) {
    if (e.target.id === "select-all") {
      document.querySelectorAll("#queue-body input[name=id]").forEach(function (cb) { cb.checked = e.target.checked; });
    }
    if (e.target.name === "id" || e.target.id === "select-all") updateSelection();
  });

  // Live refresh of the queue pauses while alerts are selected, so a bulk
  // action applies to what the analyst sees.
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (e.detail.elt && e.detail.elt.id === "queue-body" && selected() > 0) e.preventDefault();
  });

  // Keep the keyboard cursor on the same alert across refreshes.
  var cursorID = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var c = current();
    cursorID = c ? c.getAttribute("data-id") : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!cursorID) return;
    var r = document.querySelector('tr[data-id="' + CSS.escape(cursorID) + '"]');
    if (r) r.classList.add("cursor");
  });

  // ---- charts -------------------------------------------------------------
  var palette = ["#5aa9ff", "#ffb454", "#ff5c5c", "#ff9340", "#f5d547", "#7bd88f", "#9aa4b2"];

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (err) { return null; }
  }

  function chartSpec(kind, d) {
    if (kind === "rates") {
      return { x: d.minutes, series: [["events/s", d.events], ["flows/s", d.flows]] };
    }
    if (kind === "priorities") {
      return { x: d.hours, series: [["P1", d.p1], ["P2", d.p2], ["P3", d.p3], ["P4", d.p4], ["P5", d.p5]], offset: 2 };
    }
    if (kind === "baseline") {
      return { x: d.times, series: [["current", d.current], ["baseline", d.baseline]], points: true };
    }
    return null;
  }

  function drawChart(el) {
    var d = readJSON(el.getAttribute("data-src"));
    var spec = d && chartSpec(el.getAttribute("data-chart"), d);
    if (!spec || !spec.x || !spec.x.length || typeof uPlot === "undefined") {
      el.textContent = "No data for this window.";
      el.classList.add("empty");
      return;
    }
    var series = [{}];
    var data = [spec.x];
    spec.series.forEach(function (s, i) {
      series.push({
        label: s[0], stroke: palette[(spec.offset || 0) + i], width: 1.5,
        points: { show: !!spec.points, size: 6 }
      });
      data.push(s[1] || []);
    });
    var axis = { stroke: "#9aa4b2", grid: { stroke: "#2a313c", width: 1 }, ticks: { stroke: "#2a313c" } };
    var opts = {
      width: Math.max(el.clientWidth, 240), height: el.classList.contains("small") ? 140 : 180,
      series: series, axes: [axis, Object.assign({}, axis, { size: 50 })],
      legend: { live: true }, cursor: { drag: { x: true, y: false } }
    };
    el.textContent = "";
    var plot = new uPlot(opts, data, el);
    window.addEventListener("resize", function () { plot.setSize({ width: Math.max(el.clientWidth, 240), height: opts.height }); });
  }

  // ---- graph --------------------------------------------------------------
  var riskColour = { critical: "#ff3b3b", high: "#ff8c42", medium: "#f5d547", low: "#7bd88f" };

  function nodeData(n) {
    return { data: Object.assign({ size: 8 + 4 * Math.log10(1 + n.bytes) }, n) };
  }

  function edgeData(e) {
    return { data: Object.assign({ width: 0.5 + Math.log10(1 + e.bytes) / 3 }, e) };
  }

  function graphStyle() {
    return [
      { selector: "node", style: {
        "width": "data(size)", "height": "data(size)", "background-color": "#5a6b80",
        "label": "data(label)", "color": "#c9d1d9", "font-size": 8, "text-valign": "bottom", "min-zoomed-font-size": 7 } },
      { selector: "node[?grouped]", style: { "shape": "round-rectangle", "background-color": "#3d5a80" } },
      { selector: "node[!internal]", style: { "shape": "diamond" } },
      { selector: "node[risk = 'low']", style: { "background-color": riskColour.low } },
      { selector: "node[risk = 'medium']", style: { "background-color": riskColour.medium } },
      { selector: "node[risk = 'high']", style: { "background-color": riskColour.high } },
      { selector: "node[risk = 'critical']", style: { "background-color": riskColour.critical } },
      { selector: "edge", style: { "width": "data(width)", "line-color": "#3a4452", "curve-style": "haystack", "opacity": 0.7 } },
      { selector: "edge[failed > 0]", style: { "line-color": "#8a4b4b" } },
      { selector: ":selected", style: { "border-width": 2, "border-color": "#ffffff", "line-color": "#5aa9ff" } }
    ];
  }

  function layoutFor(cy) {
    var n = cy.nodes().length;
    if (n > 300) return { name: "concentric", concentric: function (node) { return Math.log10(1 + node.data("bytes")); }, levelWidth: function () { return 1; }, minNodeSpacing: 4, animate: false };
    return { name: "cose", animate: false, nodeRepulsion: function () { return 8000; }, idealEdgeLength: function () { return 60; }, numIter: 500 };
  }

  function graphStatus(cy, extra) {
    var el = document.getElementById("graph-status");
    if (el) el.textContent = cy.nodes().length + " nodes, " + cy.edges().length + " edges" + (extra ? " · " + extra : "");
  }

  // addElements adds the nodes and edges of g that are not in cy yet; an
  // edge's far end that no node stands for (after expanding a subnet) gets
  // a plain node of its own.
  function ip4(s) {
    var p = s.split(".");
    if (p.length !== 4) return null;
    return ((+p[0] << 24) >>> 0) + (+p[1] << 16) + (+p[2] << 8) + (+p[3]);
  }

  // groupOf returns the id of the grouped (subnet) node holding address a.
  function groupOf(cy, a) {
    var n = ip4(a), found = null;
    if (n === null) return null;
    cy.nodes("[?grouped]").forEach(function (g) {
      var parts = g.id().split("/"), base = ip4(parts[0]), bits = +parts[1];
      if (base === null || found) return;
      var mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      if (((n & mask) >>> 0) === ((base & mask) >>> 0)) found = g.id();
    });
    return found;
  }

  function addElements(cy, g) {
    var add = [], have = {};
    function known(id) { return have[id] || !cy.getElementById(id).empty(); }
    g.nodes.forEach(function (n) {
      if (known(n.id)) return;
      have[n.id] = true;
      add.push(nodeData(n));
    });
    g.edges.forEach(function (e) {
      if (!known(e.source)) e.source = groupOf(cy, e.source) || e.source;
      if (!known(e.target)) e.target = groupOf(cy, e.target) || e.target;
      [e.source, e.target].forEach(function (id) {
        if (known(id)) return;
        have[id] = true;
        add.push(nodeData({ id: id, label: id, bytes: e.bytes, internal: false, grouped: false }));
      });
      e.id = "e:" + e.source + ">" + e.target;
      if (known(e.id)) return;
      have[e.id] = true;
      add.push(edgeData(e));
    });
    cy.add(add);
  }

  function fetchGraph(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      return r.json().then(function (g) {
        if (!r.ok || g.error) throw new Error(g.error || ("HTTP " + r.status));
        return g;
      });
    });
  }

  function expandSubnet(cy, el, node) {
    var u = new URL(el.getAttribute("data-src"), location.href);
    u.searchParams.set("group", "host");
    u.searchParams.set("subnet", node.id());
    graphStatus(cy, "expanding " + node.id() + "…");
    fetchGraph(u.pathname + u.search).then(function (g) {
      cy.batch(function () {
        node.remove();
        addElements(cy, g);
      });
      cy.layout(layoutFor(cy)).run();
      graphStatus(cy, "expanded " + node.id());
    }).catch(function (err) { graphStatus(cy, "expand failed: " + err.message); });
  }

  function drawGraph(el) {
    if (typeof cytoscape === "undefined") return;
    fetchGraph(el.getAttribute("data-src")).then(function (g) {
      var cy = cytoscape({ container: el, style: graphStyle(), wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 4,
        hideEdgesOnViewport: true, textureOnViewport: true });
      addElements(cy, g);
      cy.layout(layoutFor(cy)).run();
      window.vigilGraph = cy; // for automation and the browser tests
      graphStatus(cy);
      cy.on("tap", "node", function (evt) {
        var n = evt.target;
        if (n.data("grouped")) { expandSubnet(cy, el, n); return; }
        location.href = "/hosts/" + encodeURIComponent(n.id());
      });
      cy.on("tap", "edge", function (evt) {
        var e = evt.target.data();
        var q = new URLSearchParams({ src: e.source, dst: e.target, from: el.getAttribute("data-from") || "", to: el.getAttribute("data-to") || "" });
        htmx.ajax("GET", "/graph/flows?" + q.toString(), { target: "#flows", swap: "innerHTML" });
      });
      el.setAttribute("data-ready", "true");
    }).catch(function (err) {
      var s = document.getElementById("graph-status");
      if (s) s.textContent = "Graph not available: " + err.message;
      el.setAttribute("data-ready", "error");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(drawChart);
    var g = document.getElementById("graph");
    if (g) drawGraph(g);
    updateSelection();
  });
})();
