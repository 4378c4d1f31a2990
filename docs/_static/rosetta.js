// Pseudocode linked to code on the algorithm pages (see docs/_ext/rosetta.py).
//
// Each pseudocode step holds a link a.rosetta-link whose data-pytorch / data-jax attributes list
// line ranges ("120-135,140-141") of the listing #rosetta-ALGO-pytorch / #rosetta-ALGO-jax.
// Hovering the step highlights those lines in every framework's listing and scrolls each listing
// (not the page) so they show; clicking the step or its "show in code" link also brings the
// listing of the selected tab into view.
(function () {
  "use strict";

  function parseRanges(text) {
    return (text || "").split(",").filter(Boolean).map(function (r) {
      var ab = r.split("-").map(Number);
      return [ab[0], ab.length > 1 ? ab[1] : ab[0]];
    });
  }

  // the <pre> of a listing, and its line-number spans indexed by line number
  function listing(algo, fw) {
    var box = document.getElementById("rosetta-" + algo + "-" + fw);
    if (!box) return null;
    var pre = box.querySelector("pre");
    if (!pre) return null;
    if (!pre._rosettaLines) {
      var lines = {};
      pre.querySelectorAll("span.linenos").forEach(function (span) {
        lines[parseInt(span.textContent, 10)] = span;
      });
      pre._rosettaLines = lines;
    }
    return { box: box, pre: pre, lines: pre._rosettaLines };
  }

  function clear() {
    document.querySelectorAll(".rosetta-band").forEach(function (b) { b.remove(); });
    document.querySelectorAll("span.linenos.rosetta-hl").forEach(function (s) {
      s.classList.remove("rosetta-hl");
    });
    document.querySelectorAll(".rosetta-step.rosetta-active").forEach(function (li) {
      li.classList.remove("rosetta-active");
    });
  }

  // highlight the step's lines in every listing; returns the first band of each listing
  function highlight(link) {
    clear();
    var algo = link.getAttribute("data-algo");
    var li = link.closest(".rosetta-step");
    if (li) li.classList.add("rosetta-active");
    var firsts = [];
    ["pytorch", "jax"].forEach(function (fw) {
      var ranges = parseRanges(link.getAttribute("data-" + fw));
      var l = listing(algo, fw);
      if (!l || !ranges.length) return;
      var first = null;
      ranges.forEach(function (r) {
        var top = null, bottom = null;
        for (var n = r[0]; n <= r[1]; n++) {
          var span = l.lines[n];
          if (!span) continue;
          span.classList.add("rosetta-hl");
          if (top === null) top = span.offsetTop;
          bottom = span.offsetTop + span.offsetHeight;
        }
        if (top === null) return;
        var band = document.createElement("div");
        band.className = "rosetta-band";
        band.setAttribute("data-lines", r[0] + "-" + r[1]);
        band.style.top = top + "px";
        band.style.height = (bottom - top) + "px";
        band.style.width = l.pre.scrollWidth + "px";
        l.pre.appendChild(band);
        if (!first) first = band;
      });
      if (first) {
        // scroll inside the listing only, leaving the page where the reader is
        l.pre.scrollTop = Math.max(0, first.offsetTop - l.pre.clientHeight / 4);
        firsts.push({ box: l.box, band: first });
      }
    });
    return firsts;
  }

  function reveal(firsts) {
    // bring the listing of the visible tab into view
    for (var i = 0; i < firsts.length; i++) {
      if (firsts[i].box.offsetParent !== null) {
        firsts[i].box.scrollIntoView({ block: "center", behavior: "smooth" });
        return;
      }
    }
  }

  function ready() {
    document.querySelectorAll("a.rosetta-link").forEach(function (link) {
      var li = link.closest(".rosetta-step") || link;
      li.addEventListener("mouseenter", function () { highlight(link); });
      li.addEventListener("click", function (ev) {
        if (ev.target.closest("a") && ev.target.closest("a") !== link) return;
        ev.preventDefault();
        reveal(highlight(link));
      });
    });
    // a tab switch changes which listing is visible: redraw the bands there
    document.querySelectorAll(".rosetta-code input[type=radio]").forEach(function (input) {
      input.addEventListener("change", function () {
        var active = document.querySelector(".rosetta-step.rosetta-active a.rosetta-link");
        if (active) highlight(active);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
