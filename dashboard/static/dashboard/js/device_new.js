// Create-device form: the scale fields belong to analog gauges only; a gauge needs a unit.

const typeSelect = document.querySelector('select[name="type"]');
const gaugeOnly = document.querySelectorAll("[data-gauge-only]");
const unitLabel = document.querySelector('label[for="id_unit"]');

function showFieldsForType() {
  const isGauge = typeSelect.value === "analog_gauge";
  for (const block of gaugeOnly) {
    block.hidden = !isGauge;
    for (const input of block.querySelectorAll("input")) input.disabled = !isGauge;
  }
  const optional = unitLabel.querySelector(".muted");
  if (optional) optional.hidden = isGauge;
}

typeSelect.addEventListener("change", showFieldsForType);
showFieldsForType();
const firstInvalid = document.querySelector(".field-error input, .field-error select");
(firstInvalid || document.querySelector('input[name="name"]')).focus();
