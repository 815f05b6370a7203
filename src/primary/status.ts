import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runningProcess } from '../os/processes.js';
import { age, counted } from '../text/index.js';
import { AGENT_PID_FILE } from '../publish/hook-script.js';
import type { Spool } from '../publish/spool.js';
import { surveyHooks, type HookSurvey } from '../publish/hook-check.js';
import { AGENT_STATUS_FILE, type AgentStatus } from './agent.js';

/** What `pullrep status` shows on the primary. */
export interface PrimaryStatus {
  spoolDir: string;
  agent: {
    running: boolean;
    pid: number | null;
    /** What the agent last reported (every few seconds), when it is running. */
    startedAt?: string;
    /** When it last reported; also kept from an agent that stopped. */
    lastSeen?: string;
    kafka?: AgentStatus['kafka'];
    error?: string;
    spoolProblem?: string;
    catalog?: AgentStatus['catalog'];
  };
  spool: { waiting: number; invalid: number; oldestAt: string | null; oldestAgeMs: number | null };
  /** The hooks of the repositories under primary.root. */
  hooks: HookSurvey;
  lastScan: {
    finishedAt: string;
    durationMs: number;
    repositories: number;
    listed: number;
    removed: number;
    failed: number;
  } | null;
}

export async function primaryStatus(spool: Spool, root: string, now: () => number = Date.now): Promise<PrimaryStatus> {
  const dir = spool.dir;
  const pidText = (await readFile(join(dir, AGENT_PID_FILE), 'utf8').catch(() => '')).trim();
  const pid = /^\d+$/.test(pidText) ? Number(pidText) : null;
  const running = pid !== null && runningProcess(pid) !== undefined;
  const last = await readFile(join(dir, AGENT_STATUS_FILE), 'utf8').then((t) => JSON.parse(t) as AgentStatus).catch(() => undefined);
  const reported = running && last?.pid === pid ? last : undefined;
  const items = await spool.list();
  const waiting = items.filter((i) => !i.problem || i.stuck);
  const oldest = waiting[0]?.spooledAt;
  const scan = last?.lastScan;
  return {
    spoolDir: dir,
    agent: {
      running,
      pid,
      ...(last ? { lastSeen: last.updatedAt } : {}),
      ...(reported ? { startedAt: reported.startedAt, kafka: reported.kafka, catalog: reported.catalog, ...(reported.error ? { error: reported.error } : {}), ...(reported.spoolProblem ? { spoolProblem: reported.spoolProblem } : {}) } : {}),
    },
    spool: {
      waiting: waiting.length,
      invalid: items.length - waiting.length,
      oldestAt: oldest ? oldest.toISOString() : null,
      oldestAgeMs: oldest ? Math.max(0, now() - oldest.getTime()) : null,
    },
    hooks: await surveyHooks(root),
    lastScan: scan
      ? { finishedAt: scan.finishedAtIso, durationMs: scan.durationMs, repositories: scan.repositories, listed: scan.listed, removed: scan.removed, failed: scan.failed }
      : null,
  };
}


/** The human view of a primary's status. */
export function renderPrimaryStatus(s: PrimaryStatus): string {
  const lines: string[] = [];
  const a = s.agent;
  if (a.running) {
    lines.push(`primary agent  running (pid ${a.pid}${a.startedAt ? `, since ${a.startedAt}` : ''}); Kafka ${a.kafka ?? 'unknown'}${a.error ? ` (${a.error})` : ''}; catalog ${a.catalog ?? 'unknown'}`);
  } else {
    lines.push(`primary agent  not running${a.lastSeen ? ` (last seen ${a.lastSeen})` : ''}: pushes wait in the spool until 'pullrep primary' runs`);
  }
  if (a.spoolProblem) lines.push(`               a spool file cannot be sent now (tried again on every pass): ${a.spoolProblem}`);
  const w = s.spool;
  lines.push(
    `spool          ${w.waiting === 0 ? 'empty' : `${counted(w.waiting, 'push', 'pushes')} waiting, oldest ${age(w.oldestAgeMs ?? 0)} (since ${w.oldestAt})`}` +
      `${w.invalid ? `; ${counted(w.invalid, 'invalid file')} (pullrep spool list)` : ''}  ${s.spoolDir}`,
  );
  const h = s.hooks;
  const kinds = [h.spooling ? `${h.spooling} spooling` : '', h.direct ? `${h.direct} direct` : '', h.none ? `${h.none} without a pullrep hook` : ''].filter(Boolean);
  lines.push(`hooks          ${counted(h.repositories, 'repository', 'repositories')}${kinds.length ? `: ${kinds.join(', ')}` : ''}`);
  if (h.broken) lines.push(`               ${counted(h.broken, 'hook calls', 'hooks call')} a pullrep that is gone (${h.missing.join(', ')}): their pushes are only spooled; run 'pullrep hook install' again`);
  const scan = s.lastScan;
  lines.push(
    scan
      ? `last scan      ${scan.finishedAt} in ${scan.durationMs} ms: ${counted(scan.repositories, 'repository', 'repositories')}, ${scan.listed} listed, ${scan.removed} removed${scan.failed ? `, ${scan.failed} failed` : ''}`
      : 'last scan      none yet',
  );
  return lines.join('\n') + '\n';
}
