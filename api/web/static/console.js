// brightwatch console and firm portal: plain JavaScript, no framework.
// The token stays in sessionStorage (this tab only) and goes out as a Bearer header; the
// server renders every view for the caller's role (api/routes/console.py).
"use strict";
(function () {
  var KEY = "bw_token";
  var main = document.getElementById("main");
  var signinHTML = main.innerHTML;
  var me = null;
  var streamAbort = null;
  var clockTimer = null;

  function token() { return sessionStorage.getItem(KEY); }
  function headers(extra) {
    var h = { Authorization: "Bearer " + token() };
    for (var k in extra || {}) h[k] = extra[k];
    return h;
  }
  function api(method, path, body) {
    var opts = { method: method, headers: headers(body instanceof FormData ? {} : { "Content-Type": "application/json" }) };
    if (body !== undefined) opts.body = body instanceof FormData ? body : JSON.stringify(body);
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { signOut("Your token was refused; sign in again."); throw new Error("unauthorised"); }
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
        if (!r.ok) {
          var detail = data && data.detail ? data.detail : r.status + " " + r.statusText;
          throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
        }
        return data;
      });
    });
  }
  function toast(text, cls) {
    var t = document.createElement("div");
    t.className = "toast " + (cls || "");
    t.textContent = text;
    document.getElementById("toasts").appendChild(t);
    setTimeout(function () { t.remove(); }, 5000);
  }

  // ---------------------------------------------------------------- sign-in
  function showSignin(message) {
    main.innerHTML = signinHTML;
    document.getElementById("nav").hidden = true;
    document.getElementById("signout").hidden = true;
    document.getElementById("who").textContent = "";
    var form = document.getElementById("signin");
    document.getElementById("signin-error").textContent = message || "";
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      sessionStorage.setItem(KEY, document.getElementById("token").value.trim());
      start();
    });
  }
  function signOut(message) {
    sessionStorage.removeItem(KEY);
    me = null;
    if (streamAbort) streamAbort.abort();
    showSignin(message);
  }
  document.getElementById("signout").addEventListener("click", function () { signOut(""); });

  function start() {
    if (!token()) return showSignin("");
    fetch("/console/views/me", { headers: headers() }).then(function (r) {
      if (!r.ok) throw new Error("refused");
      return r.json();
    }).then(function (who) {
      me = who;
      document.getElementById("who").textContent = who.role + (who.firm_id ? " · " + who.firm_id : "") + (who.site_id ? " · " + who.site_id : "");
      document.getElementById("signout").hidden = false;
      var nav = document.getElementById("nav");
      nav.hidden = false;
      nav.querySelectorAll("a").forEach(function (a) {
        a.hidden = a.dataset.roles.split(" ").indexOf(who.role) < 0;
      });
      openStream();
      if (!location.hash || location.hash === "#/") location.hash = defaultView();
      else route();
    }).catch(function () {
      sessionStorage.removeItem(KEY);
      showSignin("That token was not accepted.");
    });
  }
  function defaultView() {
    if (!me) return "#/";
    if (me.role === "firm") return "#/tickets";
    if (me.role === "operator") return "#/kitchens/" + me.site_id;
    return "#/review";
  }

  // ---------------------------------------------------------------- views
  function route() {
    if (!me) return;
    var hash = location.hash.replace(/^#\//, "") || defaultView().slice(2);
    var path = hash.split("?")[0], query = hash.indexOf("?") >= 0 ? hash.slice(hash.indexOf("?")) : "";
    document.querySelectorAll("#nav a").forEach(function (a) {
      a.classList.toggle("on", path.indexOf(a.getAttribute("href").slice(2)) === 0);
    });
    stopReview();
    load("/console/views/" + path + query);
  }
  window.addEventListener("hashchange", route);

  function load(url) {
    return fetch(url, { headers: headers() }).then(function (r) {
      if (r.status === 401) { signOut("Your token was refused; sign in again."); return null; }
      if (r.status === 404) return '<section class="card"><h1>Not found</h1><p class="empty">Nothing here for you.</p></section>';
      if (!r.ok) return '<section class="card"><h1>Error</h1><p class="error">' + r.status + "</p></section>";
      return r.text();
    }).then(function (html) {
      if (html === null) return;
      main.innerHTML = html;
      afterRender();
    });
  }
  function reload() { route(); }

  function afterRender() {
    main.querySelectorAll("img[data-src]").forEach(function (img) { loadImage(img, img.dataset.src); });
    if (clockTimer) clearInterval(clockTimer);
    tickClocks();
    clockTimer = setInterval(tickClocks, 1000);
    if (main.querySelector('[data-view="review"]')) startReview();
  }
  // evidence pictures need the token too: fetch them, show them from a blob
  function loadImage(img, url) {
    return fetch(url, { headers: headers() }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.blob();
    }).then(function (b) { img.src = URL.createObjectURL(b); }).catch(function () { img.alt = "picture unavailable"; });
  }

  // SLA clocks count down in the page; a breached clock turns red
  function tickClocks() {
    main.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - Date.now()) / 1000);
      var step = el.textContent.split(" ")[0];
      var abs = Math.abs(left), h = Math.floor(abs / 3600), m = Math.floor(abs % 3600 / 60), s = abs % 60;
      var text = (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
      el.textContent = step + " " + (left >= 0 ? text + " left" : text + " over");
      el.classList.toggle("breached", left < 0);
    });
  }

  // ---------------------------------------------------------------- actions
  main.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-action]");
    if (!b) return;
    var id = b.dataset.id, done;
    b.disabled = true;
    if (b.dataset.action === "ack") done = api("POST", "/api/v1/alerts/" + id + "/ack", { note: "acknowledged in the console" });
    else if (b.dataset.action === "resolve") done = api("POST", "/api/v1/alerts/" + id + "/resolve", { note: "resolved in the console" });
    else if (b.dataset.action === "silence") done = api("POST", "/api/v1/silences", {
      matchers: ["code=" + b.dataset.code, "device_id=" + b.dataset.device], duration_s: 3600, comment: "silenced from the console" });
    else if (b.dataset.action === "ticket") done = api("POST", "/api/v1/tickets/" + id + "/transitions", { to: b.dataset.to });
    else if (b.dataset.action === "complete") { b.disabled = false; return openComplete(id, b.dataset.type); }
    done.then(function () { toast(b.textContent.trim() + ": done"); reload(); })
      .catch(function (e) { b.disabled = false; toast(b.textContent.trim() + ": " + e.message, "P1"); });
  });
  main.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form[data-search]");
    if (!form) return;
    ev.preventDefault();
    location.hash = "#/" + form.dataset.search + "?q=" + encodeURIComponent(form.q.value);
  });

  var RESULTS = {
    rescue: ["released_in_service", "released_locked_out"],
    repair: ["fault_cleared", "out_of_service"],
    maintenance: ["done", "done_with_findings"]
  };
  function openComplete(id, type) {
    var dialog = document.getElementById("complete-dialog");
    var form = document.getElementById("complete-form");
    var select = document.getElementById("complete-result");
    var items = document.getElementById("complete-items");
    document.getElementById("complete-id").textContent = "#" + id;
    document.getElementById("complete-error").textContent = "";
    select.innerHTML = "";
    (RESULTS[type] || RESULTS.maintenance).forEach(function (r) {
      var o = document.createElement("option"); o.value = o.textContent = r; select.appendChild(o);
    });
    items.innerHTML = "";
    if (!RESULTS[type]) {
      // maintenance: one result per required item (elevators.md: all items recorded)
      api("GET", "/api/v1/tickets/" + id).then(function (t) {
        (t.items || []).forEach(function (it) {
          var label = document.createElement("label");
          label.textContent = (it.name || it.code) + " ";
          var s = document.createElement("select");
          s.dataset.item = it.code;
          ["ok", "adjusted", "replaced", "not_applicable"].forEach(function (v) {
            var o = document.createElement("option"); o.value = o.textContent = v; s.appendChild(o);
          });
          label.appendChild(s);
          items.appendChild(label);
        });
      });
    }
    form.onsubmit = function (ev) {
      ev.preventDefault();
      var submit = document.getElementById("complete-submit");
      submit.disabled = true;
      var files = Array.prototype.slice.call(document.getElementById("complete-photos").files);
      var note = document.getElementById("complete-note").value;
      var uploads = files.reduce(function (p, f) {
        return p.then(function () {
          var fd = new FormData(); fd.append("file", f); fd.append("note", "completion photo");
          return api("POST", "/api/v1/tickets/" + id + "/attachments", fd);
        });
      }, Promise.resolve());
      var results = {};
      items.querySelectorAll("select[data-item]").forEach(function (s) { results[s.dataset.item] = s.value; });
      uploads.then(function () {
        var body = { to: "completed", note: note || null, result: select.value };
        if (Object.keys(results).length) body.items = results;
        return api("POST", "/api/v1/tickets/" + id + "/transitions", body);
      }).then(function () {
        dialog.close(); toast("Ticket #" + id + " completed"); reload();
      }).catch(function (e) {
        document.getElementById("complete-error").textContent = e.message;
      }).then(function () { submit.disabled = false; });
    };
    document.getElementById("complete-cancel").onclick = function () { dialog.close(); };
    dialog.showModal();
  }

  // ---------------------------------------------------------------- live alerts (SSE over fetch, so the token stays a header)
  function openStream() {
    if (streamAbort) streamAbort.abort();
    var ctrl = new AbortController();
    streamAbort = ctrl;
    var last = "";
    var live = document.getElementById("live");
    function connect() {
      if (ctrl.signal.aborted || !token()) return;
      var h = headers(last ? { "Last-Event-ID": last } : {});
      fetch("/api/v1/alerts/stream", { headers: h, signal: ctrl.signal }).then(function (r) {
        if (!r.ok || !r.body) throw new Error(r.status);
        live.classList.add("on");
        var reader = r.body.getReader(), decoder = new TextDecoder(), buf = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buf += decoder.decode(chunk.value, { stream: true });
            var parts = buf.split("\n\n");
            buf = parts.pop();
            parts.forEach(function (block) {
              var id = "", data = "";
              block.split("\n").forEach(function (line) {
                if (line.indexOf("id: ") === 0) id = line.slice(4);
                if (line.indexOf("data: ") === 0) data += line.slice(6);
              });
              if (id) last = id;
              if (data) onAlert(JSON.parse(data));
            });
            return pump();
          });
        }
        return pump();
      }).catch(function () {}).then(function () {
        live.classList.remove("on");
        if (!ctrl.signal.aborted) setTimeout(connect, 2000);
      });
    }
    connect();
  }
  var refreshPending = null;
  function onAlert(a) {
    if (a.action === "fired" || a.action === "reopened") {
      toast(a.severity + " " + a.code + " · " + a.device_id + (a.summary ? " — " + a.summary : ""), a.severity);
    }
    if (main.querySelector('[data-view="alerts"]') && !refreshPending) {
      refreshPending = setTimeout(function () {
        refreshPending = null;
        var q = location.hash.split("?")[1];
        load("/console/views/alerts" + (q ? "?" + q : "")).then(function () {
          var row = main.querySelector('tr[data-alert="' + a.id + '"]');
          if (row) row.classList.add("flash");
        });
      }, 300);
    }
  }

  // ---------------------------------------------------------------- review queue
  // kitchens.md: the picture with boxes and the rule, one key to decide, the next item
  // preloaded; the console measures each decision (shown, then sent as elapsed_ms).
  var rv = null;
  function stopReview() {
    if (rv) document.removeEventListener("keydown", rv.onKey);
    rv = null;
  }
  function startReview() {
    stopReview();
    rv = { items: [], shownAt: 0, times: [], count: 0, busy: false, after: null, preloaded: {}, total: null };
    rv.onKey = function (ev) {
      if (ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var k = ev.key.toLowerCase();
      if (k === "c") decide("confirm");
      else if (k === "d") decide("dismiss");
      else if (k === "s") decide("skip");
      else return;
      ev.preventDefault();
    };
    document.addEventListener("keydown", rv.onKey);
    main.querySelectorAll("button[data-review]").forEach(function (b) {
      b.addEventListener("click", function () { decide(b.dataset.review); });
    });
    fetchQueue();
  }
  function evidenceUrl(item) {
    var e = (item.evidence || [])[0];
    if (e && e.url) return e.url + (e.url.indexOf("?") < 0 ? "?" : "&") + "annotated=1";
    return item.evidence_url || null;
  }
  function preload(item) {
    var url = item && evidenceUrl(item);
    if (!url || rv.preloaded[url]) return;
    rv.preloaded[url] = fetch(url, { headers: headers() }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.blob();
    }).then(function (b) { return URL.createObjectURL(b); }).catch(function () { return null; });
  }
  function fetchQueue() {
    var url = "/api/v1/reviews?state=pending&limit=20" + (rv.after ? "&after_id=" + rv.after : "");
    var mine = rv;
    api("GET", url).then(function (page) {
      if (rv !== mine) return;
      rv.items = (page.items || []).slice();
      if (page.next) rv.items.push(page.next);
      rv.items.forEach(preload);
      show();
    }).catch(function (e) {
      if (rv !== mine) return;
      document.getElementById("rv-empty").hidden = false;
      document.getElementById("rv-empty").textContent = "The review queue is not available: " + e.message;
    });
  }
  function show() {
    var item = rv.items[0];
    document.getElementById("rv-left").textContent = rv.items.length + (rv.items.length >= 20 ? "+" : "");
    document.getElementById("rv-item").hidden = !item;
    document.getElementById("rv-empty").hidden = !!item;
    if (!item) { rv.currentId = null; return; }
    if (rv.currentId === item.id) return;  // a refill of the queue: the same item stays up
    rv.currentId = item.id;
    document.getElementById("rv-tier").textContent = item.tier || item.severity || "";
    document.getElementById("rv-tier").className = "pill tier-" + (item.tier || "");
    document.getElementById("rv-code").textContent = item.code;
    document.getElementById("rv-name").textContent = item.name_zh || "";
    document.getElementById("rv-where").textContent = (item.site_id || "") + " / " + (item.camera_id || "") + " · " + (item.detected_at || "").replace("T", " ").slice(0, 19);
    document.getElementById("rv-rule").textContent = item.rule || "rule not recorded";
    document.getElementById("rv-summary").textContent = item.summary || "";
    document.getElementById("rv-error").textContent = "";
    var img = document.getElementById("rv-img");
    img.removeAttribute("src");
    var url = evidenceUrl(item);
    preload(item);
    (url ? rv.preloaded[url] : Promise.resolve(null)).then(function (src) {
      if (rv && rv.items[0] === item) {
        if (src) img.src = src; else img.alt = "no evidence picture";
        rv.shownAt = performance.now();
      }
    });
    rv.shownAt = performance.now();
    preload(rv.items[1]);
    img.dataset.review = item.id;
  }
  function decide(decision) {
    if (!rv || rv.busy || !rv.items.length) return;
    var item = rv.items[0];
    var elapsed = Math.max(0, Math.round(performance.now() - rv.shownAt));
    if (decision === "skip") {
      rv.items.shift();
      rv.after = item.id;
      show();
      if (rv.items.length < 3) fetchQueue();
      return;
    }
    rv.busy = true;
    api("POST", "/api/v1/reviews/" + item.id, { decision: decision, elapsed_ms: elapsed }).then(function () {
      rv.count += 1;
      rv.times.push(elapsed / 1000);
      var sorted = rv.times.slice().sort(function (a, b) { return a - b; });
      var mid = Math.floor(sorted.length / 2);
      var median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      document.getElementById("rv-count").textContent = rv.count;
      document.getElementById("rv-median").textContent = median.toFixed(1);
      rv.items.shift();
      show();  // the next one is already here (preloaded); refill behind it
      if (rv.items.length < 3) fetchQueue();
    }).catch(function (e) {
      document.getElementById("rv-error").textContent = decision + " failed: " + e.message;
    }).then(function () { if (rv) rv.busy = false; });
  }

  start();
})();
