// The course's frame panels (tools/site_frames.py): moving a range input shows the frame drawn
// for the sliders' positions and its readout.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".course-site-panel").forEach(function (panel) {
    var img = panel.querySelector("img.course-site-frame");
    var frames = JSON.parse(img.dataset.frames);
    var inputs = panel.querySelectorAll("input[type=range]");
    function show() {
      var key = Array.prototype.map.call(inputs, function (r) { return r.value; }).join(",");
      inputs.forEach(function (r) {
        r.parentNode.querySelector("output").textContent = JSON.parse(r.dataset.readouts)[r.value];
      });
      img.src = frames[key];
    }
    inputs.forEach(function (r) { r.addEventListener("input", show); });
  });
});

// The theme's ".ipynb" entry opens the notebook's JSON in a new tab: make it a download.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("a.btn-download-source-button").forEach(function (a) {
    a.setAttribute("download", a.getAttribute("href").split("/").pop());
    a.removeAttribute("target");
  });
});

// Search snippets from the article's own text, not from the theme's buttons ("Light Dark") or
// the page title, which the result shows already. (Sphinx's search defines `Search`.)
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Search === "undefined" || !Search.htmlToText) return;
  var sphinxHtmlToText = Search.htmlToText;
  Search.htmlToText = function (htmlString, anchor) {
    var doc = new DOMParser().parseFromString(htmlString, "text/html");
    var article = doc.querySelector("article.bd-article");
    if (anchor || !article) return sphinxHtmlToText(htmlString, anchor);
    article.querySelectorAll(".headerlink, script, style, h1").forEach(function (el) {
      el.remove();
    });
    return article.textContent.replace(/\s+/g, " ");
  };
});
