// The catalog's only script. Every page works without it; it adds the search box
// (the list filters as you type, and index.html?q=TEXT opens filtered, so a search
// can be shared as a link), the registry URL in the install command, and a copy
// button. Registry text reaches the page only through textContent, never as markup.
"use strict";

(function () {
  var SHOWN_AT_MOST = 500; // results rendered from search.json on a paged list

  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function matches(haystack, query) {
    return query.every(function (word) { return haystack.indexOf(word) !== -1; });
  }

  function found(n) {
    return n + (n === 1 ? " package" : " packages") + " found";
  }

  // A row like the ones in the page, from a search.json item:
  // [name, version, description, skills, fragments].
  function row(root, item) {
    var li = document.createElement("li");
    var h2 = document.createElement("h2");
    var link = document.createElement("a");
    link.href = root + "catalog/packages/" + encodeURIComponent(item[0]) + ".html";
    link.textContent = item[0];
    var version = document.createElement("span");
    version.className = "version";
    version.textContent = item[1];
    h2.append(link, " ", version);
    var description = document.createElement("p");
    description.className = "description";
    description.textContent = item[2];
    li.append(h2, description);
    [["Skills: ", item[3]], ["Fragments: ", item[4]]].forEach(function (pieces) {
      if (pieces[1].length) {
        var p = document.createElement("p");
        p.className = "pieces";
        p.textContent = pieces[0] + pieces[1].join(", ");
        li.append(p);
      }
    });
    return li;
  }

  function setUpSearch() {
    var form = document.querySelector("form.search");
    var list = document.getElementById("packages");
    if (!form || !list) return;
    var input = form.querySelector("input");
    var count = document.getElementById("count");
    var pager = document.querySelector(".pager");
    var rows = Array.prototype.slice.call(list.children);
    var texts = rows.map(function (li) { return li.textContent.toLowerCase(); });
    var root = form.getAttribute("action").replace(/index\.html$/, "");
    var indexUrl = form.getAttribute("data-index"); // set on a paged list only
    var all = null; // search.json, once fetched
    var loading = false;
    var results = null;

    function load() {
      loading = true;
      fetch(indexUrl).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (data) {
        all = data;
        apply();
      }, function () {
        indexUrl = null; // opened from a file: or search.json is missing: this page only
        apply();
      });
    }

    function showAllHits(query) {
      if (!results) {
        results = document.createElement("ol");
        results.className = "packages";
        results.id = "results";
        list.after(results);
      }
      var hits = all.filter(function (item) {
        var text = [item[0], item[2]].concat(item[3], item[4]).join(" ");
        return matches(text.toLowerCase(), query);
      });
      results.replaceChildren.apply(results, hits.slice(0, SHOWN_AT_MOST).map(function (item) {
        return row(root, item);
      }));
      results.hidden = false;
      list.hidden = true;
      if (pager) pager.hidden = true;
      count.textContent = found(hits.length) +
        (hits.length > SHOWN_AT_MOST ? " (the first " + SHOWN_AT_MOST + " shown)" : "");
    }

    function showPageHits(query) {
      var shown = 0;
      rows.forEach(function (li, i) {
        li.hidden = !matches(texts[i], query);
        if (!li.hidden) shown += 1;
      });
      count.textContent = found(shown) + (indexUrl ? " on this page, searching the rest…" : "");
    }

    function apply() {
      var text = input.value.trim();
      var query = words(text);
      var url = new URL(window.location.href);
      if (text) url.searchParams.set("q", text);
      else url.searchParams.delete("q");
      if (url.href !== window.location.href) history.replaceState(null, "", url.href);
      if (!query.length) {
        rows.forEach(function (li) { li.hidden = false; });
        list.hidden = false;
        if (results) results.hidden = true;
        if (pager) pager.hidden = false;
        count.textContent = "";
      } else if (indexUrl && all) {
        showAllHits(query);
      } else {
        if (indexUrl && !loading) load();
        showPageHits(query);
      }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      apply();
    });
    input.addEventListener("input", apply);
    form.hidden = false;
    input.value = new URLSearchParams(window.location.search).get("q") || "";
    apply();
  }

  function setUpInstall() {
    var code = document.getElementById("install-command");
    if (!code) return;
    if (/^https?:$/.test(window.location.protocol)) {
      // This page is catalog/packages/NAME.html: the registry is two folders up.
      var site = new URL("../../", window.location.href).href;
      code.textContent = "skillpm install --registry " + site + " " + code.getAttribute("data-name");
    }
    var button = document.querySelector("button.copy");
    if (!button || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent).then(function () {
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
      }, function () {
        window.getSelection().selectAllChildren(code); // no clipboard access: select it
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpSearch();
    setUpInstall();
  });
}());
