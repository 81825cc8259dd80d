/** Flags shared by `migrate plan` and `migrate apply`. */
import { Flags } from '@oclif/core';

export const migrateFlags = {
  to: Flags.string({ description: 'Target topology', options: ['route-reflectors', 'mesh'] }),
  'rr-count': Flags.integer({
    description: 'How many route reflectors (default: max(3, zones))',
    min: 2,
    max: 100,
  }),
  rr: Flags.string({
    description: 'Use these nodes as route reflectors (comma-separated)',
    helpValue: 'NODE,...',
  }),
  'cluster-id': Flags.string({
    description: 'Route-reflector cluster ID (bare IPv4; default: existing, else 244.0.0.1)',
  }),
  label: Flags.string({
    description: 'Label that BGPPeer selectors use to find reflectors',
    default: 'route-reflector=true',
  }),
  drain: Flags.boolean({ description: 'Evict pods from each node before it changes role' }),
};
