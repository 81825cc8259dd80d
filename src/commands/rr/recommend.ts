import { Flags } from '@oclif/core';
import type { Recommendation } from '../../rr/recommend.js';
import { BaseCommand, outputFlag, snapshotFlag } from '../../base-command.js';

export default class RrRecommend extends BaseCommand {
  static override summary =
    'Recommend which nodes should be route reflectors, spread across zones, with a reason for each';
  static override description = `Eligible nodes are Ready, schedulable (or cordoned by calico-tune), untainted by NotReady/unreachable/pressure
taints, Linux, not opted out (label calico-tune.io/route-reflector=never) and at least --min-cpu / --min-memory
(Calico's best-practice guide: 8 CPU / 32 GiB; memory within 10%, as kernels reserve some). Existing reflectors are kept; new ones go
to the zones with the fewest reflectors first, then the largest and oldest nodes. Deterministic.`;
  static override examples = [
    'kubectl calico-tune rr recommend',
    'kubectl calico-tune rr recommend --count 5 --min-cpu 4 --min-memory 16Gi -o wide',
  ];
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    count: Flags.integer({
      description:
        'How many reflectors (default: max(3, zones), at most 10; a larger count is taken as given)',
      min: 1,
      max: 100,
    }),
    'zone-label': Flags.string({
      description: 'Node label that names the zone',
      default: 'topology.kubernetes.io/zone',
    }),
    'min-cpu': Flags.integer({ description: 'Minimum CPUs of a reflector node', default: 8, min: 1 }),
    'min-memory': Flags.string({ description: 'Minimum memory of a reflector node', default: '32Gi' }),
    ...snapshotFlag,
  };

  async run(): Promise<Recommendation & { apiVersion: string; kind: string }> {
    const { flags } = await this.parse(RrRecommend);
    this.setup(flags);
    const [{ recommend, parseMinMemory }, { renderRecommendation }] = await Promise.all([
      import('../../rr/recommend.js'),
      import('../../render/rr.js'),
    ]);
    const minMemoryBytes = parseMinMemory(flags['min-memory']);
    const r = recommend(await this.loadSnapshot(flags.snapshot), {
      count: flags.count,
      zoneLabel: flags['zone-label'],
      minCpu: flags['min-cpu'],
      minMemoryBytes,
    });
    return this.emit(
      flags.output,
      { apiVersion: 'calico-tune/v1', kind: 'RouteReflectorRecommendation', ...r },
      () => renderRecommendation(r, flags.output === 'wide'),
    );
  }
}
