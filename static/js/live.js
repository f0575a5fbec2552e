// Live pages. The body says what to follow (data-live-topics) and which regions of the page to
// refresh (data-live-regions, element ids). On a change the page is fetched once and each region
// is swapped in — except one the member is typing in, which waits until they leave it. If the
// stream is lost the page says so and polls instead; the browser's EventSource reconnects and
// resumes from the last event id on its own.
(function () {
  "use strict";
  var POLL_MS = 10000;
  var SETTLE_MS = 300;
  var MIN_GAP_MS = 1500;

  function regionsOf(body) {
    return (body.getAttribute("data-live-regions") || "").split(/\s+/).filter(Boolean);
  }

  function busy(el) {
    var active = document.activeElement;
    if (active && el.contains(active) && active !== document.body && active.matches("input, textarea, select")) return true;
    return Array.prototype.some.call(el.querySelectorAll("input, textarea"), function (field) {
      if (field.type === "hidden" || field.type === "checkbox" || field.type === "radio") return false;
      return field.value !== field.defaultValue;
    });
  }

  function start() {
    var body = document.body;
    var topics = body.getAttribute("data-live-topics");
    var url = body.getAttribute("data-live-url");
    if (!topics || !url || typeof window.EventSource === "undefined") return;
    var regions = regionsOf(body);
    var everything = regions.concat(["presence"]);
    var banner = document.getElementById("live-status");
    var wanted = {}, inFlight = false, lastRefresh = 0, timer = null, poller = null;

    function want(ids) { ids.forEach(function (id) { wanted[id] = true; }); }

    function refresh() {
      timer = null;
      var ids = Object.keys(wanted);
      if (!ids.length) return;
      if (inFlight) { schedule(); return; }
      inFlight = true; wanted = {}; lastRefresh = Date.now();
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          ids.forEach(function (id) {
            var current = document.getElementById(id), next = fresh.getElementById(id);
            if (!current || !next) return;
            // Older timeline events the member opened stay open: that region waits for a reload.
            if (current.hasAttribute("data-live-held")) return;
            if (busy(current)) { want([id]); return; }
            // Keep what the member opened (an edit form, a folded language) open after the swap.
            var opened = Array.prototype.map.call(current.querySelectorAll("details"), function (d) { return d.open; });
            Array.prototype.forEach.call(next.querySelectorAll("details"), function (d, i) {
              if (i < opened.length) d.open = opened[i];
            });
            current.replaceWith(next);
            if (window.htmx) window.htmx.process(next);
          });
          var series = fresh.getElementById("crisis-series"), mine = document.getElementById("crisis-series");
          if (series && mine) { mine.textContent = series.textContent; }
          document.dispatchEvent(new CustomEvent("crisisdesk:live-refreshed"));
          body.setAttribute("data-live-refreshed", String(Date.now()));
        })
        .catch(function () { want(ids); })
        .then(function () { inFlight = false; });
    }

    function schedule() {
      if (timer) return;
      var wait = Math.max(SETTLE_MS, MIN_GAP_MS - (Date.now() - lastRefresh));
      timer = window.setTimeout(refresh, wait);
    }

    function lost() {
      if (banner) { banner.hidden = false; }
      body.setAttribute("data-live", "polling");
      if (!poller) poller = window.setInterval(function () { want(everything); refresh(); }, POLL_MS);
    }

    function found() {
      if (banner) { banner.hidden = true; }
      body.setAttribute("data-live", "streaming");
      if (poller) { window.clearInterval(poller); poller = null; }
    }

    var query = "?topics=" + encodeURIComponent(topics);
    var here = body.getAttribute("data-live-here");
    if (here) query += "&here=" + encodeURIComponent(here);
    var source = new window.EventSource(url + query);
    source.addEventListener("open", found);
    source.addEventListener("error", lost);
    source.addEventListener("change", function (event) {
      found();
      var kind = "";
      var data = {};
      try { data = JSON.parse(event.data) || {}; } catch (e) { data = {}; }
      kind = data.kind || "";
      // Someone arriving changes only who is here (and this page's own arrival changes nothing);
      // anything else may change every region.
      if (kind === "presence" && data.member === body.getAttribute("data-live-me")) return;
      want(kind === "presence" ? ["presence"] : everything);
      schedule();
    });
    // A region the member was typing in gets its update once they leave it.
    document.addEventListener("focusout", function () { if (Object.keys(wanted).length) schedule(); });
    document.addEventListener("htmx:afterSwap", function (event) {
      regions.forEach(function (id) {
        var region = document.getElementById(id);
        if (region && region.contains(event.target) && event.target.closest(".timeline")) region.setAttribute("data-live-held", "");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
