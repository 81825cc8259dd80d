import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag, snapshotFlag } from '../base-command.js';
import type { StatusReport } from '../status/report.js';
import { ExitCode, usageError } from '../errors.js';
import { parseDurationMs } from '../model/duration.js';

export default class Status extends BaseCommand {
  static override summary = "Compare the cluster's BGP, route reflectors and Typha with Calico best practice";
  static override description = `Reads the cluster (or a snapshot file) and reports the Calico version, install and API mode, the
networking backend, node counts, the BGP set-up (full mesh, AS number, route reflectors, BGPPeers and the
sessions they create), IP pools and their encapsulation, Typha, and a list of findings with a fix for each.

Exit codes: 0 no critical finding; 1 a critical finding (or a warning with --strict); 2 bad input;
3 the cluster could not be read.`;
  static override examples = [
    'kubectl calico-tune status',
    'kubectl calico-tune status --context prod -o json',
    'kubectl calico-tune status --snapshot examples/cluster-150.yaml --strict',
    'kubectl calico-tune status --watch',
  ];
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    strict: Flags.boolean({ description: 'Exit 1 on warnings too, not only on critical findings' }),
    watch: Flags.boolean({
      char: 'w',
      description:
        'Read the cluster again every --interval and redraw until Ctrl-C (e.g. while a migration runs elsewhere; an unfinished or paused plan shows among the findings)',
    }),
    interval: Flags.string({
      description: 'With --watch: how often to read the cluster (default 2s)',
      helpValue: 'DURATION',
    }),
    ...snapshotFlag,
  };

  async run(): Promise<StatusReport | undefined> {
    performance.mark('run'); // oclif loaded, the command begins (the marks: CALICO_TUNE_HTTP_STATS=trace)
    const { flags } = await this.parse(Status);
    this.setup(flags);
    if (flags.watch) return this.watch(flags.output, flags.interval, flags.snapshot);
    const snapshot = await this.loadSnapshot(flags.snapshot, { report: true });
    performance.mark('parsed'); // (the marks: CALICO_TUNE_HTTP_STATS=trace, bench/live.ts)
    const [{ buildStatus, statusExitCode }, { renderStatus }] = await Promise.all([
      import('../status/report.js'),
      import('../render/status.js'),
    ]);
    const report = buildStatus(snapshot);
    performance.mark('built');
    this.setExitCode(statusExitCode(report, flags.strict));
    const out = this.emit(flags.output, report, () => renderStatus(report, flags.output === 'wide'));
    performance.mark('written');
    return out;
  }

  /** `--watch`: redraw on a terminal, else print each status that differs from the last; Ctrl-C ends it (exit 0). */
  private async watch(
    output: string,
    interval: string | undefined,
    snapshot: string | undefined,
  ): Promise<undefined> {
    if (snapshot)
      throw usageError('--watch reads the live cluster again and again: it does not take --snapshot');
    if (output !== 'table' && output !== 'wide')
      throw usageError('--watch draws tables: use -o table or -o wide (or run status -o json in a loop)');
    const ms = parseDurationMs(interval ?? '2s');
    if (ms === undefined || ms < 100)
      throw usageError(`invalid --interval "${interval}": a duration of 100ms or more, e.g. 2s`);
    const [{ buildStatus }, { renderStatus }, { c }] = await Promise.all([
      import('../status/report.js'),
      import('../render/status.js'),
      import('../render/color.js'),
    ]);
    const tty = process.stdout.isTTY === true;
    let last: string | undefined;
    const redraw = async (): Promise<void> => {
      let frame: string;
      try {
        frame = renderStatus(
          buildStatus(await this.loadSnapshot(undefined, { report: true })),
          output === 'wide',
        );
      } catch (e) {
        // a failed read (API restarting, a timeout) is shown and retried, as `kubectl get -w` would
        frame = c.red(`error: ${(e as Error).message.split('\n')[0]}`);
      }
      const head = c.gray(`every ${interval ?? '2s'} · ${new Date().toISOString()} · Ctrl-C to stop`);
      if (tty) process.stdout.write(`\u001b[H\u001b[2J${head}\n${this.fitted(frame)}\n`);
      else if (frame !== last) process.stdout.write(`${head}\n${frame}\n\n`);
      last = frame;
    };
    await this.repeatUntilSignal(ms, redraw, ['SIGINT', 'SIGTERM']);
    this.setExitCode(ExitCode.OK);
    return undefined;
  }
}
