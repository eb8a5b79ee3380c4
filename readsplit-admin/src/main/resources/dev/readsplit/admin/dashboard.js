// Readsplit dashboard: polls /replicas, /events and /history every second and redraws. No library, no CDN.
// Node names come from the operator (POST /replicas): they are only ever Map keys, attribute values set with
// setAttribute, or text set with textContent, never object keys or HTML, so "__proto__" is a name like any other.
(function () {
  'use strict';
  var POLL_MS = 1000;
  var SPARK = 60;
  var NS = 'http://www.w3.org/2000/svg';
  var COLORS = ['#58a6ff', '#3fb950', '#f0883e', '#d2a8ff', '#ff7b72', '#79c0ff', '#e3b341', '#56d4dd'];
  var FAILOVER_KINDS = new Set(['PRIMARY_CHANGE', 'FAILOVER_STARTED', 'PROMOTED', 'FAILOVER_COMPLETED',
    'FAILOVER_FAILED', 'SPLIT_BRAIN']);
  var colors = new Map();   // node name -> colour, stable while the page is open
  var lastEvents = [];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    }
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    return e;
  }

  function svg(tag, attrs) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function colorOf(name) {
    if (!colors.has(name)) {
      colors.set(name, COLORS[colors.size % COLORS.length]);
    }
    return colors.get(name);
  }

  function fmtBytes(n) {
    if (n === null || n === undefined) { return '–'; }
    if (n < 1024) { return n + ' B'; }
    if (n < 1048576) { return (n / 1024).toFixed(1) + ' kB'; }
    return (n / 1048576).toFixed(1) + ' MB';
  }

  function fmtNum(n) {
    if (n === null || n === undefined) { return '–'; }
    return n < 10 ? n.toFixed(1) : Math.round(n).toString();
  }

  function fmtSeconds(s) {
    return s === null || s === undefined ? '–' : s.toFixed(s < 10 ? 2 : 1) + ' s';
  }

  function last(points, column) {
    for (var i = points.length - 1; i >= 0; i--) {
      if (points[i][column] !== null) { return points[i][column]; }
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // the table

  function sparkline(values) {
    var w = 140, h = 26;
    var s = svg('svg', {'class': 'spark', width: w, height: h, viewBox: '0 0 ' + w + ' ' + h});
    s.appendChild(svg('line', {x1: 0, x2: w, y1: h - 1, y2: h - 1}));
    var known = values.filter(function (v) { return v !== null; });
    var max = Math.max.apply(null, known.concat([1]));
    var pts = [];
    values.forEach(function (v, i) {
      if (v === null) { return; }
      var x = w - (values.length - 1 - i) * (w / (SPARK - 1));
      pts.push(x.toFixed(1) + ',' + ((h - 2) - (v / max) * (h - 4)).toFixed(1));
    });
    s.appendChild(svg('polyline', {points: pts.join(' ')}));
    var title = svg('title', {});
    title.textContent = 'lag, max ' + fmtBytes(max) + ' over the last ' + values.length + ' s';
    s.appendChild(title);
    return s;
  }

  function lagPercentiles(lag) {
    var parts = ['p50Seconds', 'p95Seconds', 'p99Seconds'].map(function (k) {
      return typeof lag[k] === 'number' ? lag[k].toFixed(2) : null;
    });
    if (parts.every(function (p) { return p === null; })) { return '–'; }
    return parts.map(function (p) { return p === null ? '–' : p; }).join(' / ') + ' s';
  }

  function renderTable(status, series) {
    var byName = new Map();
    series.forEach(function (s) { byName.set(s.name, s); });
    var tbody = document.querySelector('#nodes tbody');
    var rows = document.createDocumentFragment();
    status.nodes.forEach(function (n) {
      var s = byName.get(n.name);
      var points = s ? s.points : [];
      var down = n.state === 'DOWN';
      var tr = el('tr', {'data-node': n.name, 'data-role': n.role, 'data-state': n.state});
      var name = el('td', {'class': 'name'}, n.name);
      var swatch = el('i', {'class': 'swatch'});
      swatch.style.background = colorOf(n.name);
      name.insertBefore(swatch, name.firstChild);
      tr.appendChild(name);
      tr.appendChild(el('td', {'class': 'role role-' + n.role}, n.primary ? 'PRIMARY (writes)' : n.role));
      // why a replica takes no reads (over its lag limit, or not streaming from the current primary), as text only
      var state = el('td', {'class': 'state state-' + n.state},
          n.state + (n.lag.excluded ? ' (excluded)' : '') + (n.stalled ? ' (stalled)' : ''));
      if (n.stalled) {
        state.setAttribute('title', 'statements stalled past their hedging budget: new reads go elsewhere');
      }
      if (n.lag.excluded && n.lag.excludedReason) {
        state.setAttribute('title', String(n.lag.excludedReason));
      }
      tr.appendChild(state);
      // a DOWN node's last measurement would only mislead
      var lag = n.primary || down ? '–' : fmtBytes(n.lag.bytes)
        + (n.lag.seconds === null ? '' : ' / ' + n.lag.seconds.toFixed(1) + ' s');
      tr.appendChild(el('td', {'class': 'num lag'}, lag));
      tr.appendChild(el('td', {'class': 'num lag-percentiles'}, n.primary || down ? '–' : lagPercentiles(n.lag)));
      var spark = el('td', {'class': 'spark'});
      if (!n.primary) {
        spark.appendChild(sparkline(points.slice(-SPARK).map(function (p) { return p[4]; })));
      }
      tr.appendChild(spark);
      tr.appendChild(el('td', {'class': 'num reads-per-second'}, fmtNum(last(points, 1))));
      tr.appendChild(el('td', {'class': 'num writes-per-second'}, fmtNum(last(points, 2))));
      tr.appendChild(el('td', {'class': 'num pool'}, n.pool.active + ' / ' + n.pool.idle + ' / ' + n.pool.max));
      tr.appendChild(el('td', {'class': 'num'}, n.responseTime.toFixed(1) + ' ms'));
      tr.appendChild(el('td', {'class': 'num'}, n.healthCheckFailures));
      tr.appendChild(el('td', {'class': 'note', title: n.lastError || ''}, n.lastError || ''));
      rows.appendChild(tr);
    });
    tbody.replaceChildren(rows);
  }

  // ---------------------------------------------------------------------------------------------
  // the charts

  function niceMax(v) {
    if (!(v > 0)) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (v <= steps[i] * p) { return steps[i] * p; }
    }
    return 10 * p;
  }

  /**
   * One chart: a line per node over [from, to], y from 0 to a round maximum, optional horizontal thresholds,
   * and the events as vertical marks.
   */
  function chart(id, series, column, from, to, thresholds, events, sqrt) {
    var fig = document.getElementById(id);
    var w = 600, h = 170, left = 38, right = 6, top = 8, bottom = 18;
    var max = 0;
    series.forEach(function (s) {
      s.points.forEach(function (p) { if (p[column] !== null && p[0] >= from) { max = Math.max(max, p[column]); } });
    });
    (thresholds || []).forEach(function (t) { max = Math.max(max, t.value); });
    max = niceMax(max * 1.1);
    var plot = svg('svg', {'class': 'plot', viewBox: '0 0 ' + w + ' ' + h, preserveAspectRatio: 'none',
      'data-chart': id, 'data-max': max});
    function x(t) { return left + (t - from) / Math.max(1, to - from) * (w - left - right); }
    // the lag chart has a square-root scale: a lag of 0.2 s stays visible under a 30 s threshold
    function y(v) { return top + (1 - (sqrt ? Math.sqrt(Math.max(0, v) / max) : v / max)) * (h - top - bottom); }
    (sqrt ? [0, 1] : [0, 0.5, 1]).forEach(function (f) {
      plot.appendChild(svg('line', {'class': 'grid', x1: left, x2: w - right, y1: y(max * f), y2: y(max * f)}));
      var label = svg('text', {x: 2, y: y(max * f) + 3});
      label.textContent = max * f >= 100 ? Math.round(max * f) : +(max * f).toFixed(2);
      plot.appendChild(label);
    });
    var seconds = Math.round((to - from) / 1000);
    var axis = svg('text', {x: left, y: h - 4});
    axis.textContent = '−' + (seconds >= 120 ? Math.round(seconds / 60) + ' min' : seconds + ' s');
    plot.appendChild(axis);
    var now = svg('text', {x: w - right - 22, y: h - 4});
    now.textContent = 'now';
    plot.appendChild(now);
    (thresholds || []).forEach(function (t) {
      if (t.value > max) { return; }
      var line = svg('line', {'class': 'threshold', x1: left, x2: w - right, y1: y(t.value), y2: y(t.value),
        stroke: t.color, 'data-threshold': t.name});
      var title = svg('title', {});
      title.textContent = t.name + ': ' + t.value + ' s';
      line.appendChild(title);
      plot.appendChild(line);
      var label = svg('text', {x: t.right ? w - right - 150 : left + 4, y: y(t.value) - 2});
      label.textContent = t.name + ' ' + t.value + ' s';
      plot.appendChild(label);
    });
    events.forEach(function (e) {
      var t = Date.parse(e.at);
      if (t < from || t > to) { return; }
      var failover = FAILOVER_KINDS.has(e.kind);
      var mark = svg('line', {'class': failover ? 'mark-failover' : 'mark-state', x1: x(t), x2: x(t), y1: top,
        y2: h - bottom, 'data-kind': e.kind});
      var title = svg('title', {});
      title.textContent = new Date(t).toLocaleTimeString() + ' ' + e.message;
      mark.appendChild(title);
      plot.appendChild(mark);
    });
    series.forEach(function (s) {
      var pts = [];
      s.points.forEach(function (p) {
        if (p[column] === null || p[0] < from) { return; }
        pts.push(x(p[0]).toFixed(1) + ',' + y(p[column]).toFixed(1));
      });
      var line = svg('polyline', {'class': 'series', points: pts.join(' '), stroke: colorOf(s.name),
        'data-node': s.name});
      var title = svg('title', {});
      title.textContent = s.name;
      line.appendChild(title);
      plot.appendChild(line);
    });
    var old = fig.querySelector('svg.plot');
    if (old) { fig.replaceChild(plot, old); } else { fig.appendChild(plot); }
  }

  function renderCharts(history, events) {
    var to = 0, first = Infinity;
    history.nodes.forEach(function (s) {
      if (s.points.length) {
        to = Math.max(to, s.points[s.points.length - 1][0]);
        first = Math.min(first, s.points[0][0]);
      }
    });
    if (!to) { return; }
    // the window the samples cover (at least a minute, at most the server's history)
    var from = to - Math.min(history.capacity * history.intervalMillis, Math.max(60000, to - first));
    var span = Math.round((to - from) / 1000);
    document.getElementById('window').textContent = '(' + (span >= 120 ? Math.round(span / 60) + ' min' : span + ' s')
      + ', one point a second, up to ' + Math.round(history.capacity * history.intervalMillis / 60000) + ' min)';
    var marks = events.filter(function (e) { return e.kind === 'STATE_CHANGE' || FAILOVER_KINDS.has(e.kind); });
    chart('chart-reads', history.nodes, 1, from, to, null, marks);
    chart('chart-writes', history.nodes, 2, from, to, null, marks);
    chart('chart-p99', history.nodes, 3, from, to, null, marks);
    var th = history.lagThresholdsSeconds;
    var thresholds = [];
    [['info', '#79c0ff'], ['warning', '#d29922'], ['error', '#f0883e'], ['critical', '#ff7b72']].forEach(function (l) {
      thresholds.push({name: l[0], value: th[l[0]], color: l[1]});
    });
    if (th.maxLag !== null) { thresholds.push({name: 'max lag: no reads', value: th.maxLag, color: '#f85149', right: true}); }
    chart('chart-lag', history.nodes.filter(function (s) { return !s.primary; }), 5, from, to, thresholds, marks, true);
    var legend = document.createDocumentFragment();
    history.nodes.forEach(function (s) {
      var item = el('span', {'data-node': s.name});
      var swatch = el('i');
      swatch.style.background = colorOf(s.name);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s.name + (s.primary ? ' (primary)' : '')));
      legend.appendChild(item);
    });
    document.getElementById('legend').replaceChildren(legend);
  }

  // ---------------------------------------------------------------------------------------------
  // the rest

  function render(status, history) {
    var now = Date.parse(status.at);
    var reads = null, writes = null;
    history.nodes.forEach(function (s) {
      var r = last(s.points, 1), w = last(s.points, 2);
      if (r !== null) { reads = (reads || 0) + r; }
      if (w !== null) { writes = (writes || 0) + w; }
    });
    document.getElementById('ds-name').textContent = status.dataSource;
    document.getElementById('overall').textContent = status.status;
    document.getElementById('primary').textContent = status.primary;
    document.getElementById('healthy').textContent = status.metrics.healthyReplicas + ' of ' + status.metrics.replicaCount;
    document.getElementById('shadow').textContent = status.shadowMode ? 'ON' : 'off';
    document.getElementById('reads-total').textContent = fmtNum(reads);
    document.getElementById('writes-total').textContent = fmtNum(writes);
    document.getElementById('failovers').textContent = status.metrics.primaryFailovers;
    document.getElementById('updated').textContent = new Date(now).toLocaleTimeString();
    renderTable(status, history.nodes);
    renderCharts(history, lastEvents);

    var chips = document.createDocumentFragment();
    var decisions = status.metrics.routeDecisions;
    Object.keys(decisions).forEach(function (k) { chips.appendChild(el('span', null, k + ' ' + decisions[k])); });
    var shadow = status.metrics.shadowDecisions;
    Object.keys(shadow).forEach(function (k) { chips.appendChild(el('span', null, 'shadow ' + k + ' ' + shadow[k])); });
    document.getElementById('routes').replaceChildren(chips);
  }

  function renderEvents(events) {
    lastEvents = events;
    var items = document.createDocumentFragment();
    events.slice().reverse().slice(0, 50).forEach(function (e) {
      var li = el('li', {'data-kind': e.kind, 'data-node': e.node});
      li.appendChild(el('time', {datetime: e.at}, new Date(Date.parse(e.at)).toLocaleTimeString()));
      li.appendChild(document.createTextNode(e.message));
      items.appendChild(li);
    });
    document.getElementById('events').replaceChildren(items);
  }

  function showError(message) {
    var box = document.getElementById('error');
    box.hidden = !message;
    box.textContent = message || '';
  }

  function fetchJson(path) {
    return fetch(path, {cache: 'no-store'}).then(function (r) {
      if (!r.ok) { throw new Error(path + ': HTTP ' + r.status); }
      return r.json();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // the proxy (when the admin server was started with one: GET /proxy is 404 otherwise, and asked only once)

  var proxyServed = true;
  var lastProxy = null;

  function fetchProxy() {
    if (!proxyServed) { return Promise.resolve(null); }
    return fetch('proxy', {cache: 'no-store'}).then(function (r) {
      if (r.status === 404) { proxyServed = false; return null; }
      if (!r.ok) { throw new Error('proxy: HTTP ' + r.status); }
      return r.json();
    });
  }

  function renderProxy(p) {
    var section = document.getElementById('proxy');
    section.hidden = !p;
    if (!p) { return; }
    var text = function (id, v) { document.getElementById(id).textContent = String(v); };
    text('proxy-listen', 'on ' + p.listen + ', ' + p.auth + (p.poolMode ? ', ' + p.poolMode + ' pooling' : ''));
    text('proxy-active', p.clients.active);
    text('proxy-idle', p.clients.idle);
    text('proxy-login', p.clients.login);
    text('proxy-total', p.clients.total);
    text('proxy-max', p.clients.max);
    text('proxy-refused', p.clients.refused);
    text('proxy-login-failures', p.clients.loginFailures);
    text('proxy-received', fmtBytes(p.bytes.received));
    text('proxy-sent', fmtBytes(p.bytes.sent));
    text('proxy-errors', p.errors.toClients);
    text('proxy-backend-failures', p.errors.backendFailures);
    var before = new Map();
    if (lastProxy) { lastProxy.p.nodes.forEach(function (n) { before.set(n.node, n.statements); }); }
    var seconds = lastProxy ? (Date.now() - lastProxy.at) / 1000 : 0;
    var rows = document.createDocumentFragment();
    p.nodes.forEach(function (n) {
      var tr = el('tr', {'data-node': n.node});
      var rate = seconds > 0 && before.has(n.node) ? (n.statements - before.get(n.node)) / seconds : null;
      [n.node, n.role, n.backendsInUse, n.backendsIdle, n.statements, fmtNum(rate), n.backendFailures]
        .forEach(function (v, i) { tr.appendChild(el('td', {'class': 'proxy-col-' + i}, v)); });
      rows.appendChild(tr);
    });
    document.querySelector('#proxy-nodes tbody').replaceChildren(rows);
    lastProxy = {p: p, at: Date.now()};
  }

  function poll() {
    Promise.all([fetchJson('replicas'), fetchJson('events'), fetchJson('history'), fetchProxy()]).then(function (results) {
      renderEvents(results[1]);
      render(results[0], results[2]);
      renderProxy(results[3]);
      showError(null);
    }).catch(function (e) {
      showError((e instanceof TypeError && /fetch/i.test(e.message)) || /HTTP \d+/.test(e.message)
        ? 'cannot reach the admin server: ' + e.message : 'dashboard error: ' + e.message);
    }).finally(function () {
      setTimeout(poll, POLL_MS);
    });
  }

  poll();
}());
