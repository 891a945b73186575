// The admin page (SPEC §14): `GET /` on the admin port. One self-contained HTML document — inline
// CSS and script, no external assets, no build step — that refreshes itself from the JSON
// endpoints every two seconds. A section whose endpoint answers 404 shows "not configured"; one
// answering 401 asks for the admin token, which the page then sends as a bearer token (kept in
// the tab's sessionStorage only). The page itself holds no data, so it is served without the token.
export const ADMIN_PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice admin</title>
<style>
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --dim: #6b7482; --line: #e2e5ea; --ok: #1f8f4e; --warn: #b7791f; --bad: #c53030; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 10px 20px; background: #1d2430; color: #fff; }
header h1 { font-size: 18px; margin: 0; letter-spacing: .5px; }
header .meta { color: #c9d1dc; font-size: 13px; }
header label { margin-left: auto; font-size: 13px; color: #c9d1dc; }
header input { margin-left: 6px; padding: 3px 6px; border-radius: 4px; border: 1px solid #4a5568; background: #2d3748; color: #fff; width: 200px; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 14px; padding: 14px 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
section h2 { font-size: 15px; margin: 0 0 8px; display: flex; gap: 8px; align-items: baseline; }
section h2 .state { font-size: 12px; font-weight: normal; color: var(--dim); }
section[data-state="not-configured"] .body { color: var(--dim); font-style: italic; }
section[data-state="unauthorized"] .body, section[data-state="error"] .body { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--dim); font-weight: 600; white-space: nowrap; }
td b, td.time { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flag { display: inline-block; padding: 0 6px; margin: 1px 2px 1px 0; border-radius: 9px; font-size: 11px; background: #edf2f7; color: var(--ink); }
.flag.shared, .flag.throttled { background: #fed7d7; color: #822727; }
.flag.off-scenario, .flag.near-quota { background: #feebc8; color: #7b341e; }
.flag.unused { background: #e2e8f0; color: #4a5568; }
.st { font-weight: 600; }
.st.closed, .st.true, .st.healthy, .st.up { color: var(--ok); }
.st.open, .st.false, .st.unhealthy, .st.down, .st.ejected { color: var(--bad); }
.st.half-open { color: var(--warn); }
.empty { color: var(--dim); font-style: italic; }
form[hidden] { display: none; }
form { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 8px; font-size: 13px; }
form input { padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; width: 110px; }
button { padding: 3px 10px; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; font-size: 13px; }
button.plain { background: #fff; color: var(--accent); }
.msg { font-size: 12px; color: var(--dim); }
.msg.bad { color: var(--bad); }
.small { font-size: 12px; color: var(--dim); }
</style>
</head>
<body>
<header>
  <h1>sluice</h1>
  <span class="meta" id="rules-meta">loading…</span>
  <span class="meta" id="refreshed"></span>
  <label>admin token <input id="token" type="password" autocomplete="off" placeholder="needed off loopback"></label>
</header>
<main>
  <section id="accounts" class="wide" data-path="/admin/accounts"><h2>Accounts <span class="state"></span></h2><div class="body"></div></section>
  <section id="unregistered" class="wide"><h2>Unregistered callers that tried <span class="state"></span></h2><div class="body"></div></section>
  <section id="clusters" data-path="/admin/clusters"><h2>Clusters and endpoints <span class="state"></span></h2><div class="body"></div></section>
  <section id="breakers" data-path="/admin/breakers"><h2>Breakers <span class="state"></span></h2><div class="body"></div></section>
  <section id="adaptive" data-path="/admin/adaptive"><h2>Adaptive limits <span class="state"></span></h2><div class="body"></div></section>
  <section id="hotkeys" data-path="/admin/hotkeys"><h2>Hot keys <span class="state"></span></h2><div class="body"></div></section>
  <section id="faults" data-path="/admin/faults"><h2>Fault drills <span class="state"></span></h2><div class="body"></div>
    <form id="fault-form" hidden>
      <input name="name" placeholder="name" required>
      <input name="cluster" placeholder="cluster">
      <input name="delay" placeholder="delay 300ms">
      <input name="delay_percent" placeholder="delay %" type="number" min="0" max="100">
      <input name="abort" placeholder="abort 503" type="number" min="100" max="599">
      <input name="abort_percent" placeholder="abort %" type="number" min="0" max="100">
      <input name="ttl" placeholder="ttl 5m" required>
      <button type="submit">Start drill</button> <span class="msg" id="fault-msg"></span>
    </form>
  </section>
  <section id="mirrors" data-path="/admin/mirrors"><h2>Mirrors <span class="state"></span></h2><div class="body"></div></section>
  <section id="switch" data-path="/admin/rules"><h2>Switch <span class="state"></span></h2><div class="body"></div>
    <form id="switch-form">
      re-point <input name="from" placeholder="cluster" required> to <input name="to" placeholder="cluster" required>
      <button type="submit">Switch</button>
      <button type="button" class="plain" id="switch-clear">Clear switch</button>
      <span class="msg" id="switch-msg"></span>
    </form>
  </section>
</main>
<script>
(function () {
  'use strict';
  var REFRESH_MS = 2000;
  var tokenInput = document.getElementById('token');
  tokenInput.value = sessionStorage.getItem('sluice-admin-token') || '';
  tokenInput.addEventListener('change', function () {
    sessionStorage.setItem('sluice-admin-token', tokenInput.value);
    refresh();
  });

  function authHeaders(extra) {
    var h = extra || {};
    if (tokenInput.value) h.authorization = 'Bearer ' + tokenInput.value;
    return h;
  }

  function get(path) {
    return fetch(path, { headers: authHeaders(), cache: 'no-store' }).then(function (res) {
      if (res.status === 404 || res.status === 401) return { status: res.status, body: null };
      return res.json().then(function (body) { return { status: res.status, body: body }; });
    }).catch(function (error) { return { status: 0, body: null, error: String(error) }; });
  }

  function send(method, path, body) {
    var init = { method: method, headers: authHeaders(body === undefined ? {} : { 'content-type': 'application/json' }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var parsed = null;
        try { parsed = JSON.parse(text); } catch (e) { parsed = null; }
        return { ok: res.ok, status: res.status, body: parsed, text: text };
      });
    });
  }

  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) for (var k in props) {
      if (k === 'text') node.textContent = props[k];
      else if (k === 'className') node.className = props[k];
      else node.setAttribute(k, props[k]);
    }
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }

  function text(v) {
    if (v === null || v === undefined || v === '') return '–';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  /** An ISO time without its milliseconds: 2026-12-02 00:48:20Z. */
  function when(iso) {
    return iso ? el('span', { className: 'time', text: String(iso).replace('T', ' ').replace(/\.\d+Z$/, 'Z') }) : '–';
  }

  function stateCell(v) { return el('span', { className: 'st ' + String(v), text: text(v) }); }

  /** columns: [title, (row) => string | Node, numeric?] */
  function table(columns, rows, emptyText) {
    if (rows.length === 0) return el('div', { className: 'empty', text: emptyText || 'none' });
    var head = el('tr', null, columns.map(function (c) { return el('th', { text: c[0] }); }));
    var body = rows.map(function (row) {
      return el('tr', null, columns.map(function (c) {
        var v = c[1](row);
        var td = el('td', c[2] ? { className: 'num' } : null);
        td.appendChild(typeof v === 'object' && v !== null && v.nodeType ? v : document.createTextNode(text(v)));
        return td;
      }));
    });
    return el('table', null, [el('thead', null, [head]), el('tbody', null, body)]);
  }

  /** A table of the first list of objects in a JSON answer, for sections whose shape may grow. */
  function generic(body) {
    var list = Array.isArray(body) ? body : null;
    if (list === null && body && typeof body === 'object') {
      for (var k in body) if (Array.isArray(body[k])) { list = body[k]; break; }
    }
    if (list === null) return el('pre', { className: 'small', text: JSON.stringify(body, null, 2) });
    var keys = [];
    list.forEach(function (row) { if (row && typeof row === 'object') Object.keys(row).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
    return table(keys.map(function (k) {
      return [k, function (row) {
        var v = row[k];
        if (k === 'state' || k === 'healthy' || k === 'up') return stateCell(v);
        if (Array.isArray(v)) return cut(v.map(function (item) { return item && typeof item === 'object' ? summary(item) : String(item); }).join('; '));
        return v;
      }, typeof list[0][k] === 'number'];
    }), list);
  }

  function cut(s) { return s.length > 200 ? s.slice(0, 199) + '…' : s; }

  function summary(obj) {
    return Object.keys(obj).map(function (k) { return k + '=' + text(obj[k]); }).join(' ');
  }

  function perSecond(rate) {
    var m = /^\s*([0-9.]+)\s*\/\s*(s|min)\s*$/.exec(rate || '');
    if (!m) return null;
    return Number(m[1]) / (m[2] === 'min' ? 60 : 1);
  }

  function flagsOf(a) {
    var l = a.ledger || {};
    var rej = l.rejections || {};
    var flags = [];
    var q = perSecond(a.quota);
    if ((l.requests || 0) === 0 && a.usage.requests_total === 0) flags.push('unused');
    if ((l.identities || 0) > 1) flags.push('shared');
    if ((l.off_scenario || a.usage.off_scenario || 0) > 0) flags.push('off-scenario');
    if (q && (l.peak_rps || 0) > 0.8 * q) flags.push('near-quota');
    if ((rej.account_quota || 0) > 0) flags.push('throttled');
    return flags;
  }

  function flagList(flags) {
    var out = el('span');
    flags.forEach(function (f, i) {
      if (i > 0) out.appendChild(document.createTextNode(' '));
      out.appendChild(el('span', { className: 'flag ' + f, text: f }));
    });
    return out;
  }

  var render = {
    accounts: function (body) {
      var rows = body.accounts || [];
      var un = document.getElementById('unregistered');
      var tried = (body.unregistered || []).filter(function (u) { return u.ledger.requests > 0; });
      setState(un, 'ok', tried.length + ' name(s)');
      replace(un, table([
        ['name sent', function (u) { return u.id === '' ? '(no account header)' : u.id; }],
        ['attempts today', function (u) { return u.ledger.requests; }, true],
        ['identities', function (u) { return u.ledger.identities + ' ' + u.ledger.top_identities.map(function (i) { return i.name; }).slice(0, 3).join(', '); }],
        ['last seen', function (u) { return when(u.ledger.last_seen); }],
      ], tried, 'nobody tried an unregistered account today'));
      return table([
        ['account', function (a) { return el('b', { text: a.id }); }],
        ['owner / team', function (a) { return (a.owner || '–') + ' / ' + (a.team || '–'); }],
        ['class', function (a) { return a.class; }],
        ['quota', function (a) { return a.quota; }],
        ['req/s', function (a) { return a.usage.requests_per_second; }, true],
        ['today', function (a) { return a.ledger ? a.ledger.requests : 0; }, true],
        ['peak/s', function (a) { return a.ledger ? a.ledger.peak_rps : 0; }, true],
        ['identities', function (a) {
          var l = a.ledger;
          if (!l || l.identities === 0) return '0';
          return l.identities + ' (' + l.top_identities.slice(0, 3).map(function (i) { return i.name; }).join(', ') + ')';
        }],
        ['off-scenario', function (a) { return a.usage.off_scenario; }, true],
        ['rejections', function (a) { var r = a.usage.rejections; return Object.keys(r).map(function (k) { return k + ' ' + r[k]; }).join(', '); }],
        ['last seen', function (a) { return when(a.usage.last_seen); }],
        ['flags', function (a) { return flagList(flagsOf(a)); }],
      ], rows, 'no accounts registered');
    },
    breakers: function (body) {
      return table([
        ['breaker', function (b) { return el('b', { text: b.name }); }],
        ['cluster', function (b) { return b.cluster; }],
        ['kind', function (b) { return b.kind + ' ' + b.threshold; }],
        ['action', function (b) { return b.action + (b.shadow ? ' (shadow)' : ''); }],
        ['state', function (b) { return stateCell(b.state); }],
        ['since', function (b) { return when(b.since); }],
        ['why', function (b) { return b.why; }],
      ], body.breakers || [], 'no degrade rules');
    },
    hotkeys: function (body) {
      var rules = body.rules || [];
      var rows = [];
      rules.forEach(function (r) {
        if (r.keys.length === 0) rows.push({ rule: r.rule, rate: r.rate, tracked: r.tracked + '/' + r.track, key: '–', value: '' });
        r.keys.forEach(function (k) { rows.push({ rule: r.rule, rate: r.rate, tracked: r.tracked + '/' + r.track, key: k.key !== undefined ? k.key : text(k), value: summary(k) }); });
      });
      return table([
        ['rule', function (r) { return r.rule; }], ['rate', function (r) { return r.rate; }], ['tracked', function (r) { return r.tracked; }],
        ['near or over', function (r) { return r.value || 'none'; }],
      ], rows, 'no hot-key rules');
    },
    switch: function (body) {
      var sw = body.switch || {};
      var current = Object.keys(sw.current || {});
      document.getElementById('rules-meta').textContent =
        'rules ' + (body.version || '?').slice(0, 12) + ' loaded ' + (body.loaded_at || '?') + ' · store ' + body.store.kind + (body.store.up ? ' (up)' : ' (down)') +
        (body.last_error ? ' · last reload refused' : '');
      return el('div', null, [
        current.length === 0 ? el('div', { className: 'empty', text: 'no switch in force' })
          : table([['cluster', function (k) { return k; }], ['re-pointed to', function (k) { return el('b', { text: sw.current[k] }); }]], current),
        el('div', { className: 'small', text: 'last change: ' + text(sw.source) + ' ' + text(sw.at) + (sw.warnings && sw.warnings.length ? ' · ' + sw.warnings.join('; ') : '') }),
      ]);
    },
    clusters: function (body) {
      var list = body.clusters;
      if (!Array.isArray(list) || list.some(function (c) { return !Array.isArray(c.endpoints); })) return generic(body);
      var rows = [];
      list.forEach(function (c) {
        c.endpoints.forEach(function (e, i) { rows.push({ cluster: i === 0 ? c.name : '', balance: i === 0 ? c.balance : '', e: e }); });
      });
      return table([
        ['cluster', function (r) { return el('b', { text: r.cluster }); }],
        ['balance', function (r) { return r.balance; }],
        ['endpoint', function (r) { return r.e.url; }],
        ['health', function (r) { return stateCell(r.e.ejected ? 'ejected' : r.e.healthy === false ? 'unhealthy' : 'healthy'); }],
        ['in flight', function (r) { return r.e.inFlight; }, true],
        ['ejections', function (r) { return r.e.ejections; }, true],
      ], rows, 'no clusters');
    },
    faults: function (body) {
      document.getElementById('fault-form').hidden = false;
      var list = body.faults || (Array.isArray(body) ? body : []);
      if (list.length === 0) return el('div', { className: 'empty', text: 'no drill running' });
      return table([
        ['drill', function (f) { return el('b', { text: f.name }); }],
        ['from', function (f) { return f.origin; }],
        ['applies to', function (f) { return [f.cluster, f['class'], f.header].filter(function (x) { return x; }).join(' · ') || 'all traffic'; }],
        ['delay', function (f) { return f.delay_ms ? f.delay_ms + ' ms × ' + f.delay_percent + '%' : ''; }],
        ['abort', function (f) { return f.abort ? f.abort + ' × ' + f.abort_percent + '%' : ''; }],
        ['until', function (f) { return when(f.until); }],
        ['', function (f) {
          if (f.origin !== 'admin') return el('span', { className: 'small', text: 'in the rules files' });
          var b = el('button', { className: 'plain', type: 'button', text: 'End' });
          b.addEventListener('click', function () { send('DELETE', '/admin/faults/' + encodeURIComponent(f.name)).then(function (a) { report('fault-msg', a, 'drill ended'); }); });
          return b;
        }],
      ], list);
    },
    mirrors: function (body) {
      var list = body.mirrors;
      if (!Array.isArray(list)) return generic(body);
      return table([
        ['mirror', function (m) { return el('b', { text: m.name }); }],
        ['copies', function (m) { return m.from + ' → ' + m.to + ' (' + m.percent + '%)'; }],
        ['match / mismatch / error / dropped', function (m) {
          var c = m.counts || {};
          return [c.match, c.mismatch, c.error, c.dropped].map(function (n) { return n === undefined ? '–' : String(n); }).join(' / ');
        }],
        ['latest mismatches', function (m) {
          return (m.recent_mismatches || []).slice(0, 3).map(function (x) { return x && typeof x === 'object' ? summary(x) : String(x); }).join('; ') || 'none';
        }],
      ], list, 'no mirrors');
    },
  };

  function setState(section, state, label) {
    section.setAttribute('data-state', state);
    section.querySelector('h2 .state').textContent = label;
  }

  function replace(section, node) {
    var body = section.querySelector('.body');
    body.replaceChildren(node);
  }

  function load(section) {
    var id = section.id;
    return get(section.getAttribute('data-path')).then(function (answer) {
      if (answer.status === 404) {
        setState(section, 'not-configured', '');
        replace(section, el('div', { text: 'not configured' }));
        if (id === 'faults') document.getElementById('fault-form').hidden = true;
        return;
      }
      if (answer.status === 401) {
        setState(section, 'unauthorized', '');
        replace(section, el('div', { text: 'admin token required: type it above' }));
        return;
      }
      if (answer.status !== 200 || answer.body === null) {
        setState(section, 'error', '');
        replace(section, el('div', { text: 'unavailable (' + (answer.error || answer.status) + ')' }));
        return;
      }
      var fn = render[id] || generic;
      replace(section, fn(answer.body));
      setState(section, 'ok', '');
    });
  }

  function refresh() {
    var sections = Array.prototype.slice.call(document.querySelectorAll('section[data-path]'));
    return Promise.all(sections.map(load)).then(function () {
      document.getElementById('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString();
      document.body.setAttribute('data-refreshed', String(Date.now()));
    });
  }

  function report(id, answer, done) {
    var msg = document.getElementById(id);
    msg.className = answer.ok ? 'msg' : 'msg bad';
    msg.textContent = answer.ok ? done : (answer.status === 401 ? 'admin token required' : (answer.body && answer.body.error) || answer.text);
    refresh();
  }

  document.getElementById('switch-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = event.target;
    var body = {};
    body[form.from.value.trim()] = form.to.value.trim();
    send('POST', '/admin/switch', body).then(function (a) { report('switch-msg', a, 'switched'); });
  });
  document.getElementById('switch-clear').addEventListener('click', function () {
    send('DELETE', '/admin/switch').then(function (a) { report('switch-msg', a, 'cleared'); });
  });
  document.getElementById('fault-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = event.target;
    var body = {};
    ['name', 'cluster', 'delay', 'ttl'].forEach(function (k) { if (form[k].value.trim()) body[k] = form[k].value.trim(); });
    ['delay_percent', 'abort', 'abort_percent'].forEach(function (k) { if (form[k].value !== '') body[k] = Number(form[k].value); });
    send('POST', '/admin/faults', body).then(function (a) { report('fault-msg', a, 'drill started'); });
  });

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
</script>
</body>
</html>
`;
