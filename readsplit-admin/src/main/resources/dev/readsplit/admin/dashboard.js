// Readsplit dashboard: polls /replicas and /events every second and redraws. No library, no CDN.
// Reads per second are computed here from successive snapshots (readsServed deltas over the time between them).
(function () {
  'use strict';
  var POLL_MS = 1000;
  var HISTORY = 60;
  var history = {};   // node name -> [lag bytes], one per poll
  var previous = null; // {at: ms, reads: {name: n}, writes: {name: n}}

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

  function fmtBytes(n) {
    if (n === null || n === undefined) { return '–'; }
    if (n < 1024) { return n + ' B'; }
    if (n < 1048576) { return (n / 1024).toFixed(1) + ' kB'; }
    return (n / 1048576).toFixed(1) + ' MB';
  }

  function fmtRate(n) {
    return n === null ? '–' : (n < 10 ? n.toFixed(1) : Math.round(n).toString());
  }

  function sparkline(values) {
    var ns = 'http://www.w3.org/2000/svg';
    var w = 160, h = 28;
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('width', w);
    svg.setAttribute('height', h);
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    var base = document.createElementNS(ns, 'line');
    base.setAttribute('x1', 0); base.setAttribute('x2', w);
    base.setAttribute('y1', h - 1); base.setAttribute('y2', h - 1);
    svg.appendChild(base);
    var known = values.filter(function (v) { return v !== null; });
    var max = Math.max.apply(null, known.concat([1]));
    var pts = [];
    for (var i = 0; i < values.length; i++) {
      if (values[i] === null) { continue; }
      var x = w - (values.length - 1 - i) * (w / (HISTORY - 1));
      var y = (h - 2) - (values[i] / max) * (h - 4);
      pts.push(x.toFixed(1) + ',' + y.toFixed(1));
    }
    var line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', pts.join(' '));
    svg.appendChild(line);
    var title = document.createElementNS(ns, 'title');
    title.textContent = 'lag, max ' + fmtBytes(max) + ' over the last ' + values.length + ' s';
    svg.appendChild(title);
    return svg;
  }

  function render(status) {
    var now = Date.parse(status.at);
    var reads = {}, writes = {}, rates = {}, totalReads = null, totalWrites = null;
    status.nodes.forEach(function (n) { reads[n.name] = n.readsServed; writes[n.name] = n.writesServed; });
    if (previous && now > previous.at) {
      var dt = (now - previous.at) / 1000;
      totalReads = 0; totalWrites = 0;
      status.nodes.forEach(function (n) {
        if (previous.reads[n.name] !== undefined) {
          rates[n.name] = Math.max(0, reads[n.name] - previous.reads[n.name]) / dt;
          totalReads += rates[n.name];
          totalWrites += Math.max(0, writes[n.name] - previous.writes[n.name]) / dt;
        }
      });
    }
    previous = {at: now, reads: reads, writes: writes};

    document.getElementById('ds-name').textContent = status.dataSource;
    document.getElementById('overall').textContent = status.status;
    document.getElementById('primary').textContent = status.primary;
    document.getElementById('shadow').textContent = status.shadowMode ? 'ON' : 'off';
    document.getElementById('reads-total').textContent = fmtRate(totalReads);
    document.getElementById('writes-total').textContent = fmtRate(totalWrites);
    document.getElementById('updated').textContent = new Date(now).toLocaleTimeString();

    var tbody = document.querySelector('#nodes tbody');
    var rows = document.createDocumentFragment();
    var seen = {};
    status.nodes.forEach(function (n) {
      seen[n.name] = true;
      var h = history[n.name] || (history[n.name] = []);
      h.push(n.lag.bytes);
      if (h.length > HISTORY) { h.shift(); }
      var tr = el('tr', {'data-node': n.name, 'data-role': n.role, 'data-state': n.state});
      tr.appendChild(el('td', {'class': 'name'}, n.name));
      tr.appendChild(el('td', {'class': 'role role-' + n.role}, n.primary ? 'PRIMARY (writes)' : n.role));
      tr.appendChild(el('td', {'class': 'state state-' + n.state}, n.state + (n.lag.excluded ? ' (lag)' : '')));
      var lag = n.primary ? '–' : fmtBytes(n.lag.bytes)
        + (n.lag.seconds === null ? '' : ' / ' + n.lag.seconds.toFixed(1) + ' s');
      tr.appendChild(el('td', {'class': 'num lag'}, lag));
      var spark = el('td', {'class': 'spark'});
      if (!n.primary) { spark.appendChild(sparkline(h)); }
      tr.appendChild(spark);
      tr.appendChild(el('td', {'class': 'num reads-per-second'},
        fmtRate(rates[n.name] === undefined ? null : rates[n.name])));
      tr.appendChild(el('td', {'class': 'num pool'}, n.pool.active + ' / ' + n.pool.idle + ' / ' + n.pool.max));
      tr.appendChild(el('td', {'class': 'num'}, n.responseTime.toFixed(1) + ' ms'));
      tr.appendChild(el('td', {'class': 'num'}, n.healthCheckFailures));
      tr.appendChild(el('td', {'class': 'note', title: n.lastError || ''}, n.lastError || ''));
      rows.appendChild(tr);
    });
    Object.keys(history).forEach(function (k) { if (!seen[k]) { delete history[k]; } });
    tbody.replaceChildren(rows);

    var routes = document.getElementById('routes');
    var chips = document.createDocumentFragment();
    var decisions = status.metrics.routeDecisions;
    Object.keys(decisions).forEach(function (k) { chips.appendChild(el('span', null, k + ' ' + decisions[k])); });
    var shadow = status.metrics.shadowDecisions;
    Object.keys(shadow).forEach(function (k) { chips.appendChild(el('span', null, 'shadow ' + k + ' ' + shadow[k])); });
    routes.replaceChildren(chips);
  }

  function renderEvents(events) {
    var list = document.getElementById('events');
    var items = document.createDocumentFragment();
    events.slice().reverse().slice(0, 50).forEach(function (e) {
      var li = el('li', {'data-kind': e.kind, 'data-node': e.node});
      li.appendChild(el('time', {datetime: e.at}, new Date(Date.parse(e.at)).toLocaleTimeString()));
      li.appendChild(document.createTextNode(e.message));
      items.appendChild(li);
    });
    list.replaceChildren(items);
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

  function poll() {
    Promise.all([fetchJson('replicas'), fetchJson('events')]).then(function (results) {
      render(results[0]);
      renderEvents(results[1]);
      showError(null);
    }).catch(function (e) {
      showError('cannot reach the admin server: ' + e.message);
    }).finally(function () {
      setTimeout(poll, POLL_MS);
    });
  }

  poll();
}());
