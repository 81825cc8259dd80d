/**
 * kubectl-grade everyday use of the human output, offline on the shipped examples: counts carry thousands
 * separators, every table column has a header, the Typha formula reads as integer division; the narrower
 * commands exit 1 on unreachable pairs as status does.
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

  it('rr list and bgp topology exit 1 when the model finds unreachable pairs, as status does', async () => {
    for (const args of [['rr', 'list'], ['bgp', 'topology'], ['status']]) {
      const broken = await runCli([...args, '--snapshot', ex('cluster-rr-broken.yaml')]);
      assert.equal(broken.code, 1, `${args.join(' ')}: ${broken.stderr}`);
      const fine = await runCli([...args, '--snapshot', ex('cluster-12.yaml')]);
      assert.equal(fine.code, 0, `${args.join(' ')}: ${fine.stderr}`);
    }
    const l = await runCli(['rr', 'list', '--snapshot', ex('cluster-rr-broken.yaml'), '-o', 'json']);
    assert.ok(l.json<{ unreachablePairs: number }>().unreachablePairs > 0);
    assert.equal(l.code, 1);
  });

  it('status -o wide adds columns the default table leaves out (node selectors of pools, AS of peers)', async () => {
    const t = await runCli(['status', '--snapshot', ex('cluster-rr-broken.yaml')]);
    const w = await runCli(['status', '-o', 'wide', '--snapshot', ex('cluster-rr-broken.yaml')]);
    const header = (out: string, has: string): string => out.split('\n').find((l) => l.includes(has)) ?? '';
    assert.match(header(t.stdout, 'CIDR'), /^\s*NAME\s+CIDR\s+IPIP\s+VXLAN\s+NAT\s+STATE$/);
    assert.match(header(w.stdout, 'CIDR'), /^\s*NAME\s+CIDR\s+IPIP\s+VXLAN\s+NAT\s+STATE\s+NODE SELECTOR$/);
    assert.match(w.stdout, /PEER IP \/ PEER SELECTOR\s+AS$/m);
    assert.doesNotMatch(t.stdout, /PEER IP \/ PEER SELECTOR\s+AS$/m);
  });
});
