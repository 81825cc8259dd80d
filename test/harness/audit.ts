/**
 * The kube-apiserver audit log as a test oracle. The policy (control-plane.ts) logs every
 * create/update/patch/delete/deletecollection at Request level (request body included) and nothing
 * else, so "this command wrote nothing" is `writesSince(mark, { user }) .length === 0`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { sleep, type KubeClient } from './kube.js';

export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  impersonatedUser?: { username: string; groups?: string[] };
  userAgent?: string;
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
    apiVersion?: string;
    subresource?: string;
  };
  responseStatus?: { code?: number; reason?: string; message?: string };
  requestObject?: unknown;
  requestReceivedTimestamp?: string;
}

export interface WriteFilter {
  /** Only requests by this user (or one of these users). */
  user?: string | string[];
  /** Ignore requests by these users. */
  excludeUsers?: string[];
  /** Only these verbs (default: every write verb). */
  verbs?: string[];
  /** Only this resource (plural, e.g. `nodes`). */
  resource?: string;
  /** Also return access reviews (selfsubjectaccessreviews & co.: `create` requests that persist nothing). Default false. */
  includeReviews?: boolean;
  /** Only requests the server accepted (2xx). Default false: rejected attempts (403, 409) are writes attempted. */
  onlySucceeded?: boolean;
}

export const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const REVIEWS = new Set([
  'selfsubjectaccessreviews',
  'selfsubjectrulesreviews',
  'subjectaccessreviews',
  'localsubjectaccessreviews',
  'tokenreviews',
  'selfsubjectreviews',
]);

/** A one-line description of an event, for assertion messages. */
export function describeEvent(e: AuditEvent): string {
  const r = e.objectRef ?? {};
  const what =
    `${r.resource ?? '?'}${r.subresource ? `/${r.subresource}` : ''} ${r.namespace ? `${r.namespace}/` : ''}${r.name ?? ''}`.trim();
  return `${e.user.username}: ${e.verb} ${what} -> ${e.responseStatus?.code ?? '?'}`;
}

export class AuditLog {
  constructor(
    readonly file: string,
    private readonly admin: KubeClient,
  ) {}

  /** A position in the log: events after it are "since the mark". */
  mark(): number {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  /**
   * Every event logged after `mark`. First sends a barrier request and waits for it to appear in the
   * log, so every request that completed before this call is in the result.
   */
  async events(mark: number): Promise<AuditEvent[]> {
    const id = `barrier-${crypto.randomUUID()}`;
    await this.admin.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'get', resource: 'audit-barrier', name: id } },
      },
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const events = this.readFrom(mark);
      const isBarrier = (e: AuditEvent): boolean =>
        (e.requestObject as { spec?: { resourceAttributes?: { name?: string } } } | undefined)?.spec
          ?.resourceAttributes?.name === id;
      if (events.some(isBarrier)) {
        return events.filter(
          (e) =>
            !isBarrier(e) &&
            !(
              (e.requestObject as { spec?: { resourceAttributes?: { resource?: string } } } | undefined)?.spec
                ?.resourceAttributes?.resource === 'audit-barrier'
            ),
        );
      }
      if (Date.now() > deadline)
        throw new Error(`audit barrier ${id} did not appear in ${this.file} within 10 s`);
      await sleep(25);
    }
  }

  /** Writes (create/update/patch/delete/deletecollection) logged after `mark`, filtered. */
  async writesSince(mark: number, filter: WriteFilter = {}): Promise<AuditEvent[]> {
    const users =
      filter.user === undefined
        ? undefined
        : new Set(Array.isArray(filter.user) ? filter.user : [filter.user]);
    const verbs = new Set(filter.verbs ?? WRITE_VERBS);
    return (await this.events(mark)).filter((e) => {
      if (!verbs.has(e.verb)) return false;
      if (users && !users.has(e.user.username)) return false;
      if (filter.excludeUsers?.includes(e.user.username)) return false;
      if (filter.resource && e.objectRef?.resource !== filter.resource) return false;
      if (!filter.includeReviews && REVIEWS.has(e.objectRef?.resource ?? '')) return false;
      if (
        filter.onlySucceeded &&
        !((e.responseStatus?.code ?? 0) >= 200 && (e.responseStatus?.code ?? 0) < 300)
      )
        return false;
      return true;
    });
  }

  private readFrom(mark: number): AuditEvent[] {
    let buf: Buffer;
    try {
      const fd = fs.openSync(this.file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        buf = Buffer.alloc(Math.max(0, size - mark));
        if (buf.length) fs.readSync(fd, buf, 0, buf.length, mark);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return [];
    }
    const text = buf.toString('utf8');
    const end = text.lastIndexOf('\n'); // ignore a partly written last line
    const out: AuditEvent[] = [];
    for (const line of text.slice(0, end + 1).split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as AuditEvent;
        if (e.stage === 'ResponseComplete' || e.stage === 'Panic') out.push(e);
      } catch {
        /* not JSON */
      }
    }
    return out;
  }
}
