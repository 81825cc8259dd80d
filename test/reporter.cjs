// Mocha reporter: mocha's spec output, then one last line CI recognises: "N passed, N failed".
// Under scripts/test-matrix.js (one mocha run per Kubernetes version) the line is labelled instead
// ("[Kubernetes 1.28, @matrix subset] N passed, N failed", $CALICO_TUNE_SUMMARY_LABEL) and the counts are
// written as JSON to $CALICO_TUNE_SUMMARY_FILE; the script prints the plain total line at the end.
const fs = require('node:fs');
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class CountingSpec extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || {};
      // pending tests are neither passed nor failed; they are reported by spec above
      const counts = { passed: s.passes || 0, failed: s.failures || 0, pending: s.pending || 0 };
      const label = process.env.CALICO_TUNE_SUMMARY_LABEL;
      process.stdout.write(
        `\n${label ? `[${label}] ` : ''}${counts.passed} passed, ${counts.failed} failed\n`,
      );
      const file = process.env.CALICO_TUNE_SUMMARY_FILE;
      if (file) fs.writeFileSync(file, JSON.stringify(counts));
    });
  }
}
module.exports = CountingSpec;
