// The incident page's crisis chart. Data comes from the json_script block "crisis-series" (never
// inline JS: the CSP forbids it). Phases are shaded by a small plugin; markers are a point series.
function drawCrisisChart() {
  var canvas = document.getElementById("crisis-chart");
  var data = document.getElementById("crisis-series");
  if (!canvas || !data || typeof window.Chart === "undefined") return;
  var series = JSON.parse(data.textContent);
  var SHADE = { pre: "rgba(242, 178, 51, 0.13)", during: "rgba(179, 20, 27, 0.08)", post: "rgba(46, 139, 87, 0.10)" };
  var STYLE = { signal: "triangle", status: "circle", statement: "rectRot" };
  var COLOR = { signal: "#b3141b", status: "#1f3a68", statement: "#2e8b57" };

  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var labels = series.labels.map(function (iso) {
    var d = new Date(iso);
    return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  });
  var top = Math.max.apply(null, series.volume.concat([1]));
  var markerData = labels.map(function () { return null; });
  var markerAt = {};
  series.markers.forEach(function (m) {
    markerData[m.i] = top * 1.08;
    (markerAt[m.i] = markerAt[m.i] || []).push(m);
  });

  var phases = {
    id: "crisisPhases",
    beforeDatasetsDraw: function (chart) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      var half = (x.getPixelForValue(1) - x.getPixelForValue(0)) / 2 || 0;
      ctx.save();
      series.phases.forEach(function (p) {
        var left = x.getPixelForValue(p.from) - half, right = x.getPixelForValue(p.to) + half;
        ctx.fillStyle = SHADE[p.phase] || "transparent";
        ctx.fillRect(Math.max(left, area.left), area.top, Math.min(right, area.right) - Math.max(left, area.left), area.bottom - area.top);
      });
      ctx.restore();
    }
  };

  var chart = new window.Chart(canvas, {
    data: {
      labels: labels,
      datasets: [
        { type: "bar", label: "Mentions", data: series.volume, backgroundColor: "#9db8e8", grouped: false, order: 3, yAxisID: "y" },
        { type: "bar", label: "Negative", data: series.negative, backgroundColor: "#b3141b", grouped: false, order: 2, yAxisID: "y" },
        { type: "line", label: "Mean risk", data: series.risk_mean, borderColor: "#f2b233", pointRadius: 0, borderWidth: 1.5, order: 1, yAxisID: "risk" },
        {
          type: "line", label: "Events", data: markerData, showLine: false, order: 0, yAxisID: "y",
          pointStyle: function (c) { var m = (markerAt[c.dataIndex] || [])[0]; return m ? STYLE[m.kind] : "circle"; },
          pointBackgroundColor: function (c) { var m = (markerAt[c.dataIndex] || [])[0]; return m ? COLOR[m.kind] : "#000"; },
          pointRadius: 6, pointHoverRadius: 8
        }
      ]
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 8, autoSkip: true, maxRotation: 0 } },
        y: { beginAtZero: true, suggestedMax: top * 1.15, ticks: { precision: 0 } },
        risk: { position: "right", min: 0, max: 1, grid: { drawOnChartArea: false } }
      },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: function (c) {
              if (c.dataset.label !== "Events") return c.dataset.label + ": " + c.formattedValue;
              return (markerAt[c.dataIndex] || []).map(function (m) { return m.text; });
            }
          }
        }
      }
    },
    plugins: [phases]
  });
  canvas.setAttribute("data-rendered", String(chart.data.labels.length));
  canvas.setAttribute("data-markers", String(series.markers.length));
}
document.addEventListener("DOMContentLoaded", drawCrisisChart);
// A live refresh swaps in a new canvas (and new data): draw it again.
document.addEventListener("crisisdesk:live-refreshed", drawCrisisChart);
