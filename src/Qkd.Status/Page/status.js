// The operator's status page: polls status.json once a second and redraws. Hand-written, no library, no network
// beyond this node (the page's content security policy allows nothing else). Text from the node is always set with
// textContent, never parsed as HTML.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const POLL_MS = 1000;
  const QBER_LIMIT_PERCENT = 11;
  const $ = (id) => document.getElementById(id);
  let lastOk = null;

  function fmt(value, digits) {
    return value === null || value === undefined ? "no data yet" : value.toFixed(digits);
  }

  function rate(bitsPerSecond) {
    if (bitsPerSecond === null || bitsPerSecond === undefined) return ["no data yet", "bit/s"];
    if (bitsPerSecond >= 1e6) return [(bitsPerSecond / 1e6).toFixed(2), "Mbit/s"];
    if (bitsPerSecond >= 1e3) return [(bitsPerSecond / 1e3).toFixed(2), "kbit/s"];
    return [bitsPerSecond.toFixed(1), "bit/s"];
  }

  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString() : "–";
  }

  function ago(iso, now) {
    const s = Math.max(0, Math.round((now - new Date(iso)) / 1000));
    return s < 120 ? s + " s ago" : Math.round(s / 60) + " min ago";
  }

  function tileState(id, state) {
    const tile = $(id);
    tile.classList.remove("ok", "warn", "bad");
    if (state) tile.classList.add(state);
  }

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // A chart of points {t (ms), v} per series, drawn into a 600 x 170 SVG with labelled axes.
  function chart(svg, series, options) {
    clear(svg);
    const W = 600, H = 170, L = 74, R = 8, T = 8, B = 22;
    const all = series.flatMap((s) => s.points).filter((p) => p.v !== null);
    if (all.length === 0) {
      svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "nodata" }, "no data yet"));
      return;
    }
    let t0 = Math.min(...all.map((p) => p.t)), t1 = Math.max(...all.map((p) => p.t));
    if (t1 - t0 < 1000) { t0 -= 500; t1 += 500; }
    let v0 = options.zero ? 0 : Math.min(...all.map((p) => p.v));
    let v1 = Math.max(...all.map((p) => p.v), ...(options.extra || []));
    if (v1 - v0 < 1e-9) { v1 = v0 + (Math.abs(v0) || 1) * 0.1; if (!options.zero) v0 -= (v1 - v0); }
    const x = (t) => L + (W - L - R) * (t - t0) / (t1 - t0);
    const y = (v) => T + (H - T - B) * (1 - (v - v0) / (v1 - v0));
    svg.appendChild(el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
    svg.appendChild(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    for (const v of [v0, (v0 + v1) / 2, v1]) {
      svg.appendChild(el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "label" }, options.label(v)));
    }
    svg.appendChild(el("text", { x: L, y: H - 6, class: "label" }, new Date(t0).toLocaleTimeString()));
    svg.appendChild(el("text", { x: W - R, y: H - 6, "text-anchor": "end", class: "label" }, new Date(t1).toLocaleTimeString()));
    for (const line of options.lines || []) {
      if (line.v <= v1 && line.v >= v0) svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(line.v), y2: y(line.v), class: line.class }));
    }
    for (const s of series) {
      if (s.bars) {
        const width = Math.max(2, Math.min(12, (W - L - R) / Math.max(1, s.points.length) - 1));
        for (const p of s.points) {
          const h = Math.max(2, y(v0) - y(p.v));
          svg.appendChild(el("rect", { x: x(p.t) - width / 2, y: y(v0) - h, width: width, height: h, class: p.cls }));
        }
        continue;
      }
      let d = "";
      for (const p of s.points) {
        if (p.v === null) continue;
        d += (d ? "L" : "M") + x(p.t).toFixed(1) + "," + y(p.v).toFixed(1);
      }
      if (d) svg.appendChild(el("path", { d: d, class: s.cls }));
      const points = s.points.filter((p) => p.v !== null);
      if (points.length === 1) svg.appendChild(el("circle", { cx: x(points[0].t), cy: y(points[0].v), r: 3, class: s.cls }));
    }
  }

  function drawHeadline(doc) {
    const box = $("headline");
    box.className = "headline state-" + doc.headline.state;
    $("headline-text").textContent = doc.headline.text;
    $("headline-reason").textContent = doc.headline.reason ? "Because: " + doc.headline.reason : "";
  }

  function drawTiles(doc) {
    const latest = doc.latest;
    $("qber-value").textContent = fmt(latest.qberZPercent ?? latest.qberXPercent, 2);
    const q = latest.qberZPercent ?? latest.qberXPercent;
    tileState("tile-qber", q === null ? null : q < 6 ? "ok" : q < QBER_LIMIT_PERCENT ? "warn" : "bad");

    $("loss-value").textContent = fmt(latest.lossDb, 2);
    $("transmittance-value").textContent = latest.transmittance === null ? "no data yet" : (latest.transmittance * 100).toPrecision(3) + " %";
    const lossAlarm = doc.alarms.some((a) => a.raised && /loss|tap|transmittance/i.test(a.kind));
    tileState("tile-loss", latest.lossDb === null ? null : lossAlarm ? "bad" : "ok");

    const [value, unit] = rate(latest.keyRateBitsPerSecond);
    $("rate-value").textContent = value;
    $("rate-unit").textContent = unit;
    $("blocks-summary").textContent = latest.blocksTotal === 0 ? "No block distilled yet."
      : latest.blocksTotal + " blocks since start, " + latest.blocksWithoutKey + " without key; last block " + ago(latest.blockAt, new Date(doc.generatedAt)) + ".";
    tileState("tile-rate", latest.keyRateBitsPerSecond === null ? null : latest.keyRateBitsPerSecond > 0 ? "ok" : "bad");

    if (doc.pool) {
      $("pool-value").textContent = doc.pool.now.availableAsMaster.toLocaleString();
      $("pool-held").textContent = doc.pool.now.heldForPeer.toLocaleString();
      $("pool-capacity").textContent = "Room for " + doc.pool.now.capacity.toLocaleString() + " keys of " + doc.pool.now.keyBits + " bits.";
      tileState("tile-pool", doc.pool.now.availableAsMaster + doc.pool.now.heldForPeer > 0 ? "ok" : "warn");
    } else {
      $("pool-value").textContent = "no data yet";
      $("pool-held").textContent = "–";
      $("pool-capacity").textContent = "";
      tileState("tile-pool", null);
    }
  }

  function drawCharts(doc) {
    const blocks = doc.blocks.map((b) => ({ ...b, t: new Date(b.at).getTime() }));
    chart($("chart-qber"), [
      { cls: "z", points: blocks.map((b) => ({ t: b.t, v: b.qberZPercent })) },
      { cls: "x", points: blocks.map((b) => ({ t: b.t, v: b.qberXPercent })) },
    ], { zero: true, extra: [QBER_LIMIT_PERCENT * 1.1], lines: [{ v: QBER_LIMIT_PERCENT, class: "limit" }], label: (v) => v.toFixed(1) + " %" });
    chart($("chart-loss"), [{ cls: "z", points: blocks.map((b) => ({ t: b.t, v: b.lossDb })) }],
      { label: (v) => v.toFixed(2) + " dB" });
    chart($("chart-rate"), [{ bars: true, points: blocks.map((b) => ({ t: b.t, v: b.keyRateBitsPerSecond, cls: b.producedKey ? "bar-key" : "bar-nokey" })) }],
      { zero: true, label: (v) => rate(v).join(" ") });
    const pool = doc.pool ? doc.pool.history.map((p) => ({ ...p, t: new Date(p.at).getTime() })) : [];
    chart($("chart-pool"), [
      { cls: "z", points: pool.map((p) => ({ t: p.t, v: p.availableAsMaster })) },
      { cls: "x", points: pool.map((p) => ({ t: p.t, v: p.heldForPeer })) },
    ], { zero: true, label: (v) => Math.round(v).toLocaleString() });
  }

  function drawAlarms(doc) {
    const active = doc.alarms.filter((a) => a.raised);
    const list = $("alarms-active");
    clear(list);
    for (const a of active) {
      const item = document.createElement("li");
      item.className = a.threatensSecurity ? "security" : "warning";
      item.dataset.kind = a.kind;
      let text = (a.threatensSecurity ? "Key stopped: " : "Warning: ") + a.message + " (" + a.kind + ", raised " + time(a.raisedAt);
      if (a.blockId !== null) text += ", block " + a.blockId;
      if (a.value !== null) text += ", value " + a.value.toPrecision(4) + (a.threshold !== null ? " against threshold " + a.threshold.toPrecision(4) : "");
      item.textContent = text + ")";
      list.appendChild(item);
    }
    $("alarms-none").hidden = active.length > 0;

    const svg = $("alarm-timeline");
    clear(svg);
    const W = 1200, L = 8, R = 8, now = new Date(doc.generatedAt).getTime(), start = now - 3600e3;
    const x = (t) => L + (W - L - R) * (Math.max(t, start) - start) / 3600e3;
    svg.appendChild(el("line", { x1: L, y1: 70, x2: W - R, y2: 70, class: "axis" }));
    svg.appendChild(el("text", { x: L, y: 86, class: "label" }, new Date(start).toLocaleTimeString()));
    svg.appendChild(el("text", { x: W - R, y: 86, "text-anchor": "end", class: "label" }, "now"));
    if (doc.alarms.length === 0) svg.appendChild(el("text", { x: W / 2, y: 40, "text-anchor": "middle", class: "nodata" }, "no alarms in the last hour"));
    doc.alarms.forEach((a, i) => {
      const row = i % 4, x0 = x(new Date(a.raisedAt).getTime()), x1 = x(a.clearedAt ? new Date(a.clearedAt).getTime() : now);
      const bar = el("rect", { x: x0, y: 6 + row * 15, width: Math.max(3, x1 - x0), height: 12, class: a.threatensSecurity ? "alarm-security" : "alarm-warning" });
      bar.appendChild(el("title", {}, a.kind + ": " + a.message));
      svg.appendChild(bar);
    });

    const body = $("alarm-history").tBodies[0];
    clear(body);
    for (const a of doc.alarms.slice().reverse()) {
      const row = body.insertRow();
      for (const text of [time(a.raisedAt), a.clearedAt ? time(a.clearedAt) : "still raised", a.kind, a.threatensSecurity ? "yes" : "no", a.message]) {
        row.insertCell().textContent = text;
      }
    }
    $("alarm-history").hidden = doc.alarms.length === 0;
  }

  function drawDevices(doc) {
    const body = $("devices").tBodies[0];
    clear(body);
    for (const d of doc.devices) {
      const row = body.insertRow();
      const dot = document.createElement("span");
      dot.className = "dot " + (d.healthy ? "ok" : "bad");
      dot.title = d.healthy ? "healthy" : "needs attention";
      row.insertCell().appendChild(dot);
      for (const text of [d.name, d.kind, d.state, d.detail ?? ""]) row.insertCell().textContent = text;
    }
    $("devices").hidden = doc.devices.length === 0;
    $("devices-none").hidden = doc.devices.length > 0;
  }

  function draw(doc) {
    $("link-id").textContent = doc.linkId;
    $("role").textContent = doc.role;
    document.title = "QKD " + doc.linkId + " (" + doc.role + "): " + doc.headline.text;
    drawHeadline(doc);
    drawTiles(doc);
    drawCharts(doc);
    drawAlarms(doc);
    drawDevices(doc);
    const updated = $("updated");
    updated.className = "updated";
    updated.textContent = "Updated " + time(doc.generatedAt) + "; node running since " + time(doc.runningSince);
  }

  async function poll() {
    try {
      const response = await fetch("status.json", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      draw(await response.json());
      lastOk = new Date();
    } catch (e) {
      // The node may be restarting: say so and keep trying; the figures shown stay those of the last answer.
      const updated = $("updated");
      updated.className = "updated lost";
      updated.textContent = "No answer from the node (" + e.message + ")" + (lastOk ? "; figures below are from " + lastOk.toLocaleTimeString() : "");
    }
    setTimeout(poll, POLL_MS);
  }

  poll();
})();
