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
