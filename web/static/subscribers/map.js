// A small Leaflet map for each premise with a location (div.subscriber-map with data-lat/lng/tiles).
document.addEventListener("DOMContentLoaded", function () {
  if (typeof L === "undefined") return;
  document.querySelectorAll(".subscriber-map").forEach(function (el) {
    var lat = parseFloat(el.dataset.lat), lng = parseFloat(el.dataset.lng);
    if (isNaN(lat) || isNaN(lng)) return;
    L.Icon.Default.imagePath = el.dataset.icons || "/static/vendor/leaflet/images/";
    var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lng], 16);
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
    L.marker([lat, lng]).addTo(map);
    el.dataset.ready = "1";
  });
});
