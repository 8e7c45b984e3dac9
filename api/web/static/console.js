// brightwatch console and firm portal: plain JavaScript, no framework.
// The token stays in sessionStorage (this tab only) and goes out as a Bearer header; the
// server renders every view for the caller's role (api/routes/console.py).
"use strict";
(function () {
  // ---------------------------------------------------------------- language and time
  // The page embeds its language, zone and the Chinese of every _("...") below
  // (console.html, #bw-i18n; extracted by Babel into the web catalogue). English is the
  // source text itself.
  var I18N = (function () {
    var el = document.getElementById("bw-i18n");
    try { return JSON.parse(el ? el.textContent : "{}") || {}; } catch (e) { return {}; }
  })();
  var MESSAGES = I18N.messages || {};
  var ZONE = I18N.timezone || "Asia/Shanghai";
  function _(text, params) {
    var out = MESSAGES[text] || text;
    return out.replace(/\{(\w+)\}/g, function (m, name) {
      return params && params[name] !== undefined && params[name] !== null ? String(params[name]) : m;
    });
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  var zoneFormat = null;
  // An instant as the server writes it (2026-12-07 02:14:00 (+08:00)): in the page's zone,
  // the offset always shown, whatever the browser's own zone is.
  function showTime(iso) {
    var d = new Date(String(iso || "").replace(" ", "T"));
    if (!iso || isNaN(d.getTime())) return iso || "";
    if (!zoneFormat) {
      zoneFormat = new Intl.DateTimeFormat("en-GB", {
        timeZone: ZONE, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    }
    var p = {};
    zoneFormat.formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
    var wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    var minutes = Math.round((wall - Math.floor(d.getTime() / 1000) * 1000) / 60000);
    var sign = minutes < 0 ? "-" : "+";
    minutes = Math.abs(minutes);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second +
      " (" + sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60) + ")";
  }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  var ROLES = { admin: _("administrator"), supervisor: _("supervisor"), firm: _("maintenance firm"), operator: _("kitchen operator") };
  // completion results (what a completed ticket ended with), and maintenance item results
  var RESULT_LABELS = {
    released_in_service: _("passenger released, back in service"),
    released_locked_out: _("passenger released, locked out"),
    fault_cleared: _("fault cleared"),
    out_of_service: _("out of service"),
    done: _("done"),
    done_with_findings: _("done, with findings")
  };
  var ITEM_LABELS = { ok: _("ok"), adjusted: _("adjusted"), replaced: _("replaced"), not_applicable: _("not applicable") };
  var DECISIONS = { confirm: _("confirm"), dismiss: _("dismiss") };

  // the language menu: remembered in a cookie for a year, read by the server on every page
  var langMenu = document.getElementById("lang");
  if (langMenu) {
    langMenu.addEventListener("change", function () {
      document.cookie = "bw_lang=" + encodeURIComponent(langMenu.value) + "; path=/; max-age=31536000; SameSite=Lax";
      var url = new URL(location.href);
      url.searchParams.delete("lang");  // a ?lang= link would otherwise win over the choice
      if (url.toString() === location.href) location.reload();
      else location.replace(url.toString());
    });
  }

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
      if (r.status === 401) { signOut(_("Your token was refused; sign in again.")); throw new Error(_("not signed in")); }
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
        if (!r.ok) {
          var detail = data && data.detail ? data.detail : _("HTTP error {status}", { status: r.status });
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
      document.getElementById("who").textContent = (ROLES[who.role] || who.role) + (who.firm_id ? " · " + who.firm_id : "") + (who.site_id ? " · " + who.site_id : "");
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
      showSignin(_("That token was not accepted."));
    });
  }
  function defaultView() {
    if (!me) return "#/";
    if (me.role === "firm") return "#/tickets";
    if (me.role === "operator") return "#/kitchens/" + me.site_id;
    return "#/overview";
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

  // the last view asked for wins: a slower answer for an earlier one is dropped
  var loadSeq = 0;
  function load(url) {
    var seq = ++loadSeq;
    return fetch(url, { headers: headers() }).then(function (r) {
      if (seq !== loadSeq) return null;
      if (r.status === 401) { signOut(_("Your token was refused; sign in again.")); return null; }
      if (r.status === 404) return '<section class="card" data-view="not-found"><h1>' + esc(_("Not found")) + '</h1><p class="empty">' + esc(_("Nothing here for you.")) + "</p></section>";
      if (!r.ok) return '<section class="card" data-view="error"><h1>' + esc(_("Error")) + '</h1><p class="error">' + esc(_("HTTP error {status}", { status: r.status })) + "</p></section>";
      return r.text();
    }).then(function (html) {
      if (html === null || seq !== loadSeq) return;
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
    // the overview page's charts (overview.js, when installed)
    if (window.bwOverview && main.querySelector('[data-view="overview"]')) window.bwOverview(main);
  }
  // evidence pictures need the token too: fetch them, show them from a blob
  function loadImage(img, url) {
    return fetch(url, { headers: headers() }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.blob();
    }).then(function (b) { img.src = URL.createObjectURL(b); }).catch(function () {
      // words, not a broken-image icon
      var note = document.createElement("span");
      note.className = "muted";
      note.textContent = _("picture unavailable");
      img.replaceWith(note);
    });
  }

  // SLA clocks count down in the page; a breached clock turns red
  function duration(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    if (h) return _("{h} h {m} min {s} s", { h: h, m: m, s: s });
    if (m) return _("{m} min {s} s", { m: m, s: s });
    return _("{s} s", { s: s });
  }
  function tickClocks() {
    main.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - Date.now()) / 1000);
      var params = { step: el.dataset.step || "", time: duration(Math.abs(left)) };
      el.textContent = left >= 0 ? _("{step}: {time} left", params) : _("{step}: {time} over", params);
      el.title = _("{step} due {at}", { step: params.step, at: showTime(el.dataset.due) });
      el.classList.toggle("breached", left < 0);
    });
  }

  // ---------------------------------------------------------------- actions
  main.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-action]");
    if (!b) return;
    var id = b.dataset.id, done;
    b.disabled = true;
    // notes stored with the decision are the audit trail's, kept in one language (English)
    if (b.dataset.action === "ack") done = api("POST", "/api/v1/alerts/" + id + "/ack", { note: "acknowledged in the console" });
    else if (b.dataset.action === "resolve") done = api("POST", "/api/v1/alerts/" + id + "/resolve", { note: "resolved in the console" });
    else if (b.dataset.action === "silence") done = api("POST", "/api/v1/silences", {
      matchers: ["code=" + b.dataset.code, "device_id=" + b.dataset.device], duration_s: 3600, comment: "silenced from the console" });
    else if (b.dataset.action === "unsilence") done = api("DELETE", "/api/v1/silences/" + id);
    else if (b.dataset.action === "ticket") done = api("POST", "/api/v1/tickets/" + id + "/transitions", { to: b.dataset.to });
    else if (b.dataset.action === "complete") { b.disabled = false; return openComplete(id, b.dataset.type); }
    else if (b.dataset.action === "dispatch") { b.disabled = false; return openDispatch(id, b.dataset.elevator); }
    else if (b.dataset.action === "download") { b.disabled = false; return download(b.dataset.url, b.dataset.name); }
    var action = b.textContent.trim();
    done.then(function () { toast(_("{action}: done", { action: action })); reload(); })
      .catch(function (e) { b.disabled = false; toast(_("{action} failed: {error}", { action: action, error: e.message }), "P1"); });
  });
  // a ticket's attachment: fetched with the token (a plain link would carry none), then
  // saved under the name it was uploaded with
  function download(url, name) {
    return fetch(url, { headers: headers() }).then(function (r) {
      if (!r.ok) throw new Error(_("HTTP error {status}", { status: r.status }));
      return r.blob();
    }).then(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = name || "attachment";
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
    }).catch(function (e) { toast(_("Download failed: {error}", { error: e.message }), "P1"); });
  }
  // a note on an alert: a line of its history, by whoever may see it
  main.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form[data-note]");
    if (!form) return;
    ev.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    api("POST", "/api/v1/alerts/" + form.dataset.note + "/notes", { note: form.note.value }).then(function () {
      toast(_("Note added"));
      reload();
    }).catch(function (e) {
      button.disabled = false;
      toast(_("The note was not added: {error}", { error: e.message }), "P1");
    });
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
      var o = document.createElement("option"); o.value = r; o.textContent = RESULT_LABELS[r] || r; select.appendChild(o);
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
            var o = document.createElement("option"); o.value = v; o.textContent = ITEM_LABELS[v]; s.appendChild(o);
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
        dialog.close(); toast(_("Ticket #{id} completed", { id: id })); reload();
      }).catch(function (e) {
        document.getElementById("complete-error").textContent = e.message;
      }).then(function () { submit.disabled = false; });
    };
    document.getElementById("complete-cancel").onclick = function () { dialog.close(); };
    dialog.showModal();
  }

  // A ticket without a firm (its elevator has none on record) is dispatched to a firm the
  // supervisor picks: the lifecycle takes `firm_id` with the `dispatched` step.
  function openDispatch(id, elevator) {
    var dialog = document.getElementById("dispatch-dialog");
    if (!dialog) return toast(_("No maintenance firm is registered: register one before dispatching."), "P1");
    var form = document.getElementById("dispatch-form");
    document.getElementById("dispatch-id").textContent = "#" + id;
    document.getElementById("dispatch-elevator").textContent = elevator || "";
    document.getElementById("dispatch-error").textContent = "";
    form.onsubmit = function (ev) {
      ev.preventDefault();
      var submit = document.getElementById("dispatch-submit");
      var firm = document.getElementById("dispatch-firm").value;
      submit.disabled = true;
      api("POST", "/api/v1/tickets/" + id + "/transitions", { to: "dispatched", firm_id: firm }).then(function () {
        dialog.close(); toast(_("Ticket #{id} dispatched to {firm}", { id: id, firm: firm })); reload();
      }).catch(function (e) {
        document.getElementById("dispatch-error").textContent = e.message;
      }).then(function () { submit.disabled = false; });
    };
    document.getElementById("dispatch-cancel").onclick = function () { dialog.close(); };
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
      toast(a.severity + " " + a.code + " · " + a.device_id + " · " + showTime(a.at) + (a.summary ? " — " + a.summary : ""), a.severity);
    }
    // the page of this very alert: its history grows in place (not while a note is being
    // written there: it would be lost)
    var page = main.querySelector('[data-view="alert"]');
    var writing = page && page.querySelector("form[data-note] textarea");
    if (page && page.dataset.alert === String(a.id) && !refreshPending && !(writing && writing.value)) {
      refreshPending = setTimeout(function () { refreshPending = null; reload(); }, 300);
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
  // A key acts only on the item on screen: skipped and decided items never come back in
  // the same pass (a refill that was under way when they were skipped would return them),
  // and a held key (auto-repeat) does not run on into items the reviewer has not seen.
  var rv = null;
  function stopReview() {
    if (rv) document.removeEventListener("keydown", rv.onKey);
    rv = null;
  }
  function startReview() {
    stopReview();
    rv = { items: [], shownAt: 0, times: [], count: 0, busy: false, after: null, preloaded: {},
           skipped: {}, decided: {}, fetchSeq: 0, currentId: null, failed: false };
    rv.onKey = function (ev) {
      if (ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA" || ev.target.tagName === "SELECT" ||
          ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var k = ev.key.toLowerCase();
      var decision = { c: "confirm", d: "dismiss", s: "skip" }[k];
      if (!decision) return;
      ev.preventDefault();
      if (ev.repeat) return;
      decide(decision);
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
  function fresh(item) { return item && !rv.skipped[item.id] && !rv.decided[item.id]; }
  function fetchQueue() {
    var url = "/api/v1/reviews?state=pending&limit=20" + (rv.after ? "&after_id=" + rv.after : "");
    var mine = rv, seq = ++rv.fetchSeq;
    api("GET", url).then(function (page) {
      if (rv !== mine || seq !== rv.fetchSeq) return;  // an older refill: a newer one is on its way
      var current = rv.items[0];
      var items = (page.items || []).slice();
      if (page.next) items.push(page.next);
      items = items.filter(fresh);
      // the item on screen stays first while it is undecided
      if (fresh(current)) items = [current].concat(items.filter(function (i) { return i.id !== current.id; }));
      rv.items = items;
      rv.items.forEach(preload);
      rv.failed = false;
      show();
    }).catch(function (e) {
      if (rv !== mine) return;
      rv.failed = true;
      document.getElementById("rv-empty").hidden = false;
      document.getElementById("rv-empty").textContent = _("The review queue is not available: {error}", { error: e.message });
    });
  }
  function show() {
    var item = rv.items[0];
    var skipped = Object.keys(rv.skipped).length;
    document.getElementById("rv-left").textContent = rv.items.length + (rv.items.length >= 20 ? "+" : "");
    document.getElementById("rv-item").hidden = !item;
    var empty = document.getElementById("rv-empty");
    empty.hidden = !!item;
    if (!item) {
      rv.currentId = null;
      empty.textContent = skipped ? _("The queue is empty; {n} skipped (open the review queue again to see them).", { n: skipped })
                                  : _("The queue is empty.");
      document.getElementById("rv-img").removeAttribute("src");
      document.getElementById("rv-img").removeAttribute("data-review");
      return;
    }
    if (rv.currentId === item.id) return;  // a refill of the queue: the same item stays up
    rv.currentId = item.id;
    document.getElementById("rv-tier").textContent = item.tier || item.severity || "";
    document.getElementById("rv-tier").className = "pill tier-" + (item.tier || "");
    document.getElementById("rv-code").textContent = item.code;
    document.getElementById("rv-name").textContent = I18N.locale === "zh-CN" ? item.name_zh || "" : "";
    document.getElementById("rv-where").textContent = (item.site_id || "") + " / " + (item.camera_id || "") + " · " +
      _("detected at {at}", { at: showTime(item.detected_at) });
    document.getElementById("rv-alert").setAttribute("href", "#/alerts/" + item.alert_id);
    document.getElementById("rv-rule").textContent = (item.rules || {})[I18N.locale] || item.rule || _("rule not recorded");
    document.getElementById("rv-summary").textContent = (item.summaries || {})[I18N.locale] || item.summary || "";
    document.getElementById("rv-error").textContent = "";
    var img = document.getElementById("rv-img");
    img.removeAttribute("src");
    var url = evidenceUrl(item);
    preload(item);
    (url ? rv.preloaded[url] : Promise.resolve(null)).then(function (src) {
      if (rv && rv.items[0] === item) {
        if (src) img.src = src; else img.alt = _("no evidence picture");
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
    if (rv.currentId !== item.id || document.getElementById("rv-item").hidden) return;  // not on screen
    var elapsed = Math.max(0, Math.round(performance.now() - rv.shownAt));
    if (decision === "skip") {
      rv.skipped[item.id] = true;
      rv.items.shift();
      rv.after = item.id;
      show();
      if (rv.items.length < 3) fetchQueue();
      return;
    }
    rv.busy = true;
    api("POST", "/api/v1/reviews/" + item.id, { decision: decision, elapsed_ms: elapsed }).then(function () {
      rv.decided[item.id] = true;
      rv.count += 1;
      rv.times.push(elapsed / 1000);
      var sorted = rv.times.slice().sort(function (a, b) { return a - b; });
      var mid = Math.floor(sorted.length / 2);
      var median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      document.getElementById("rv-count").textContent = rv.count;
      document.getElementById("rv-median").textContent = median.toFixed(1);
      if (rv.items[0] === item) rv.items.shift();
      show();  // the next one is already here (preloaded); refill behind it
      if (rv.items.length < 3) fetchQueue();
    }).catch(function (e) {
      document.getElementById("rv-error").textContent = _("{decision} failed: {error}", { decision: DECISIONS[decision] || decision, error: e.message });
    }).then(function () { if (rv) rv.busy = false; });
  }

  start();
})();
