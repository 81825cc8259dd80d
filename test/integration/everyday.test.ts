/**
 * kubectl-grade everyday use of the human output, offline on the shipped examples: counts carry thousands
 * separators, every table column has a header, the Typha formula reads as integer division.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT, runCli } from '../harness/index.js';

const ex = (f: string): string => path.join(REPO_ROOT, 'examples', f);

/** Numbers of 4+ digits written without separators, leaving out what is not a count (versions, IPs, ports, AS, dates). */
function rawCounts(text: string): string[] {
  return [...text.matchAll(/(?<![\d.,:/v#-])\d{4,}(?![\d.,:/])/g)]
    .map((m) => m[0])
    .filter((x) => !/^(64512|9091|9093|5473|20\d\d)$/.test(x));
}

describe('everyday use: human output', function () {
  this.timeout(120_000);

  it('1,000 nodes: status, migrate plan and typha report separate thousands', async () => {
    for (const args of [
      ['status'],
      ['migrate', 'plan', '--to', 'route-reflectors'],
      ['typha', 'report'],
      ['bgp', 'topology'],
    ]) {
      const r = await runCli([...args, '--snapshot', ex('cluster-1000.json')]);
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      assert.deepEqual(rawCounts(r.stdout), [], `${args.join(' ')}:\n${r.stdout}`);
      assert.match(r.stdout, /1,000/, args.join(' '));
    }
  });

  it('rr recommend labels every column; typha report shows the floor in the operator formula', async () => {
    const rec = await runCli(['rr', 'recommend', '--snapshot', ex('cluster-150.yaml')]);
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stdout, /^NODE\s+ZONE\s+STATUS\s+WHY$/m);
    const typha = await runCli(['typha', 'report', '--snapshot', ex('cluster-150.yaml')]);
    assert.match(typha.stdout, /operator formula\s+3\s+⌊150\/200⌋ \+ 2 = 2, at least 3/);
  });
});
