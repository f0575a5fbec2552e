// Monitoring pages: the watch's volume chart. Data comes from a json_script block (never inline JS).
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("volume-chart");
  var data = document.getElementById("volume-series");
  if (!canvas || !data || typeof window.Chart === "undefined") return;
  var series = JSON.parse(data.textContent);
  var chart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: [
        { label: "Mentions", data: series.volume, backgroundColor: "#9db8e8", grouped: false, order: 2 },
        { label: "Negative", data: series.negative, backgroundColor: "#b3141b", grouped: false, order: 1 }
      ]
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 12, autoSkip: true } },
        y: { beginAtZero: true, ticks: { precision: 0 } }
      },
      plugins: { legend: { position: "bottom" } }
    }
  });
  canvas.setAttribute("data-rendered", String(chart.data.labels.length));
});
