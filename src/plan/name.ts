/** Plan names: what, on what, and when (`rr-promote-node-a-004-20261124-101500`). */
export function planName(kind: string, subject: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return (
    `${kind}-${subject}`
      .replace(/[^a-z0-9-]/gi, '-')
      .toLowerCase()
      .slice(0, 50) + `-${stamp}`
  );
}
