/**
 * A plan as a bash script of equivalent kubectl commands (`-o script`), for review or to run by hand.
 * Gates become a `wait_bgp` function that reads CalicoNodeStatus objects, as the executor does. Pure.
 */
import type { Gate, Plan, PlanObjectRef, Step } from './types.js';
import { parseDurationMs } from '../model/duration.js';
import { typeFor } from '../model/resources.js';
import { CORDON_ANNOTATION, touchesBgp } from './simulate.js';
import { append } from '../model/arrays.js';
import { num } from '../model/format.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../model/managed-by.js';

/** kubectl's fully qualified resource name for an object reference (`node`, `bgppeers.crd.projectcalico.org`). */
export function kubectlResource(ref: { apiVersion: string; kind: string }): string {
  if (!ref.apiVersion.includes('/')) return ref.kind.toLowerCase();
  const t = typeFor(ref.apiVersion, ref.kind);
  const plural = t?.plural ?? `${ref.kind.toLowerCase()}s`;
  return `${plural}.${ref.apiVersion.split('/')[0]}`;
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function target(ref: PlanObjectRef): string {
  return `${ref.namespace ? `-n ${q(ref.namespace)} ` : ''}${kubectlResource(ref)} ${q(ref.name)}`;
}

export function stepCommands(step: Step, calicoStatusResource: string): string[] {
  const ref = step.object;
  switch (step.action) {
    case 'patch':
      return ref && step.patch
        ? [`$KUBECTL patch ${target(ref)} --type=merge -p ${q(JSON.stringify(step.patch))}`]
        : [];
    case 'create':
      return step.manifest
        ? [
            `$KUBECTL create -f - <<'CALICO_TUNE_EOF'\n${JSON.stringify(step.manifest, null, 2)}\nCALICO_TUNE_EOF`,
          ]
        : [];
    case 'delete':
      return ref ? [`$KUBECTL delete ${target(ref)} --ignore-not-found`] : [];
    // a node someone else cordoned (unschedulable, no calico-tune.io/cordoned-by) is left alone, as the
    // executor leaves it (plan/simulate.ts cordonedByOthers): neither taken over nor uncordoned
    case 'cordon':
      return ref
        ? [
            unlessCordonedByOthers(ref.name, [
              `$KUBECTL cordon ${q(ref.name)}`,
              `$KUBECTL annotate node ${q(ref.name)} --overwrite ${CORDON_ANNOTATION}=kubectl-calico-tune`,
            ]),
          ]
        : [];
    case 'uncordon':
      return ref
        ? [
            unlessCordonedByOthers(ref.name, [
              `$KUBECTL uncordon ${q(ref.name)}`,
              `$KUBECTL annotate node ${q(ref.name)} ${CORDON_ANNOTATION}-`,
            ]),
          ]
        : [];
    case 'drain':
      return ref
        ? [`$KUBECTL drain ${q(ref.name)} --ignore-daemonsets --delete-emptydir-data --timeout=5m`]
        : [];
    case 'wait':
      return step.gate ? [gateCommand(step.gate, calicoStatusResource)] : [];
    default:
      return [];
  }
}

/**
 * `commands`, unless the node is cordoned without calico-tune's annotation (then a line on stderr says it is
 * left alone). When the node cannot be read, nothing runs and the line fails: a script under `set -e` stops
 * there, a person pasting it sees why (a review: inside `if [ "$(...)" ]` the failure went unnoticed and the
 * uncordon ran; joined by `&&`, set -e let the script go on).
 */
function unlessCordonedByOthers(node: string, commands: string[]): string {
  const jsonpath = `{.spec.unschedulable}/{.metadata.annotations.${CORDON_ANNOTATION.replace(/\./g, '\\.')}}`;
  return (
    `if cordon_state=$($KUBECTL get node ${q(node)} -o jsonpath=${q(jsonpath)}); then ` +
    `if [ "$cordon_state" != 'true/' ]; then ${commands.join(' && ')}; ` +
    `else echo ${q(`${node} is cordoned by someone else: left as it is`)} >&2; fi; ` +
    `else echo ${q(`${node} could not be read: not changed`)} >&2; false; fi`
  );
}

function gateCommand(g: Gate, _res: string): string {
  return g.nodes
    .map((n) => {
      const e = g.expect[n] ?? { count: 0 };
      const ips = e.peerIPs ? e.peerIPs.join(',') : '';
      return `wait_bgp ${q(n)} ${e.count} ${q(ips)} ${g.exact ? 1 : 0} ${Math.ceil((parseDurationMs(g.timeout) ?? 600_000) / 1000)}`;
    })
    .join('\n');
}

const WAIT_BGP = (
  res: string,
): string => `# wait_bgp NODE COUNT PEER_IPS(comma-separated, may be empty) EXACT(0|1) TIMEOUT_SECONDS
# Creates a CalicoNodeStatus for NODE (classes: BGP) and waits until the expected peers are Established
# (sessions with the nodes of EXCUSED_IPS left out).
wait_bgp() {
  local node=$1 count=$2 ips=$3 exact=$4 timeout=$5 name="calico-tune-\${1}" deadline=$((SECONDS + $5))
  $KUBECTL apply -f - >/dev/null <<EOF
{"apiVersion": "${res.endsWith('crd.projectcalico.org') ? 'crd.projectcalico.org/v1' : 'projectcalico.org/v3'}", "kind": "CalicoNodeStatus",
 "metadata": {"name": "$name", "labels": {"${MANAGED_BY_LABEL}": "${MANAGED_BY}"}},
 "spec": {"node": "$node", "classes": ["BGP"], "updatePeriodSeconds": 1}}
EOF
  while :; do
    local peers established=0 total=0 ok=1
    peers=$($KUBECTL get ${res} "$name" -o jsonpath='{range .status.bgp.peersV4[*]}{.peerIP}={.state}{"\\n"}{end}' 2>/dev/null || true)
    for ip in \${EXCUSED_IPS//,/ }; do peers=$(printf '%s\\n' "$peers" | grep -v "^$ip=" || true); done
    total=$(printf '%s' "$peers" | grep -c = || true)
    established=$(printf '%s\\n' "$peers" | grep -c '=Established$' || true)
    if [ -n "$ips" ]; then
      for ip in \${ips//,/ }; do printf '%s\\n' "$peers" | grep -qx "$ip=Established" || ok=0; done
    elif [ "$established" -lt "$count" ]; then ok=0; fi
    if [ "$exact" = 1 ] && [ "$total" -ne "$count" ]; then ok=0; fi
    if [ "$ok" = 1 ]; then
      echo "  $node: $established/$count BGP sessions Established"
      $KUBECTL delete ${res} "$name" --ignore-not-found >/dev/null
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "  $node: gate timed out: $established/$count Established" >&2
      printf '%s\\n' "$peers" | grep -v '=Established$' | sed 's/^/    not established: /' >&2 || true
      $KUBECTL delete ${res} "$name" --ignore-not-found >/dev/null
      return 4
    fi
    sleep 2
  done
}`;

/**
 * `excusedIps`: the addresses of nodes that were not Ready when the script was made: a gate neither waits for
 * sessions with them nor counts them as unexpected, as the executor's gates do (LiveGate.excused).
 */
export function planToScript(
  plan: Plan,
  calicoApiVersion: string,
  opts: { excusedIps?: readonly string[] } = {},
): string {
  const bgpPlan = plan.steps.some(touchesBgp);
  const res = kubectlResource({ apiVersion: calicoApiVersion, kind: 'CalicoNodeStatus' });
  const lines: string[] = [
    '#!/usr/bin/env bash',
    `# ${plan.metadata.name}: ${plan.summary.description}`,
    `# Generated by kubectl calico-tune (${plan.metadata.command}) at ${plan.metadata.createdAt}`,
    `# for ${plan.metadata.cluster.server ?? 'a snapshot'} (${num(plan.metadata.cluster.nodeCount)} nodes).`,
    // (a plan that changes no BGP object, monitoring or most encap plans, makes no BGP claim)
    ...(bgpPlan
      ? [
          `# Verified by the BGP model: ${plan.summary.verification.ok ? 'every step keeps every pair of nodes reachable' : `FAILS at ${plan.summary.verification.failedStep}`}.`,
        ]
      : []),
    '# Unlike `kubectl calico-tune apply`, this script takes no lock, checks no preconditions and cannot resume or roll back.',
    'set -euo pipefail',
    'KUBECTL=${KUBECTL:-kubectl}',
    '',
    ...(plan.steps.some((s) => s.action === 'wait')
      ? [
          '# nodes that were not Ready when this script was made: their sessions do not count in the gates',
          `EXCUSED_IPS=${q((opts.excusedIps ?? []).join(','))}`,
          WAIT_BGP(res),
          '',
        ]
      : []),
  ];
  plan.steps.forEach((s, i) => {
    lines.push(`# --- step ${i + 1}/${plan.steps.length} [${s.id}]: ${s.title}`);
    for (const w of s.why.split('\n')) lines.push(`#     ${w}`);
    append(lines, stepCommands(s, res));
    lines.push('');
  });
  lines.push(
    `echo "plan ${plan.metadata.name}: ${plan.steps.length === 1 ? 'the step is' : `all ${plan.steps.length} steps`} done"`,
  );
  return lines.join('\n');
}
